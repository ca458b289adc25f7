import pytest
import torch

from minde.score_network import Role, ScoreNetwork, default_width, network_inputs
from minde.sde import VESDE, VPSDE


def test_default_width_follows_the_authors():
    assert [default_width(d) for d in (2, 10, 11, 50, 51, 100)] == [64, 64, 128, 128, 256, 256]


def test_output_layer_starts_at_zero_and_shapes():
    net = ScoreNetwork(3, 2)
    out = net(torch.randn(7, 5), torch.rand(7, 2))
    assert out.shape == (7, 5) and torch.all(out == 0)
    assert ScoreNetwork(3, 2, width=32, n_blocks=2).width == 32


@pytest.mark.parametrize("sde", [VPSDE(), VESDE()], ids=["vp", "ve"])
def test_roles_build_the_right_inputs(sde):
    n, dx, dy = 4, 2, 3
    x0, y0 = torch.randn(n, dx), torch.randn(n, dy)
    t = torch.full((n, 1), 0.4, dtype=torch.float64)
    noise = torch.randn(n, dx + dy)
    scale = float(torch.rsqrt(sde.alpha(t[0]) ** 2 + sde.sigma(t[0]) ** 2))
    x_t = (sde.alpha(t).float() * x0 + sde.sigma(t).float() * noise[:, :dx]) * scale

    inp, times, mask = network_inputs(sde, x0, y0, t, noise, Role.DIFFUSED, Role.MARGINAL)
    assert torch.allclose(inp[:, :dx], x_t) and torch.all(inp[:, dx:] == 0)
    assert torch.allclose(times, torch.tensor([[0.4, 1.0]] * n))
    assert mask.tolist() == [[True] * dx + [False] * dy] * n

    inp, times, _ = network_inputs(sde, x0, y0, t, noise, Role.DIFFUSED, Role.CLEAN)
    assert torch.allclose(inp[:, dx:], y0) and torch.allclose(times[:, 1], torch.zeros(n))

    roles_x = torch.tensor([Role.DIFFUSED, Role.CLEAN, Role.DIFFUSED, Role.MARGINAL])
    inp, times, mask = network_inputs(sde, x0, y0, t, noise, roles_x, Role.DIFFUSED)
    assert torch.allclose(inp[1, :dx], x0[1]) and torch.all(inp[3, :dx] == 0)
    assert times[:, 0].tolist() == pytest.approx([0.4, 0.0, 0.4, 1.0])
    assert mask[:, :dx].all(dim=1).tolist() == [True, False, True, False]
