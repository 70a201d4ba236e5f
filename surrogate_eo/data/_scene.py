"""The scene model behind the synthetic So2Sat-format generator.

Every patch is a 32×32 scene made of three layers drawn as soft masks from
band-pass filtered noise: *built* (roofs, with cast shadows), *vegetation* and
*ground*. Each of the 17 local climate zones has its own built fraction,
building scale (texture period in pixels), building height (shadow length),
vegetation cover and scale, and material mixes (:data:`CLASS_TABLE`). Some
classes differ only by scale (compact / open high-, mid- and low-rise share
their materials and cover), others mostly by spectrum (trees, scrub, low
plants, soil, water), so a network needs both spectral mixing and spatial
filters at several scales. Sentinel-2 is the mixture of material spectra plus
city effects (band gains, haze, roof palette, vegetation greenness, sun
direction) and sensor noise. Sentinel-1 is the same scene seen as backscatter,
blurred, calibrated per city and multiplied by speckle, so its class signal is
weaker than Sentinel-2's.

Everything is vectorised over the patches of a chunk; randomness comes from
one ``numpy.random.Generator``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..tasks import NUM_CLASSES

SIZE = 32

#: Sentinel-2 reflectance of the materials, bands B2 B3 B4 B5 B6 B7 B8 B8A B11 B12.
ROOFS = np.array([
    [0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.20, 0.21, 0.24, 0.22],  # concrete
    [0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.12, 0.13, 0.15, 0.14],  # dark (bitumen, slate)
    [0.06, 0.08, 0.14, 0.17, 0.19, 0.20, 0.21, 0.22, 0.28, 0.24],  # clay tile
    [0.22, 0.23, 0.24, 0.25, 0.25, 0.26, 0.26, 0.26, 0.25, 0.22],  # metal sheet
], dtype=np.float32)
VEGETATION = np.array([
    [0.03, 0.05, 0.03, 0.08, 0.22, 0.28, 0.32, 0.33, 0.16, 0.08],  # trees
    [0.04, 0.07, 0.05, 0.11, 0.25, 0.31, 0.35, 0.37, 0.22, 0.12],  # grass, crops
    [0.05, 0.07, 0.07, 0.11, 0.18, 0.22, 0.24, 0.26, 0.25, 0.17],  # shrub
], dtype=np.float32)
GROUND = np.array([
    [0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.13, 0.14, 0.17, 0.16],  # paved
    [0.08, 0.11, 0.14, 0.17, 0.20, 0.22, 0.23, 0.25, 0.32, 0.28],  # soil
    [0.15, 0.19, 0.24, 0.27, 0.29, 0.31, 0.32, 0.33, 0.40, 0.36],  # sand
    [0.06, 0.05, 0.03, 0.025, 0.02, 0.018, 0.015, 0.014, 0.008, 0.006],  # water
    [0.11, 0.12, 0.13, 0.14, 0.16, 0.17, 0.18, 0.18, 0.22, 0.19],  # rock
    [0.04, 0.07, 0.05, 0.11, 0.25, 0.31, 0.35, 0.37, 0.22, 0.12],  # grass
], dtype=np.float32)
#: Dry, senescent vegetation that city "greenness" mixes into the plant spectra.
DRY = np.array([0.07, 0.09, 0.11, 0.14, 0.17, 0.19, 0.20, 0.22, 0.30, 0.25], dtype=np.float32)
#: Sentinel-1 VV backscatter (linear σ⁰) and VH/VV ratio per material.
S1_ROOF = (0.30, 0.12)
S1_VEG = np.array([[0.12, 0.35], [0.05, 0.25], [0.08, 0.30]], dtype=np.float32)
S1_GROUND = np.array([[0.02, 0.15], [0.06, 0.15], [0.03, 0.10], [0.004, 0.10], [0.10, 0.15],
                      [0.05, 0.25]], dtype=np.float32)


@dataclass(frozen=True)
class ClassScene:
    """How one local climate zone looks (fractions in [0, 1], lengths in pixels of 10 m)."""

    built: float            # fraction of the patch covered by roofs
    period: float           # building texture period
    height: int             # shadow length
    roofs: tuple            # weights of ROOFS
    veg: float              # fraction of the non-built area covered by plants
    veg_period: float       # vegetation texture period
    plants: tuple           # weights of VEGETATION
    ground: tuple           # weights of GROUND
    aniso: float = 0.0      # orientation strength of the building texture (street grids, fields)


_URBAN = (0.40, 0.30, 0.20, 0.10)   # roof mix shared by the six urban classes: only scale differs
_PAVED = (0.85, 0.15, 0, 0, 0, 0)

#: The 17 classes in label order (see :data:`surrogate_eo.tasks.CLASSES`).
CLASS_TABLE: tuple[ClassScene, ...] = (
    ClassScene(0.50, 9.0, 3, _URBAN, 0.08, 4.0, (0.6, 0.4, 0), _PAVED, 0.5),    # compact high-rise
    ClassScene(0.52, 5.0, 2, _URBAN, 0.08, 4.0, (0.6, 0.4, 0), _PAVED, 0.5),   # compact mid-rise
    ClassScene(0.54, 2.8, 1, _URBAN, 0.08, 4.0, (0.6, 0.4, 0), _PAVED, 0.5),    # compact low-rise
    ClassScene(0.22, 10.0, 3, _URBAN, 0.45, 6.0, (0.5, 0.5, 0), _PAVED),         # open high-rise
    ClassScene(0.24, 5.5, 2, _URBAN, 0.45, 6.0, (0.5, 0.5, 0), _PAVED),         # open mid-rise
    ClassScene(0.26, 3.0, 1, _URBAN, 0.45, 6.0, (0.5, 0.5, 0), _PAVED),          # open low-rise
    ClassScene(0.70, 2.2, 0, (0.1, 0.1, 0.0, 0.8), 0.05, 3.0, (0, 0.3, 0.7), (0.2, 0.8, 0, 0, 0, 0)),  # lightweight
    ClassScene(0.42, 14.0, 1, (0.5, 0.0, 0.0, 0.5), 0.12, 6.0, (0.3, 0.7, 0), (0.9, 0.1, 0, 0, 0, 0), 0.6),  # large low
    ClassScene(0.08, 4.0, 1, (0.3, 0.3, 0.3, 0.1), 0.70, 8.0, (0.3, 0.7, 0), (0.4, 0.6, 0, 0, 0, 0)),  # sparsely built
    ClassScene(0.35, 11.0, 1, (0.2, 0.2, 0.0, 0.6), 0.10, 6.0, (0.2, 0.3, 0.5),
               (0.5, 0.45, 0, 0.05, 0, 0), 0.4),                                    # heavy industry
    ClassScene(0.0, 4.0, 0, _URBAN, 0.97, 2.5, (0.95, 0.05, 0), (0, 1, 0, 0, 0, 0)),    # dense trees
    ClassScene(0.0, 4.0, 0, _URBAN, 0.40, 5.0, (0.9, 0, 0.1), (0, 0.3, 0, 0, 0, 0.7)),  # scattered trees
    ClassScene(0.0, 4.0, 0, _URBAN, 0.60, 2.5, (0, 0.1, 0.9), (0, 0.7, 0.3, 0, 0, 0)),  # bush, scrub
    ClassScene(0.0, 4.0, 0, _URBAN, 0.80, 14.0, (0, 1, 0), (0, 0.8, 0, 0, 0, 0.2)),     # low plants
    ClassScene(0.0, 4.0, 0, _URBAN, 0.05, 4.0, (0, 1, 0), (0.6, 0, 0, 0, 0.4, 0)),      # bare rock, paved
    ClassScene(0.0, 4.0, 0, _URBAN, 0.05, 4.0, (0, 0, 1), (0, 0.5, 0.5, 0, 0, 0)),      # bare soil, sand
    ClassScene(0.0, 4.0, 0, _URBAN, 0.02, 4.0, (0, 1, 0), (0, 0, 0, 1, 0, 0)),          # water
)
if len(CLASS_TABLE) != NUM_CLASSES:  # pragma: no cover - a table edit went wrong
    raise RuntimeError(f"CLASS_TABLE has {len(CLASS_TABLE)} rows; expected {NUM_CLASSES}")

#: Class frequencies of the training split, close to So2Sat LCZ42's (strongly imbalanced).
TRAIN_PRIOR = np.array([5068, 24431, 31693, 8651, 16493, 35290, 3269, 39326, 13584, 11954,
                        42902, 9514, 9165, 41377, 2392, 7898, 49359], dtype=np.float64)
TRAIN_PRIOR /= TRAIN_PRIOR.sum()

_DIRS = np.array([(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)])


@dataclass(frozen=True)
class City:
    """Acquisition and cultural effects shared by the patches of one city."""

    name: str
    prior: np.ndarray       # (17,) class frequencies in this city
    gain: np.ndarray        # (10,) S2 band gains (atmosphere, calibration)
    haze: np.ndarray        # (10,) S2 additive haze
    roof_tilt: np.ndarray   # (4,) multiplies the roof-material weights (building culture)
    greenness: float        # 1 = lush, lower = dry season / arid climate
    scale: float            # multiplies building texture periods
    sun: int                # shadow direction, index into the 8 compass directions
    s1_gain: float          # S1 calibration gain
    held_out: bool          # True for validation/test cities (stronger shift)


def make_cities(rng: np.random.Generator, n: int, *, held_out: bool, prefix: str) -> list[City]:
    """Draw ``n`` cities; held-out ones come from a shifted distribution (domain shift)."""
    cities = []
    shift = 1.6 if held_out else 1.0
    for i in range(n):
        prior = TRAIN_PRIOR * np.exp(rng.normal(0.0, 0.5 * shift, NUM_CLASSES))
        tilt = np.exp(rng.normal(0.0, 0.4 * shift, 4))
        if held_out:  # other building cultures: more tile and metal roofs
            tilt *= np.array([0.8, 0.9, 1.6, 1.4])
        haze = rng.uniform(0.0, 0.012 * shift) * np.linspace(1.0, 0.0, 10)
        cities.append(City(
            name=f"{prefix}{i:02d}", prior=prior / prior.sum(),
            gain=(1.0 + rng.normal(0.0, 0.06 * shift, 10)).astype(np.float32),
            haze=haze.astype(np.float32), roof_tilt=tilt,
            greenness=float(rng.uniform(0.6, 1.0) if held_out else rng.uniform(0.8, 1.1)),
            scale=float(rng.uniform(0.8, 1.25) if held_out else rng.uniform(0.88, 1.13)),
            sun=int(rng.integers(0, 8)), s1_gain=float(np.exp(rng.normal(0.0, 0.25 * shift))),
            held_out=held_out))
    return cities


def _fields(rng: np.random.Generator, period: np.ndarray, aniso: np.ndarray | None = None) -> np.ndarray:
    """Band-pass Gaussian fields (n, 32, 32), zero mean, unit variance per patch, peak at ``period`` px."""
    n = period.shape[0]
    spec = np.fft.rfft2(rng.standard_normal((n, SIZE, SIZE), dtype=np.float32))
    fy = np.fft.fftfreq(SIZE).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(SIZE).astype(np.float32)[None, :]
    fr = np.maximum(np.hypot(fy, fx), 1e-3)
    logr = np.log(fr[None] * period[:, None, None].astype(np.float32))
    h = np.exp(-(logr ** 2) / (2 * 0.35 ** 2))
    if aniso is not None:
        theta = rng.uniform(0, np.pi, n).astype(np.float32)
        ang = np.arctan2(fy, fx)[None]
        h = h * (1.0 + aniso[:, None, None] * np.cos(2 * (ang - theta[:, None, None])))
    h[:, 0, 0] = 0.0
    f = np.fft.irfft2(spec * h, s=(SIZE, SIZE)).astype(np.float32)
    f -= f.mean(axis=(1, 2), keepdims=True)
    f /= f.std(axis=(1, 2), keepdims=True) + 1e-6
    return f


def _mask(field: np.ndarray, cover: np.ndarray, sharpness: float = 6.0) -> np.ndarray:
    """Soft mask covering about ``cover`` of each patch (0 → empty)."""
    thr = ndtri(1.0 - np.clip(cover, 1e-4, 1 - 1e-4)).astype(np.float32)
    m = 1.0 / (1.0 + np.exp(-sharpness * (field - thr[:, None, None])))
    return np.where(cover[:, None, None] > 1e-3, m, 0.0).astype(np.float32)


def _shadows(built: np.ndarray, length: np.ndarray, sun: np.ndarray) -> np.ndarray:
    """Shadow masks cast by ``built`` over ``length`` px towards compass direction ``sun``."""
    shadow = np.zeros_like(built)
    for d in np.unique(sun):
        for h in np.unique(length[(sun == d) & (length > 0)]):
            g = np.flatnonzero((sun == d) & (length == h))
            dy, dx = _DIRS[d]
            acc = np.zeros((g.size, SIZE, SIZE), np.float32)
            for step in range(1, int(h) + 1):
                acc = np.maximum(acc, np.roll(built[g], (dy * step, dx * step), axis=(1, 2)))
            shadow[g] = np.clip(acc - built[g], 0.0, 1.0)
    return shadow


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (periodic) of (n, 32, 32) maps, ``sigma`` in px."""
    fy = np.fft.fftfreq(SIZE).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(SIZE).astype(np.float32)[None, :]
    h = np.exp(-2 * (np.pi * sigma) ** 2 * (fy ** 2 + fx ** 2)).astype(np.float32)
    return np.fft.irfft2(np.fft.rfft2(x) * h, s=(SIZE, SIZE)).astype(np.float32)


def _table(attr: str, labels: np.ndarray) -> np.ndarray:
    return np.asarray([getattr(c, attr) for c in CLASS_TABLE], dtype=np.float32)[labels]


def _gauss2(rng: np.random.Generator, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Two independent standard-normal float32 arrays (Box–Muller; faster than ``standard_normal``)."""
    r = np.sqrt(-2.0 * np.log1p(-rng.random(shape, dtype=np.float32)))
    t = np.float32(2 * np.pi) * rng.random(shape, dtype=np.float32)
    return r * np.cos(t), r * np.sin(t)


def _mix_regions(rng: np.random.Generator, n: int, frac: float) -> np.ndarray:
    """Soft masks (n, 32, 32) covering an edge region (15–40 %) of a ``frac`` share of the patches."""
    ang = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    cover = rng.uniform(0.15, 0.40, n).astype(np.float32)
    yy, xx = (np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) - (SIZE - 1) / 2) / (SIZE / 2)
    proj = np.cos(ang)[:, None, None] * xx + np.sin(ang)[:, None, None] * yy
    thr = 1.0 - 2.0 * cover   # a half-plane at distance thr from the centre covers about `cover`
    m = 1.0 / (1.0 + np.exp(-4.0 * (proj - thr[:, None, None])))
    return m * (rng.random(n) < frac)[:, None, None]


def render(rng: np.random.Generator, labels: np.ndarray, cities: list[City],
           city_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Render patches of the given classes and cities.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    labels : ndarray of int, shape (n,)
        Class index (0–16) per patch.
    cities : list of City
        City table; ``city_idx`` indexes it.
    city_idx : ndarray of int, shape (n,)
        City per patch.

    Returns
    -------
    sen1 : ndarray float32, shape (n, 8, 32, 32)
        Sentinel-1 channels (complex VH/VV parts, Lee intensities, covariance), linear units.
    sen2 : ndarray float32, shape (n, 10, 32, 32)
        Sentinel-2 reflectance (0 to about 0.5).
    """
    n = labels.shape[0]
    scale = np.array([c.scale for c in cities], np.float32)[city_idx]
    jitter = lambda lo, hi: rng.uniform(lo, hi, n).astype(np.float32)  # noqa: E731
    period = _table("period", labels) * scale * jitter(0.75, 1.33)
    built_cover = np.clip(_table("built", labels) * jitter(0.7, 1.3), 0.0, 0.95)
    veg_cover = np.clip(_table("veg", labels) * jitter(0.7, 1.3), 0.0, 0.99)
    built = _mask(_fields(rng, period, _table("aniso", labels)), built_cover)
    veg = _mask(_fields(rng, _table("veg_period", labels) * jitter(0.8, 1.25)), veg_cover)
    grain = _fields(rng, np.full(n, 3.0, np.float32))
    sun = np.array([c.sun for c in cities])[city_idx]
    length = np.rint(_table("height", labels) * jitter(0.7, 1.5)).astype(int)
    shadow = _shadows(built, length, sun)

    # material spectra per patch
    roof_w = np.asarray([c.roofs for c in CLASS_TABLE], np.float32)[labels]
    roof_w = roof_w * np.stack([c.roof_tilt for c in cities]).astype(np.float32)[city_idx]
    roof_w *= rng.standard_gamma(2.0, roof_w.shape, dtype=np.float32)
    roof_w /= roof_w.sum(1, keepdims=True) + 1e-9
    green = np.clip(np.array([c.greenness for c in cities], np.float32)[city_idx] * jitter(0.85, 1.15), 0, 1)
    plant_w = np.asarray([c.plants for c in CLASS_TABLE], np.float32)[labels]
    plant = green[:, None] * (plant_w @ VEGETATION) + (1 - green)[:, None] * DRY
    ground_w = np.asarray([c.ground for c in CLASS_TABLE], np.float32)[labels]
    ground = ground_w @ GROUND
    roof = roof_w @ ROOFS

    v_layer = (1.0 - built) * veg
    g_layer = (1.0 - built) * (1.0 - veg)
    layers = np.stack([built, v_layer, g_layer * (1.0 + 0.12 * grain)], axis=1).reshape(n, 3, SIZE * SIZE)
    spectra = np.stack([roof, plant, ground], axis=2)                      # (n, 10, 3)
    s2 = np.matmul(spectra, layers).reshape(n, 10, SIZE, SIZE)
    s2 *= (1.0 - 0.65 * shadow)[:, None]

    # Sentinel-1 backscatter of the same scene (linear sigma0), before mixing and speckle
    vv = built * S1_ROOF[0] * (1.0 + 0.5 * _table("height", labels))[:, None, None]
    vv += v_layer * (plant_w @ S1_VEG[:, 0])[:, None, None] + g_layer * (ground_w @ S1_GROUND[:, 0])[:, None, None]
    ratio = (built * S1_ROOF[1] + v_layer * (plant_w @ S1_VEG[:, 1])[:, None, None]
             + g_layer * (ground_w @ S1_GROUND[:, 1])[:, None, None])

    # mixed patches: an edge region shows a neighbouring patch's scene (LCZ labels describe the centre)
    mix = _mix_regions(rng, n, 0.5)
    sel = np.flatnonzero(mix.max(axis=(1, 2)) > 0)
    partner = rng.permutation(n)[sel]
    m = mix[sel]
    s2[sel] += m[:, None] * (s2[partner] - s2[sel])
    vv[sel] += m * (vv[partner] - vv[sel])
    ratio[sel] += m * (ratio[partner] - ratio[sel])

    gain = np.stack([c.gain for c in cities])[city_idx] * jitter(0.85, 1.15)[:, None]
    haze = np.stack([c.haze for c in cities])[city_idx]
    s2 = s2 * gain[:, :, None, None] + haze[:, :, None, None]
    s2 += np.float32(0.008) * (rng.random(s2.shape, dtype=np.float32) + rng.random(s2.shape, dtype=np.float32) - 1)
    s2 = np.rint(np.clip(s2, 0.0, 1.0) * np.float32(1e4)) / np.float32(1e4)   # So2Sat stores DN / 10000

    # Sentinel-1: coarser, calibrated per city and per acquisition geometry, bright points, speckle
    s1_gain = np.array([c.s1_gain for c in cities], np.float32)[city_idx]
    s1_gain = s1_gain * np.exp(rng.normal(0, 0.45, n)).astype(np.float32)   # acquisition geometry
    vv = np.maximum(_blur(vv, 1.5) * s1_gain[:, None, None], 1e-4)
    points = rng.random(vv.shape, dtype=np.float32) < 0.03 * built
    vv = np.where(points, vv * np.exp(rng.normal(2.5, 1.0, vv.shape)).astype(np.float32), vv)
    vh = vv * np.maximum(_blur(ratio, 1.5), 0.02) * np.exp(rng.normal(0, 0.35, n)).astype(np.float32)[:, None, None]
    s1 = np.empty((n, 8, SIZE, SIZE), np.float32)
    for k, sig in ((0, vh), (2, vv)):   # single-look complex: circular Gaussian
        re, im = _gauss2(rng, sig.shape)
        amp = np.sqrt(sig / 2)
        s1[:, k], s1[:, k + 1] = re * amp, im * amp
    looks = 4.0
    i_vh = vh * rng.standard_gamma(looks, vh.shape, dtype=np.float32) / np.float32(looks)
    i_vv = vv * rng.standard_gamma(looks, vv.shape, dtype=np.float32) / np.float32(looks)
    s1[:, 4], s1[:, 5] = i_vh, i_vv
    amp = np.sqrt(i_vh * i_vv)
    re, im = _gauss2(rng, amp.shape)
    s1[:, 6] = amp * (0.2 + 0.4 * re)
    s1[:, 7] = amp * 0.4 * im
    return s1, s2
