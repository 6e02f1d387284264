"""Why activations (article 003 §2): without them a deep network is one linear map.

Four ``nn.Linear`` layers in a row compute x ↦ x·Wᵀ + b with W = W₄W₃W₂W₁ and
b = W₄W₃W₂b₁ + W₄W₃b₂ + W₄b₃ + b₄: the collapsed map reproduces the network's output to
round-off, so depth adds nothing. Trained on spirals and moons, the deep linear network draws
a straight boundary and fails where one hidden ReLU layer succeeds.
"""

from __future__ import annotations

import numpy as np

import gdlab
from gdlab import datasets, nn, optim
from gdlab.lab.articles.claims import Check, ClaimResult, claim

__all__ = ["activations", "collapse"]

DATA = {"spirals": {"n_samples": 600}, "moons": {"n_samples": 400, "noise": 0.1}}
#: what a straight boundary can reach on each (measured: spirals 0.62, moons 0.85)
LINEAR_CEILING = {"spirals": 0.75, "moons": 0.9}
RELU_FLOOR = 0.95  # one hidden ReLU layer of 64 (measured: 0.99 and 1.00)


def collapse(model: nn.Sequential) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of the single affine map a stack of Linear layers computes."""
    weight = bias = None
    for layer in model:
        w, b = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
        weight = w if weight is None else w @ weight
        bias = b if bias is None else w @ bias + b
    return weight, bias


def _deep_linear(n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, 64), nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, n_out)
    )


def _relu_net(n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, n_out))


def _fit(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int) -> nn.Module:
    opt = optim.Adam(model.parameters(), lr=0.01)
    tx, ty = gdlab.tensor(x), gdlab.tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(model(tx), ty).backward()
        opt.step()
    return model


def _predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with gdlab.no_grad():
        return model(gdlab.tensor(x.astype(np.float32))).data.argmax(axis=1)


def _figure(runs):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    for col, (name, (bunch, models, acc)) in enumerate(runs.items()):
        x = np.vstack([bunch.X_train, bunch.X_test])
        lo, hi = x.min(axis=0) - 0.3, x.max(axis=0) + 0.3
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        for k, (label, model) in enumerate(models.items()):
            ax = axes[2 * col + k]
            ax.contourf(
                gx,
                gy,
                _predict(model, grid).reshape(gx.shape),
                alpha=0.3,
                cmap="tab10",
                vmin=0,
                vmax=9,
            )
            ax.scatter(
                bunch.X_test[:, 0],
                bunch.X_test[:, 1],
                c=bunch.y_test,
                cmap="tab10",
                vmin=0,
                vmax=9,
                s=10,
                edgecolors="k",
                linewidths=0.3,
            )
            ax.set(title=f"{name}: {label}\ntest accuracy {acc[label]:.2f}", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


@claim(
    "why_activations",
    "article 003 §2: a deep network without activations is one linear "
    "map and fails on spirals and moons where one ReLU layer succeeds",
    "article 003 §2 (activation functions)",
)
def activations(seed: int = 0, full: bool = False) -> ClaimResult:
    epochs = 2000 if full else 600
    runs, table, checks = {}, [], []
    for name, kwargs in DATA.items():
        bunch = datasets.load(name, seed=seed, **kwargs)
        n_out = int(bunch.y_train.max()) + 1
        gdlab.manual_seed(seed)
        models = {
            "4 Linear layers, no activation": _deep_linear(n_out),
            "1 hidden ReLU layer": _relu_net(n_out),
        }
        acc = {}
        for label, model in models.items():
            _fit(model, bunch.X_train, bunch.y_train, epochs)
            acc[label] = float((_predict(model, bunch.X_test) == bunch.y_test).mean())
            table.append({"data": name, "model": label, "test_accuracy": acc[label]})
        linear = models["4 Linear layers, no activation"]
        w, b = collapse(linear)
        x = bunch.X_test.astype(np.float64)
        with gdlab.no_grad():
            out = linear.double()(gdlab.tensor(x)).data
        err = float(np.abs(out - (x @ w.T + b)).max())
        linear.float()
        checks += [
            Check(
                f"{name}: the deep linear network equals one matrix W = W4 W3 W2 W1",
                err < 1e-10,
                f"max |net(x) - (x W^T + b)| = {err:.1e}",
            ),
            Check(
                f"{name}: without activations the boundary is a line and fails",
                acc["4 Linear layers, no activation"] < LINEAR_CEILING[name],
                f"accuracy {acc['4 Linear layers, no activation']:.2f} < {LINEAR_CEILING[name]}",
            ),
            Check(
                f"{name}: one hidden ReLU layer succeeds",
                acc["1 hidden ReLU layer"] >= RELU_FLOOR,
                f"accuracy {acc['1 hidden ReLU layer']:.2f} >= {RELU_FLOOR}",
            ),
        ]
        runs[name] = (bunch, models, acc)
    settings = {"epochs": epochs, "optimizer": "adam lr=0.01, full batch", "data": DATA}
    return ClaimResult(table, checks, settings, {"boundaries": lambda: _figure(runs)})
