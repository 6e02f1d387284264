"""Overfitting and its cures (article 004): a wide MLP on 60 digits memorises them.

The network drives its training loss to ~0 while its validation loss stays high: the gap
between the two is the generalisation gap. Each cure the article names is run on the same
data and seeds: an L2 penalty (``weight_decay``), an L1 penalty, dropout, early stopping
(keep the weights of the epoch with the lowest validation loss) and more data (5x the
samples). Checks: the unregularised gap is large and every cure narrows it (medians over
seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import gdlab
from gdlab import datasets, nn, optim
from gdlab.lab.articles.claims import Check, ClaimResult, claim, runs_per_variant
from gdlab.lab.sweeps import Trials
from gdlab.nn.utils.penalties import l1_penalty

__all__ = ["CURES", "Cure", "overfitting", "train_cure"]


@dataclass(frozen=True)
class Cure:
    """One way to train: no cure, or one of the article's regularisers."""

    name: str
    weight_decay: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    early_stopping: bool = False
    data_factor: int = 1


CURES = (
    Cure("none"),
    Cure("L2 (weight_decay=1e-2)", weight_decay=1e-2),
    Cure("L1 (1e-4 * sum|w|)", l1=1e-4),
    Cure("dropout 0.5", dropout=0.5),
    Cure("early stopping", early_stopping=True),
    Cure("5x the data", data_factor=5),
)
N_TRAIN = 60
N_VAL = 300
#: The unregularised gap must exceed this (measured 0.5-0.6 in val - train cross-entropy).
LARGE_GAP = 0.3


def _mlp(width: int, dropout: float) -> nn.Module:
    drop = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(
        nn.Linear(64, width),
        nn.ReLU(),
        *drop,
        nn.Linear(width, width),
        nn.ReLU(),
        *drop,
        nn.Linear(width, 10),
    )


def _loss(model: nn.Module, x: gdlab.Tensor, y: gdlab.Tensor) -> float:
    model.eval()
    with gdlab.no_grad():
        return float(nn.functional.cross_entropy(model(x), y).item())


def train_cure(cure_name: str, epochs: int, width: int, every: int, seed: int) -> dict[str, list]:
    """One training run (a trial): the train and validation loss every ``every`` epochs."""
    cure = next(c for c in CURES if c.name == cure_name)
    bunch = datasets.load("digits", seed=0)
    x_all, y_all = bunch.X_train / 16.0, bunch.y_train
    order = np.random.default_rng(seed).permutation(len(x_all))
    n = N_TRAIN * cure.data_factor
    train, val = order[:n], order[len(order) - N_VAL :]
    xt, yt = gdlab.tensor(x_all[train]), gdlab.tensor(y_all[train])
    xv, yv = gdlab.tensor(x_all[val]), gdlab.tensor(y_all[val])
    gdlab.manual_seed(seed)
    model = _mlp(width, cure.dropout)
    opt = optim.Adam(model.parameters(), lr=1e-3, weight_decay=cure.weight_decay)
    curve: dict[str, list] = {"epoch": [], "train_loss": [], "val_loss": []}
    for epoch in range(1, epochs + 1):
        model.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), yt)
        if cure.l1:
            loss = loss + l1_penalty(model.parameters(), cure.l1)
        loss.backward()
        opt.step()
        if epoch % every == 0:
            curve["epoch"].append(epoch)
            curve["train_loss"].append(_loss(model, xt, yt))
            curve["val_loss"].append(_loss(model, xv, yv))
    return curve


def _final(curve: dict[str, list], early_stopping: bool) -> tuple[float, float]:
    """(train, val) loss at the end, or at the lowest validation loss with early stopping."""
    i = int(np.argmin(curve["val_loss"])) if early_stopping else -1
    return curve["train_loss"][i], curve["val_loss"][i]


def _figure(curves: dict[str, list[dict]], gaps: dict[str, float]):
    import matplotlib.pyplot as plt

    fig, (ax, bar) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    for k, (name, runs) in enumerate(curves.items()):
        color = f"C{k}"
        epochs = runs[0]["epoch"]
        for key, style in (("train_loss", "--"), ("val_loss", "-")):
            ax.plot(
                epochs,
                np.median([r[key] for r in runs], axis=0),
                style,
                color=color,
                label=f"{name} ({key.split('_')[0]})",
            )
    ax.set(
        yscale="log",
        xlabel="epoch",
        ylabel="cross-entropy (median over seeds)",
        title="training (dashed) and validation (solid) loss",
    )
    ax.legend(fontsize=7, ncol=2)
    names = list(gaps)
    bar.barh(names, [gaps[n] for n in names], color=[f"C{k}" for k in range(len(names))])
    bar.axvline(LARGE_GAP, color="k", lw=0.8, ls=":")
    bar.invert_yaxis()
    bar.set(xlabel="generalisation gap: validation - training loss", title="the gap, by cure")
    fig.tight_layout()
    return fig


@claim(
    "overfitting",
    "article 004: a wide MLP memorises 60 digits; L2, L1, dropout, early "
    "stopping and more data each narrow the gap",
    "article 004 §2 (overfitting)",
    uses_trials=True,
)
def overfitting(seed: int = 0, full: bool = False, trials: Trials | None = None) -> ClaimResult:
    seeds = range(seed, seed + (5 if full else 3))
    epochs, width, every = (400, 256, 10) if full else (200, 128, 10)
    settings = {"epochs": epochs, "width": width, "every": every}
    variants = {c.name: {"cure_name": c.name} | settings for c in CURES}
    curves = runs_per_variant(trials, f"{__name__}:train_cure", variants, seeds)
    table, gaps = [], {}
    for cure in CURES:
        finals = np.array([_final(r, cure.early_stopping) for r in curves[cure.name]])
        gap = float(np.median(finals[:, 1] - finals[:, 0]))
        gaps[cure.name] = gap
        table.append(
            {
                "cure": cure.name,
                "train_loss": float(np.median(finals[:, 0])),
                "val_loss": float(np.median(finals[:, 1])),
                "gap": gap,
            }
        )
    base = gaps["none"]
    checks = [
        Check(
            "without a cure the gap is large",
            base > LARGE_GAP,
            f"median gap {base:.3f} > {LARGE_GAP}",
        )
    ]
    for cure in CURES[1:]:
        g = gaps[cure.name]
        checks.append(Check(f"{cure.name} narrows the gap", g < base, f"{g:.3f} < {base:.3f}"))
    settings = {
        "seeds": list(seeds),
        "epochs": epochs,
        "width": width,
        "n_train": N_TRAIN,
        "n_val": N_VAL,
        "optimizer": "adam lr=1e-3, full batch",
    }
    return ClaimResult(table, checks, settings, {"overfitting": lambda: _figure(curves, gaps)})
