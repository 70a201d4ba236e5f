"""Campaign configuration: a TOML file validated field by field.

A campaign names the search space, the tasks (sensors), the training protocol,
the training seeds and the **strata** of its design of experiments::

    [campaign]
    name = "smoke"
    space = "eo"
    tasks = ["so2sat-s2"]
    protocol = "smoke"
    seeds = [0]            # training seeds of every stratum except [strata.seeds]
    design_seed = 0        # seed of the design's random draws

    [strata.random]        # n uniform archs
    n = 10
    [strata.walks]         # n random walks of `length` archs (one neighbour per step)
    n = 2
    length = 6
    [strata.neighbourhoods]  # n centres with their one-step neighbourhoods
    n = 1
    neighbours = "all"     # or an int: that many neighbours per centre, drawn at random
    [strata.seeds]         # n archs, each trained with every seed of `seeds`
    n = 2
    seeds = [0, 1, 2]
    [strata.exploit]       # the n best of `pool` random archs by a surrogate's prediction
    n = 10
    pool = 10000
    surrogate = "path/to/benchmark"
    neighbours = "all"     # optional: also train their neighbourhoods (the verdict's exploit centres)

Every problem raises :class:`~surrogate_eo.errors.CampaignConfigError` whose
message is one line naming the file, the field (e.g. ``strata.walks.length``),
the value, what was expected and how to fix it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CampaignConfigError, SurrogateEOError, one_line, shown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Strata a campaign may plan, in planning order.
STRATA: tuple[str, ...] = ("random", "walks", "neighbourhoods", "seeds", "exploit")

#: Longest random walk (archs per walk) a campaign may plan. Autocorrelation at
#: lags up to ~20 is what landscape analysis uses; beyond 1000 steps a single
#: walk would dominate the campaign's budget.
MAX_WALK_LENGTH = 1000

#: Largest campaign TOML read (a real one is a few hundred bytes).
MAX_CONFIG_BYTES = 2**20

#: Largest number of runs one campaign may plan (a guard against a typo such as n = 1e9).
MAX_RUNS = 5_000_000

_CAMPAIGN_KEYS = {"name", "space", "tasks", "protocol", "seeds", "design_seed", "description"}
_STRATUM_KEYS: dict[str, dict[str, bool]] = {  # key -> required
    "random": {"n": True},
    "walks": {"n": True, "length": True},
    "neighbourhoods": {"n": True, "neighbours": False},
    "seeds": {"n": True, "seeds": True},
    "exploit": {"n": True, "pool": False, "surrogate": True, "metric": False, "neighbours": False},
}


@dataclass(frozen=True)
class CampaignConfig:
    """A validated campaign configuration (see the module docstring for the TOML layout).

    Attributes
    ----------
    name : str
        Campaign name (used for job names and file names).
    space : str
        Search-space name (``nb201`` or ``eo``).
    tasks : tuple of str
        Tasks every planned arch is trained on.
    protocol : str
        Training-protocol name; its hash enters every run id.
    protocol_hash : str
        Hash of the protocol's settings.
    seeds : tuple of int
        Training seeds of every stratum except ``seeds``.
    design_seed : int
        Seed of the random draws of the design (same seed, same manifest).
    strata : dict
        Stratum name -> its validated settings, in :data:`STRATA` order.
    source : str
        Where the configuration came from (file path or ``"<dict>"``).
    """

    name: str
    space: str
    tasks: tuple[str, ...]
    protocol: str
    protocol_hash: str
    seeds: tuple[int, ...] = (0,)
    design_seed: int = 0
    strata: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    source: str = "<dict>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :func:`validate_config` turns back into this config."""
        camp = {"name": self.name, "space": self.space, "tasks": list(self.tasks), "protocol": self.protocol,
                "seeds": list(self.seeds), "design_seed": self.design_seed}
        if self.description:
            camp["description"] = self.description
        strata = {k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()}
                  for k, v in self.strata.items()}
        return {"campaign": camp, "strata": strata}


def _err(src: str, fieldname: str, value: Any, expected: str, fix: str = "") -> CampaignConfigError:
    msg = f"{src}: field {fieldname} = {shown(value)}: expected {expected}"
    return CampaignConfigError(msg + (f"; {fix}" if fix else ""))


def _key(key: object) -> str:
    """A TOML key as shown in a message (long or odd keys capped and quoted)."""
    return key if isinstance(key, str) and len(key) <= 40 and key.isprintable() else shown(key, 40)


def _int(src: str, name: str, value: Any, lo: int, hi: int | None = None, fix: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(src, name, value, "an integer" + (f" in {lo}..{hi}" if hi is not None else f" >= {lo}"), fix)
    if value < lo or (hi is not None and value > hi):
        rng = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise _err(src, name, value, f"an integer {rng}", fix)
    return int(value)


def _seeds(src: str, name: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise _err(src, name, value, "a non-empty list of integer seeds >= 0, e.g. [0, 1, 2]")
    out = tuple(_int(src, f"{name}[{i}]", v, 0, 2**31 - 1) for i, v in enumerate(value))
    if len(set(out)) != len(out):
        raise _err(src, name, value, "distinct seeds", "remove the repeated seed")
    return out


def _check_keys(src: str, prefix: str, table: Any, allowed: set[str] | dict[str, bool]) -> None:
    if not isinstance(table, dict):
        raise _err(src, prefix, table, "a TOML table ([" + prefix + "])")
    for key in table:
        if key not in allowed:
            raise CampaignConfigError(
                f"{src}: unknown field {prefix}.{_key(key)}; expected one of {', '.join(sorted(allowed))}")
    if isinstance(allowed, dict):
        for key, required in allowed.items():
            if required and key not in table:
                raise CampaignConfigError(f"{src}: field {prefix}.{key} is missing; add it to [{prefix}]")


def _protocol_hash(src: str, name: str) -> str:
    """Hash of protocol ``name`` from the trainer's registry (imported lazily)."""
    try:
        from ..training import get_protocol
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise CampaignConfigError(
            f"{src}: field campaign.protocol = {shown(name)} cannot be resolved: the training layer is not "
            f"importable ({exc}); install it with: pip install \"surrogate-eo[torch]\"") from None
    try:
        return str(get_protocol(name).hash)
    except SurrogateEOError as exc:
        raise _err(src, "campaign.protocol", name, "a registered training protocol",
                   one_line(str(exc), 200)) from None


def validate_config(raw: dict[str, Any], source: str = "<dict>") -> CampaignConfig:
    """Validate a parsed campaign configuration.

    Parameters
    ----------
    raw : dict
        The parsed TOML (``{"campaign": {...}, "strata": {...}}``).
    source : str, default="<dict>"
        Name used in error messages (the file path).

    Returns
    -------
    CampaignConfig

    Raises
    ------
    CampaignConfigError
        On the first bad field, with a one-line message naming it.
    """
    from ..spaces import SPACES, get_space
    from ..tasks import TASKS

    src = source
    if not isinstance(raw, dict):
        raise CampaignConfigError(f"{src}: expected a TOML document with [campaign] and [strata.*] tables")
    for key in raw:
        if key not in ("campaign", "strata"):
            raise CampaignConfigError(f"{src}: unknown table [{_key(key)}]; expected [campaign] and [strata.<name>] "
                                      f"with <name> one of {', '.join(STRATA)}")
    if "campaign" not in raw:
        raise CampaignConfigError(f"{src}: table [campaign] is missing; it names space, tasks and protocol")
    camp = raw["campaign"]
    _check_keys(src, "campaign", camp, _CAMPAIGN_KEYS)
    for key in ("name", "space", "tasks", "protocol"):
        if key not in camp:
            raise CampaignConfigError(f"{src}: field campaign.{key} is missing; add it to [campaign]")
    name = camp["name"]
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise _err(src, "campaign.name", name, "a non-empty name of letters, digits, '-', '_' or '.'")
    space = camp["space"]
    if not isinstance(space, str) or space not in SPACES:
        raise _err(src, "campaign.space", space, f"one of {', '.join(sorted(SPACES))}")
    tasks = camp["tasks"]
    if isinstance(tasks, str):
        tasks = [tasks]
    if not isinstance(tasks, list) or not tasks:
        raise _err(src, "campaign.tasks", tasks, f"a non-empty list of tasks from {', '.join(sorted(TASKS))}")
    for i, t in enumerate(tasks):
        if not isinstance(t, str) or t not in TASKS:
            raise _err(src, f"campaign.tasks[{i}]", t, f"one of {', '.join(sorted(TASKS))}")
    if len(set(tasks)) != len(tasks):
        raise _err(src, "campaign.tasks", tasks, "distinct tasks", "remove the repeated task")
    protocol = camp["protocol"]
    if not isinstance(protocol, str) or not protocol:
        raise _err(src, "campaign.protocol", protocol, "a protocol name such as 'smoke' or 'so2sat-default'")
    seeds = _seeds(src, "campaign.seeds", camp.get("seeds", [0]))
    design_seed = _int(src, "campaign.design_seed", camp.get("design_seed", 0), 0, 2**63 - 1)
    description = camp.get("description", "")
    if not isinstance(description, str):
        raise _err(src, "campaign.description", description, "a string")

    sp = get_space(space)
    strata_raw = raw.get("strata", {})
    if not isinstance(strata_raw, dict) or not strata_raw:
        raise CampaignConfigError(f"{src}: no strata planned; add at least one table [strata.<name>] with "
                                  f"<name> one of {', '.join(STRATA)}")
    for key in strata_raw:
        if key not in STRATA:
            raise CampaignConfigError(f"{src}: unknown stratum strata.{_key(key)}; expected one of {', '.join(STRATA)}")
    strata: dict[str, dict[str, Any]] = {}
    for s in STRATA:
        if s not in strata_raw:
            continue
        t = strata_raw[s]
        pre = f"strata.{s}"
        _check_keys(src, pre, t, _STRATUM_KEYS[s])
        cfg: dict[str, Any] = {"n": _int(src, f"{pre}.n", t["n"], 1, None,
                                         f"to plan no {s} runs, remove the table [{pre}]")}
        if s == "random" and cfg["n"] > sp.size:
            raise _err(src, f"{pre}.n", cfg["n"], f"at most the space size {sp.size:,} (archs are distinct)")
        if s == "walks":
            cfg["length"] = _int(src, f"{pre}.length", t["length"], 2, MAX_WALK_LENGTH,
                                 "a walk holds 2 or more archs; for more data use more walks (n), not longer ones")
        if s == "neighbourhoods":
            nb = t.get("neighbours", "all")
            if nb != "all":
                nb = _int(src, f"{pre}.neighbours", nb, 1, sp.degree,
                          f"space {space!r} has {sp.degree} neighbours per arch; use \"all\" for complete ones")
            cfg["neighbours"] = nb
        if s == "seeds":
            cfg["seeds"] = _seeds(src, f"{pre}.seeds", t["seeds"])
        if s == "exploit":
            pool = _int(src, f"{pre}.pool", t.get("pool", 10_000), 1, 10_000_000)
            if cfg["n"] > pool:
                raise _err(src, f"{pre}.n", cfg["n"], f"at most {pre}.pool = {pool}")
            sur = t["surrogate"]
            if not isinstance(sur, str) or not sur:
                raise _err(src, f"{pre}.surrogate", sur, "the path of a saved benchmark / surrogate")
            metric = t.get("metric", "val_acc")
            if not isinstance(metric, str):
                raise _err(src, f"{pre}.metric", metric, "a metric name such as 'val_acc'")
            nb = t.get("neighbours", 0)
            if nb != "all":
                nb = _int(src, f"{pre}.neighbours", nb, 0, sp.degree,
                          f"0 (the archs alone), up to {sp.degree}, or \"all\" (complete neighbourhoods)")
            cfg.update(pool=pool, surrogate=sur, metric=metric, neighbours=nb)
        strata[s] = cfg
    n_runs = planned_size({"strata": strata}, len(tasks), len(seeds), sp.degree)
    if n_runs > MAX_RUNS:
        raise CampaignConfigError(f"{src}: the strata plan {n_runs:,} runs, more than {MAX_RUNS:,}; "
                                  f"reduce strata.*.n")
    return CampaignConfig(name=name, space=space, tasks=tuple(tasks), protocol=protocol,
                          protocol_hash=_protocol_hash(src, protocol), seeds=seeds, design_seed=design_seed,
                          strata=strata, description=description, source=src)


def planned_size(cfg: dict[str, Any], n_tasks: int, n_seeds: int, degree: int) -> int:
    """Upper bound of the number of plan entries (before deduplication of repeated runs)."""
    total = 0
    for s, t in cfg["strata"].items():
        if s == "walks":
            per = t["n"] * t["length"] * n_seeds
        elif s in ("neighbourhoods", "exploit"):
            nb = t.get("neighbours", "all" if s == "neighbourhoods" else 0)
            k = degree if nb == "all" else nb
            per = t["n"] * (1 + k) * n_seeds
        elif s == "seeds":
            per = t["n"] * len(t["seeds"])
        else:
            per = t["n"] * n_seeds
        total += per * n_tasks
    return total


def load_config(path: str | Path) -> CampaignConfig:
    """Read and validate a campaign TOML file.

    Raises
    ------
    CampaignConfigError
        When the file is missing, is not TOML, or has a bad field.
    """
    path = Path(path)
    if path.is_dir():
        raise CampaignConfigError(f"campaign config {path} is a folder; expected a TOML file such as "
                                  f"{path / 'campaign.toml'}")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise CampaignConfigError(f"campaign config {path} has {path.stat().st_size:,} bytes, more than a "
                                      f"campaign TOML may ({MAX_CONFIG_BYTES:,})")
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignConfigError(f"campaign config {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CampaignConfigError(f"{path}: not valid TOML: {one_line(str(exc), 200)}") from None
    except RecursionError:
        raise CampaignConfigError(f"{path}: not valid TOML: values nested too deeply") from None
    except OSError as exc:
        raise CampaignConfigError(f"campaign config {path} cannot be read: {exc.strerror or exc}") from None
    return validate_config(raw, source=str(path))
