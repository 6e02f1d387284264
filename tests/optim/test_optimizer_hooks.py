"""Optimizer hooks against torch's: the same registrations give the same calls in the same order."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import gdlab.optim.hooks as gd_hooks
import gdlab.optim.optimizer as gd_optimizer
from gdlab.nn import Parameter
from gdlab.optim import LBFGS, SGD, Adam, chain
from gdlab.optim import transforms as T

torch = pytest.importorskip("torch")


def _gd_sgd():
    p = Parameter(np.array([1.0, 2.0]))
    p.grad = np.array([0.5, -1.0])
    return SGD([p], lr=0.1), p


def _torch_sgd():
    p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([0.5, -1.0], dtype=torch.float64)
    return torch.optim.SGD([p], lr=0.1), p


def _scenario(opt, register_global_pre, register_global_post):
    """Register hooks of every kind, call step/state_dict/load_state_dict; return the log."""
    log = []

    def tag(name, result=None):
        def hook(*args):
            # step hooks: (optimizer, args, kwargs); state-dict hooks: (optimizer[, state_dict])
            shape = (len(args[1]), sorted(args[2])) if len(args) == 3 else ()
            log.append((name, len(args), *shape))
            return result

        return hook

    handles = [
        register_global_pre(tag("global_pre")),
        opt.register_step_pre_hook(tag("pre_1")),
        opt.register_step_pre_hook(tag("pre_2")),
        register_global_post(tag("global_post")),
        opt.register_step_post_hook(tag("post_1")),
        opt.register_step_post_hook(tag("post_2")),
        opt.register_state_dict_pre_hook(tag("sd_pre_1")),
        opt.register_state_dict_pre_hook(tag("sd_pre_0"), prepend=True),
        opt.register_state_dict_post_hook(tag("sd_post")),
        opt.register_load_state_dict_pre_hook(tag("load_pre")),
        opt.register_load_state_dict_post_hook(tag("load_post")),
        opt.register_load_state_dict_post_hook(tag("load_post_0"), prepend=True),
    ]
    try:
        opt.step()
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        handles[1].remove()
        handles[4].remove()
        handles[0].remove()
        handles[1].remove()  # twice: nothing
        opt.step()
    finally:
        for h in handles:
            h.remove()
    opt.step()  # no hook left
    return log


def test_hook_order_and_arguments_equal_torch():
    ours = _scenario(_gd_sgd()[0], gd_optimizer.register_optimizer_step_pre_hook,
                     gd_optimizer.register_optimizer_step_post_hook)  # fmt: skip
    torch_optimizer = importlib.import_module("torch.optim.optimizer")
    theirs = _scenario(_torch_sgd()[0], torch_optimizer.register_optimizer_step_pre_hook,
                       torch_optimizer.register_optimizer_step_post_hook)  # fmt: skip
    assert ours == theirs
    assert [name for name, *_ in ours][:4] == ["global_pre", "pre_1", "pre_2", "post_1"]


def test_pre_hook_may_replace_the_arguments():
    calls = []

    def closure():
        calls.append("closure")
        return 3.0

    def pre(opt, args, kwargs):
        return (args[0],), {"closure": closure}

    for opt in (_gd_sgd()[0], _torch_sgd()[0]):
        opt.register_step_pre_hook(pre)
        assert float(opt.step()) == 3.0
    assert calls == ["closure", "closure"]


@pytest.mark.parametrize("make", [_gd_sgd, _torch_sgd], ids=["gdlab", "torch"])
def test_pre_hook_returning_other_values_raises(make):
    opt, _ = make()
    opt.register_step_pre_hook(lambda o, a, k: 1)
    with pytest.raises(RuntimeError, match="must return None or a tuple of"):
        opt.step()


@pytest.mark.parametrize("make", [_gd_sgd, _torch_sgd], ids=["gdlab", "torch"])
def test_state_dict_hooks_may_return_new_dicts(make):
    opt, _ = make()
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: {k: v for k, v in sd.items() if k != "extra"}
    )
    opt.register_load_state_dict_post_hook(lambda o: seen.append(o.param_groups[0]["lr"]))
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.5
    opt.load_state_dict(sd)
    assert seen == [0.5]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD([p], lr=0.1, momentum=0.9),
        lambda p: Adam([p], lr=0.1),
        lambda p: LBFGS([p], lr=0.1),
        lambda p: chain(T.scale_by_adam(), T.scale_by_lr(0.1))([p]),
    ],
    ids=["sgd", "adam", "lbfgs", "chain"],
)
def test_every_optimizer_runs_the_step_hooks_once(make):
    p = Parameter(np.array([1.0, -2.0]))
    opt = make(p)
    count = []
    opt.register_step_pre_hook(lambda *a: count.append("pre"))
    opt.register_step_post_hook(lambda *a: count.append("post"))
    handle = gd_hooks.register_optimizer_step_post_hook(lambda *a: count.append("global"))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    try:
        opt.step(closure)
    finally:
        handle.remove()
    assert count == ["pre", "post", "global"]
