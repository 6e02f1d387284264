"""Vanishing and exploding gradients (article 004), measured layer by layer.

A deep MLP's gradient reaches the first layer through one Jacobian per layer: the product of
the weights and the activation's derivative. The sigmoid's derivative is at most 1/4, so
with small weights the first layer's gradient shrinks geometrically with depth; ReLU with He
initialisation keeps each factor near 1; normalisation layers re-centre every layer. Weights
drawn too large make the product grow instead, and clipping bounds the step it would cause.

Measured: the gradient norm of every Linear layer's weight for one batch of 256 digits,
depths 2-20, sigmoid/tanh/ReLU, default/Xavier/He initialisation, with and without
BatchNorm; the per-layer rate is exp(slope) of log(first-layer norm) against depth.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

import gdlab
from gdlab import datasets, nn
from gdlab.lab.articles.claims import Check, ClaimResult, claim

__all__ = ["Setting", "digits_batch", "layer_gradient_norms", "vanishing_gradients"]

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
INITS = ("default", "xavier", "he")
WIDTH = 64
#: sigmoid (default init) loses at least this factor per layer (measured 0.14; 1/4 bounds
#: the activation's part of each factor).
SIGMOID_RATE = 0.25
#: ReLU + He keeps the first layer's gradient norm within this factor across depths 2-20
#: (measured max/min 1.6).
RELU_HE_BAND = 4.0
CLIP = 1.0


@dataclass(frozen=True)
class Setting:
    activation: str
    init: str
    batch_norm: bool = False
    weight_scale: float = 1.0

    @property
    def label(self) -> str:
        extra = " + BatchNorm" if self.batch_norm else ""
        scale = f" x{self.weight_scale:g}" if self.weight_scale != 1.0 else ""
        return f"{self.activation}, {self.init}{scale}{extra}"


def _build(s: Setting, depth: int, seed: int) -> nn.Sequential:
    gdlab.manual_seed(seed)
    layers: list[nn.Module] = []
    fan_in = 64
    for _ in range(depth - 1):
        lin = nn.Linear(fan_in, WIDTH)
        if s.init == "xavier":
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)
        elif s.init == "he":
            gain = "relu" if s.activation == "relu" else "tanh"
            nn.init.kaiming_normal_(lin.weight, nonlinearity=gain)
            nn.init.zeros_(lin.bias)
        if s.weight_scale != 1.0:
            lin.weight.data *= s.weight_scale
        norm = [nn.BatchNorm1d(WIDTH)] if s.batch_norm else []
        layers += [lin, *norm, ACTIVATIONS[s.activation]()]
        fan_in = WIDTH
    layers.append(nn.Linear(fan_in, 10))
    return nn.Sequential(*layers)


def digits_batch(n: int = 256) -> tuple[gdlab.Tensor, gdlab.Tensor]:
    """The first ``n`` digits, scaled to [0, 1], and their labels."""
    bunch = datasets.load("digits", seed=0)
    return gdlab.tensor(bunch.X_train[:n] / 16.0), gdlab.tensor(bunch.y_train[:n])


def layer_gradient_norms(
    s: Setting, depth: int, batch: tuple[gdlab.Tensor, gdlab.Tensor], seed: int = 0
) -> tuple[list[float], float]:
    """Per-Linear-layer weight-gradient norms (input side first) and the total norm after
    clipping to :data:`CLIP`, for one batch ``(x, y)``."""
    x, y = batch
    model = _build(s, depth, seed)
    nn.functional.cross_entropy(model(x), y).backward()
    norms = [
        float(np.linalg.norm(np.asarray(m.weight.grad))) for m in model if isinstance(m, nn.Linear)
    ]
    nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    clipped = float(
        np.sqrt(sum(float((np.asarray(p.grad) ** 2).sum()) for p in model.parameters()))
    )
    return norms, clipped


def _rate(depths: list[int], first: list[float]) -> float:
    return float(np.exp(np.polyfit(depths, np.log(first), 1)[0]))


def _figure(depths, first, per_layer, exploding):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.4))
    styles = {"default": "-", "xavier": "--", "he": "-."}
    for ax, act in zip(axes[0], ACTIVATIONS, strict=True):
        for k, init in enumerate(INITS):
            for bn in (False, True):
                label = Setting(act, init, bn).label
                ax.semilogy(
                    depths,
                    first[label],
                    styles[init],
                    color=f"C{k}",
                    marker=".",
                    alpha=0.45 if bn else 1.0,
                    lw=1 if bn else 1.8,
                    label=label.removeprefix(f"{act}, "),
                )
        ax.set(
            xlabel="depth (Linear layers)",
            ylabel="first layer's gradient norm",
            title=f"{act}: the first layer's gradient against depth",
        )
        ax.legend(fontsize=7)
    for label, norms in per_layer.items():
        axes[1, 0].semilogy(range(1, len(norms) + 1), norms, marker=".", label=label)
    axes[1, 0].set(
        xlabel="layer (1 = input side)",
        ylabel="weight-gradient norm",
        title=f"one {depths[-1]}-layer network, layer by layer",
    )
    axes[1, 0].legend(fontsize=8)
    for label, (raw, clipped) in exploding.items():
        axes[1, 1].semilogy(depths, raw, marker=".", label=f"{label}: first layer, raw")
        axes[1, 1].semilogy(depths, clipped, "--", label=f"{label}: all, after clip {CLIP:g}")
    axes[1, 1].set(xlabel="depth", ylabel="gradient norm", title="exploding, and clipping")
    axes[1, 1].legend(fontsize=8)
    rates = {label: _rate(depths, norms) for label, norms in first.items()}
    names = list(rates)
    axes[1, 2].barh(
        names,
        [rates[n] for n in names],
        color=[f"C{list(ACTIVATIONS).index(n.split(',')[0])}" for n in names],
    )
    axes[1, 2].axvline(1.0, color="k", lw=0.8)
    axes[1, 2].axvline(SIGMOID_RATE, color="k", lw=0.8, ls=":")
    axes[1, 2].invert_yaxis()
    axes[1, 2].tick_params(axis="y", labelsize=7)
    axes[1, 2].set(xlabel="gradient factor per layer (1 = kept)", title="rate per layer")
    fig.tight_layout()
    return fig


@claim(
    "vanishing_gradients",
    "article 004: per-layer gradient norms against depth for "
    "sigmoid/tanh/ReLU, initialisations and BatchNorm; exploding gradients and clipping",
    "article 004 §3 (vanishing and exploding gradients)",
)
def vanishing_gradients(seed: int = 0, full: bool = False) -> ClaimResult:
    depths = list(range(2, 21, 1 if full else 2))
    batch = digits_batch()
    settings = [
        Setting(a, i, bn) for a, i, bn in itertools.product(ACTIVATIONS, INITS, (False, True))
    ]
    first: dict[str, list[float]] = {}
    table = []
    for s in settings:
        first[s.label] = [layer_gradient_norms(s, d, batch, seed)[0][0] for d in depths]
        rate = _rate(depths, first[s.label])
        table.append(
            {
                "setting": s.label,
                "rate_per_layer": rate,
                **{
                    f"depth_{d}": first[s.label][i]
                    for i, d in enumerate(depths)
                    if d in (depths[0], 10, depths[-1])
                },
            }
        )
    deep = depths[-1]
    per_layer = {
        s.label: layer_gradient_norms(s, deep, batch, seed)[0]
        for s in (Setting("sigmoid", "default"), Setting("relu", "he"))
    }
    exploding = {}
    for s in (Setting("relu", "he", weight_scale=2.0), Setting("tanh", "xavier", weight_scale=3.0)):
        runs = [layer_gradient_norms(s, d, batch, seed) for d in depths]
        exploding[s.label] = ([r[0][0] for r in runs], [r[1] for r in runs])
        table.append(
            {
                "setting": s.label,
                "rate_per_layer": _rate(depths, exploding[s.label][0]),
                "max_clipped_norm": max(exploding[s.label][1]),
            }
        )
    sig = _rate(depths, first["sigmoid, default"])
    relu = first["relu, he"]
    blow = exploding["relu, he x2"]
    checks = [
        Check(
            "sigmoid's first-layer gradient falls geometrically with depth",
            sig < SIGMOID_RATE,
            f"rate per layer {sig:.3f} < {SIGMOID_RATE}",
        ),
        Check(
            "ReLU + He keeps the first-layer gradient within a small band",
            max(relu) / min(relu) < RELU_HE_BAND,
            f"max/min over depths {max(relu) / min(relu):.2f} < {RELU_HE_BAND}",
        ),
        Check(
            "BatchNorm stops sigmoid's vanishing",
            _rate(depths, first["sigmoid, default + BatchNorm"]) > 0.8,
            f"rate per layer {_rate(depths, first['sigmoid, default + BatchNorm']):.3f} > 0.8",
        ),
        Check(
            "weights 2x He make ReLU gradients explode",
            blow[0][-1] > 1e3 * blow[0][0],
            f"{blow[0][-1]:.3g} at depth {deep} vs {blow[0][0]:.3g} at depth {depths[0]}",
        ),
        Check(
            "clipping bounds the total gradient norm",
            max(blow[1]) <= CLIP * (1 + 1e-6),
            f"max after clipping {max(blow[1]):.6f} <= {CLIP:g}",
        ),
    ]
    conf = {"depths": depths, "width": WIDTH, "batch": 256, "clip": CLIP}
    figure = {"gradient_norms": lambda: _figure(depths, first, per_layer, exploding)}
    return ClaimResult(table, checks, conf, figure)
