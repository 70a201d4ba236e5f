"""Benchmark artifacts that are data, not code.

Layout of a benchmark folder::

    benchmark.json            metadata: format, schema_version, space, tasks, metrics,
                              entries (model descriptions), library versions,
                              sha256 of every other file, checksum of itself
    tuning.json               Optuna results (when tuned)
    entries/00/booster.ubj    XGBoost (UBJSON)          entries/01/booster.txt   LightGBM (model text)
    entries/02/forest.npz     random forest as arrays   entries/03/weights.safetensors  GIN
    entries/NN/m00-…          ensemble members
    entries/NN/train_archs.npy  training architectures (int64, no pickle)

:func:`load_benchmark` reads ``benchmark.json`` as JSON, checks format,
schema version and its own checksum, checks that every listed path stays
inside the folder, reads every file once and compares its sha256, and only
then parses the bytes with data-only readers (XGBoost/LightGBM model
parsers, ``numpy.load(allow_pickle=False)``, safetensors). Model classes come
from a fixed table (:func:`~surrogate_eo.surrogates.base.model_class`), so an
artifact cannot name code to run. Any mismatch raises :class:`ArtifactError`.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .._io import loads_json
from ..errors import ArtifactError, SurrogateEOError, one_line, shown
from .artifact_models import check_lgb_text, check_xgb_ubj
from .artifact_schema import SAFE_PATH, validate_manifest
from ..spaces import SPACES, get_space
from .base import Surrogate, model_class
from .benchmark import TRANSFORMS, Benchmark, Entry
from .ensemble import Ensemble, MultiFidelity
from .features import Featurizer
from ._swap import check_target, read_consistently, readable_folder, write_folder

FORMAT = "surrogate-eo-benchmark"
SCHEMA_VERSION = 1
META_FILE = "benchmark.json"
_SAFE_PATH = SAFE_PATH
#: Largest benchmark.json read (a manifest is tens of KB).
MAX_MANIFEST_BYTES = 64 * 2**20
#: Bytes hashed per read while checking a listed file.
HASH_CHUNK = 4 * 2**20
_LIBRARIES = ("numpy", "scikit-learn", "xgboost", "lightgbm", "torch", "safetensors")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in _LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


# ------------------------------------------------------------------ params
def _params_to_json(model: Surrogate) -> dict[str, Any]:
    params = model.get_params()
    if isinstance(model, Ensemble):
        params["members"] = [{"family": m.family, "params": _params_to_json(m)} for m in model.members]
    if isinstance(model, MultiFidelity):
        params["base"] = {"family": model.base.family, "params": _params_to_json(model.base)}  # type: ignore[union-attr]
    if params.get("features") is not None:
        params["features"] = list(params["features"])
    try:
        _canonical(params)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{type(model).__name__} parameters are not JSON data: {exc}") from None
    return params


def _model_from_params(family: Any, params: Any, where: str) -> Surrogate:
    try:
        cls = model_class(str(family))
    except SurrogateEOError:
        raise ArtifactError(f"{where}: unknown model family {shown(family, 60)}") from None
    if not isinstance(params, dict):
        raise ArtifactError(f"{where}: 'params' must be an object")
    valid = cls._param_names()
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ArtifactError(f"{where}: {cls.__name__} has no parameter {shown(unknown[0], 60)} (valid: {valid})")
    p = dict(params)
    if "members" in p:
        p["members"] = [_model_from_params(m.get("family"), m.get("params"), f"{where}.members")
                        for m in p["members"]]
    if isinstance(p.get("base"), dict):
        p["base"] = _model_from_params(p["base"].get("family"), p["base"].get("params"), f"{where}.base")
    if isinstance(p.get("features"), list):
        p["features"] = tuple(p["features"])
    return cls(**p)


# -------------------------------------------------------------------- save
def _dump(model: Surrogate, prefix: str, files: dict[str, bytes]) -> dict[str, Any]:
    desc: dict[str, Any] = {"family": model.family, "params": _params_to_json(model),
                            "featurizer": model.featurizer_.to_dict(), "n_train": int(model.n_train_)}
    if isinstance(model, Ensemble):
        desc["estimators"] = [_dump(est, f"{prefix}m{j:02d}-", files) for j, est in enumerate(model.estimators_)]
    elif isinstance(model, MultiFidelity):
        desc["epochs"] = [int(e) for e in model.epochs_]
        desc["base"] = _dump(model.base_, prefix, files)
    else:
        state, blobs = model._save_state()  # type: ignore[attr-defined]
        desc["state"] = state
        desc["files"] = {}
        for name, data in blobs.items():
            files[prefix + name] = data
            desc["files"][name] = prefix + name
    return desc


def save_benchmark(bench: Benchmark, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``bench`` to the folder ``path`` (atomically: a temp folder renamed into place)."""
    from .. import __version__

    root = Path(path)
    check_target(root, overwrite=overwrite, meta_file=META_FILE)
    files: dict[str, bytes] = {}
    entries = []
    for i, e in enumerate(bench.entries):
        prefix = f"entries/{i:02d}/"
        rec: dict[str, Any] = {"task": e.task, "metric": e.metric, "epoch": e.epoch, "transform": e.transform,
                               "noise_std": float(e.noise_std), "info": e.info,
                               "model": _dump(e.model, prefix, files)}
        if e.train_archs is not None:
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(e.train_archs, dtype=np.int64), allow_pickle=False)
            files[prefix + "train_archs.npy"] = buf.getvalue()
            rec["train_archs"] = prefix + "train_archs.npy"
        entries.append(rec)
    meta = {k: v for k, v in bench.meta.items() if k != "tuning"}
    if bench.meta.get("tuning"):
        files["tuning.json"] = _canonical(bench.meta["tuning"])
    doc: dict[str, Any] = {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "space": bench.space.name,
        "tasks": bench.tasks, "metrics": bench.metrics,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "surrogate_eo_version": __version__, "library_versions": _versions(), "meta": meta,
        "entries": entries, "files": {name: _sha256(data) for name, data in sorted(files.items())},
        "sizes": {name: len(data) for name, data in sorted(files.items())},
    }
    try:
        doc["checksum"] = _sha256(_canonical(doc))
    except ValueError as exc:
        raise ArtifactError(f"benchmark metadata is not finite JSON data: {exc}") from None
    write_folder(root, files, META_FILE, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
    return root


# -------------------------------------------------------------------- load
class _Files:
    """Every file the metadata lists, size-checked, hashed in chunks while read once, compared to its sha256."""

    def __init__(self, root: Path, listed: Any, sizes: Any = None) -> None:
        if not isinstance(listed, dict):
            raise ArtifactError(f"{root / META_FILE}: 'files' must map paths to sha256 digests")
        self.root, self.data = root, {}
        real_root = root.resolve()
        checked = []
        for rel, digest in listed.items():  # every path and size first: nothing is read before all are fine
            if not isinstance(rel, str) or not _SAFE_PATH.match(rel) or ".." in rel.split("/"):
                raise ArtifactError(f"{root}: listed file {shown(rel, 60)} is not a plain relative path inside "
                                    f"the folder")
            p = root / rel
            if p.is_symlink() or not p.is_file() or real_root not in p.resolve().parents:
                raise ArtifactError(f"{root}: listed file {rel} is missing or not a regular file inside the folder")
            size = p.stat().st_size
            want = sizes.get(rel) if isinstance(sizes, dict) else None
            if want is not None and size != want:
                raise ArtifactError(f"{p}: {size:,} bytes, the metadata lists {want:,}; the artifact was modified "
                                    f"or corrupted — refit or restore it")
            checked.append((rel, p, digest, size))
        total = sum(c[3] for c in checked)
        if total > MAX_ARTIFACT_BYTES:
            raise ArtifactError(f"{root}: listed files hold {total:,} bytes, more than a benchmark may "
                                f"({MAX_ARTIFACT_BYTES:,}); not a benchmark this surrogate-eo wrote")
        for rel, p, digest, size in checked:
            self.data[rel] = _read_hashed(p, size, digest)

    def read(self, rel: Any) -> bytes:
        if rel not in self.data:
            raise ArtifactError(f"{self.root}: file {shown(rel, 60)} is used but not listed with a checksum "
                                f"in {META_FILE}")
        return self.data[rel]


#: Largest total size of a benchmark's listed files.
MAX_ARTIFACT_BYTES = 4 * 2**30


def _stream_digest(p: Path, size: int, keep: bool) -> tuple[str, bytes]:
    """sha256 of ``p`` read in :data:`HASH_CHUNK` chunks (and the bytes, when ``keep``)."""
    h = hashlib.sha256()
    buf = bytearray()
    seen = 0
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(HASH_CHUNK)
            if not chunk:
                break
            seen += len(chunk)
            if seen > size:
                raise ArtifactError(f"{p} grew while being read; it is being rewritten — retry")
            h.update(chunk)
            if keep:
                buf += chunk
    return h.hexdigest(), bytes(buf)


def _read_hashed(p: Path, size: int, digest: str) -> bytes:
    """Bytes of ``p`` (expected ``size`` bytes) once its sha256 matches ``digest``.

    The first pass only hashes (constant memory), so a file that does not match is
    refused without ever being held in memory; the second pass reads and hashes again,
    so the bytes returned are exactly the bytes verified.
    """
    for keep in (False, True):
        got, data = _stream_digest(p, size, keep)
        if got != digest:
            raise ArtifactError(
                f"{p}: sha256 {got[:16]}… does not match the metadata ({str(digest)[:16]}…); "
                f"the artifact was modified or corrupted — refit or restore it"
            )
    return data


def _library_message(exc: BaseException) -> str:
    """The one informative line of a model library's error (no timestamps, source paths or stack traces)."""
    text = str(exc).split("Stack trace", 1)[0]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = lines[-1] if lines else type(exc).__name__
    line = re.sub(r"^\[[0-9:]+\]\s*", "", line)              # xgboost's "[22:30:00] "
    line = re.sub(r"^\S+\.(cc|cpp|h|py):\d+:\s*", "", line)  # "/workspace/src/learner.cc:123: "
    return one_line(line, 160)


def _load(desc: Any, files: _Files, space: str, where: str, extra_features: int = 0) -> Surrogate:
    if not isinstance(desc, dict):
        raise ArtifactError(f"{where}: model description must be an object")
    model = _model_from_params(desc.get("family"), desc.get("params", {}), where)
    try:
        model.featurizer_ = Featurizer.from_dict(desc["featurizer"])
        model.n_train_ = int(desc["n_train"])
    except (KeyError, TypeError, ValueError, SurrogateEOError) as exc:
        raise ArtifactError(f"{where}: bad featurizer/n_train: {exc}") from None
    if model.featurizer_.space != space:
        raise ArtifactError(f"{where}: model is for space {shown(model.featurizer_.space, 60)}, benchmark is {shown(space, 60)}")
    if isinstance(model, Ensemble):
        model.estimators_ = [_load(d, files, space, f"{where}.estimators[{j}]", extra_features)
                             for j, d in enumerate(desc.get("estimators") or [])]
        if not model.estimators_:
            raise ArtifactError(f"{where}: ensemble without estimators")
        if model.estimators_[0].featurizer_ != model.featurizer_:
            raise ArtifactError(f"{where}: ensemble features {model.featurizer_.to_dict()} differ from its first "
                                f"member's {model.estimators_[0].featurizer_.to_dict()}")
    elif isinstance(model, MultiFidelity):
        model.base_ = _load(desc.get("base"), files, space, f"{where}.base", extra_features + 1)
        model.epochs_ = sorted(int(e) for e in desc.get("epochs") or [])
        if not model.epochs_:
            raise ArtifactError(f"{where}: multi-fidelity model without epochs")
    else:
        names = desc.get("files") or {}
        blobs = {name: files.read(rel) for name, rel in names.items()}
        for name, rel in names.items():
            if str(rel).endswith(".ubj"):  # XGBoost's / LightGBM's readers can crash on a damaged file
                check_xgb_ubj(blobs[name], f"{where}: {rel}")
            elif model.family == "lgb":
                blobs[name] = check_lgb_text(blobs[name], f"{where}: {rel}")
        try:
            model._load_state(desc.get("state") or {}, blobs)  # type: ignore[attr-defined]
        except ArtifactError:
            raise
        except SurrogateEOError:
            raise
        except Exception as exc:  # parser errors of xgboost/lightgbm/safetensors
            raise ArtifactError(f"{where}: cannot read {model.family} model files {sorted(names.values())}: "
                                f"{_library_message(exc)}") from None
        if model.uses_features:
            want = model.featurizer_.n_features + extra_features
            if model._n_model_features() != want:  # type: ignore[attr-defined]
                raise ArtifactError(f"{where}: {model.family} model expects {model._n_model_features()} features, "
                                    f"the featurizer gives {want}")
    return model


def load_benchmark(path: str | os.PathLike[str]) -> Benchmark:
    """Load and verify a benchmark folder written by :func:`save_benchmark`.

    A ``fit --force`` that replaces the folder while it is being read is
    detected (the folder's inode changed) and the read is retried, so a
    reader gets the old or the new benchmark, never an error or a mix.
    """
    return read_consistently(Path(path), _load_benchmark_once)


def _load_benchmark_once(root: Path) -> Benchmark:
    root = readable_folder(root)
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise ArtifactError(f"{root} is not a benchmark folder: {META_FILE} not found")
    try:
        if meta_path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{meta_path.stat().st_size:,} bytes, more than a manifest may hold "
                             f"({MAX_MANIFEST_BYTES:,})")
        doc = loads_json(meta_path.read_bytes())
    except ValueError as exc:
        raise ArtifactError(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ArtifactError(f"{meta_path}: not a surrogate-eo benchmark (format {shown(doc.get('format') if isinstance(doc, dict) else None, 60)})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(f"{meta_path}: schema version {shown(doc.get('schema_version'), 60)}, this surrogate-eo reads "
                            f"{SCHEMA_VERSION}; refit the benchmark or install the version that wrote it "
                            f"({shown(doc.get('surrogate_eo_version'), 60)})")
    body = {k: v for k, v in doc.items() if k != "checksum"}
    try:
        ok = doc.get("checksum") == _sha256(_canonical(body))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ArtifactError(f"{meta_path}: metadata checksum does not match its content; the file was edited")
    validate_manifest(doc, str(meta_path))
    space = doc.get("space")
    if space not in SPACES:
        raise ArtifactError(f"{meta_path}: unknown space {shown(space, 60)}; expected one of {sorted(SPACES)}")
    files = _Files(root, doc.get("files"), doc.get("sizes"))
    sp = get_space(space)
    entries = []
    for i, rec in enumerate(doc.get("entries") or []):
        where = f"{meta_path} entries[{i}]"
        try:
            task, metric, epoch = str(rec["task"]), str(rec["metric"]), rec["epoch"]
            transform, noise = str(rec.get("transform", "identity")), float(rec.get("noise_std", 0.0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{where}: missing or bad field {exc}") from None
        if transform not in TRANSFORMS or not np.isfinite(noise) or noise < 0 or \
                (epoch is not None and not isinstance(epoch, int)):
            raise ArtifactError(f"{where}: bad transform/noise_std/epoch ({shown(transform, 60)}, {noise}, {shown(epoch, 60)})")
        try:
            model = _load(rec.get("model"), files, space, where)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            if isinstance(exc, SurrogateEOError):
                raise
            raise ArtifactError(f"{where}: bad model description: {_library_message(exc)}") from None
        train = None
        if rec.get("train_archs"):
            try:
                train = np.load(io.BytesIO(files.read(rec["train_archs"])), allow_pickle=False)
                train = sp.validate(train)
            except Exception as exc:  # noqa: BLE001 - numpy's header parser raises many kinds on a damaged file
                raise ArtifactError(f"{where}: bad train_archs: {one_line(str(exc), 200)}") from None
        entries.append(Entry(task, metric, epoch, model, transform, noise, dict(rec.get("info") or {}), train))
    if not entries:
        raise ArtifactError(f"{meta_path}: no entries")
    meta = dict(doc.get("meta") or {})
    meta.update({"created": doc.get("created"), "library_versions": doc.get("library_versions"),
                 "surrogate_eo_version": doc.get("surrogate_eo_version"), "path": str(root)})
    if "tuning.json" in files.data:
        try:
            meta["tuning"] = loads_json(files.read("tuning.json"))
        except ValueError as exc:
            raise ArtifactError(f"{root / 'tuning.json'} is not valid JSON ({exc}); refit or restore it") from None
    bench = Benchmark(space, entries, meta)
    from ._query import probe  # exported trees vs libraries vs the predictions stored at save (issue 13)

    probe(bench, str(root))
    return bench


def load(path: str | os.PathLike[str]) -> Benchmark:
    """Load a benchmark folder (alias of :func:`load_benchmark`; exported as ``surrogate_eo.load``)."""
    return load_benchmark(path)
