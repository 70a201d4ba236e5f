"""The record of one optimiser run: what was evaluated, in which order, at what simulated cost.

A :class:`Trajectory` keeps every evaluation (arch vector, fitness as a
fraction, simulated training seconds when a cost model was given) and derives
the anytime curves from them: the *incumbent* (best fitness so far) against
the number of evaluations and against the summed simulated training time.

It is saved as JSON (``.json``: human-readable, arch strings included) or
Parquet (``.parquet``: one row per evaluation, run metadata in the schema
metadata); :meth:`Trajectory.load` reads either.

>>> import numpy as np
>>> t = Trajectory(optimizer="rs", source="toy", space="nb201", seed=0,
...                archs=np.zeros((3, 6), dtype=np.int64), fitness=np.array([0.2, 0.5, 0.4]))
>>> t.incumbent.tolist()
[0.2, 0.5, 0.5]
>>> t.at_evaluations([1, 2, 10]).tolist()
[0.2, 0.5, 0.5]
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_open, atomic_write_json, loads_json
from ..errors import SearchError, shown
from ..spaces import get_space

#: Schema tag and version written into every saved trajectory.
SCHEMA = "surrogate-eo/trajectory"
SCHEMA_VERSION = 1


@dataclass
class Trajectory:
    """Evaluations of one optimiser run, in order.

    Parameters
    ----------
    optimizer : str
        Optimiser name (``rs``, ``re``, ``ls``, ``tpe``, or a label).
    source : str
        Name of the fitness source that was optimised.
    space : str
        Search-space name (``nb201``, ``eo``).
    seed : int or None
        The run's seed.
    archs : ndarray, shape (n, d), int64
        Evaluated architectures in evaluation order (repeats allowed).
    fitness : ndarray, shape (n,), float64
        Their fitness (fractions, higher is better).
    cost : ndarray, shape (n,), float64, optional
        Simulated training time of each evaluation in seconds (None without a cost model).
    params : dict
        Optimiser hyper-parameters, budgets and anything else worth keeping (JSON-ready).
    stop_reason : str
        ``"budget"`` (evaluation budget used), ``"time_budget"`` (simulated time
        exceeded) or ``"exhausted"`` (nothing left to propose).
    wall_s : float
        Real seconds the run took.
    source_s : float
        Real seconds spent inside the source's ``fitness`` and the cost model.
    """

    optimizer: str
    source: str
    space: str
    seed: int | None
    archs: np.ndarray
    fitness: np.ndarray
    cost: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    stop_reason: str = "budget"
    wall_s: float = 0.0
    source_s: float = 0.0

    def __post_init__(self) -> None:
        self.archs = np.asarray(self.archs, dtype=np.int64).reshape(len(self.fitness), -1) \
            if len(self.fitness) else np.zeros((0, get_space(self.space).n_dims), dtype=np.int64)
        self.fitness = np.asarray(self.fitness, dtype=np.float64).reshape(-1)
        if self.cost is not None:
            self.cost = np.asarray(self.cost, dtype=np.float64).reshape(-1)
            if len(self.cost) != len(self.fitness):
                raise SearchError(f"trajectory of {self.optimizer!r}: {len(self.fitness)} evaluations but "
                                  f"{len(self.cost)} costs; expected one cost per evaluation")

    # ---------------------------------------------------------------- curves
    def __len__(self) -> int:
        return len(self.fitness)

    @property
    def n_evals(self) -> int:
        """Number of evaluations."""
        return len(self.fitness)

    @property
    def incumbent(self) -> np.ndarray:
        """Best fitness after each evaluation, shape ``(n,)`` (running maximum)."""
        return np.maximum.accumulate(self.fitness) if len(self.fitness) else np.zeros(0)

    @property
    def sim_time(self) -> np.ndarray | None:
        """Summed simulated training seconds after each evaluation (None without costs)."""
        return None if self.cost is None else np.cumsum(self.cost)

    @property
    def best_fitness(self) -> float:
        """The final incumbent's fitness (NaN for an empty run)."""
        return float(self.fitness.max()) if len(self.fitness) else float("nan")

    @property
    def best_arch(self) -> np.ndarray:
        """Vector of the final incumbent (the first evaluation reaching the best fitness)."""
        if not len(self.fitness):
            raise SearchError(f"trajectory of {self.optimizer!r} is empty; it has no best architecture")
        return self.archs[int(np.argmax(self.fitness))].copy()

    @property
    def best_string(self) -> str:
        """String of the final incumbent."""
        return get_space(self.space).to_string(self.best_arch)

    def at_evaluations(self, grid: Any) -> np.ndarray:
        """Incumbent after ``k`` evaluations for each ``k`` of ``grid`` (NaN for ``k < 1``).

        A ``k`` beyond the run's length gives the final incumbent (the run had stopped).
        """
        k = np.asarray(grid, dtype=np.int64).reshape(-1)
        inc = self.incumbent
        out = np.full(len(k), np.nan)
        ok = (k >= 1) & (len(inc) > 0)
        out[ok] = inc[np.minimum(k[ok], len(inc)) - 1]
        return out

    def at_time(self, grid: Any) -> np.ndarray:
        """Incumbent once ``t`` simulated seconds have passed, for each ``t`` of ``grid`` (seconds).

        Only evaluations finished by ``t`` count; NaN before the first one finishes.
        """
        if self.cost is None:
            raise SearchError(f"trajectory of {self.optimizer!r} on {self.source!r} has no simulated costs; "
                              "run the optimiser with a cost model (e.g. a benchmark's predict_runtime)")
        t = np.asarray(grid, dtype=np.float64).reshape(-1)
        n_done = np.searchsorted(self.sim_time, t, side="right")
        return self.at_evaluations(n_done)

    def regret(self, optimum: float) -> np.ndarray:
        """``optimum - incumbent`` after each evaluation (fractions)."""
        return float(optimum) - self.incumbent

    # ------------------------------------------------------------------ I/O
    def _meta(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "optimizer": self.optimizer,
                "source": self.source, "space": self.space, "seed": self.seed, "params": self.params,
                "stop_reason": self.stop_reason, "wall_s": self.wall_s, "source_s": self.source_s,
                "n_evals": self.n_evals, "best_fitness": self.best_fitness if len(self) else None,
                "best_arch": self.best_string if len(self) else None}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: metadata plus per-evaluation lists (``archs`` as strings, ``vectors``)."""
        out = self._meta()
        out["archs"] = get_space(self.space).to_strings(self.archs) if len(self) else []
        out["vectors"] = self.archs.tolist()
        out["fitness"] = self.fitness.tolist()
        out["cost"] = None if self.cost is None else self.cost.tolist()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "trajectory") -> Trajectory:
        """Inverse of :meth:`to_dict`; raises :class:`SearchError` naming the bad field."""
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            got = d.get("schema") if isinstance(d, dict) else type(d).__name__
            raise SearchError(f"{where} is not a surrogate-eo trajectory (schema {shown(got, 60)}, "
                              f"expected {SCHEMA!r})")
        version = d.get("schema_version", -1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise SearchError(f"{where}: schema_version {shown(version, 40)} is not an integer")
        if version > SCHEMA_VERSION:
            raise SearchError(f"{where} has schema version {d.get('schema_version')}; this surrogate-eo "
                              f"reads up to {SCHEMA_VERSION}: upgrade surrogate-eo")
        try:
            space = get_space(d["space"])
            vectors = d.get("vectors")
            archs = space.validate(np.asarray(vectors, dtype=np.int64).reshape(-1, space.n_dims)) \
                if vectors else np.zeros((0, space.n_dims), dtype=np.int64)
            fitness = np.asarray(d["fitness"], dtype=np.float64)
            cost = None if d.get("cost") is None else np.asarray(d["cost"], dtype=np.float64)
            if fitness.shape != (len(archs),):
                raise SearchError(f"{where}: {len(archs)} vectors but fitness of shape {fitness.shape}; "
                                  f"the file was edited or truncated")
            return cls(optimizer=str(d["optimizer"]), source=str(d["source"]), space=space.name,
                       seed=d.get("seed"), archs=archs, fitness=fitness, cost=cost,
                       params=dict(d.get("params") or {}), stop_reason=str(d.get("stop_reason", "budget")),
                       wall_s=float(d.get("wall_s", 0.0)), source_s=float(d.get("source_s", 0.0)))
        except SearchError:
            raise
        except KeyError as exc:
            raise SearchError(f"{where} lacks the field {shown(exc.args[0], 40)}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise SearchError(f"{where} has a malformed field: {shown(str(exc), 160)}") from None

    def save(self, path: str | Path) -> Path:
        """Write to ``path`` (``.json`` or ``.parquet``, chosen by the suffix), atomically."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            atomic_write_json(path, self.to_dict())
        elif suffix in (".parquet", ".pq"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            cols: dict[str, Any] = {"step": np.arange(len(self), dtype=np.int64),
                                    "arch": get_space(self.space).to_strings(self.archs) if len(self) else [],
                                    "fitness": self.fitness}
            for p in range(self.archs.shape[1]):
                cols[f"x{p}"] = self.archs[:, p]
            if self.cost is not None:
                cols["cost_s"] = self.cost
            table = pa.table(cols).replace_schema_metadata({"surrogate_eo": json.dumps(self._meta())})
            with atomic_open(path) as fh:
                pq.write_table(table, fh)
        else:
            raise SearchError(f"trajectory file {path} must end in .json or .parquet")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Trajectory:
        """Read a trajectory written by :meth:`save` (JSON or Parquet)."""
        path = Path(path)
        if not path.is_file():
            raise SearchError(f"trajectory file {path} does not exist")
        suffix = path.suffix.lower()
        if suffix == ".json":
            try:
                d = loads_json(path.read_bytes())
            except ValueError as exc:
                raise SearchError(f"trajectory file {path} is not valid JSON: {str(exc)[:200]}") from None
            return cls.from_dict(d, where=str(path))
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            try:
                table = pq.read_table(path)
            except Exception as exc:  # pyarrow raises several types for corrupt files
                raise SearchError(f"trajectory file {path} is not a readable Parquet file: {exc}") from None
            raw = (table.schema.metadata or {}).get(b"surrogate_eo")
            if raw is None:
                raise SearchError(f"{path} has no surrogate-eo metadata; it was not written by Trajectory.save")
            try:
                d = loads_json(raw)
            except ValueError as exc:
                raise SearchError(f"{path}: its surrogate-eo metadata is not valid JSON ({str(exc)[:120]})") from None
            if not isinstance(d, dict):
                raise SearchError(f"{path}: its surrogate-eo metadata is not a JSON object")
            xs = sorted((c for c in table.column_names if c[:1] == "x" and c[1:].isdigit()), key=lambda c: int(c[1:]))
            d["vectors"] = np.stack([table.column(c).to_numpy() for c in xs], axis=1).tolist() if len(table) else []
            d["fitness"] = table.column("fitness").to_numpy().tolist()
            d["cost"] = table.column("cost_s").to_numpy().tolist() if "cost_s" in table.column_names else None
            return cls.from_dict(d, where=str(path))
        raise SearchError(f"trajectory file {path} must end in .json or .parquet")

    def summary(self) -> str:
        """One line: optimiser, source, evaluations, best fitness and arch, simulated time."""
        s = f"{self.optimizer} on {self.source}: {self.n_evals} evaluations"
        if len(self):
            s += f", best {self.best_fitness:.4f} at {self.best_string}"
        if self.cost is not None and len(self):
            s += f", simulated time {self.sim_time[-1]:,.0f} s"
        return s + f" (stopped: {self.stop_reason})"
