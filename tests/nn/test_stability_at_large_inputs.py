"""Stable primitives against torch at large float32 inputs (issue 14.7): at |x| ~ 1e3, 1e4 and
1e5 each function's float32 error (against torch's float64 result) stays within 4x torch's own
float32 error. ``log_softmax`` computed ``x - logsumexp(x)`` and lost 2e-4 at 1e4."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
import gdlab.nn.functional as F
from gdlab import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TARGET = np.array([1, 3])
PROBS = np.array([[1, 0, 1, 0, 1], [0, 1, 0, 1, 1]], np.float32)

FUNCTIONS = {
    "log_softmax": (lambda t: F.log_softmax(t, dim=1), lambda t: TF.log_softmax(t, dim=1)),
    "LogSoftmax": (lambda t: nn.LogSoftmax(dim=1)(t), lambda t: TF.log_softmax(t, dim=1)),
    "softmax": (lambda t: F.softmax(t, dim=1), lambda t: TF.softmax(t, dim=1)),
    "logsumexp": (lambda t: gdlab.logsumexp(t, dim=1), lambda t: torch.logsumexp(t, dim=1)),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "softplus": (F.softplus, TF.softplus),
    "tanh": (gdlab.tanh, torch.tanh),
    "silu": (F.silu, TF.silu),
    "gelu": (F.gelu, TF.gelu),
    "elu": (F.elu, TF.elu),
    "cross_entropy": (
        lambda t: F.cross_entropy(t, gdlab.tensor(TARGET)),
        lambda t: TF.cross_entropy(t, torch.tensor(TARGET)),
    ),
    "bce_with_logits": (
        lambda t: F.binary_cross_entropy_with_logits(t, gdlab.tensor(PROBS)),
        lambda t: TF.binary_cross_entropy_with_logits(t, torch.tensor(PROBS)),
    ),
}
PATTERN = np.array([[1.0, 0.999, 0.5, -0.3, 1e-4], [0.2, 1.0, -1.0, 0.9999, 0.3]])


@pytest.mark.parametrize("scale", [1e3, -1e3, 1e4, -1e4, 1e5, -1e5])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_float32_error_at_large_inputs_is_torchs(name, scale):
    ours, theirs = FUNCTIONS[name]
    x = (scale * PATTERN).astype(np.float32)
    truth = theirs(torch.tensor(x, dtype=torch.float64)).numpy()
    got = ours(gdlab.tensor(x)).numpy()
    ref = theirs(torch.tensor(x)).numpy()
    assert got.dtype == np.float32 and np.isfinite(got).all()
    size = np.maximum(np.abs(truth), 1.0)
    ours_err = np.max(np.abs(got - truth) / size)
    torch_err = np.max(np.abs(ref.astype(np.float64) - truth) / size)
    assert ours_err <= 4 * torch_err + 1e-6, (ours_err, torch_err)
