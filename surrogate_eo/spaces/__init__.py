"""Search spaces: the :class:`SearchSpace` contract, ``nb201`` and ``eo``.

>>> from surrogate_eo.spaces import get_space
>>> space = get_space("nb201")
>>> space.size
15625
>>> space.to_string(space.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"))
'|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|'
"""
from __future__ import annotations

from ..errors import UnknownSpaceError, shown
from .base import SearchSpace, as_rng
from .cell import CellEncoding
from .eo import EOSpace
from .nb201 import NB201Space

SPACES: dict[str, type[SearchSpace]] = {"nb201": NB201Space, "eo": EOSpace}
_INSTANCES: dict[str, SearchSpace] = {}


def get_space(name: str | SearchSpace) -> SearchSpace:
    """Return the (shared) space called ``name``; a space instance is passed through."""
    if isinstance(name, SearchSpace):
        return name
    if not isinstance(name, str) or name not in SPACES:
        raise UnknownSpaceError(f"unknown search space {shown(name)}; expected one of {', '.join(sorted(SPACES))}")
    if name not in _INSTANCES:
        _INSTANCES[name] = SPACES[name]()
    return _INSTANCES[name]


__all__ = ["SearchSpace", "CellEncoding", "NB201Space", "EOSpace", "SPACES", "get_space", "as_rng"]
