"""swa_utils against torch.optim.swa_utils: the same model, data and updates give the same
averaged parameters and buffers after every update (float32 and float64)."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab import nn as gnn
from gdlab import tensor as gtensor
from gdlab.optim import SGD
from gdlab.optim import swa_utils as gswa

torch = pytest.importorskip("torch")
tswa = torch.optim.swa_utils


def _models(dtype):
    """The same MLP with BatchNorm in both libraries."""
    rng = np.random.default_rng(0)
    ours = gnn.Sequential(gnn.Linear(3, 4), gnn.BatchNorm1d(4), gnn.ReLU(), gnn.Linear(4, 2))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    ours = ours.double() if dtype == np.float64 else ours
    theirs = theirs.double() if dtype == np.float64 else theirs
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        value = rng.standard_normal(p.shape).astype(dtype)
        p.data[...] = value
        with torch.no_grad():
            q.copy_(torch.from_numpy(value))
    return ours, theirs


# (id, gdlab AveragedModel kwargs, torch's)
AVERAGING = [
    ("swa", lambda: {}, lambda: {}),
    ("swa_buffers", lambda: {"use_buffers": True}, lambda: {"use_buffers": True}),
    ("ema_multi", lambda: {"multi_avg_fn": gswa.get_ema_multi_avg_fn(0.9)},
     lambda: {"multi_avg_fn": tswa.get_ema_multi_avg_fn(0.9)}),
    ("ema_multi_buffers",
     lambda: {"multi_avg_fn": gswa.get_ema_multi_avg_fn(0.6), "use_buffers": True},
     lambda: {"multi_avg_fn": tswa.get_ema_multi_avg_fn(0.6), "use_buffers": True}),
    ("swa_multi", lambda: {"multi_avg_fn": gswa.get_swa_multi_avg_fn()},
     lambda: {"multi_avg_fn": tswa.get_swa_multi_avg_fn()}),
    ("ema_avg_fn", lambda: {"avg_fn": gswa.get_ema_avg_fn(0.8)},
     lambda: {"avg_fn": tswa.get_ema_avg_fn(0.8)}),
    ("swa_avg_fn_buffers", lambda: {"avg_fn": gswa.get_swa_avg_fn(), "use_buffers": True},
     lambda: {"avg_fn": tswa.get_swa_avg_fn(), "use_buffers": True}),
]  # fmt: skip


def _assert_same(ours, theirs, rtol):
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items(),
                                 strict=True):  # fmt: skip
        b = b.detach().numpy()
        np.testing.assert_allclose(np.asarray(a), b, rtol=rtol, atol=rtol, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("row", AVERAGING, ids=[r[0] for r in AVERAGING])
def test_averaged_model_equals_torch_after_every_update(row, dtype):
    _, ours_kwargs, theirs_kwargs = row
    ours, theirs = _models(dtype)
    avg_ours = gswa.AveragedModel(ours, **ours_kwargs())
    avg_theirs = tswa.AveragedModel(theirs, **theirs_kwargs())
    opt_ours = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(1)
    # SGD and BatchNorm agree with torch to rounding; the averaging itself adds no error
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for _ in range(6):
        x = rng.standard_normal((8, 3)).astype(dtype)
        y = rng.standard_normal((8, 2)).astype(dtype)
        for model, opt, tensor, mse in (
            (ours, opt_ours, gtensor, gnn.functional.mse_loss),
            (theirs, opt_theirs, torch.from_numpy, torch.nn.functional.mse_loss),
        ):
            opt.zero_grad()
            mse(model(tensor(x)), tensor(y)).backward()
            opt.step()
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
        _assert_same(avg_ours, avg_theirs, rtol)
        x_eval = gtensor(x)
        avg_ours.eval()
        avg_theirs.eval()
        np.testing.assert_allclose(
            avg_ours(x_eval).data, avg_theirs(torch.from_numpy(x)).detach().numpy(), rtol=rtol,
            atol=rtol,
        )  # fmt: skip
        avg_ours.train()
        avg_theirs.train()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(
    "make", [lambda m: m.get_ema_multi_avg_fn(0.75), lambda m: m.get_swa_multi_avg_fn()],
    ids=["ema", "swa"],
)  # fmt: skip
def test_multi_avg_fns_round_as_torch_lerp(make, dtype):
    """The lerp in the multi-tensor functions: equal to torch's bits on the same inputs."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(1000).astype(dtype), rng.standard_normal(1000).astype(dtype)
    ours, theirs = [gtensor(a.copy())], [torch.from_numpy(a.copy())]
    for n in range(1, 6):
        make(gswa)(ours, [gtensor(b * n)], gtensor(np.array(n)))
        make(tswa)(theirs, [torch.from_numpy(b * n)], torch.tensor(n))
        np.testing.assert_array_equal(ours[0].data, theirs[0].numpy())


def test_update_bn_equals_torch():
    ours, theirs = _models(np.float64)
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((5, 3)) for _ in range(4)]
    ours.eval()
    theirs.eval()
    gswa.update_bn([(gtensor(x), None) for x in batches], ours)
    tswa.update_bn([(torch.from_numpy(x), None) for x in batches], theirs)
    assert not ours.training and ours[1].momentum == 0.1
    _assert_same(ours, theirs, 1e-12)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda m: gswa.AveragedModel(m, avg_fn=gswa.get_swa_avg_fn(),
                                      multi_avg_fn=gswa.get_swa_multi_avg_fn()),
         ValueError, "only one of avg_fn and multi_avg_fn"),
        (lambda m: gswa.AveragedModel("model"), TypeError, "must be a Module, got str"),
        (lambda m: gswa.get_ema_multi_avg_fn(1.5), ValueError, "Invalid decay value 1.5"),
        (lambda m: gswa.AveragedModel(m, device="cuda"), ValueError, "device must be None"),
    ],
)  # fmt: skip
def test_averaged_model_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make(gnn.Linear(2, 2))
