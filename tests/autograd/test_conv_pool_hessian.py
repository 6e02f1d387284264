"""Hessians of small conv/pool nets (issue 16): conv2d, its input and weight gradients,
pooling and batch norm differentiated twice, against torch.autograd.functional.hessian in
float64. A table: each row is a net (the pooling, whether a BatchNorm2d sits after the conv)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF

import gdlab
from gdlab.autograd import functional as F

GF, TF = gdlab.nn.functional, torch.nn.functional
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 2, 6, 6))
Y = RNG.standard_normal((3, 3))
# conv 2->4 3x3 pad 1 (76), [batch-norm gamma, beta (8)], linear 36 -> 3 (111): 187-195
PARAMS = {
    "w": RNG.standard_normal((4, 2, 3, 3)) * 0.5,
    "b": RNG.standard_normal(4) * 0.1,
    "gamma": 1 + RNG.standard_normal(4) * 0.1,
    "beta": RNG.standard_normal(4) * 0.1,
    "lw": RNG.standard_normal((3, 36)) * 0.3,
    "lb": RNG.standard_normal(3) * 0.1,
}


def net(lib, pool: str, bn: bool):
    """MSE of conv -> [batch norm] -> tanh -> pool(3, 2) -> linear, a function of the
    parameters (a tuple, so the Hessian has one block per pair)."""
    F_, x, y = (GF, gdlab.tensor(X), gdlab.tensor(Y)) if lib is gdlab else (
        TF, torch.tensor(X), torch.tensor(Y)
    )  # fmt: skip
    pooling = {
        "max": lambda h: F_.max_pool2d(h, 3, 2, padding=1),
        "avg": lambda h: F_.avg_pool2d(h, 3, 2, padding=1),
    }[pool]

    def loss(w, b, *rest):
        lw, lb = rest[-2:]
        h = F_.conv2d(x, w, b, padding=1)
        if bn:
            h = F_.batch_norm(h, None, None, rest[0], rest[1], training=True)
        h = pooling(lib.tanh(h))
        out = h.reshape(h.shape[0], -1) @ lw.T + lb
        return ((out - y) ** 2).mean()

    return loss


ROWS = [("max", True), ("avg", False)]  # two rows: torch takes ~1 s CPU per Hessian


@pytest.mark.parametrize("pool, bn", ROWS, ids=[f"{p}{'_bn' if b else ''}" for p, b in ROWS])
def test_hessian_of_a_conv_pool_net_matches_torch(pool, bn):
    names = ["w", "b", "gamma", "beta", "lw", "lb"] if bn else ["w", "b", "lw", "lb"]
    g = tuple(gdlab.tensor(PARAMS[k]) for k in names)
    t = tuple(torch.tensor(PARAMS[k]) for k in names)
    h = F.hessian(net(gdlab, pool, bn), g)
    th = TAF.hessian(net(torch, pool, bn), t)
    for i in range(len(names)):
        for j in range(len(names)):
            np.testing.assert_allclose(h[i][j].data, th[i][j].numpy(), rtol=1e-10, atol=1e-12)
