"""``gdlab.norm`` / ``Tensor.norm`` against ``torch.norm``: values and gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab

torch = pytest.importorskip("torch")

# torch.norm takes keepdim only with a dim
CASES = [(p, dim, keepdim) for p in ("fro", 2, 1, float("inf"), 3, 0.5)
         for dim in (None, 1, (0, 1)) for keepdim in (False, True)
         if dim or not keepdim]  # fmt: skip


@pytest.mark.parametrize("p, dim, keepdim", CASES)
def test_norm_equals_torch(p, dim, keepdim):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = gdlab.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    ours, theirs = x.norm(p, dim=dim, keepdim=keepdim), torch.norm(t, p=p, dim=dim, keepdim=keepdim)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    w = rng.standard_normal(theirs.shape)
    (ours * gdlab.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [0, -1, "nuc", "x"])
def test_bad_p_names_itself(p):
    with pytest.raises(ValueError, match="norm: p must be a positive number"):
        gdlab.norm(gdlab.ones(3), p)
