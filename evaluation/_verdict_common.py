"""Shared pieces of the verdict evaluations: NB201 datasets, campaign plans, the panel of unfaithful surrogates.

Every surrogate in the panel is a full table (one value per NB201 arch), so a
replicate costs one lookup per arch; the panel is built once per dataset with a
fixed seed (byte-reproducible outputs).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from surrogate_eo.landscape import SamplingPlan
from surrogate_eo.reference import load_nb201

#: Datasets, their 200-epoch test-accuracy column and their 12-epoch column.
DATASETS: dict[str, tuple[str, str]] = {
    "CIFAR-10": ("CIFAR10TestAccuracy200Epochs", "Cifar10TestAccuracy12Epochs"),
    "CIFAR-100": ("CIFAR100TestAccuracy200Epochs", "Cifar100TestAccuracy12Epochs"),
    "ImageNet16-120": ("ImageNetTestAccuracy200Epochs", "ImageNet16TestAccuracy12Epochs"),
}
#: Where each dataset's "another dataset rescaled" panel member comes from.
OTHER = {"CIFAR-10": "CIFAR-100", "CIFAR-100": "ImageNet16-120", "ImageNet16-120": "CIFAR-10"}
SIZES = [50, 100, 150, 300, 750, 1563, 5000]
#: Exploit wave (second wave) added to every campaign of at least this many runs.
EXPLOIT_FROM = 300
N_EXPLOIT = 10


class ArraySource:
    """A fitness source over a finite space from one value per arch (``space.enumerate()`` order)."""

    def __init__(self, space: Any, values: np.ndarray, name: str) -> None:
        self.space, self.values, self.name = space, np.asarray(values, dtype=float), name

    def fitness(self, archs: Any) -> np.ndarray:
        return self.values[self.space.enumeration_index(archs)]


def load_tables() -> tuple[Any, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(space, f200 per dataset, f12 per dataset)`` over every NB201 arch (fractions)."""
    table = load_nb201()
    src = table.source(DATASETS["CIFAR-10"][0])
    space = src.space
    X = space.enumerate()
    f200 = {d: table.source(c).fitness(X) for d, (c, _) in DATASETS.items()}
    f12 = {d: table.source(c12).fitness(X) for d, (_, c12) in DATASETS.items()}
    return space, f200, f12


def campaign_plan(runs: int, degree: int, n_boot: int = 200, exploit: bool = True) -> SamplingPlan:
    """Strata for ``runs`` runs (a third each to points, 25-step walks, neighbourhoods), plus an exploit
    wave of :data:`N_EXPLOIT` neighbourhoods from :data:`EXPLOIT_FROM` runs on. Campaigns too small for
    one neighbourhood per third get half points, half one walk."""
    kw: dict[str, Any] = dict(n_boot=n_boot, n_climbs=0, n_neutral_walks=0)
    if runs < 3 * (degree + 1):
        return SamplingPlan(n_points=runs - runs // 2, n_walks=1, walk_length=max(2, runs // 2), n_centres=0, **kw)
    plan = SamplingPlan.for_campaign(runs, degree, **kw)
    if exploit and runs >= EXPLOIT_FROM:
        plan = plan.replace(n_exploit=N_EXPLOIT)
    return plan


def rescale(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``x`` affinely mapped to the mean and standard deviation of ``ref``."""
    return (x - x.mean()) / x.std() * ref.std() + ref.mean()


def smooth(space: Any, f: np.ndarray) -> np.ndarray:
    """Over-smoothed: the additive (first-order) fit of ``f`` on one-hot positions (least squares)."""
    X = space.enumerate()
    cols = [np.ones(len(X))]
    for j, k in enumerate(space.dims):
        for v in range(1, int(k)):
            cols.append((X[:, j] == v).astype(float))
    A = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(A, f, rcond=None)
    return A @ coef


def panel(space: Any, f200: dict[str, np.ndarray], f12: dict[str, np.ndarray], dataset: str,
          seed: int = 0) -> dict[str, np.ndarray]:
    """The panel of unfaithful surrogates of ``dataset`` (each one value per arch)."""
    f = f200[dataset]
    rng = np.random.default_rng([seed, list(DATASETS).index(dataset)])
    order = np.argsort(-f, kind="stable")
    out: dict[str, np.ndarray] = {"shuffled": rng.permutation(f)}
    out["over-smoothed"] = smooth(space, f)
    out["noisy 0.02"] = f + rng.normal(0.0, 0.02, len(f))
    top = order[:len(f) // 10]
    g = f.copy()
    g[top] = f[rng.permutation(top)]
    out["top-10% permuted"] = g
    bot = order[len(f) // 2:]
    g = f.copy()
    g[bot] = f[rng.permutation(bot)]
    out["bottom-50% permuted"] = g
    out[f"{OTHER[dataset]} rescaled"] = rescale(f200[OTHER[dataset]], f)
    out["12-epoch rescaled"] = rescale(f12[dataset], f)
    return out


def rank_transform(f: np.ndarray) -> np.ndarray:
    """Rank-identical transform: ``f**4`` rescaled to the mean and std of ``f``."""
    return rescale(f ** 4, f)


def oof(make: Any, archs: np.ndarray, y: np.ndarray, k: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold predictions: ``make()`` refitted ``k`` times, folds from a seeded permutation.

    Fold ``i`` holds the archs at positions ``permutation(n)[j] % k == i`` of
    ``numpy.random.default_rng(seed)``; each is predicted by the model fitted
    on the other folds (same units as ``y``).
    """
    fold = np.random.default_rng(seed).permutation(len(archs)) % k
    pred = np.empty(len(y))
    for i in range(k):
        pred[fold == i] = make().fit(archs[fold != i], y[fold != i]).predict(archs[fold == i])
    return pred


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def replace_marker_block(path: Path, name: str, body: str) -> bool:
    """Replace the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` in ``path``
    (not when ``$SURROGATE_EO_GENERATED`` redirects the outputs, e.g. evaluation/check_generated.py)."""
    import os

    if os.environ.get("SURROGATE_EO_GENERATED"):
        return False
    begin, end = f"<!-- BEGIN {name} (generated by evaluation/; do not edit) -->", f"<!-- END {name} -->"
    text = path.read_text()
    if begin not in text or end not in text:
        return False
    a, b = text.index(begin) + len(begin), text.index(end)
    path.write_text(text[:a] + "\n" + body.rstrip("\n") + "\n" + text[b:])
    return True
