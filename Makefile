# surrogate-eo: the two set-up commands of the README, and a few helpers.
#   make demo   install into .venv and run the main job on its embedded default
#   make test   install into .venv (with test extras) and run the test suite and the package's doctests
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

# `pytest` runs tests/ and the doctests of surrogate_eo/ (pyproject: testpaths, --doctest-modules).
# pytest exits 5 when it collects no tests: a broken collection is a failure (make stops on any non-zero exit)
test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean-venv:
	rm -rf $(VENV)
