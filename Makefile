# surrogate-eo: the two set-up commands of the README, and a few helpers.
#   make demo   install into .venv and run the main job on its embedded default
#   make test   install into .venv (with test extras) and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test bench clean-venv

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of torch first (lies on this disk); a plain 'torch' would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[torch,dev]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/surrogate-eo demo

# pytest exits 5 when it collects no tests: not a failure of the suite
test: $(VENV)/.installed
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

bench: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean-venv:
	rm -rf $(VENV)
