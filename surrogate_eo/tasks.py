"""So2Sat LCZ42 tasks: which sensors feed the network, how many channels, 17 classes.

A task is class data, so a new sensor combination is a one-line table edit.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownTaskError

NUM_CLASSES = 17

#: The 17 local climate zones of So2Sat LCZ42, in label-column order.
CLASSES: tuple[str, ...] = (
    "compact_high_rise", "compact_mid_rise", "compact_low_rise",
    "open_high_rise", "open_mid_rise", "open_low_rise",
    "lightweight_low_rise", "large_low_rise", "sparsely_built",
    "heavy_industry", "dense_trees", "scattered_trees", "bush_scrub",
    "low_plants", "bare_rock_or_paved", "bare_soil_or_sand", "water",
)

#: Channel names per HDF5 key (So2Sat LCZ42 documentation).
SEN1_BANDS: tuple[str, ...] = (
    "vh_real", "vh_imag", "vv_real", "vv_imag",
    "vh_lee_intensity", "vv_lee_intensity", "lee_cov_real", "lee_cov_imag",
)
SEN2_BANDS: tuple[str, ...] = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")


@dataclass(frozen=True)
class Task:
    """A classification task on So2Sat LCZ42.

    Attributes
    ----------
    name : str
        Task identifier, e.g. ``"so2sat-s2"``.
    keys : tuple of str
        HDF5 keys read, in channel order (S1 first, as torchgeo does).
    in_channels : int
        Number of input channels the network sees.
    num_classes : int
        Number of classes (17).
    """

    name: str
    keys: tuple[str, ...]
    in_channels: int
    num_classes: int = NUM_CLASSES

    @property
    def bands(self) -> tuple[str, ...]:
        """Channel names in order."""
        out: tuple[str, ...] = ()
        for k in self.keys:
            out += SEN1_BANDS if k == "sen1" else SEN2_BANDS
        return out


TASKS: dict[str, Task] = {
    "so2sat-s1": Task("so2sat-s1", ("sen1",), 8),
    "so2sat-s2": Task("so2sat-s2", ("sen2",), 10),
    "so2sat-s1s2": Task("so2sat-s1s2", ("sen1", "sen2"), 18),
}


def get_task(name: str) -> Task:
    """Return the :class:`Task` called ``name`` or raise :class:`UnknownTaskError`."""
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise UnknownTaskError(
            f"unknown task {name!r}; expected one of {', '.join(sorted(TASKS))}"
        ) from None
