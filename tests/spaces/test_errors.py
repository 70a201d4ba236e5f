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


def test_arch_of_the_other_space_is_named() -> None:
    with pytest.raises(InvalidArchitectureError, match="this is an nb201 arch.*space .* is eo"):
        get_space("eo").from_string(GOOD)
    with pytest.raises(InvalidArchitectureError, match="this is an eo arch.*space .* is nb201"):
        get_space("nb201").from_string(EO_GOOD)


@pytest.mark.parametrize("space, text", [
    ("eo", EO_GOOD.replace("width=24", "width=" + "9" * 100_000)),
    ("eo", "x" * 100_000),
    ("eo", EO_GOOD + ";" + "k" * 100_000 + "=1"),
    ("nb201", GOOD.replace("none~0", "z" * 100_000 + "~0")),
    ("nb201", "|" + "a~0|" * 30_000),
    ("nb201", GOOD + "+" * 50_000),
])
def test_huge_input_gives_a_short_line(space: str, text: str) -> None:
    """A 100 KB arch gives an error of a few hundred characters, not a 100 KB line."""
    with pytest.raises(InvalidArchitectureError) as info:
        get_space(space).from_string(text)
    msg = str(info.value)
    assert len(msg) < 500 and "\n" not in msg and "chars)" in msg


def test_cli_caps_and_names_cross_space_arch(capsys: pytest.CaptureFixture[str]) -> None:
    from surrogate_eo.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["space", "canonical", "eo", GOOD])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: eo:") and "this is an nb201 arch" in err and len(err.splitlines()) == 1
