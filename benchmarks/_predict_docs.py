"""The measured part of docs/surrogates.md's Speed section, rendered from ``bench_predict.json`` alone.

``benchmarks/bench_predict.py`` writes the block after its JSON; ``evaluation/check_generated.py``
re-renders it from the committed JSON and fails when docs/surrogates.md differs. Qualitative prose
is template text in the docs page; every number here is formatted from the JSON, and the claims
that depend on numbers (targets met or missed, which walk wins at which batch size) are chosen by
them.

>>> wrap("- " + "word " * 20, 30).splitlines()[1]
'  word word word word word'
>>> span_text([1.0, 2.0], "{:.1f}")
'1.0–2.0'
"""
from __future__ import annotations

import textwrap

#: Prose lines are wrapped at this many characters, as the rest of docs/surrogates.md.
WIDTH = 80
#: Issue 13's single-arch targets, p50 in µs, per model prefix of the JSON's latency labels.
TARGET_US = {"xgb": 50.0, "ens": 150.0}
#: Issue 13's batch target: ``bench.predict`` at least as fast as the raw call on prebuilt features.
TARGET_RATIO = 1.0
#: The run's setup, for results written before the JSON recorded it (the script's defaults then:
#: ``--n 10000 --repeats 9``; 1,562 NB201 archs, 10 %, with NB201 CIFAR-10 targets; 166 features).
LEGACY_SETUP = {"n": 10_000, "repeats": 9, "distinct": 1000, "rounds": 10, "trees": 500, "features": 166,
                "train_archs": 1562, "target": "NB201 CIFAR-10", "ensemble_members": 6}
#: Rows of the latency table: (label, walk suffix of the JSON key, kind of arch).
LATENCY_ROWS = (("kernel, tuple", "jit", "tuple"), ("kernel, string", "jit", "string"),
                ("numpy walk (no numba), tuple", "numpy", "tuple"),
                ("numpy walk (no numba), string", "numpy", "string"),
                ("library, tuple", "library", "tuple"), ("prediction table, tuple", "table", "tuple"),
                ("prediction table, string", "table", "string"))
RAW = "raw inplace_predict (prebuilt row)"


def wrap(text: str, width: int = WIDTH) -> str:
    """``text`` wrapped at ``width``; tables and empty lines unchanged, list items keep an indent."""
    if text.startswith("|") or not text:
        return text
    rest = "  " if text.startswith("- ") else ""
    return textwrap.fill(text, width, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)


def span_text(values: list[float], fmt: str) -> str:
    """``lo–hi`` of ``values`` formatted with ``fmt`` (one value when both print alike)."""
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}–{hi}"


def load_text(result: dict) -> str:
    """``load average A at start, B at end`` (1-minute averages) of a benchmark result, "" without one."""
    load = result.get("load_average")
    if not load:
        return ""
    return f"load average {load['start'][0]:.2f} at start, {load['end'][0]:.2f} at end"


def _us(pair: list[float]) -> str:
    return f"{pair[0]:,.1f} / {pair[1]:,.1f} µs"


def _latency(result: dict, setup: dict) -> list[str]:
    lat = result["latency_us"]
    threads = result["threads"]
    where = "; ".join(x for x in (f"{threads} thread{'' if threads == 1 else 's'}", load_text(result)) if x)
    lines = [f"The last run (XGBoost, {setup['trees']} trees, {setup['features']} features, fitted on "
             f"{setup['train_archs']:,} archs of {setup['target']}, and the {setup['ensemble_members']}-member "
             f"xgb+lgb ensemble on the same data; {where}), p50 / p90 of `bench.predict(arch)` over "
             f"{result['calls']:,} calls on {setup['distinct']:,} distinct archs, including validation and "
             f"featurisation (variants timed round-robin in {setup['rounds']} rounds):", "",
             f"| path | XGBoost (target p50 ≤ {TARGET_US['xgb']:.0f} µs) | xgb+lgb ensemble (target p50 ≤ "
             f"{TARGET_US['ens']:.0f} µs) |", "|---|---|---|"]
    if RAW in lat:
        lines.append(f"| raw `booster.inplace_predict` of one prebuilt row | {_us(lat[RAW])} | — |")
    for label, how, kind in LATENCY_ROWS:
        cells = [lat.get(f"{m}  bench.predict({kind}), {how}") for m in TARGET_US]
        if any(cells):
            lines.append(f"| {label} | " + " | ".join(_us(c) if c else "—" for c in cells) + " |")
    missed = {how: [f"{'XGBoost' if m == 'xgb' else 'the ensemble'} {kind}s at {p[0]:.1f} µs"
                    for m, target in TARGET_US.items() for kind in ("tuple", "string")
                    if (p := lat.get(f"{m}  bench.predict({kind}), {how}")) and p[0] > target]
              for how in ("jit", "numpy")}
    word = {how: "met" if not missed[how] else "missed (" + ", ".join(missed[how]) + ")" for how in missed}
    if not result.get("jit"):
        text = f"numba was not installed in this run; without it the targets are {word['numpy']}."
    elif word["jit"] == "met" and word["numpy"] != "met":
        text = "The targets are met with numba; without it they are not."
    else:
        text = f"The targets are {word['jit']} with numba and {word['numpy']} without it."
    export = result.get("export_ms", {})
    if export:
        text += (f" Exporting the trees at load takes {export['xgb']:,.0f} ms (XGBoost) and "
                 f"{export['ensemble']:,.0f} ms (ensemble).")
    return lines + ["", text]


def _small_table(head: str, table: dict, rows: dict) -> list[str]:
    """A table with one column per batch size of ``table`` and one row per (label: key) of ``rows``."""
    sizes = list(table)
    lines = [f"| {head} | " + " | ".join(f"{int(n):,}" for n in sizes) + " |", "|---" * (len(sizes) + 1) + "|"]
    for label, key in rows.items():
        if all(key in table[n] for n in sizes):
            lines.append(f"| {label} | " + " | ".join(f"{table[n][key]:.2f}" for n in sizes) + " |")
    return lines


def _wins(table: dict, keys: list[str]) -> tuple[int | None, int | None]:
    """Largest size up to which every ``keys`` ratio is < 1, and the first size where one is not."""
    last = first_loss = None
    for n, line in table.items():
        if all(line[k] < 1 for k in keys if k in line):
            if first_loss is None:
                last = int(n)
        elif first_loss is None:
            first_loss = int(n)
    return last, first_loss


def _crossover(result: dict) -> list[str]:
    cross = result.get("crossover")
    if not cross:
        return []
    rows = {"XGBoost, kernel": "xgb jit", "XGBoost, numpy walk": "xgb numpy",
            "ensemble, kernel": "ensemble jit", "ensemble, numpy walk": "ensemble numpy"}
    lines = ["Crossover: `bench.predict` of n archs, exported trees / library time (< 1: the exported trees "
             "win):", ""] + _small_table("n archs", cross, rows) + [""]
    sizes = [int(n) for n in cross]
    jit = [line[k] for line in cross.values() for k in ("xgb jit", "ensemble jit") if k in line]
    text = ""
    if jit:
        text = (f"The kernels beat the one-thread libraries at every size measured, {sizes[0]:,} to {sizes[-1]:,} "
                f"rows (at most {max(jit):.2f} of their time), so with the kernels loaded every batch size goes "
                f"to them." if max(jit) < 1 else
                f"The kernels lose to the one-thread libraries at some sizes (kernel / library time up to "
                f"{max(jit):.2f}).")
    last, loss = _wins(cross, ["xgb numpy", "ensemble numpy"])
    if last is not None:
        text += (f" The numpy walk wins up to {last:,} rows"
                 + (f" and loses from {loss:,} rows on." if loss is not None else " (every size measured)."))
    lines.append(text.strip())
    rk = result.get("row_kernel")
    if rk:
        lines += ["", "The row-block kernel against the tree-major one (time ratio, < 1: row-block wins):", ""]
        lines += _small_table("rows", rk, {"XGBoost": "xgb", "ensemble": "ensemble"})
        start = next((int(n) for n in rk if all(rk[m][k] < 1 for m in rk if int(m) >= int(n)
                                                  for k in ("xgb", "ensemble"))), None)
        if start is not None:
            lines += ["", f"The row-block walk wins from {start:,} rows on."]
    return lines


def _throughput(result: dict, setup: dict) -> list[str]:
    tp = result.get("throughput_ms")
    if not tp:
        return []
    spaces = [sp for sp in ("nb201", "eo") if f"{sp} bench.predict(ints)" in tp]
    cols = {"ints": "ints)", "strings": "strings)", "ints, libraries only": "ints), library",
            "strings, libraries only": "strings), library"}
    floor = tp.get("nb201 raw, same call on a copy of X (noise floor)")
    head = (f"Batches of {setup['n']:,} archs (best of {setup['repeats']}, timed round-robin against the raw call "
            f"on prebuilt features; ratio = raw time / ours, target ≥ {TARGET_RATIO:.1f}×"
            + (f"; the same raw call on a copy of its input came out at {floor[1]:.2f}×, the noise floor of the run"
               if floor else "") + f"; the shipped path at this size: {tp.get('shipped path', '?')}):")
    lines = [head, "", "| space | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for sp in spaces:
        keys = [f"{sp} bench.predict({k}" for k in cols.values()]
        lines.append(f"| `{sp}` | " + " | ".join(f"{tp[k][1]:.2f}×" if k in tp else "—" for k in keys) + " |")
    shipped = [tp[f"{sp} bench.predict({k})"][1] for sp in spaces for k in ("ints", "strings")]
    text = (f"The target is met for ints and strings in every space (at least {min(shipped):.2f}×)."
            if min(shipped) >= TARGET_RATIO else
            f"The target is missed in this run (down to {min(shipped):.2f}×).")
    tab = [f"{tp[k][1]:,.0f}× ({kind})" for kind in ("ints", "strings")
           if (k := f"nb201 bench.predict({kind}), table") in tp]
    if tab:
        text += " From a prediction table (`nb201`): " + ", ".join(tab) + "."
    return lines + ["", text]


def _stages(result: dict) -> list[str]:
    st, tp = result.get("eo_stages_ms"), result.get("throughput_ms", {})
    if not st:
        return []
    raw = st["raw booster.inplace_predict(X prebuilt)"]

    def part(name: str, key: str, extra: str = "") -> str:
        v = st[key]
        return f"{name} {v:,.1f} ms ({v / raw:.2f}{extra})"

    parts = [part("strings → ints", "strings -> ints (token path)",
                  f"; `space.from_strings` takes {tp['eo strings parsed: space.from_strings'][0]:,.0f} ms"
                  if "eo strings parsed: space.from_strings" in tp else ""),
             part("canonicalisation", "canonicalise"),
             part("features", "featurise (fast blocks)",
                  f"; the reference blocks {st['featurise (reference blocks)']:,.1f} ms"
                  if "featurise (reference blocks)" in st else "")]
    if "walk (row-block kernel, 1 thread)" in st:
        parts.append(part("the row-block walk", "walk (row-block kernel, 1 thread)"))
    text = f"`eo` stage by stage (share of the raw call's {raw:,.1f} ms): " + ", ".join(parts) + "."
    lib, ours = tp.get("eo bench.predict(ints), library"), tp.get("eo bench.predict(ints)")
    if lib and ours and lib[1] < TARGET_RATIO <= ours[1]:
        text += (f" The walk is what makes ≥ {TARGET_RATIO:.1f}× possible: through the library, its call alone is "
                 f"the raw time, and featurising adds to it ({lib[1]:.2f}×).")
    return [text]


def _threads(result: dict) -> list[str]:
    th = result.get("threads_ms")
    if not th or "2" not in th or "1" not in th:
        return []
    one, two = th["1"], th["2"]
    omp = th.get("OMP_NUM_THREADS")
    cap = ("run without `OMP_NUM_THREADS=1`, which caps XGBoost at one thread" if omp is None else
           f"NOTE: run with `OMP_NUM_THREADS={omp}`, which caps XGBoost's threads")
    text = (f"With the model on 2 threads (library `nthread=2`, kernel on 2 row chunks; {cap}) the raw call takes "
            f"{two['raw'][0]:,.1f} ms ({one['raw'][0]:,.1f} ms on 1) and ours {two['ints'][0]:,.1f} ms for ints "
            f"({two['ints'][1]:.2f}×) and {two['strings'][0]:,.1f} ms for strings ({two['strings'][1]:.2f}×)")
    if two["strings"][1] < two["ints"][1]:
        text += ": parsing and featurising stay on one thread"
    return [text + "."]


def docs_block(result: dict) -> str:
    """The measured part of docs/surrogates.md's Speed section, from a ``bench_predict.json`` result.

    Parameters
    ----------
    result : dict
        The JSON the benchmark writes: ``latency_us`` (p50 / p90 in µs), ``crossover`` and
        ``row_kernel`` (time ratios), ``throughput_ms``, ``eo_stages_ms``, ``threads_ms`` (ms and
        ratios), ``load_average`` and, in newer runs, ``setup``.

    Returns
    -------
    str
        Markdown (no trailing newline); the same result always gives the same text.
    """
    setup = {**LEGACY_SETUP, **result.get("setup", {})}
    lines = _latency(result, setup)
    for section in (_crossover(result), _throughput(result, setup), _stages(result), _threads(result)):
        if section:
            lines += [""] + section
    return "\n".join(wrap(line) for line in lines)
