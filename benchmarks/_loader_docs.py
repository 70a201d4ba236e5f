"""The measured part of docs/data.md's loader section, rendered from ``bench_loader.json`` alone.

``benchmarks/bench_loader.py`` writes the block after its JSON; ``evaluation/check_generated.py``
re-renders it from the committed JSON and fails when docs/data.md differs. Qualitative prose is
template text; every number is formatted from the JSON (per-patch bytes from the task's channel
count: So2Sat files are float64, batches float32), and claims that depend on the numbers
(targets met, row order, ``madvise``) are chosen by them.
"""
from __future__ import annotations

import textwrap

from surrogate_eo.tasks import get_task

#: Table labels of the loaders, in table order; loaders not listed here follow under their JSON names.
LABELS = {
    "naive h5py/sample": "naive `Dataset`, h5py per sample, torch conversion per sample",
    "naive, open/sample": "naive `Dataset`, file opened per sample (as torchgeo's So2Sat)",
    "batches stream": "`batches`, streaming (default: {threads} reader thread{s} here)",
    "batches stream, 1 reader": "`batches`, streaming, 1 reader thread",
    "batches stream, no numba": "`batches`, streaming, numpy path (no numba)",
    "batches stream+aug": "`batches`, streaming, `augment=True`",
    "batches cache": "`batches`, `cache=True`",
    "batches cache+aug": "`batches`, `cache=True, augment=True`",
    "tensors index_select": "tensors, `index_select` batches",
    "tensors DataLoader": "tensors, `TensorDataset` + `DataLoader`",
}
#: Issue 13's targets for streaming without the cache: times the naive loader, times the tensors.
TARGET_NAIVE, TARGET_TENSORS = 20.0, 0.5
STREAM, NAIVE, TENSORS = "batches stream", "naive h5py/sample", "tensors index_select"


#: Prose lines are wrapped at this many characters, as the rest of docs/data.md.
WIDTH = 100


def _wrap(text: str) -> str:
    """``text`` wrapped at :data:`WIDTH`; a list item (``- ...``) keeps its continuation lines indented."""
    if text.startswith("|") or not text:
        return text
    rest = "  " if text.startswith("- ") else ""
    return textwrap.fill(text, WIDTH, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)


def _n(v: float) -> str:
    """A rate in samples/s with thousands separators."""
    return f"{v:,.0f}"


def _span(values: list[float], fmt: str) -> str:
    """``lo–hi`` of ``values`` in format ``fmt`` (one value when they print alike)."""
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return lo if lo == hi else f"{lo}–{hi}"


def _per_round(r: dict, num: str, den: str) -> list[float]:
    """Ratio ``num / den`` of each round (rounds run every loader once, so a round's loaders share its load)."""
    rounds = r["rounds_samples_per_s"]
    return [a / b for a, b in zip(rounds[num], rounds[den])]


def table(r: dict) -> list[str]:
    """The loaders' table of one layout: samples/s and the ratios to the naive loader and to the tensors."""
    threads = r.get("read_threads", 1)
    rates = r["samples_per_s"]
    names = [k for k in LABELS if k in rates] + [k for k in rates if k not in LABELS]
    lines = ["| loader | samples/s | vs naive | vs tensors |", "|---|---|---|---|"]
    for k in names:
        label = LABELS.get(k, f"`{k}`").format(threads=threads, s="" if threads == 1 else "s")
        naive = f"{r['vs_naive'][k]:.1f}" if NAIVE in rates else "–"
        lines.append(f"| {label} | {_n(rates[k])} | {naive} | {r['vs_tensors'][k]:.2f} |")
    return lines


def _run_line(result: dict, r: dict) -> str:
    load = result.get("load_average", {})
    cpus = f"{result['cpus']}-core " if "cpus" in result else ""
    where = f"{cpus}development machine shared with other jobs"
    if load:
        where += f", load average {load['start'][0]:.2f} at start, {load['end'][0]:.2f} at end"
    torch = result["torch_threads"]
    return (f"The last run ({r['patches']:,} patches, {r['layout']}, float64, batch {result['batch_size']}, "
            f"task {result['task']}, torch {torch} thread{'' if torch == 1 else 's'}; {where}):")


def _targets(r: dict) -> list[str]:
    rates = r["samples_per_s"]
    if STREAM not in rates or NAIVE not in rates:
        return []
    naive, tensors = _per_round(r, STREAM, NAIVE), _per_round(r, STREAM, TENSORS)
    rounds = (f"{_span(naive, '.0f')}× naive and {_span(tensors, '.2f')}× tensors per round; "
              f"`rounds_samples_per_s` in the JSON")
    best = r["vs_naive"][STREAM] >= TARGET_NAIVE and r["vs_tensors"][STREAM] >= TARGET_TENSORS
    every = min(naive) >= TARGET_NAIVE and min(tensors) >= TARGET_TENSORS
    if every:
        text = (f"Both targets of issue 13 are met in this run: streaming without the cache is ≥ "
                f"{TARGET_NAIVE:.0f}× the naive loader and ≥ {TARGET_TENSORS}× the in-memory tensors "
                + ("in its one round" if len(naive) == 1 else f"in every one of its {len(naive)} rounds")
                + f" ({rounds}).")
    elif best:
        text = (f"Both targets of issue 13 (≥ {TARGET_NAIVE:.0f}× naive, ≥ {TARGET_TENSORS}× tensors, streaming "
                f"without the cache) are met by the best rounds of this run, not by every round ({rounds}).")
    else:
        text = (f"The targets of issue 13 (≥ {TARGET_NAIVE:.0f}× naive, ≥ {TARGET_TENSORS}× tensors, streaming "
                f"without the cache) are not both met in this run: streaming is {r['vs_naive'][STREAM]:.1f}× naive "
                f"and {r['vs_tensors'][STREAM]:.2f}× tensors in its best round ({rounds}).")
    one = "batches stream, 1 reader"
    if r.get("read_threads", 1) > 1 and one in rates:
        single = _per_round(r, one, TENSORS)
        if max(single) < TARGET_TENSORS <= r["vs_tensors"][STREAM]:
            text += (f" The {TARGET_TENSORS}× needs the second reader thread (a second core): with one reader "
                     f"thread streaming is {_span(single, '.2f')}×, and on a machine whose other cores are busy "
                     f"the ratio falls toward that.")
        else:
            text += f" With one reader thread streaming is {_span(single, '.2f')}× the tensors."
    return [text]


def _stages(r: dict, source_kib: float) -> list[str]:
    s, faults, rates = r.get("stages_samples_per_s", {}), r.get("stages_minor_page_faults_per_epoch", {}), \
        r["samples_per_s"]
    rnd, srt = s.get("fused kernel, random rows"), s.get("fused kernel, sorted rows")
    if rnd is None:
        return []
    out = ["The former streaming reader (a Python loop converting one memory-mapped row at a time into one large "
           "output array per window of rows) is measured in the previous `bench_loader.json`, in git history. "
           "What each change of the current reader brings, from the stage table of the same run (an epoch of "
           "random rows, samples/s, one thread unless said):", ""]
    item = f"- the fused numba kernel, one batch per read: {_n(rnd)} (random rows)"
    if srt is not None:
        order = (f": row order hardly matters, each row is {source_kib:.0f} contiguous KiB"
                 if abs(srt / rnd - 1) <= 0.1 else "")
        item += f" / {_n(srt)} (sorted{order})"
    if "numpy path (no numba), random rows" in s:
        item += f"; the same operations in numpy: {_n(s['numpy path (no numba), random rows'])}"
    if "batches stream, no numba" in rates:
        item += f". Streaming without numba: {_n(rates['batches stream, no numba'])} ({r['read_threads']} readers)"
    out.append(item + ";")
    win = "fused kernel, 1024-row window arrays"
    if win in s:
        item = f"- one output array per batch instead of per 1024-row window: {_n(rnd)} vs {_n(s[win])}"
        if win in faults and "fused kernel, random rows" in faults:
            item += (f". Arrays over malloc's mmap threshold (at most 32 MiB in glibc) come fresh from the OS on "
                     f"every allocation ({faults[win]:,} page faults per epoch, every page zero-filled); "
                     f"batch-sized ones are reused by malloc ({faults['fused kernel, random rows']:,} faults)")
        out.append(item + ";")
    if "fused kernel, 2 threads" in s and STREAM in rates:
        out.append(f"- two reader threads: the kernel on two threads reads {_n(s['fused kernel, 2 threads'])} /s, "
                   f"the streaming loader {_n(rates[STREAM])} /s;")
    fresh = s.get("fused kernel, fresh memory map")
    if fresh is not None:
        adv = {a: s[f"fused kernel, fresh memory map, {a}"] for a in ("MADV_RANDOM", "MADV_WILLNEED")
               if f"fused kernel, fresh memory map, {a}" in s}
        item = (f"- `madvise`: a freshly mapped file costs {_n(fresh)} in its first epoch (page faults, against "
                f"{_n(rnd)} once mapped)")
        if adv:
            gain = max(adv.values()) / fresh - 1
            item += ("; " + " and ".join(f"`{a}` {_n(v)}" for a, v in adv.items())
                     + (" do not help" if gain <= 0.05 else f" (at best {gain:.0%} faster)"))
        out.append(item + ", and the reader keeps its map open, so only the first epoch pays; it uses no `madvise`.")
    return out


def _limits(result: dict, r: dict, source_kib: float, out_kib: float) -> list[str]:
    s, rates = r.get("stages_samples_per_s", {}), r["samples_per_s"]
    gib = 1024 ** 2   # KiB per GiB
    rnd, copy = s.get("fused kernel, random rows"), s.get("anchor: float64 row copy (numba), no conversion")
    bound = rnd is not None and copy is not None and rnd >= 0.9 * copy
    text = ("**What limits streaming is fetching the float64 rows.** " if bound else "**What limits streaming.** ")
    text += (f"A streamed `{result['task']}` patch reads {source_kib:.0f} KiB of float64 and writes {out_kib:.0f} KiB "
             f"of float32; the in-memory tensors read and write {out_kib:.0f} KiB each, so at the tensors' byte rate "
             f"streaming would reach {2 * out_kib:.0f}/{source_kib + out_kib:.0f} = "
             f"{2 * out_kib / (source_kib + out_kib):.2f}× of them.")
    if rnd is not None and copy is not None:
        text += (f" On one thread the kernel reads {_n(rnd)} /s, {rnd / copy:.2f}× the rate of a bare gather of "
                 f"the same random rows (a numba copy with no conversion: {_n(copy)} /s here)")
        text += (": the conversion, transpose and NaN screen cost nothing measurable, the memory accesses are the "
                 "bound." if bound else ".")
    seq, cp = s.get("anchor: sequential read of the map (sum)"), s.get("anchor: numpy float32 copy")
    if seq is not None and cp is not None:
        text += (f" The memory bandwidth one thread gets on this machine is ~{seq * source_kib / gib:.0f} GiB/s "
                 f"(a sequential read of the map: {seq * source_kib / gib:.2f} GiB/s; numpy's float32 copy: "
                 f"{cp * 2 * out_kib / gib:.2f} GiB/s moved)")
        if "fused kernel, 2 threads" in s:
            text += (f"; the kernel on two threads moves "
                     f"{s['fused kernel, 2 threads'] * (source_kib + out_kib) / gib:.2f} GiB/s")
        text += "."
    if "batches cache" in rates:
        text += (f" Use `cache=True` ({r['vs_tensors']['batches cache']:.2f}× tensors; or `\"float16\"`; its first "
                 f"epoch, including the load, takes {r['first_cached_epoch_s']:.1f} s) whenever the training subset "
                 f"fits in memory.")
    aug = "batches stream+aug"
    if aug in rates and STREAM in rates:
        text += (f" With `augment=True` the dihedral augmentation of `augment.py` brings streaming from "
                 f"{_n(rates[STREAM])} to {_n(rates[aug])} /s ({r['vs_naive'][aug]:.1f}× naive, "
                 f"{r['vs_tensors'][aug]:.2f}× tensors).")
    return [text]


def docs_block(result: dict) -> str:
    """The measured part of docs/data.md's loader section, from a ``bench_loader.json`` result.

    Parameters
    ----------
    result : dict
        The JSON the benchmark writes: ``batch_size``, ``task``, ``torch_threads``, one entry per
        layout measured (``plain`` and/or ``gzip``) and ``load_average``.

    Returns
    -------
    str
        Markdown (no trailing newline); the same result always gives the same text.
    """
    channels = get_task(result["task"]).in_channels
    out_kib = channels * 32 * 32 * 4 / 1024        # float32 batch bytes per patch
    source_kib = 2 * out_kib                       # float64 in the file
    layouts = [k for k in ("plain", "gzip") if k in result]
    lines: list[str] = []
    for i, layout in enumerate(layouts):
        r = result[layout]
        if i:
            lines += ["", f"The {r['layout']} file of the same run ({r['patches']:,} patches):", ""]
            lines += table(r)
            continue
        lines += [_run_line(result, r), ""] + table(r) + [""] + _targets(r)
        if set(r.get("access", {}).values()) != {"memmap"}:
            continue   # a chunked file: its stages do not time the fused kernel on a memory map
        stages = _stages(r, source_kib)
        lines += ([""] + stages if stages else []) + [""] + _limits(result, r, source_kib, out_kib)
    return "\n".join(_wrap(line) for line in lines)
