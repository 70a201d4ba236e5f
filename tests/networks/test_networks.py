"""Networks: every op builds and runs; NB201's exact parameter counts; FLOPs by torch's counter."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from surrogate_eo.errors import InvalidArchitectureError  # noqa: E402
from surrogate_eo.networks import build_network, count_flops, count_params  # noqa: E402
from surrogate_eo.spaces import get_space  # noqa: E402


def uniform_cell(op: str) -> str:
    return f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|"


def nb201_params_reference(arch: np.ndarray) -> int:
    """Parameter count NAS-Bench-201 reports (CIFAR-10): skeleton + per-edge conv weights and BN affine.

    The skeleton (stem, two residual reductions, final BN, 64x10 classifier)
    holds 73,306 parameters: NB201's value for the all-`none` cell. Each of
    the 5 cells of a stage of width C adds C*C*k*k + 2C per conv edge.
    """
    per_edge = {2: 1, 3: 9}  # nor_conv_1x1, nor_conv_3x3 -> k*k
    total = 73_306
    for c in (16, 32, 64):
        for op in arch:
            if int(op) in per_edge:
                total += 5 * (c * c * per_edge[int(op)] + 2 * c)
    return total


def test_nb201_param_counts_known_values():
    none = build_network("nb201", uniform_cell("none"), in_channels=3, num_classes=10)
    conv = build_network("nb201", uniform_cell("nor_conv_3x3"), in_channels=3, num_classes=10)
    assert count_params(none) == 73_306        # NB201: 0.073306 M
    assert count_params(conv) == 1_531_546     # NB201: 1.531546 M


def test_nb201_param_counts_every_op_mix():
    space = get_space("nb201")
    for arch in space.sample(40, seed=0):
        net = build_network("nb201", arch, in_channels=3, num_classes=10)
        assert count_params(net) == nb201_params_reference(arch)


def test_nb201_flops_match_nb201():
    # NB201 reports multiply-adds: 7.78 M (all none) and 220.11 M (all 3x3 convs) on CIFAR-10.
    none = build_network("nb201", uniform_cell("none"), 3, 10)
    conv = build_network("nb201", uniform_cell("nor_conv_3x3"), 3, 10)
    assert count_flops(none, 3) / 2e6 == pytest.approx(7.78, abs=0.01)
    assert count_flops(conv, 3) / 2e6 == pytest.approx(220.11, abs=0.02)


@pytest.mark.parametrize("space_name", ["nb201", "eo"])
def test_flops_equal_torchs_own_flop_counter(space_name):
    """count_flops (forward hooks) equals torch.utils.flop_counter on random archs of every op mix."""
    from torch.utils.flop_counter import FlopCounterMode

    space = get_space(space_name)
    for k, arch in enumerate(space.sample(12, seed=3)):
        c = (8, 10, 18)[k % 3]
        net = build_network(space_name, arch, c, 17).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as ref:
            net(torch.zeros(1, c, 32, 32))
        assert count_flops(net, c) == ref.get_total_flops() > 0, space.to_string(arch)


@pytest.mark.parametrize("space_name", ["nb201", "eo"])
@pytest.mark.parametrize("in_channels", [8, 10, 18])
def test_every_op_builds_and_runs(space_name, in_channels):
    space = get_space(space_name)
    torch.manual_seed(0)
    for op in range(space.dims[0]):
        arch = space.sample(1, seed=op)[0]
        arch[: space.cell.n_edges] = op
        net = build_network(space, arch, in_channels=in_channels)
        out = net(torch.randn(2, in_channels, 32, 32))
        assert out.shape == (2, 17)
        assert torch.isfinite(out).all()


def test_eo_macro_choices_shape_the_network():
    space = get_space("eo")
    base = space.from_string("cell=|conv_3x3~0|+|skip_connect~0|conv_3x3~1|+|none~0|se~1|skip_connect~2|;"
                             "stem=conv3x3;width=16;cells=1;reductions=2")
    def variant(**kw):
        a = base.copy()
        for k, v in kw.items():
            p = space.dim_names.index(k)
            a[p] = list(space.choices[p]).index(v)
        return build_network(space, a, 10)
    p_base = count_params(variant())
    assert count_params(variant(width=32)) > p_base
    assert count_params(variant(cells=3)) > p_base
    # reductions set the final resolution (latest transitions first) and double the width
    for r, side, width in ((0, 32, 16), (1, 16, 32), (2, 8, 64)):
        net = variant(reductions=r)
        feat = net.cells(net.stem(torch.zeros(1, 10, 32, 32)))
        assert feat.shape[1:] == (width, side, side)
    assert count_params(variant(reductions=0)) < p_base
    assert count_params(variant(stem="spectral")) > p_base


@pytest.mark.parametrize("space_name", ["nb201", "eo"])
def test_disconnected_cell_gives_constant_output(space_name):
    space = get_space(space_name)
    arch = space.sample(1, seed=3)[0]
    arch[: space.cell.n_edges] = 0  # all none: input cannot reach the output
    net = build_network(space, arch, in_channels=10).eval()
    with torch.no_grad():
        a = net(torch.randn(4, 10, 32, 32))
        b = net(torch.randn(4, 10, 32, 32))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, a[:1].expand_as(a))


def test_build_network_rejects_bad_input():
    with pytest.raises(InvalidArchitectureError, match="in_channels"):
        build_network("nb201", uniform_cell("none"), in_channels=0)
    with pytest.raises(InvalidArchitectureError, match="one architecture"):
        build_network("nb201", np.zeros((2, 6), int), in_channels=3)
