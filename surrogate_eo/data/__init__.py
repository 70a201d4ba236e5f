"""So2Sat LCZ42 data: HDF5 reader, loaders, statistics, sampling, and a synthetic generator.

- :func:`find_files` / :func:`open_split` — locate and open a split of any published version
  (:data:`VERSIONS`: 1, 2, 3-random, 3-block, 3-culture_10, 4);
- :class:`So2SatSplit` — lazy reader: ``labels``, ``city``, ``read(indices)``, ``stats()``,
  ``batches(...)`` (torch);
- :func:`stratified_subset` — seeded class-stratified or balanced subsets;
- :func:`synthesize` — synthetic files in exactly the official layout.

Importing this package needs only numpy and h5py; torch is imported when batches are asked for.
"""
from __future__ import annotations

from .augment import apply_dihedral, random_codes
from .layout import VERSIONS, DataArgumentError, Version, detect_version, find_files
from .sampling import stratified_subset
from .so2sat import So2SatSplit, open_split
from .synthetic import synthesize

__all__ = [
    "VERSIONS", "DataArgumentError", "So2SatSplit", "Version", "apply_dihedral", "detect_version",
    "find_files", "open_split", "random_codes", "stratified_subset", "synthesize",
]
