"""Shared helpers for the nn tests: build a gdlab twin of a torch module, run both on the
same inputs, and compare outputs and every input and parameter gradient (float64)."""

from __future__ import annotations

from typing import Any

import numpy as np

import gdlab

RTOL = 1e-6
ATOL = 1e-9


def to_gdlab(x: Any) -> Any:
    """numpy leaves -> gdlab tensors (floats require grad); tuples/lists kept."""
    if isinstance(x, tuple | list):
        return type(x)(to_gdlab(v) for v in x)
    if isinstance(x, np.ndarray):
        return gdlab.tensor(x, requires_grad=x.dtype.kind == "f")
    return x


def to_torch(x: Any) -> Any:
    import torch

    if isinstance(x, tuple | list):
        return type(x)(to_torch(v) for v in x)
    if isinstance(x, np.ndarray):
        return torch.tensor(x, requires_grad=x.dtype.kind == "f")
    return x


def leaves(x: Any) -> list:
    if isinstance(x, tuple | list):
        return [leaf for v in x for leaf in leaves(v)]
    return [x]


def as_numpy(t: Any) -> np.ndarray:
    if isinstance(t, gdlab.Tensor):
        return t.data
    return t.detach().numpy()


def twin(torch_module: Any, gdlab_module: gdlab.nn.Module) -> gdlab.nn.Module:
    """Copy torch's weights into the gdlab module (float64) via state_dict."""
    gdlab_module.double()
    gdlab_module.load_state_dict(
        {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}
    )
    return gdlab_module


def randomise(module: Any) -> None:
    """Non-default torch parameters and running statistics (a fixed generator), so that
    every term of a layer is exercised."""
    import torch

    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.8, 0.8, generator=gen)
        if getattr(module, "running_var", None) is not None:
            module.running_mean.uniform_(-0.5, 0.5, generator=gen)
            module.running_var.uniform_(0.5, 1.5, generator=gen)


def weighted_sum(outputs: list, weights: list) -> Any:
    total = None
    for o, w in zip(outputs, weights, strict=True):
        term = (o * w).sum()
        total = term if total is None else total + term
    return total


def compare_forward_backward(
    gd_fn, th_fn, args: Any, gd_params: dict, th_params: dict, rng
) -> None:
    """Run both, compare outputs, then the gradients of a random weighting of all outputs."""
    import torch

    gd_args, th_args = to_gdlab(args), to_torch(args)
    gd_out = leaves(gd_fn(*gd_args))
    th_out = leaves(th_fn(*th_args))
    assert len(gd_out) == len(th_out)
    for g, t in zip(gd_out, th_out, strict=True):
        assert g.shape == tuple(t.shape)
        np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=RTOL, atol=ATOL)
    weights = [rng.standard_normal(tuple(t.shape)) for t in th_out]
    weighted_sum(gd_out, weights).backward()
    weighted_sum(th_out, [torch.tensor(w) for w in weights]).backward()
    for g, t in zip(leaves(gd_args), leaves(th_args), strict=True):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:  # not differentiated by torch (e.g. a detached target)
                assert g.grad is None or not np.any(g.grad)
                continue
            np.testing.assert_allclose(g.grad, t.grad.numpy(), rtol=RTOL, atol=ATOL)
    assert list(gd_params) == list(th_params), "parameter names/order differ from torch"
    for name, p in gd_params.items():
        tp = th_params[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(p.grad), name
            continue
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
