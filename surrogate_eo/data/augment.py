"""Augmentation for overhead imagery: the 8 flips and 90° rotations of a square patch.

Overhead patches have no "up": each of the 8 elements of the dihedral group
D4 (rotations by 0, 90, 180, 270 degrees, each with or without a horizontal
flip) is an equally valid view. Every transform only permutes pixels, so the
multiset of values of each channel is unchanged. Works on numpy arrays and
torch tensors (any device) of shape ``(n, C, H, W)`` with ``H == W``; the
random codes come from a numpy generator, so the result does not depend on
the device.
"""
from __future__ import annotations

from typing import Any

import numpy as np

#: Number of distinct flip/rotation transforms.
N_TRANSFORMS = 8


def random_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """One transform code in ``0..7`` per sample: ``code % 4`` quarter turns, ``code >= 4`` flip."""
    return rng.integers(0, N_TRANSFORMS, size=n)


def apply_dihedral(x: Any, codes: np.ndarray) -> Any:
    """Apply transform ``codes[i]`` to sample ``x[i]`` (in place where possible) and return ``x``.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, C, H, W), H == W
        Batch, channels-first.
    codes : ndarray of int, shape (n,)
        Transform per sample (see :func:`random_codes`); 0 is the identity.

    Returns
    -------
    Same type as ``x``
        The transformed batch.

    Examples
    --------
    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> apply_dihedral(x.copy(), np.array([1]))[0, 0].tolist()
    [[1.0, 3.0], [0.0, 2.0]]
    """
    codes = np.asarray(codes)
    is_np = isinstance(x, np.ndarray)
    if not is_np:
        import torch  # the caller already has a tensor, so torch is installed
    for code in np.unique(codes):
        if code == 0:
            continue
        rows = np.flatnonzero(codes == code)
        k, flip = int(code) % 4, code >= 4
        if is_np:
            part = x[rows]
            if flip:
                part = part[..., ::-1]
            x[rows] = np.rot90(part, k, axes=(2, 3))
        else:
            idx = torch.as_tensor(rows, device=x.device)
            part = x.index_select(0, idx)
            if flip:
                part = torch.flip(part, dims=(3,))
            x[idx] = torch.rot90(part, k, dims=(2, 3))
    return x
