"""Trial functions for the sweep tests; workers import them by path (tests/ on PYTHONPATH)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np

import gdlab
from gdlab import nn, optim


def train_tiny(lr: float, steps: int, seed: int) -> dict:
    """A few SGD steps of a tiny MLP on seeded data: a real trial, small."""
    rng = np.random.default_rng(seed)
    x = gdlab.tensor(rng.normal(size=(32, 4)).astype(np.float32))
    y = gdlab.tensor(rng.normal(size=(32, 1)).astype(np.float32))
    gdlab.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return {"lr": lr, "losses": losses}


def die_once(marker: str, value: float, seed: int) -> float:
    """Kill this worker the first time (a crash, an OOM kill), succeed when retried."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return value + seed


def always_die(seed: int) -> float:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0.0


def fail(seed: int) -> float:
    raise ValueError(f"bad trial {seed}")
