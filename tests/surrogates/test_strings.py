"""Batch string parsing (surrogates/_strings.py): the one-pass token path against the space's own parser."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import InvalidArchitectureError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates._strings import StringParser

EO = get_space("eo")


@pytest.fixture(scope="module")
def parser():
    return StringParser(EO)


def test_one_pass_path_answers_canonical_batches(parser):
    archs = EO.sample(400, seed=4)
    texts = EO.to_strings(archs)
    assert parser.ok and parser.tokens is not None and len(parser.tokens) == 3      # one dict per node group
    np.testing.assert_array_equal(parser.fast(texts), archs)
    np.testing.assert_array_equal(parser.fast(texts[:1]), archs[:1])
    np.testing.assert_array_equal(parser.parse(texts), EO.from_strings(texts))
    assert parser.fast([]) is None and parser.parse([]).shape == (0, EO.n_dims)


def test_strings_cut_anywhere_are_never_answered_by_the_token_path(parser):
    """Two strings cut at any place (fields moved from one string to its neighbour) keep the token
    count of the batch but not of each string: the one-pass path must refuse them, never guess."""
    a, b = EO.to_strings(EO.sample(2, seed=9))
    both = a + b
    for j in range(1, len(both)):
        if j == len(a):
            np.testing.assert_array_equal(parser.fast([both[:j], both[j:]]), EO.from_strings([a, b]))
            continue
        assert parser.fast([both[:j], both[j:]]) is None, j
    # fields shifted between neighbours: each string has the other's macro tail start
    head, tail = a.split(";", 1)
    assert parser.fast([head, tail + ";" + b]) is None
    assert parser.fast([a.replace("+", "+\n+", 1), b]) is None      # the separator inside a string
    assert parser.fast([a, None]) is None and parser.fast([a, ["x"]]) is None     # type: ignore[list-item]
    assert parser.fast([a.replace("|+|", "|+|+|", 1), b]) is None


def test_bad_and_odd_strings_go_to_the_space(parser):
    texts = EO.to_strings(EO.sample(6, seed=2))
    odd = texts[:3] + [" " + texts[3], texts[4].replace(";width=", "; width=")] + texts[5:]
    assert parser.fast(odd) is None
    np.testing.assert_array_equal(parser.parse(odd), EO.from_strings(texts))
    head, tail = texts[0].split(";", 1)
    with pytest.raises(InvalidArchitectureError, match="eo"):
        parser.parse([head, tail + ";" + texts[1]])
    with pytest.raises(InvalidArchitectureError, match="eo"):
        parser.parse([texts[0], texts[1].replace("width=", "widht=")])


@pytest.mark.parametrize("name", ["nb201", "eo"])
def test_string_parser_agrees_with_the_space_on_canonical_and_odd_strings(name):
    space = get_space(name)
    archs = space.sample(500, seed=11)
    texts = space.to_strings(archs)
    parser = StringParser(space)
    assert parser.ok
    np.testing.assert_array_equal(parser.parse(texts), archs)
    np.testing.assert_array_equal(parser.parse(texts), space.from_strings(texts))
    odd = [" " + t for t in texts[:5]] + [t + " " for t in texts[5:10]]     # the space strips these
    np.testing.assert_array_equal(parser.parse(odd), archs[:10])
    assert parser._one(texts[0].replace("|", "||", 1)) is None             # not canonical: never guessed
    assert parser.parse([]).shape == (0, space.n_dims)
