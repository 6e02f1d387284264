"""Numerically delicate primitives stay finite and correct at extreme logits; bad input
raises at the public boundary naming the operation and the shapes (CHECKLIST A)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import gdlab

LOGITS = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4]])


def _expected(name: str, x: np.ndarray) -> np.ndarray:
    """Reference values computed in exact-enough closed forms (mpmath is not needed here)."""
    m = x.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    return {
        "sigmoid": np.where(
            x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))
        ),
        "softplus": np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
        "logsumexp": lse[:, 0],
        "log_softmax": x - lse,
        "softmax": np.exp(x - lse),
    }[name]


STABLE = [
    ("sigmoid", lambda x: x.sigmoid()),
    ("softplus", lambda x: gdlab.softplus(x)),
    ("logsumexp", lambda x: x.logsumexp(1)),
    ("log_softmax", lambda x: x.log_softmax(1)),
    ("softmax", lambda x: x.softmax(1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, f", STABLE, ids=[r[0] for r in STABLE])
def test_stable_at_logits_of_1e4(name, f, dtype):
    x = gdlab.tensor(LOGITS.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings either
        y = f(x)
        (y * gdlab.tensor(np.ones(y.shape, dtype=dtype))).sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(x.grad).all()
    # float32 keeps ~7 digits of 1e4, so absolute errors of 1e-3 are its resolution there
    rtol, atol = (1e-6, 2e-3) if dtype == "float32" else (1e-12, 1e-12)
    np.testing.assert_allclose(y.data, _expected(name, LOGITS), rtol=rtol, atol=atol)


def test_stable_gradients_match_torch_at_extremes():
    torch = pytest.importorskip("torch")
    for _, f in STABLE:
        x = gdlab.tensor(LOGITS, requires_grad=True)
        tx = torch.tensor(LOGITS, requires_grad=True)
        w = np.linspace(-1, 1, f(x).data.size).reshape(f(x).shape)
        (f(x) * w).sum().backward()
        tf = {"softplus": torch.nn.functional.softplus}.get(_, None)
        ty = tf(tx) if tf else f(tx)
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


ERRORS = [
    (
        "cat 0-d",
        lambda: gdlab.cat([gdlab.tensor(1.0)]),
        ValueError,
        "cat: zero-dimensional tensor (at position 0)",
    ),
    (
        "split 0-d",
        lambda: gdlab.tensor(1.0).split(1),
        ValueError,
        "split expects at least a 1-dimensional tensor",
    ),
    (
        "chunk 0-d",
        lambda: gdlab.tensor(1.0).chunk(1),
        ValueError,
        "chunk expects at least a 1-dimensional tensor",
    ),
    (
        "stack empty",
        lambda: gdlab.stack([]),
        ValueError,
        "stack: expected a non-empty list of Tensors",
    ),
    (
        "chunk 0",
        lambda: gdlab.ones(4).chunk(0),
        ValueError,
        "chunk: chunks must be positive, got 0",
    ),
    (
        "matmul not aligned",
        lambda: gdlab.matmul(gdlab.ones(3, 4), gdlab.ones(5, 6)),
        ValueError,
        "matmul: shapes (3, 4) and (5, 6) are not aligned (4 != 5)",
    ),
    (
        "matmul @ operator",
        lambda: gdlab.ones(3, 4) @ gdlab.ones(3),
        ValueError,
        "matmul: shapes (3, 4) and (3,) are not aligned (4 != 3)",
    ),
    (
        "matmul 0-d",
        lambda: gdlab.matmul(gdlab.tensor(2.0), gdlab.ones(3)),
        ValueError,
        "matmul: both arguments need at least 1 dimension",
    ),
    (
        "add broadcast",
        lambda: gdlab.ones(3) + gdlab.ones(4),
        ValueError,
        "add: shapes (3,) and (4,)",
    ),
    (
        "mul broadcast",
        lambda: gdlab.ones(2, 3) * gdlab.ones(3, 2),
        ValueError,
        "mul: shapes (2, 3) and (3, 2)",
    ),
    (
        "maximum broadcast",
        lambda: gdlab.maximum(gdlab.ones(2), gdlab.ones(3)),
        ValueError,
        "(2,) and (3,)",
    ),
    (
        "reshape",
        lambda: gdlab.ones(2, 3).reshape(4, 2),
        ValueError,
        "shape (4, 2) is invalid for input of shape (2, 3)",
    ),
    (
        "expand",
        lambda: gdlab.ones(2, 3).expand(4, 3),
        ValueError,
        "expand: shape (2, 3) cannot be expanded to (4, 3)",
    ),
    (
        "cat shapes",
        lambda: gdlab.cat([gdlab.ones(2, 3), gdlab.ones(2, 4)]),
        ValueError,
        "cat: shapes",
    ),
    (
        "stack shapes",
        lambda: gdlab.stack([gdlab.ones(2), gdlab.ones(3)]),
        ValueError,
        "stack: expects each tensor to be equal size",
    ),
    (
        "split sections",
        lambda: gdlab.ones(5).split([2, 2]),
        ValueError,
        "split: sections [2, 2] do not add up to 5",
    ),
    ("permute", lambda: gdlab.ones(2, 3).permute(0, 0), ValueError, "repeated dimension"),
    (
        "sum dim range",
        lambda: gdlab.ones(2, 3).sum(2),
        IndexError,
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
    ),
    ("unsqueeze range", lambda: gdlab.ones(2).unsqueeze(3), IndexError, "Dimension out of range"),
    ("index out of range", lambda: gdlab.ones(2, 3)[5], IndexError, "shape (2, 3)"),
    (
        "gather index dtype",
        lambda: gdlab.ones(2, 3).gather(1, gdlab.ones(2, 3)),
        TypeError,
        "gather: index must be an integer tensor",
    ),
    (
        "gather index range",
        lambda: gdlab.ones(2, 3).gather(1, gdlab.tensor([[3]])),
        IndexError,
        "gather: index out of range",
    ),
    (
        "gather index size",
        lambda: gdlab.ones(2, 3).gather(0, gdlab.tensor([[0, 0, 0, 0]])),
        ValueError,
        "Size does not match at dimension 1",
    ),
    (
        "where condition dtype",
        lambda: gdlab.where(gdlab.ones(2), gdlab.ones(2), 0.0),
        TypeError,
        "where: condition must be a bool tensor",
    ),
    (
        "clamp without bounds",
        lambda: gdlab.ones(2).clamp(),
        ValueError,
        "clamp: at least one of 'min' or 'max'",
    ),
    ("pad odd length", lambda: gdlab.pad(gdlab.ones(2), (1,)), ValueError, "pad: padding (1,)"),
    (
        "logsumexp without dim",
        lambda: gdlab.ones(2).logsumexp(),
        TypeError,
        "logsumexp() missing required argument 'dim'",
    ),
    (
        "sum unknown keyword",
        lambda: gdlab.ones(2).sum(dims=0),
        TypeError,
        "unexpected keyword argument(s): dims",
    ),
    (
        "item of many",
        lambda: gdlab.ones(2).item(),
        ValueError,
        "a Tensor with 2 elements cannot be converted to Scalar",
    ),
    (
        "bool of many",
        lambda: bool(gdlab.ones(2)),
        RuntimeError,
        "Boolean value of Tensor with 2 values is ambiguous",
    ),
    (
        "numpy with grad",
        lambda: gdlab.ones(2, requires_grad=True).numpy(),
        RuntimeError,
        "Use tensor.detach().numpy()",
    ),
    (
        "grad of wrong shape",
        lambda: setattr(gdlab.ones(2), "grad", np.ones(3)),
        ValueError,
        "assigned grad has shape (3,), which does not match the tensor's shape (2,)",
    ),
    (
        "ragged data",
        lambda: gdlab.tensor([[1.0, 2.0], [3.0]]),
        ValueError,
        "tensor: could not convert data",
    ),
    ("string data", lambda: gdlab.tensor(["a"]), TypeError, "can't convert data of dtype"),
    (
        "bad dtype",
        lambda: gdlab.tensor([1.0], dtype="complex64"),
        TypeError,
        "unsupported dtype complex64",
    ),
]


@pytest.mark.parametrize("make, exc, msg", [r[1:] for r in ERRORS], ids=[r[0] for r in ERRORS])
def test_errors_name_the_operation_and_shapes(make, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        make()
