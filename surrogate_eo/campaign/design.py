"""Design of experiments: campaign strata -> a manifest of runs.

:func:`plan` draws the architectures of every stratum of a
:class:`~surrogate_eo.campaign.config.CampaignConfig`, crosses them with the
campaign's tasks and seeds, and maps every plan entry to a stable ``run_id``
(:func:`surrogate_eo.records.run_id_for`). An arch planned by two strata is
one run with two entries, and re-planning the same config gives the same
manifest (each stratum draws from its own generator seeded by
``(design_seed, stratum)``, so adding a stratum leaves the others unchanged).

>>> from surrogate_eo.campaign import validate_config, plan
>>> m = plan(validate_config({"campaign": {"name": "doc", "space": "nb201", "tasks": ["so2sat-s2"],
...                                        "protocol": "smoke"}, "strata": {"random": {"n": 5}}}))
>>> m.n_runs, sorted(set(m.entries["stratum"]))
(5, ['random'])
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CampaignConfigError, SurrogateEOError
from ..records import run_id_for
from ..spaces import SearchSpace, get_space
from .config import STRATA, CampaignConfig
from .manifest import COLUMNS, Manifest

#: ``predictor(archs (n, d) int64, task) -> predicted fitness (n,)``, higher is better.
Predictor = Callable[[np.ndarray, str], np.ndarray]


def _rng(cfg: CampaignConfig, stratum: str) -> np.random.Generator:
    return np.random.default_rng([cfg.design_seed, STRATA.index(stratum)])


def sample_distinct(space: SearchSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct uniformly drawn archs, shape ``(n, d)``, in draw order."""
    if n > space.size:
        raise CampaignConfigError(f"cannot draw {n:,} distinct archs from space {space.name!r} "
                                  f"of {space.size:,}")
    out = np.zeros((0, space.n_dims), dtype=np.int64)
    seen: set[int] = set()
    while len(out) < n:
        draw = space.sample(max(16, 2 * (n - len(out))), seed=rng)
        idx = space.index(draw)
        keep = []
        for row, i in enumerate(idx.tolist()):
            if i not in seen:
                seen.add(i)
                keep.append(row)
        out = np.concatenate([out, draw[keep]])[:n]
    return out


def random_walks(space: SearchSpace, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random walks of ``length`` archs, each step a uniform one-step neighbour; ``(n, length, d)``."""
    walks = np.empty((n, length, space.n_dims), dtype=np.int64)
    if n == 0:
        return walks
    walks[:, 0] = space.sample(n, seed=rng)
    for t in range(1, length):
        walks[:, t] = space.mutate(walks[:, t - 1], seed=rng)
    return walks


def neighbourhoods(space: SearchSpace, n: int, k: int | str, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct centres and their neighbourhoods.

    Returns
    -------
    archs : ndarray, shape (n, 1 + m, d)
        Row 0 the centre, then its neighbours (``m`` = degree, or ``k`` drawn without replacement).
    positions : ndarray, shape (n, 1 + m)
        0 for the centre, ``j + 1`` for neighbour ``j`` of ``space.neighbours(centre)``.
    """
    return around(space, sample_distinct(space, n, rng), k, rng)


def around(space: SearchSpace, centres: np.ndarray, k: int | str, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """Given ``centres`` with all (``k="all"``) or ``k`` random of their neighbours; see :func:`neighbourhoods`."""
    n = len(centres)
    nbs = space.neighbours_batch(centres) if n else np.zeros((0, space.degree, space.n_dims), np.int64)
    m = space.degree if k == "all" else int(k)
    if m < space.degree:
        cols = np.sort(np.argsort(rng.random((n, space.degree)), axis=1)[:, :m], axis=1)
    else:
        cols = np.tile(np.arange(space.degree), (n, 1))
    archs = np.concatenate([centres[:, None, :], np.take_along_axis(nbs, cols[:, :, None], axis=1)], axis=1)
    positions = np.concatenate([np.zeros((n, 1), np.int64), cols + 1], axis=1)
    return archs, positions


def _surrogate_predictor(path: str, space: str, metric: str) -> Predictor:
    """Predictor of the saved benchmark at ``path``: ``surrogate_eo.load(path).predict(archs, task, metric)``."""
    import surrogate_eo

    field = f"field strata.exploit.surrogate = {path!r}"
    try:
        bench = surrogate_eo.load(path)
    except SurrogateEOError as exc:
        raise CampaignConfigError(f"{field}: {' '.join(str(exc).split())}") from None
    bench_space = getattr(getattr(bench, "space", None), "name", space)
    if bench_space != space:
        raise CampaignConfigError(f"{field}: the benchmark models space {bench_space!r}, the campaign plans "
                                  f"{space!r}; fit a benchmark on this campaign's space")

    def predict(archs: np.ndarray, task: str) -> np.ndarray:
        try:
            return np.asarray(bench.predict(archs, task=task, metric=metric), dtype=float)
        except SurrogateEOError as exc:
            raise CampaignConfigError(f"{field}: cannot predict {metric!r} of task {task!r}: "
                                      f"{' '.join(str(exc).split())}") from None

    return predict


def with_exploit(cfg: CampaignConfig, surrogate: str, n: int = 20, pool: int = 10_000,
                 neighbours: int | str = "all", metric: str = "val_acc") -> CampaignConfig:
    """``cfg`` plus an ``exploit`` stratum: a second wave planned from a fitted benchmark.

    The ``n`` archs of a ``pool`` of random ones that the benchmark at ``surrogate``
    predicts best, each with ``neighbours`` of its neighbours (``"all"``: complete
    neighbourhoods, the exploit centres the fidelity verdict judges near the optimum).
    The other strata are unchanged, so their runs keep their ids and are not retrained.
    Validated like a TOML file (:class:`CampaignConfigError` names the field).
    """
    from .config import validate_config

    raw = cfg.to_dict()
    raw["strata"]["exploit"] = {"n": int(n), "pool": int(pool), "surrogate": str(surrogate), "metric": metric,
                                "neighbours": neighbours}
    return validate_config(raw, source=f"{cfg.source} + --exploit-from {surrogate}")


def plan(cfg: CampaignConfig, predictor: Predictor | None = None) -> Manifest:
    """Plan a campaign: draw every stratum's archs and map each plan entry to a run.

    Parameters
    ----------
    cfg : CampaignConfig
        A validated configuration (:func:`~surrogate_eo.campaign.config.load_config`).
    predictor : callable, optional
        ``predictor(archs, task) -> fitness`` for the ``exploit`` stratum; by
        default the benchmark at ``strata.exploit.surrogate`` is loaded.

    Returns
    -------
    Manifest
        Entries in planning order (stratum, then arch, then task, then seed);
        runs numbered by first appearance.
    """
    space = get_space(cfg.space)
    # Each block: (stratum, group[], position[], archs (m, d), seeds tuple, tasks tuple or None=all)
    blocks: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, tuple[int, ...], tuple[str, ...]]] = []
    for s, t in cfg.strata.items():
        rng = _rng(cfg, s)
        if s == "random":
            a = sample_distinct(space, t["n"], rng)
            blocks.append((s, np.zeros(len(a), np.int64), np.arange(len(a)), a, cfg.seeds, cfg.tasks))
        elif s == "walks":
            w = random_walks(space, t["n"], t["length"], rng)
            g, p = np.divmod(np.arange(w.shape[0] * w.shape[1]), t["length"])
            blocks.append((s, g, p, w.reshape(-1, space.n_dims), cfg.seeds, cfg.tasks))
        elif s == "neighbourhoods":
            a, pos = neighbourhoods(space, t["n"], t["neighbours"], rng)
            g = np.repeat(np.arange(a.shape[0]), a.shape[1])
            blocks.append((s, g, pos.reshape(-1), a.reshape(-1, space.n_dims), cfg.seeds, cfg.tasks))
        elif s == "seeds":
            a = sample_distinct(space, t["n"], rng)
            blocks.append((s, np.arange(len(a)), np.zeros(len(a), np.int64), a, tuple(t["seeds"]), cfg.tasks))
        elif s == "exploit":
            pool = sample_distinct(space, t["pool"], rng)
            pred = predictor or _surrogate_predictor(t["surrogate"], cfg.space, t["metric"])
            for task in cfg.tasks:
                y = np.asarray(pred(pool, task), dtype=float).reshape(-1)
                if y.shape != (len(pool),) or not np.all(np.isfinite(y)):
                    raise CampaignConfigError(
                        f"strata.exploit: the surrogate returned {y.shape} predictions for task {task!r}, "
                        f"expected {len(pool)} finite values")
                top = np.argsort(-y, kind="stable")[:t["n"]]
                k = t.get("neighbours", 0)
                if k == 0:  # the predicted-best archs alone: group 0, position = rank
                    blocks.append((s, np.zeros(len(top), np.int64), np.arange(len(top)), pool[top], cfg.seeds,
                                   (task,)))
                    continue
                # with neighbourhoods: group = rank, position 0 = the arch, j >= 1 = neighbour j - 1
                a, pos = around(space, pool[top], k, rng)
                g = np.repeat(np.arange(a.shape[0]), a.shape[1])
                blocks.append((s, g, pos.reshape(-1), a.reshape(-1, space.n_dims), cfg.seeds, (task,)))
    return _expand(cfg, space, blocks)


def _expand(cfg: CampaignConfig, space: SearchSpace, blocks: list[tuple[Any, ...]]) -> Manifest:
    """Cross every block's archs with its tasks and seeds; assign run ids and run indices."""
    # Strings once per distinct arch (the costly part: to_string is per arch).
    all_archs = np.concatenate([b[3] for b in blocks]) if blocks else np.zeros((0, space.n_dims), np.int64)
    uniq, inv = np.unique(space.index(all_archs), return_inverse=True) if len(all_archs) else ([], [])
    strings = np.asarray(space.to_strings(space.from_index(np.asarray(uniq))) if len(uniq) else [], dtype=object)
    arch_str = strings[np.asarray(inv, dtype=np.int64).reshape(-1)] if len(all_archs) else strings
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("stratum", "group", "position", "task", "seed", "arch")}
    start = 0
    for stratum, group, pos, archs, seeds, tasks in blocks:
        m, nt, ns = len(archs), len(tasks), len(seeds)
        a = arch_str[start:start + m]
        start += m
        rep = nt * ns
        cols["stratum"].append(np.full(m * rep, stratum, dtype=object))
        cols["group"].append(np.repeat(np.asarray(group, np.int64), rep))
        cols["position"].append(np.repeat(np.asarray(pos, np.int64), rep))
        cols["arch"].append(np.repeat(a, rep))
        cols["task"].append(np.tile(np.repeat(np.asarray(tasks, dtype=object), ns), m))
        cols["seed"].append(np.tile(np.asarray(seeds, np.int64), m * nt))
    df = pd.DataFrame({k: (np.concatenate(v) if v else np.zeros(0)) for k, v in cols.items()})
    ids: dict[tuple[str, str, int], str] = {}
    run_id = []
    for arch, task, seed in zip(df["arch"].tolist(), df["task"].tolist(), df["seed"].tolist()):
        key = (arch, task, seed)
        rid = ids.get(key)
        if rid is None:
            rid = ids[key] = run_id_for(cfg.space, arch, task, seed, cfg.protocol, cfg.protocol_hash)
        run_id.append(rid)
    df["run_id"] = np.asarray(run_id, dtype=object)
    codes, _ = pd.factorize(df["run_id"], sort=False)
    df["run_index"] = codes.astype(np.int64)
    df["group"] = df["group"].astype(np.int32)
    df["position"] = df["position"].astype(np.int32)
    df["seed"] = df["seed"].astype(np.int64)
    meta = {"name": cfg.name, "config": cfg.to_dict(), "source": cfg.source}
    return Manifest(df[list(COLUMNS)], cfg.space, cfg.protocol, cfg.protocol_hash, meta)


def manifest_from_archs(space: str, archs: list[str] | np.ndarray, tasks: list[str] | tuple[str, ...],
                        protocol: str, seeds: tuple[int, ...] | list[int] = (0,), *, name: str = "custom",
                        stratum: str = "custom") -> Manifest:
    """A manifest that trains the given archs (strings or vectors) on every task and seed.

    For ad-hoc campaigns (e.g. re-training a list of archs); entries have
    ``group = 0`` and ``position`` = index in ``archs``.
    """
    from .config import _protocol_hash
    from ..tasks import get_task

    sp = get_space(space)
    batch = sp.validate(list(archs) if not isinstance(archs, np.ndarray) else archs)
    for t in tasks:
        get_task(t)
    cfg = CampaignConfig(name=name, space=sp.name, tasks=tuple(tasks), protocol=protocol,
                         protocol_hash=_protocol_hash("manifest_from_archs", protocol),
                         seeds=tuple(int(s) for s in seeds), source="manifest_from_archs")
    block = (stratum, np.zeros(len(batch), np.int64), np.arange(len(batch)), batch, cfg.seeds, cfg.tasks)
    return _expand(cfg, sp, [block])
