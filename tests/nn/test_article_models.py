"""The articles' networks run and train (MISSION.md §2 and §5): 3 inputs -> 4 sigmoid -> 1 with
squared error, and the 002 experiment's Linear(8, 1) -> Sigmoid -> Linear(1, 1) in float64,
both step for step equal to torch."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
import gdlab.nn as nn
from gdlab.autograd import gradcheck


def _sgd(model, lr):
    with gdlab.no_grad():
        for p in model.parameters():
            p.sub_(lr * p.grad)


def test_3_4_1_sigmoid_net_gradcheck_and_learns():
    from tolerances import GRADCHECK

    # explicit generators: an unlucky draw from the shared default one can sit on the XOR
    # plateau for 300 steps, and what it draws depends on which tests ran before
    net = nn.Sequential(
        nn.Linear(3, 4, generator=0), nn.Sigmoid(), nn.Linear(4, 1, generator=1), nn.Sigmoid()
    ).double()
    x = gdlab.tensor(np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64))
    y = gdlab.tensor(np.array([[0], [1], [1], [0]], dtype=np.float64))
    loss_fn = nn.MSELoss(reduction="sum")
    assert gradcheck(lambda *ps: loss_fn(net(x), y), tuple(net.parameters()), **GRADCHECK)
    first = None
    for _ in range(300):
        net.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        _sgd(net, 2.0)
        first = first if first is not None else loss.item()
    assert loss.item() < 0.9 * first


def test_article_002_model_matches_torch_step_by_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (100, 8))
    y = rng.uniform(0, 5, (100, 1))
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(
        torch.nn.Linear(8, 1), torch.nn.Sigmoid(), torch.nn.Linear(1, 1)
    ).double()
    gnet = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1)).double()
    gnet.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    assert all(p.dtype == np.float64 for p in gnet.parameters())
    tx, ty, gx, gy = torch.tensor(x), torch.tensor(y), gdlab.tensor(x), gdlab.tensor(y)
    losses = []
    for _ in range(100):
        gnet.zero_grad()
        gl = nn.MSELoss()(gnet(gx), gy)
        gl.backward()
        _sgd(gnet, 1e-3)
        tnet.zero_grad()
        tl = torch.nn.functional.mse_loss(tnet(tx), ty)
        tl.backward()
        with torch.no_grad():  # plain SGD (torch.optim's first use costs seconds of imports)
            for q in tnet.parameters():
                q -= 1e-3 * q.grad
        assert gl.item() == pytest.approx(tl.item(), rel=1e-10)
        losses.append(gl.item())
    assert losses[-1] < losses[0]
    for (name, p), (_, q) in zip(gnet.named_parameters(), tnet.named_parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, err_msg=name)


def test_user_defined_loss_is_any_function_of_tensors():
    net = nn.Linear(2, 1).double()
    x = gdlab.tensor(np.ones((4, 2)))
    y = gdlab.tensor(np.zeros((4, 1)))

    def quartic(pred, target):
        return ((pred - target) ** 4).mean()

    quartic(net(x), y).backward()
    pred = net(x).data
    expected = (4 * (pred - 0) ** 3 / 4).sum()
    assert net.bias.grad[0] == pytest.approx(expected)
