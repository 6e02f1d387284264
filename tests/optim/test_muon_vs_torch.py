"""Muon equals torch.optim.Muon to the bit in float32: its bfloat16 Newton–Schulz iteration
(torch's CPU ``addmm`` adds beta·M by a fused multiply-add) and the FMA-rounded lerp and add
around it. One last-bit difference before the bfloat16 iteration becomes a 2⁻⁸ one after it,
which is why these tests ask for equality, not a tolerance."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.optim._muon import _zeropower_via_newtonschulz as torch_zeropower  # noqa: E402

from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402
from gdlab.optim.muon import DEFAULT_NS_COEFFICIENTS, zeropower_via_newtonschulz  # noqa: E402

N_GRADIENTS = 1000  # the old emulation differed on ~0.7% (issue 13); 6,000 of 6,000 matched


def test_newton_schulz_matches_torch_on_thousands_of_random_gradients():
    rng = np.random.default_rng(0)
    differ = 0
    for _ in range(N_GRADIENTS):
        shape = tuple(int(n) for n in rng.integers(2, 12, size=2))
        grad = (rng.standard_normal(shape) * rng.uniform(0.01, 10)).astype(np.float32)
        want = torch_zeropower(torch.from_numpy(grad), DEFAULT_NS_COEFFICIENTS, 5, 1e-7)
        differ += not np.array_equal(zeropower_via_newtonschulz(grad), want.float().numpy())
    assert differ == 0, f"{differ} of {N_GRADIENTS} gradients differ from torch"


CONFIGS = [
    ((4, 6), {}),
    ((7, 3), {}),  # tall: the iteration runs on the transpose
    ((5, 5), {"nesterov": False}),
    ((6, 4), {"weight_decay": 0.0, "momentum": 0.9}),
    ((3, 8), {"adjust_lr_fn": "match_rms_adamw", "lr": 0.05}),
    ((32, 24), {"ns_steps": 3}),
]


@pytest.mark.parametrize("shape, kwargs", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_muon_trajectory_equals_torch_for_20_steps(shape, kwargs):
    rng = np.random.default_rng(sum(shape))
    w0 = rng.standard_normal(shape).astype(np.float32)
    p, tp = Parameter(w0.copy()), torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = optim.Muon([p], **{"lr": 0.02, **kwargs})
    topt = torch.optim.Muon([tp], **{"lr": 0.02, **kwargs})
    for step in range(20):
        g = rng.standard_normal(shape).astype(np.float32)
        p.grad, tp.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        assert np.array_equal(p.data, tp.detach().numpy()), f"step {step}"
        buf, tbuf = opt.state[p]["momentum_buffer"], topt.state[tp]["momentum_buffer"]
        assert np.array_equal(buf, tbuf.numpy()), f"step {step}"
