"""One network for every score: an MLP with skip connections conditioned on one time per variable.

The network sees the concatenation ``[x, y]`` and a time vector ``[t_X, t_Y]``.  Each variable plays
one of three roles (REFERENCE.md section 1, after the authors' code):

* ``DIFFUSED``  -- value x_t, time t: the variable whose score is wanted;
* ``CLEAN``     -- value x_0, time 0: the variable is conditioned on;
* ``MARGINAL``  -- value 0, time 1 ("fully noised"): the variable is integrated out.

So (X diffused, Y marginal) gives the marginal score s_X(x_t), (X diffused, Y clean) the conditional
score s_{X|Y}(x_t | y), and (both diffused, same t) the joint score s_XY(x_t, y_t).  The network predicts
the Gaussian noise eps of the diffused coordinates; the score is ``-eps_hat / sigma_t``.
"""

from __future__ import annotations

from enum import IntEnum

import torch
from torch import Tensor, nn

from .sde import SDE

__all__ = ["Role", "ScoreNetwork", "default_width", "network_inputs", "inputs_for_roles"]


class Role(IntEnum):
    """What a variable is doing in one evaluation of the multi-time score network."""

    DIFFUSED = 0
    CLEAN = 1
    MARGINAL = 2


def default_width(dim: int) -> int:
    """Hidden width from the total dimension dim_x + dim_y, as in the authors' code: 64 / 128 / 256."""
    if dim <= 10:
        return 64
    if dim <= 50:
        return 128
    return 256


class ResidualBlock(nn.Module):
    """(LayerNorm -> SiLU -> Linear) + time embedding -> (LayerNorm -> SiLU -> Linear), plus a skip path.

    The authors normalise with GroupNorm(8 groups); LayerNorm (one group) trains as well here and is
    2.5-3.5x cheaper on CPU at these widths (forward + backward at batch 128, one thread: 116 vs 295 us at
    width 64, 194 vs 649 us at width 256), so it is used instead.
    """

    def __init__(self, dim_in: int, dim_out: int, time_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim_in)
        self.lin1 = nn.Linear(dim_in, dim_out)
        self.time = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out))
        self.norm2 = nn.LayerNorm(dim_out)
        self.lin2 = nn.Linear(dim_out, dim_out)
        self.skip = nn.Linear(dim_in, dim_out) if dim_in != dim_out else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, h: Tensor, emb: Tensor) -> Tensor:
        z = self.lin1(self.act(self.norm1(h))) + self.time(emb)
        z = self.lin2(self.act(self.norm2(z)))
        return z + self.skip(h)


class ScoreNetwork(nn.Module):
    """Noise-prediction MLP eps_theta([x, y], [t_X, t_Y]) shared by all scores of one (X, Y) pair.

    input Linear -> ``n_blocks`` residual blocks -> concatenate with the input features (skip) ->
    residual block 2w -> w -> LayerNorm, SiLU, zero-initialised Linear (so training starts from eps_hat = 0).
    ``n_blocks=0`` is the authors' default topology.  ``width=None`` picks it from dim_x + dim_y.
    """

    def __init__(self, dim_x: int, dim_y: int, width: int | None = None, n_blocks: int = 0) -> None:
        super().__init__()
        dim = dim_x + dim_y
        width = default_width(dim) if width is None else int(width)
        if width < 1 or n_blocks < 0:
            raise ValueError(f"width must be positive and n_blocks non-negative, got {width}, {n_blocks}")
        self.dim_x, self.dim_y, self.width, self.n_blocks = dim_x, dim_y, width, n_blocks
        self.embed_input = nn.Linear(dim, width)
        self.embed_time = nn.Sequential(nn.Linear(2, width), nn.SiLU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList(ResidualBlock(width, width, width) for _ in range(n_blocks))
        self.merge = ResidualBlock(2 * width, width, width)
        self.head_norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, dim)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, xy: Tensor, times: Tensor) -> Tensor:
        """xy: (n, dim_x + dim_y) network input; times: (n, 2) = [t_X, t_Y].  Returns eps_hat (n, dim)."""
        h0 = self.embed_input(xy)
        emb = self.embed_time(times)
        h = h0
        for block in self.blocks:
            h = block(h, emb)
        h = self.merge(torch.cat([h, h0], dim=1), emb)
        return self.head(nn.functional.silu(self.head_norm(h)))


def network_inputs(
    sde: SDE,
    x0: Tensor,
    y0: Tensor,
    t: Tensor,
    noise: Tensor,
    role_x: Tensor | Role,
    role_y: Tensor | Role,
) -> tuple[Tensor, Tensor, Tensor]:
    """Build the network input for per-sample roles.

    x0: (n, dx), y0: (n, dy) clean data; t: (n, 1) diffusion time (shared by every diffused variable);
    noise: (n, dx + dy) the eps used for diffused coordinates; role_x / role_y: a Role or an (n,) tensor of
    roles.  Returns (network input, times (n, 2), diffused-coordinate mask (n, dx + dy)).
    A diffused variable enters as x_t / sqrt(chi_t) (unit scale for either SDE), a clean one as x_0
    (chi_0 = 1 under both SDEs up to sigma_min^2), a marginalised one as zeros.
    """
    n = x0.shape[0]
    roles = torch.stack([torch.as_tensor(r, device=x0.device).expand(n) for r in (role_x, role_y)], dim=1)
    return inputs_for_roles(sde, x0, y0, t, noise, roles)


def inputs_for_roles(sde: SDE, x0: Tensor, y0: Tensor, t: Tensor, noise: Tensor, roles: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``network_inputs`` with the roles given as one (n, 2) tensor of Role values (the training loop's fast path)."""
    n, dx = x0.shape
    dy = y0.shape[1]
    t = t.to(x0.dtype)
    diffused = roles == Role.DIFFUSED
    clean = roles == Role.CLEAN
    diffused_c = torch.cat([diffused[:, :1].expand(n, dx), diffused[:, 1:].expand(n, dy)], dim=1)
    clean_c = torch.cat([clean[:, :1].expand(n, dx), clean[:, 1:].expand(n, dy)], dim=1)
    z0 = torch.cat([x0, y0], dim=1)
    alpha, sigma = sde.alpha(t), sde.sigma(t)
    z_t = (alpha * z0 + sigma * noise) * torch.rsqrt(alpha**2 + sigma**2)
    inp = z_t * diffused_c + z0 * clean_c
    times = torch.where(diffused, t, (roles == Role.MARGINAL).to(t.dtype))
    return inp, times, diffused_c
