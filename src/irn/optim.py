"""Adam on stacked replicates (DESIGN §5): the optimiser of ``irn.train`` and ``irn.attractors``.

Adam is element-wise, so one optimiser over tensors with a leading replicate dimension (or a
stack of independent points) moves each replicate exactly as an optimiser of its own would. This
is torch.optim.Adam's update rule and defaults, written out so that it can drop finished replicates
(``keep``) and so that the modules that use it import no torch compiler machinery (torch.optim's
``step`` loads torch._dynamo on first use). It lives on the ground floor, below ``train`` and
``attractors``, which both use it.
"""

from __future__ import annotations

import math

import torch


class StackedAdam:
    """Adam (torch.optim.Adam's defaults and update rule) on stacked parameters.

    Element-wise, so replicates stay independent; ``keep`` drops finished replicates from the
    parameters and the optimiser state together.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(c2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / c1)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def keep(self, model, index: list[int]):
        """Return ``model.select(index)`` (an ``irn.models.Stacked``) with this optimiser now driving it."""
        small = model.select(index)
        self.m = [m[index].clone() for m in self.m]
        self.v = [v[index].clone() for v in self.v]
        self.params = list(small.parameters())
        return small
