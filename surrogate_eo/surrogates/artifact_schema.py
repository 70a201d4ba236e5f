"""The schema of ``benchmark.json``: every field's type and range, checked before anything is used.

:func:`validate_manifest` walks the whole parsed document once (top-level
fields, ``meta``, every entry and its nested model descriptions, the file
list with digests and sizes) and raises
:class:`~surrogate_eo.errors.ArtifactError` naming the first bad field with
its (capped) value. :func:`~surrogate_eo.surrogates.artifacts.load_benchmark`
runs it after the checksum check, so a manifest whose checksum was recomputed
after editing (the checksum proves integrity, not authorship) still cannot
reach a model parser with a wrong type, an absurd thread count or a path
outside the folder.

Examples
--------
>>> from surrogate_eo.surrogates.artifact_schema import validate_manifest
>>> validate_manifest({"format": "surrogate-eo-benchmark", "meta": [1, 2, 3]}, "b/benchmark.json")
Traceback (most recent call last):
...
surrogate_eo.errors.ArtifactError: b/benchmark.json: field schema_version is missing; refit the benchmark
"""
from __future__ import annotations

import inspect
import math
import re
from typing import Any

from ..errors import ArtifactError, shown

#: Deepest nesting of model descriptions (ensemble -> multi-fidelity -> base ...).
MAX_MODEL_DEPTH = 6
#: Largest thread count a saved model may ask for.
MAX_THREADS = 4096
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: A listed file: a plain relative path inside the benchmark folder.
SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")
_TOP_REQUIRED = ("format", "schema_version", "space", "tasks", "metrics", "entries", "files", "checksum")
_TOP_OPTIONAL = ("created", "surrogate_eo_version", "library_versions", "meta", "sizes")
_ENTRY_KEYS = ("task", "metric", "epoch", "transform", "noise_std", "info", "model", "train_archs")
_MODEL_KEYS = ("family", "params", "featurizer", "n_train", "state", "files", "estimators", "epochs", "base")


class _Check:
    def __init__(self, where: str) -> None:
        self.where = where

    @staticmethod
    def key(k: Any) -> str:
        """A JSON key as shown in a field name (long or odd keys capped and quoted)."""
        return k if isinstance(k, str) and len(k) <= 40 and k.isprintable() else shown(k, 40)

    def fail(self, field: str, value: Any, expected: str) -> ArtifactError:
        return ArtifactError(f"{self.where}: field {field} = {shown(value, 60)}: expected {expected}; "
                             f"the manifest was edited or is corrupt — refit or restore the benchmark")

    def type(self, field: str, value: Any, kind: type | tuple[type, ...], expected: str) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self.fail(field, value, expected)
        return value

    def str_list(self, field: str, value: Any) -> None:
        self.type(field, value, list, "a list of strings")
        for i, v in enumerate(value):
            self.type(f"{field}[{i}]", v, str, "a string")

    def keys(self, field: str, d: dict[str, Any], allowed: tuple[str, ...]) -> None:
        for k in d:
            if k not in allowed:
                raise ArtifactError(f"{self.where}: unknown field {field}{'.' if field else ''}{shown(k, 40)}; "
                                    f"expected one of {', '.join(allowed)}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _param_kinds(family: str) -> dict[str, Any]:
    """Constructor defaults of a model family: the type each saved parameter must have."""
    from .base import model_class

    cls = model_class(family)
    sig = inspect.signature(cls.__init__)
    return {p.name: p.default for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY}


def _check_params(c: _Check, field: str, family: str, params: Any) -> None:
    c.type(field, params, dict, "an object of constructor parameters")
    kinds = _param_kinds(family)
    for k, v in params.items():
        f = f"{field}.{c.key(k)}"
        if k not in kinds:
            raise ArtifactError(f"{c.where}: model family {family!r} has no parameter {shown(k, 40)} "
                                f"(valid: {', '.join(kinds)})")
        default = kinds[k]
        if k in ("members", "base"):
            continue  # model descriptions, checked by the caller
        if isinstance(default, bool):
            c.type(f, v, bool, "true or false")
        elif isinstance(default, int) and default is not None:
            c.type(f, v, int, "an integer")
            lo, hi = ((-1, MAX_THREADS) if k in ("n_jobs", "n_threads") else (-(2**63), 2**63 - 1))
            if not lo <= v <= hi:
                raise c.fail(f, v, f"an integer in {lo}..{hi}")
        elif isinstance(default, float):
            c.type(f, v, (int, float), "a number")
            if not math.isfinite(v):
                raise c.fail(f, v, "a finite number")
        elif isinstance(default, str):
            c.type(f, v, str, "a string")
        elif k == "features":
            if v is not None:
                c.str_list(f, v)
        elif k == "monotonic_cst":
            if v is not None:
                c.type(f, v, dict, "an object of feature name -> -1, 0 or 1")
                for name, sign in v.items():
                    if isinstance(sign, bool) or sign not in (-1, 0, 1):
                        raise c.fail(f"{f}.{c.key(name)}", sign, "-1, 0 or 1")
        elif k == "weights":
            if v is not None:
                c.type(f, v, list, "a list of numbers")
                for j, w in enumerate(v):
                    c.type(f"{f}[{j}]", w, (int, float), "a number")
                    if not math.isfinite(w) or w <= 0:
                        raise c.fail(f"{f}[{j}]", w, "a finite number > 0")
        elif v is not None and not isinstance(v, (int, float, str, bool)):
            raise c.fail(f, v, "a number, string, true/false or null")
        if isinstance(v, float) and not math.isfinite(v):
            raise c.fail(f, v, "a finite number")


def _check_model(c: _Check, field: str, desc: Any, depth: int = 0) -> None:
    from ..errors import SurrogateEOError
    from .base import model_class

    if depth > MAX_MODEL_DEPTH:
        raise c.fail(field, "...", f"model descriptions nested at most {MAX_MODEL_DEPTH} deep")
    c.type(field, desc, dict, "a model description object")
    c.keys(field, desc, _MODEL_KEYS)
    family = c.type(f"{field}.family", desc.get("family"), str, "a model family name")
    try:
        model_class(family)
    except SurrogateEOError:
        raise c.fail(f"{field}.family", family, "a known model family (unknown model family)") from None
    params = desc.get("params", {})
    _check_params(c, f"{field}.params", family, params)
    for j, m in enumerate(params.get("members") or []):
        c.type(f"{field}.params.members[{j}]", m, dict, "an object with family and params")
        fam = c.type(f"{field}.params.members[{j}].family", m.get("family"), str, "a model family name")
        try:
            model_class(fam)
        except SurrogateEOError:
            raise c.fail(f"{field}.params.members[{j}].family", fam, "a known model family") from None
        _check_params(c, f"{field}.params.members[{j}].params", fam, m.get("params", {}))
    weights = params.get("weights")
    if weights is not None and len(weights) != len(params.get("members") or []):
        raise c.fail(f"{field}.params.weights", weights,
                     f"one weight per member template ({len(params.get('members') or [])})")
    if params.get("base") is not None:
        b = c.type(f"{field}.params.base", params["base"], dict, "an object with family and params")
        fam = c.type(f"{field}.params.base.family", b.get("family"), str, "a model family name")
        _check_params(c, f"{field}.params.base.params", fam, b.get("params", {}))
    feat = c.type(f"{field}.featurizer", desc.get("featurizer"), dict, "a featurizer object")
    c.type(f"{field}.featurizer.space", feat.get("space"), str, "a space name")
    c.str_list(f"{field}.featurizer.blocks", feat.get("blocks"))
    if "n_features" in feat:
        n = c.type(f"{field}.featurizer.n_features", feat["n_features"], int, "an integer")
        if not 0 <= n < 2**31:
            raise c.fail(f"{field}.featurizer.n_features", n, "an integer >= 0")
    n_train = c.type(f"{field}.n_train", desc.get("n_train"), int, "an integer")
    if not 0 <= n_train < 2**63:
        raise c.fail(f"{field}.n_train", n_train, "an integer >= 0")
    if "state" in desc:
        c.type(f"{field}.state", desc["state"], dict, "an object")
    if "files" in desc:
        files = c.type(f"{field}.files", desc["files"], dict, "an object of name -> listed path")
        for k, v in files.items():
            c.type(f"{field}.files.{c.key(k)}", v, str, "a listed path")
    if "estimators" in desc:
        c.type(f"{field}.estimators", desc["estimators"], list, "a list of model descriptions")
        for j, d in enumerate(desc["estimators"]):
            _check_model(c, f"{field}.estimators[{j}]", d, depth + 1)
    if "epochs" in desc:
        c.type(f"{field}.epochs", desc["epochs"], list, "a list of integers")
        for j, e in enumerate(desc["epochs"]):
            if c.type(f"{field}.epochs[{j}]", e, int, "an integer >= 1") < 1:
                raise c.fail(f"{field}.epochs[{j}]", e, "an integer >= 1")
    if "base" in desc:
        _check_model(c, f"{field}.base", desc["base"], depth + 1)


def _check_entry(c: _Check, i: int, rec: Any) -> None:
    from .benchmark import TRANSFORMS

    f = f"entries[{i}]"
    c.type(f, rec, dict, "an entry object")
    c.keys(f, rec, _ENTRY_KEYS)
    for k in ("task", "metric", "model"):
        if k not in rec:
            raise ArtifactError(f"{c.where}: field {f}.{k} is missing")
    c.type(f"{f}.task", rec["task"], str, "a task name")
    c.type(f"{f}.metric", rec["metric"], str, "a metric name")
    epoch = rec.get("epoch")
    if epoch is not None and (c.type(f"{f}.epoch", epoch, int, "an integer >= 1 or null") < 1):
        raise c.fail(f"{f}.epoch", epoch, "an integer >= 1 or null")
    transform = c.type(f"{f}.transform", rec.get("transform", "identity"), str, "a transform name")
    if transform not in TRANSFORMS:
        raise c.fail(f"{f}.transform", transform, f"one of {', '.join(TRANSFORMS)}")
    noise = c.type(f"{f}.noise_std", rec.get("noise_std", 0.0), (int, float), "a number >= 0")
    if not math.isfinite(noise) or noise < 0:
        raise c.fail(f"{f}.noise_std", noise, "a finite number >= 0")
    info = c.type(f"{f}.info", rec.get("info", {}), dict, "an object")
    if "probe" in info:  # predictions on the probe set stored at save (checked at load)
        pr = c.type(f"{f}.info.probe", info["probe"], dict, "an object with n, seed and mean")
        for k in ("n", "seed"):
            c.type(f"{f}.info.probe.{k}", pr.get(k), int, "an integer")
        mean = c.type(f"{f}.info.probe.mean", pr.get("mean"), list, "a list of numbers")
        for j, v in enumerate(mean):
            if not isinstance(c.type(f"{f}.info.probe.mean[{j}]", v, (int, float), "a number"), (int, float)) \
                    or not math.isfinite(v):
                raise c.fail(f"{f}.info.probe.mean[{j}]", v, "a finite number")
    for part, key in (("conformal", "quantiles"), ("conformal", "single_quantiles"), ("noise", "quantiles")):
        # quantile grids of the noise model: conformal residuals, single-run residuals, seed deviations
        if part in info and key in c.type(f"{f}.info.{part}", info[part], dict, "an object"):
            _check_grid(c, f"{f}.info.{part}.{key}", info[part][key])
    if rec.get("train_archs") is not None:
        c.type(f"{f}.train_archs", rec["train_archs"], str, "a listed path or null")
    _check_model(c, f"{f}.model", rec["model"])


def _check_grid(c: _Check, field: str, grid: Any) -> None:
    """A noise model's quantile grid: 201 finite, non-decreasing numbers."""
    from .conformal import GRID

    values = c.type(field, grid, list, f"a list of {len(GRID)} numbers")
    if len(values) != len(GRID):
        raise c.fail(field, f"{len(values)} values", f"{len(GRID)} non-decreasing finite numbers")
    for j, v in enumerate(values):
        if not math.isfinite(c.type(f"{field}[{j}]", v, (int, float), "a number")):
            raise c.fail(f"{field}[{j}]", v, "a finite number")
        if j and v < values[j - 1]:
            raise c.fail(f"{field}[{j}]", v, f"a number >= the one before ({values[j - 1]})")


def validate_manifest(doc: Any, where: str) -> None:
    """Check every field of a parsed ``benchmark.json``; raise :class:`ArtifactError` on the first bad one.

    Parameters
    ----------
    doc : object
        What ``json.loads`` returned for the file.
    where : str
        The file's path, used in messages.
    """
    c = _Check(where)
    c.type("(document)", doc, dict, "a JSON object")
    for k in _TOP_REQUIRED:
        if k not in doc:
            raise ArtifactError(f"{where}: field {k} is missing; refit the benchmark")
    c.keys("", doc, _TOP_REQUIRED + _TOP_OPTIONAL)
    c.type("format", doc["format"], str, "'surrogate-eo-benchmark'")
    c.type("schema_version", doc["schema_version"], int, "an integer")
    c.type("space", doc["space"], str, "a space name")
    c.str_list("tasks", doc["tasks"])
    c.str_list("metrics", doc["metrics"])
    c.type("checksum", doc["checksum"], str, "a sha256 hex digest")
    for k in ("created", "surrogate_eo_version"):
        if k in doc:
            c.type(k, doc[k], str, "a string")
    if "library_versions" in doc:
        lv = c.type("library_versions", doc["library_versions"], dict, "an object of library -> version")
        for k, v in lv.items():
            c.type(f"library_versions.{c.key(k)}", v, (str, type(None)), "a version string or null")
    c.type("meta", doc.get("meta", {}), dict, "an object")
    files = c.type("files", doc["files"], dict, "an object of path -> sha256 digest")
    for k, v in files.items():
        if not SAFE_PATH.match(k) or ".." in k.split("/") or len(k) > 255:
            raise ArtifactError(f"{where}: listed file {shown(k, 60)} is not a plain relative path inside the folder")
        if not isinstance(v, str) or not _SHA256.match(v):
            raise c.fail(f"files.{c.key(k)}", v, "a sha256 digest (64 lower-case hex digits)")
    if "sizes" in doc:
        sizes = c.type("sizes", doc["sizes"], dict, "an object of path -> size in bytes")
        if set(sizes) != set(files):
            extra = sorted(set(sizes) ^ set(files))[0]
            raise c.fail("sizes", extra, "the same paths as 'files'")
        for k, v in sizes.items():
            if c.type(f"sizes.{c.key(k)}", v, int, "a size in bytes") < 0:
                raise c.fail(f"sizes.{c.key(k)}", v, "a size in bytes >= 0")
    entries = c.type("entries", doc["entries"], list, "a non-empty list of entries")
    if not entries:
        raise c.fail("entries", entries, "a non-empty list of entries")
    for i, rec in enumerate(entries):
        _check_entry(c, i, rec)
