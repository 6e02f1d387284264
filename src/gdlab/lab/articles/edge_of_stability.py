"""Gradient descent at the edge of stability (Cohen et al., ICLR 2021).

On a quadratic with top curvature λ, gradient descent with step η diverges once λ > 2/η.
On a neural network, full-batch gradient descent first *raises* the sharpness λ_max (the top
Hessian eigenvalue of the training loss: "progressive sharpening") until it reaches 2/η; from
then on the sharpness hovers at 2/η while the loss keeps falling, though no longer
monotonically. Gradient flow (a tiny η) sharpens all along, never meeting its far threshold.
Adam does the same with its own threshold: the *preconditioned* sharpness λ_max(P⁻¹H),
P = diag(√v̂ + ε), settles at (2 + 2β₁)/((1 − β₁)·η) = 38/η for β₁ = 0.9 (Cohen et al. 2022).

Measured here: a tanh MLP 64-64-64-10 with the squared loss ½·mean‖f(x) − onehot(y)‖² on the
first 1000 training digits, full-batch GD at several η from the same initialisation, the
sharpness by Lanczos on Hessian-vector products every few steps
(``gdlab.autograd.spectrum``). BLAS runs on one thread: these matrices are small, and
OpenBLAS's threads only wait for each other on a shared machine.

Reference: Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient Descent on Neural Networks
Typically Occurs at the Edge of Stability", ICLR 2021, arXiv:2103.00065; Cohen et al.,
"Adaptive Gradient Methods at the Edge of Stability", arXiv:2207.14484 (2022).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

import gdlab
from gdlab import datasets, nn
from gdlab.autograd.spectrum import hvp_operator, lanczos
from gdlab.lab.articles.claims import Check, ClaimResult, claim
from gdlab.optim import Adam

__all__ = ["Run", "edge_of_stability", "train_adam", "train_full_batch"]

N_SAMPLES = 1000
HIDDEN = 64
#: the thresholds 2/η of the runs (quick mode; --full adds 10)
THRESHOLDS = (4.0, 6.0, 8.0)
FLOW_LR = 0.02  # "gradient flow": 2/η = 100, far above any sharpness reached
LANCZOS_STEPS = 12
#: after the sharpening phase (from the first measurement ≥ 0.9·2/η) the median sharpness
#: lies within this factor of 2/η (measured 1.009-1.042 in quick mode, seed 0); Adam's
#: preconditioned sharpness within this factor of 38/η (measured 0.98-1.00).
BAND = (0.9, 1.1)
#: gradient flow's sharpness rises by at least this factor over the run (measured 1.30 in
#: 2000 steps) and at most of the measurements (measured 90 %: it dips once at the start)
FLOW_RISE = 1.1
FLOW_RISING = 0.8
#: Adam's learning rates (thresholds 38/η = 38000 and 12667) and β₁ (the threshold's)
ADAM_LRS = (1e-3, 3e-3)
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-7
ADAM_STEPS = 1500


@dataclass
class Run:
    """One full-batch run: the step size, the loss at every step, the (preconditioned)
    sharpness measured every ``every`` steps, and its stability threshold (2/η for GD)."""

    lr: float
    losses: np.ndarray
    sharpness: np.ndarray
    every: int
    threshold: float

    @property
    def sharpness_steps(self) -> np.ndarray:
        return np.arange(len(self.sharpness)) * self.every

    def edge_start(self) -> int | None:
        """The index of the first measurement at 90 % of 2/η (None: never reached)."""
        hits = np.flatnonzero(self.sharpness >= 0.9 * self.threshold)
        return int(hits[0]) if hits.size else None

    def edge_median(self) -> float:
        start = self.edge_start()
        return float("nan") if start is None else float(np.median(self.sharpness[start:]))


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the BLAS keeps its own setting
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _data() -> tuple[gdlab.Tensor, gdlab.Tensor]:
    bunch = datasets.load("digits", seed=0)
    x = bunch.X_train[:N_SAMPLES] / 16.0
    x = x - x.mean(axis=0)
    onehot = np.eye(10)[bunch.y_train[:N_SAMPLES]]
    return gdlab.tensor(x.astype(np.float32)), gdlab.tensor(onehot.astype(np.float32))


def _model(seed: int) -> nn.Sequential:
    gdlab.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
        nn.Linear(HIDDEN, 10),
    )  # fmt: skip


def train_full_batch(lr: float, steps: int, every: int, seed: int = 0) -> Run:
    """Full-batch GD θ ← θ − η·∇L(θ) from the seed's initialisation; the sharpness (Lanczos,
    :data:`LANCZOS_STEPS` HVPs) at steps 0, every, 2·every, ..."""
    x, onehot = _data()
    model = _model(seed)
    params = list(model.parameters())

    def loss_fn() -> gdlab.Tensor:
        return 0.5 * ((model(x) - onehot) ** 2).sum() / N_SAMPLES

    losses, sharpness = np.empty(steps), []
    for k in range(steps):
        if k % every == 0:
            op = hvp_operator(loss_fn, params)
            sharpness.append(lanczos(op, op.size, 1, LANCZOS_STEPS, generator=seed + k)[0])
        for p in params:
            p.grad = None
        loss = loss_fn()
        loss.backward()
        losses[k] = loss.item()
        with gdlab.no_grad():
            for p in params:
                p.data -= np.float32(lr) * np.asarray(p.grad)
    return Run(lr, losses, np.array(sharpness), every, 2.0 / lr)


def adam_threshold(lr: float, beta1: float = ADAM_BETAS[0]) -> float:
    """Adam's stability threshold for the preconditioned sharpness: (2 + 2β₁)/((1 − β₁)·η)."""
    return (2.0 + 2.0 * beta1) / ((1.0 - beta1) * lr)


def train_adam(lr: float, steps: int, every: int, seed: int = 0) -> Run:
    """Full-batch Adam (gdlab.optim.Adam) from the seed's initialisation; the preconditioned
    sharpness λ_max(P⁻¹H) = λ_max(P^(−1/2)·H·P^(−1/2)), P = diag(√v̂ + ε) of the step about to
    be taken, at steps every, 2·every, ... (step 0 has no preconditioner yet)."""
    x, onehot = _data()
    model = _model(seed)
    params = list(model.parameters())
    opt = Adam(params, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)

    def loss_fn() -> gdlab.Tensor:
        return 0.5 * ((model(x) - onehot) ** 2).sum() / N_SAMPLES

    losses, sharpness = np.empty(steps), []
    for k in range(steps):
        if k and k % every == 0:
            states = [opt.state[p] for p in params]
            bias = 1.0 - ADAM_BETAS[1] ** states[0]["step"]
            scale = 1.0 / np.sqrt(np.concatenate(
                [np.sqrt(s["exp_avg_sq"] / bias).ravel() + ADAM_EPS for s in states]
            ).astype(np.float64))  # fmt: skip
            op = hvp_operator(loss_fn, params)
            top = lanczos(lambda v, op=op, c=scale: c * op(c * v), op.size, 1, LANCZOS_STEPS,
                          generator=seed + k)[0]  # fmt: skip
            sharpness.append(top)
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        losses[k] = loss.item()
        opt.step()
    return Run(lr, losses, np.array(sharpness), every, adam_threshold(lr))


def _figure(runs: list[Run], flow: Run):
    import matplotlib.pyplot as plt

    fig, (ax_s, ax_l) = plt.subplots(1, 2, figsize=(13, 4.8))
    for i, run in enumerate(runs):
        color = f"C{i}"
        ax_s.plot(run.sharpness_steps, run.sharpness, color=color, lw=1.6,
                  label=f"η = {run.lr:.3g} (dashed: 2/η = {run.threshold:g})")  # fmt: skip
        ax_s.axhline(run.threshold, color=color, ls="--", lw=1)
        ax_l.semilogy(run.losses, color=color, lw=1, label=f"η = {run.lr:.3g}")
    ax_s.plot(flow.sharpness_steps, flow.sharpness, color="0.4", lw=1.6,
              label=f"gradient flow (η = {flow.lr:g})")  # fmt: skip
    ax_l.semilogy(flow.losses, color="0.4", lw=1, label=f"gradient flow (η = {flow.lr:g})")
    ax_s.set(xlabel="step", ylabel="sharpness λ_max of the Hessian",
             title="progressive sharpening, then λ_max ≈ 2/η")  # fmt: skip
    ax_s.set_ylim(0, max(r.threshold for r in runs) * 1.3)
    ax_s.legend(fontsize=8, loc="upper left")
    ax_l.set(xlabel="step", ylabel="training loss (full batch)",
             title="the loss keeps falling, non-monotonically")  # fmt: skip
    ax_l.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _adam_figure(runs: list[Run]):
    import matplotlib.pyplot as plt

    fig, (ax_s, ax_l) = plt.subplots(1, 2, figsize=(13, 4.8))
    for i, run in enumerate(runs):
        color = f"C{i + 3}"
        steps = (np.arange(len(run.sharpness)) + 1) * run.every
        ax_s.plot(steps, run.sharpness * run.lr, color=color, lw=1.6,
                  label=f"Adam η = {run.lr:g} (dashed: 38/η, times η)")  # fmt: skip
        ax_s.axhline(run.threshold * run.lr, color=color, ls="--", lw=1)
        ax_l.semilogy(run.losses, color=color, lw=1, label=f"Adam η = {run.lr:g}")
    ax_s.set(xlabel="step", ylabel="η · preconditioned sharpness λ_max(P⁻¹H)",
             title="Adam: η·λ_max(P⁻¹H) rises to 38 (β₁ = 0.9) and stays")  # fmt: skip
    ax_s.set_ylim(0, 50)
    ax_s.legend(fontsize=8, loc="lower right")
    ax_l.set(xlabel="step", ylabel="training loss (full batch)", title="Adam's training loss")
    ax_l.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _band_check(subject: str, edge: str, reached: int | None, median: str, ratio: float) -> Check:
    """``subject`` (the median sharpness after step ``reached``, where it first came within
    0.9 of ``edge``) is within BAND × ``edge``: ``ratio`` is median / edge."""
    return Check(
        f"{subject} within {BAND[0]}-{BAND[1]} × {edge}",
        reached is not None and BAND[0] <= ratio <= BAND[1],
        f"never reached 0.9·{edge}" if reached is None else
        f"{median} = {ratio:.3f} × {edge} (from step {reached})",
    )  # fmt: skip


@claim(
    "edge_of_stability",
    "full-batch GD on a tanh MLP (digits, squared loss): the sharpness rises to 2/η and "
    "hovers there while the loss keeps falling non-monotonically; gradient flow sharpens on",
    "Cohen et al., ICLR 2021, arXiv:2103.00065 (figures 1-2)",
)
def edge_of_stability(seed: int = 0, full: bool = False) -> ClaimResult:
    thresholds = (*THRESHOLDS, 10.0) if full else THRESHOLDS
    steps, every = (4000, 40) if full else (2000, 40)
    with _one_blas_thread():
        runs = [train_full_batch(2.0 / t, steps, every, seed) for t in thresholds]
        flow = train_full_batch(FLOW_LR, steps, every, seed)
        adam_runs = [train_adam(lr, ADAM_STEPS * (2 if full else 1), every, seed)
                     for lr in ADAM_LRS]  # fmt: skip
    table, checks = [], []
    for run in runs:
        start, median = run.edge_start(), run.edge_median()
        reached = None if start is None else start * every
        ups = float(np.mean(np.diff(run.losses) > 0))
        table.append({
            "lr": run.lr, "two_over_lr": run.threshold, "sharpness_start": run.sharpness[0],
            "edge_reached_at_step": reached,
            "median_sharpness_after": median, "median_over_threshold": median / run.threshold,
            "loss_start": run.losses[0], "loss_end": run.losses[-1], "steps_loss_rose": ups,
        })  # fmt: skip
        ratio = median / run.threshold
        checks.append(_band_check(f"η = {run.lr:.3g}: after sharpening, the median sharpness is",
                                  "2/η", reached, f"{median:.3f}", ratio))  # fmt: skip
        checks.append(Check(
            f"η = {run.lr:.3g}: the loss falls, non-monotonically",
            run.losses[-1] < 0.2 * run.losses[0] and ups > 0.05,
            f"{run.losses[0]:.3f} → {run.losses[-1]:.4f}; it rose at {ups:.0%} of the steps",
        ))  # fmt: skip
    rise = flow.sharpness[-1] / flow.sharpness[0]
    rising = float(np.mean(np.diff(flow.sharpness) > 0))
    table.append({
        "lr": flow.lr, "two_over_lr": flow.threshold, "sharpness_start": flow.sharpness[0],
        "median_sharpness_after": None, "sharpness_end": flow.sharpness[-1],
        "loss_start": flow.losses[0], "loss_end": flow.losses[-1],
        "steps_loss_rose": float(np.mean(np.diff(flow.losses) > 0)),
    })  # fmt: skip
    checks.append(Check(
        "gradient flow (small η) keeps sharpening",
        rise >= FLOW_RISE and rising >= FLOW_RISING and flow.sharpness.max() < 0.5 * flow.threshold,
        f"{flow.sharpness[0]:.3f} → {flow.sharpness[-1]:.3f} (×{rise:.2f}); rose at "
        f"{rising:.0%} of the measurements; 2/η = {flow.threshold:g}",
    ))  # fmt: skip
    for run in adam_runs:
        start, median = run.edge_start(), run.edge_median()
        reached = None if start is None else (start + 1) * every
        ratio = median / run.threshold
        table.append({
            "lr": run.lr, "optimizer": "adam", "two_over_lr": None,
            "adam_threshold_38_over_lr": run.threshold,
            "edge_reached_at_step": reached,
            "median_sharpness_after": median, "median_over_threshold": ratio,
            "loss_start": run.losses[0], "loss_end": run.losses[-1],
        })  # fmt: skip
        checks.append(_band_check(f"Adam η = {run.lr:g}: the preconditioned sharpness settles",
                                  "38/η", reached, f"{median:.4g}", ratio))  # fmt: skip
    settings = {"thresholds": list(thresholds), "steps": steps, "sharpness_every": every,
                "samples": N_SAMPLES, "hidden": HIDDEN, "flow_lr": FLOW_LR,
                "lanczos_steps": LANCZOS_STEPS, "adam_lrs": list(ADAM_LRS),
                "adam_betas": list(ADAM_BETAS), "adam_eps": ADAM_EPS}  # fmt: skip
    notes = (
        "The sharpness is the top eigenvalue of the full-batch loss's Hessian (Lanczos on "
        f"HVPs, {LANCZOS_STEPS} steps). The band around 2/η is {BAND[0]}-{BAND[1]}."
    )
    figures = {"edge_of_stability": lambda: _figure(runs, flow),
               "adam_edge_of_stability": lambda: _adam_figure(adam_runs)}  # fmt: skip
    return ClaimResult(table, checks, settings, figures, notes)
