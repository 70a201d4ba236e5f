"""Samplers over a search space, vectorised over batches of archs.

- :func:`uniform` — archs drawn uniformly at random;
- :func:`random_walks` — walks moving to one uniformly chosen neighbour per step;
- :func:`neighbourhoods` — complete one-step neighbourhoods of centre archs;
- :func:`hill_climb` — best-improvement hill climbing from many starts at once
  (the restarts), each step one batched fitness call;
- :func:`neutral_walks` — walks over neighbours within ``eps`` of the current
  fitness that move away from their start;
- :func:`exhaustive` — every arch of a finite space.

A :class:`Strata` is the set of archs a ground-truth campaign trains
(uniform + walks + neighbourhood centres); :func:`plan_strata` draws one and
:func:`infer_strata` recovers what it can from a bag of held archs.
Fitness calls go through :class:`CachedFitness`, which evaluates each distinct
arch once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LandscapeError
from ..spaces import SearchSpace, get_space
from ..spaces.base import SeedLike, as_rng
from .._types import DatabaseLike
from .sources import FitnessSource, LookupSource, evaluate

#: Spaces up to this size are cached by mixed-radix index (fits int64 comfortably).
_INDEX_LIMIT = 2 ** 62


def uniform(space: SearchSpace, n: int, seed: SeedLike = None) -> np.ndarray:
    """``n`` archs drawn uniformly (with replacement), shape ``(n, d)``."""
    return space.sample(int(n), seed=seed)


def random_walks(space: SearchSpace, n_walks: int, length: int, seed: SeedLike = None,
                 starts: np.ndarray | None = None) -> np.ndarray:
    """``n_walks`` random walks of ``length`` archs each, shape ``(n_walks, length, d)``.

    Each step moves to one of the ``space.degree`` neighbours chosen uniformly,
    so walks started uniformly are stationary on the regular neighbourhood graph.
    """
    if int(length) < 2:
        raise LandscapeError(f"a random walk needs length >= 2 archs; got {length}")
    rng = as_rng(seed)
    cur = space.validate(starts) if starts is not None else space.sample(int(n_walks), seed=rng)
    out = np.empty((len(cur), int(length), space.n_dims), dtype=np.int64)
    out[:, 0] = cur
    for t in range(1, int(length)):
        cur = space.mutate(cur, seed=rng)
        out[:, t] = cur
    return out


def neighbourhoods(space: SearchSpace, centres: np.ndarray) -> np.ndarray:
    """Complete neighbourhoods of ``centres``, shape ``(c, degree, d)``."""
    return space.neighbours_batch(centres)


def exhaustive(space: SearchSpace) -> np.ndarray:
    """Every arch of a finite space, in ``space.enumerate()`` order."""
    return space.enumerate()


class CachedFitness:
    """Evaluate a source on batches, each distinct arch at most once.

    Attributes
    ----------
    n_requested : int
        Archs asked for (with repeats).
    n_evaluated : int
        Archs actually passed to ``source.fitness`` (distinct, not cached before).
    n_calls : int
        Calls to ``source.fitness``.
    """

    def __init__(self, source: FitnessSource) -> None:
        self.source = source
        self.space = source.space
        self._use_index = self.space.size < _INDEX_LIMIT
        self._keys = np.zeros(0, dtype=np.int64)
        self._vals = np.zeros(0)
        self.n_requested = self.n_evaluated = self.n_calls = 0

    def __call__(self, archs: np.ndarray) -> np.ndarray:
        """Fitness of ``archs`` (``(..., d)`` int array), same leading shape."""
        archs = np.asarray(archs)
        lead = archs.shape[:-1]
        flat = archs.reshape(-1, self.space.n_dims)
        self.n_requested += len(flat)
        if len(flat) == 0:
            return np.zeros(lead)
        if not self._use_index:
            self.n_calls += 1
            self.n_evaluated += len(flat)
            return evaluate(self.source, flat).reshape(lead)
        keys = self.space.index(flat)
        uniq, inv = np.unique(keys, return_inverse=True)
        pos = np.minimum(np.searchsorted(self._keys, uniq), max(len(self._keys) - 1, 0))
        known = (self._keys[pos] == uniq) if len(self._keys) else np.zeros(len(uniq), bool)
        vals = np.empty(len(uniq))
        vals[known] = self._vals[pos[known]]
        new = ~known
        if new.any():
            self.n_calls += 1
            self.n_evaluated += int(new.sum())
            vals[new] = evaluate(self.source, self.space.from_index(uniq[new]))
            keys_all = np.concatenate([self._keys, uniq[new]])
            order = np.argsort(keys_all, kind="stable")
            self._keys = keys_all[order]
            self._vals = np.concatenate([self._vals, vals[new]])[order]
        return vals[inv.reshape(-1)].reshape(lead)


@dataclass
class ClimbResult:
    """Outcome of best-improvement hill climbs, one row per climb (in restart order).

    Attributes
    ----------
    starts, optima : numpy.ndarray, shape (n, d)
        Where each climb started and the local optimum it stopped at.
    optimum_fitness : numpy.ndarray, shape (n,)
        Fitness of each optimum.
    steps : numpy.ndarray, shape (n,)
        Improving moves made by each climb.
    converged : numpy.ndarray of bool, shape (n,)
        False where a climb hit ``max_steps`` before reaching an optimum.
    """

    starts: np.ndarray
    optima: np.ndarray
    optimum_fitness: np.ndarray
    steps: np.ndarray
    converged: np.ndarray


def hill_climb(space: SearchSpace, fit: CachedFitness, starts: np.ndarray, max_steps: int = 100,
               f_starts: np.ndarray | None = None) -> ClimbResult:
    """Best-improvement hill climbing from every start at once.

    At each step every unfinished climb evaluates its whole neighbourhood (one
    batched call for all climbs) and moves to its best neighbour if that is
    strictly better; otherwise it has reached a (strict-ascent) local optimum.
    Ties among best neighbours go to the first in ``neighbours_batch`` order.
    """
    cur = space.validate(starts).copy()
    f_cur = fit(cur) if f_starts is None else np.asarray(f_starts, dtype=float).copy()
    steps = np.zeros(len(cur), dtype=np.int64)
    active = np.ones(len(cur), dtype=bool)
    for _ in range(int(max_steps)):
        ids = np.flatnonzero(active)
        if len(ids) == 0:
            break
        nbrs = space.neighbours_batch(cur[ids])
        f_n = fit(nbrs)
        j = np.argmax(f_n, axis=1)
        best = f_n[np.arange(len(ids)), j]
        up = best > f_cur[ids]
        mv = ids[up]
        cur[mv] = nbrs[np.flatnonzero(up), j[up]]
        f_cur[mv] = best[up]
        steps[mv] += 1
        active[ids[~up]] = False
    return ClimbResult(starts=space.validate(starts), optima=cur, optimum_fitness=f_cur,
                       steps=steps, converged=~active)


def neutral_walks(space: SearchSpace, fit: CachedFitness, starts: np.ndarray, eps: float,
                  max_steps: int = 50, seed: SeedLike = None, f_starts: np.ndarray | None = None,
                  f_nbrs0: np.ndarray | None = None) -> np.ndarray:
    """Lengths of neutral walks (Reidys & Stadler): steps taken before getting stuck.

    Each step moves to a uniformly chosen neighbour whose fitness is within
    ``eps`` of the current one and whose Hamming distance from the start is
    larger than the current one's; the walk stops when there is none (or
    after ``max_steps``). The length equals the final distance from the start.
    ``f_nbrs0`` (fitness of the starts' neighbourhoods) saves the first call.
    """
    rng = as_rng(seed)
    start = space.validate(starts)
    cur = start.copy()
    f_cur = fit(cur) if f_starts is None else np.asarray(f_starts, dtype=float).copy()
    length = np.zeros(len(cur), dtype=np.int64)
    active = np.ones(len(cur), dtype=bool)
    for step in range(int(max_steps)):
        ids = np.flatnonzero(active)
        if len(ids) == 0:
            break
        nbrs = space.neighbours_batch(cur[ids])
        f_n = f_nbrs0[ids] if (step == 0 and f_nbrs0 is not None) else fit(nbrs)
        d_n = (nbrs != start[ids][:, None, :]).sum(axis=2)
        ok = (np.abs(f_n - f_cur[ids][:, None]) <= eps) & (d_n > length[ids][:, None])
        has = ok.any(axis=1)
        # uniform choice among the allowed neighbours: argmax of random keys on allowed slots
        keys = np.where(ok, rng.random(ok.shape), -1.0)
        j = np.argmax(keys, axis=1)
        mv = ids[has]
        cur[mv] = nbrs[np.flatnonzero(has), j[has]]
        f_cur[mv] = f_n[np.flatnonzero(has), j[has]]
        length[mv] += 1
        active[ids[~has]] = False
    return length


@dataclass
class Strata:
    """The archs a ground-truth campaign trains, by stratum.

    Attributes
    ----------
    space : SearchSpace
    points : numpy.ndarray, shape (n, d)
        Uniform random archs (the fitness distribution, FDC, dispersion).
    walks : numpy.ndarray, shape (w, L, d) or None
        Random walks (autocorrelation, information content).
    centres : numpy.ndarray, shape (c, d) or None
        Centres whose complete neighbourhoods are trained (neutrality, local optima).
    edges : numpy.ndarray, shape (m, 2, d) or None
        Neighbour pairs found among held archs when no walks are known
        (:func:`infer_strata`); used for rho(1) and neutrality then.
    exploit : numpy.ndarray, shape (k, d) or None
        Exploit centres: the surrogate's predicted-best archs, trained with their
        complete neighbourhoods in a second wave (stratum ``"exploit"`` of a
        campaign plan); the verdict's comparisons near the optimum use them.
    """

    space: SearchSpace
    points: np.ndarray
    walks: np.ndarray | None = None
    centres: np.ndarray | None = None
    edges: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    exploit: np.ndarray | None = None

    def archs(self) -> np.ndarray:
        """Every arch the strata need evaluated (with repeats), shape ``(n, d)``."""
        d = self.space.n_dims
        parts = [self.points]
        if self.walks is not None:
            parts.append(self.walks.reshape(-1, d))
        if self.centres is not None:
            parts += [self.centres, self.space.neighbours_batch(self.centres).reshape(-1, d)]
        if self.edges is not None:
            parts.append(self.edges.reshape(-1, d))
        if self.exploit is not None:
            parts += [self.exploit, self.space.neighbours_batch(self.exploit).reshape(-1, d)]
        return np.concatenate(parts, axis=0)

    def n_distinct(self) -> int:
        """Number of distinct archs (= training runs per seed) the strata need."""
        return int(len(np.unique(self.space.index(self.archs()))))

    def sizes(self) -> dict[str, Any]:
        """Counts per stratum, JSON-ready."""
        return {"points": int(len(self.points)),
                "walks": None if self.walks is None else list(self.walks.shape[:2]),
                "centres": None if self.centres is None else int(len(self.centres)),
                "edges": None if self.edges is None else int(len(self.edges)),
                "exploit": None if self.exploit is None else int(len(self.exploit)),
                "distinct_archs": self.n_distinct()}

    def to_dict(self) -> dict[str, Any]:
        """Arch strings per stratum (human-readable, JSON-ready)."""
        s = self.space
        return {"space": s.name, "points": s.to_strings(self.points),
                "walks": None if self.walks is None else [s.to_strings(w) for w in self.walks],
                "centres": None if self.centres is None else s.to_strings(self.centres),
                "exploit": None if self.exploit is None else s.to_strings(self.exploit),
                "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Strata:
        """Inverse of :meth:`to_dict`."""
        try:
            s = get_space(d["space"])
            walks = d.get("walks")
            centres = d.get("centres")
            exploit = d.get("exploit")
            return cls(space=s, points=s.from_strings(d["points"]),
                       walks=None if not walks else np.stack([s.from_strings(w) for w in walks]),
                       centres=None if not centres else s.from_strings(centres), meta=d.get("meta", {}),
                       exploit=None if not exploit else s.from_strings(exploit))
        except KeyError as exc:
            raise LandscapeError(f"strata file lacks the field {exc}; expected space, points, walks, centres") from None


def plan_strata(space: SearchSpace, n_points: int, n_walks: int, walk_length: int, n_centres: int,
                seed: SeedLike = None) -> Strata:
    """Draw campaign strata: ``n_points`` uniform archs, walks, and neighbourhood centres.

    Distinct-arch cost ~ ``n_points + n_walks * walk_length + n_centres * (degree + 1)``.
    """
    rng = as_rng(seed)
    pts = uniform(space, n_points, rng)
    walks = random_walks(space, n_walks, walk_length, rng) if n_walks > 0 else None
    centres = uniform(space, n_centres, rng) if n_centres > 0 else None
    return Strata(space, pts, walks, centres)


def infer_strata(space: SearchSpace, archs: np.ndarray) -> Strata:
    """What landscape analysis can use from a bag of held archs (no stratum labels).

    ``points`` are all held archs; ``centres`` those whose complete neighbourhood
    is held; ``edges`` every neighbour pair among held archs (each once).
    """
    archs = space.validate(archs)
    keys = np.unique(space.index(archs))
    archs = space.from_index(keys)
    nb = space.neighbours_batch(archs)
    nk = space.index(nb.reshape(-1, space.n_dims)).reshape(len(archs), -1)
    pos = np.minimum(np.searchsorted(keys, nk), len(keys) - 1)
    held = keys[pos] == nk
    centres = archs[held.all(axis=1)]
    i, j = np.nonzero(held & (nk > keys[:, None]))
    edges = np.stack([archs[i], nb[i, j]], axis=1) if len(i) else None
    return Strata(space, archs, None, centres if len(centres) else None, edges,
                  meta={"inferred": True})


def strata_from_plan(source: LookupSource, db: DatabaseLike, task: str) -> Strata:
    """Rebuild a campaign's strata from the database's plan entries, keeping what ``source`` holds.

    ``random`` entries become the points (all held archs when there are none);
    walks whose every step is held are kept (those of the most common length);
    neighbourhood centres whose complete neighbourhood is held become centres,
    and held (centre, neighbour) pairs of incomplete ones become edges; ``exploit``
    entries at position 0 whose complete neighbourhood is held become the exploit
    centres. Without plan entries this falls back to :func:`infer_strata`.
    """
    from ..errors import DatabaseError

    space = source.space
    plan = db.plan_entries(task=task) if hasattr(db, "plan_entries") else None
    if plan is None or len(plan) == 0:
        return infer_strata(space, source.archs)
    meta: dict[str, Any] = {"from_plan": True}
    rnd = plan[plan["stratum"] == "random"]["arch"].drop_duplicates()
    pts = space.from_strings(rnd) if len(rnd) else np.zeros((0, space.n_dims), np.int64)
    pts = pts[source.holds(pts)] if len(pts) else pts
    if len(pts) == 0:
        pts, meta["points"] = source.archs, "all held archs (no random stratum)"
    try:
        walk_lists = db.walks(task)
    except DatabaseError:
        walk_lists = []
    walks = [space.from_strings(w) for w in walk_lists if len(w) >= 2]
    walks = [w for w in walks if source.holds(w).all()]
    w_arr = None
    if walks:
        lengths = np.array([len(w) for w in walks])
        mode = int(np.bincount(lengths).argmax())
        w_arr = np.stack([w for w in walks if len(w) == mode])
        meta["walks_dropped"] = len(walk_lists) - len(w_arr)
    try:
        nbh = db.neighbourhoods(task)
    except DatabaseError:
        nbh = []
    centres, edges = [], []
    for c_str, nbrs in nbh:
        if not c_str:
            continue
        c = space.from_string(c_str)
        if not source.holds(c[None])[0]:
            continue
        full = space.neighbours(c)
        held = source.holds(full)
        listed = set(nbrs)
        if held.all() and len(listed) >= len(full):
            centres.append(c)
        else:
            edges += [np.stack([c, n]) for n, h in zip(full, held) if h and space.to_string(n) in listed]
    meta["incomplete_neighbourhoods"] = len(nbh) - len(centres)
    exploit = _exploit_centres(space, source, plan, meta)
    return Strata(space, pts, w_arr, np.stack(centres) if centres else None,
                  np.stack(edges) if edges else None, meta=meta, exploit=exploit)


def _exploit_centres(space: SearchSpace, source: LookupSource, plan: Any, meta: dict[str, Any]) -> np.ndarray | None:
    """Exploit centres (plan entries of stratum ``exploit`` at position 0) whose complete neighbourhood
    ``source`` holds, in planning order; the others are counted in ``meta["exploit_incomplete"]``."""
    if "position" not in plan.columns:
        return None
    rows = plan[(plan["stratum"] == "exploit") & (plan["position"] == 0)]["arch"].drop_duplicates()
    if len(rows) == 0:
        return None
    cand = space.from_strings(rows)
    keep = [c for c in cand if source.holds(c[None])[0] and source.holds(space.neighbours(c)).all()]
    meta["exploit_incomplete"] = len(cand) - len(keep)
    return np.stack(keep) if keep else None


__all__ = ["strata_from_plan", "uniform", "random_walks", "neighbourhoods", "exhaustive", "hill_climb", "neutral_walks",
           "CachedFitness", "ClimbResult", "Strata", "plan_strata", "infer_strata"]
