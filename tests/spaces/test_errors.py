"""Bad architectures raise InvalidArchitectureError naming the offending token and what was expected."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import InvalidArchitectureError, SurrogateEOError
from surrogate_eo.spaces import get_space

GOOD = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"
EO_GOOD = ("cell=|conv_3x3~0|+|skip_connect~0|sep_conv_3x3~1|+|none~0|se~1|dil_conv_3x3~2|;"
           "stem=spectral;width=24;cells=2;reductions=1")

BAD_NB201 = [
    ("|nor_conv_5x5~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", "nor_conv_5x5"),
    ("|nor_conv_3x3~0|+|none~0|skip_connect~1|", "2 node group"),
    ("|nor_conv_3x3~0|+|none~0|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", "1 input edge"),
    ("|nor_conv_3x3~0|+|none~0|skip_connect~2|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", "input node '2'"),
    ("|nor_conv_3x3~0|+|none~0|skip_connect~x|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", "input node 'x'"),
    ("|nor_conv_3x3-0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", "lacks '~'"),
    ("nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", "start and end"),
    (GOOD.replace("+", ","), "1 node group"),
    ("", "node group"),
]


@pytest.mark.parametrize("text,needle", BAD_NB201)
def test_bad_nb201_strings(text, needle):
    with pytest.raises(InvalidArchitectureError) as info:
        get_space("nb201").from_string(text)
    assert needle in str(info.value)
    assert isinstance(info.value, SurrogateEOError)


BAD_EO = [
    (EO_GOOD.replace("width=24", "width=64"), "width='64'"),
    (EO_GOOD.replace(";reductions=1", ""), "'reductions' missing"),
    (EO_GOOD + ";depth=3", "unknown field 'depth'"),
    (EO_GOOD.replace("stem=spectral", "stem"), "not KEY=VALUE"),
    (EO_GOOD.replace("se~1", "attention~1"), "unknown op 'attention'"),
    (EO_GOOD + ";width=16", "appears twice"),
]


@pytest.mark.parametrize("text,needle", BAD_EO)
def test_bad_eo_strings(text, needle):
    with pytest.raises(InvalidArchitectureError, match=None) as info:
        get_space("eo").from_string(text)
    assert needle in str(info.value)


@pytest.mark.parametrize("vec,needle", [
    ((0, 0, 0, 0, 0, 5), "position 5 (edge_3<-2) is 5, expected an integer in 0..4"),
    ((0, 0, 0, -1, 0, 0), "position 3"),
    ((0, 0, 0), "vector of 6 choices"),
    (np.zeros((2, 7), int), "vector of 6 choices"),
    (np.full(6, 0.5), "integer choice indices"),
])
def test_bad_vectors(vec, needle):
    with pytest.raises(InvalidArchitectureError) as info:
        get_space("nb201").validate(vec)
    assert needle in str(info.value)


def test_good_strings_parse():
    assert get_space("nb201").to_string(GOOD) == GOOD
    assert get_space("eo").to_string(EO_GOOD) == EO_GOOD
    assert get_space("eo").macro_values(EO_GOOD) == {"stem": "spectral", "width": 24, "cells": 2, "reductions": 1}
