"""``gdlab gradcheck``: every parameter's backprop gradient against central differences.

An MLP (from layer sizes like ``3-4-1``, or a train config's ``[model]`` and data set) is built
in float64 and run on a tiny random batch; each parameter's gradient is compared with
``autograd.numerical_grad`` (|error| <= 1e-5 + 1e-3·|numerical|).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import gdlab
from gdlab import nn
from gdlab.autograd import numerical_grad
from gdlab.lab.config import option, positive_int, seed_option
from gdlab.lab.output.tables import format_table
from gdlab.lab.tasks import ACTIVATIONS, build_mlp, load_task
from gdlab.lab.train_config import resolve_train_config

__all__ = ["GradcheckConfig", "run_gradcheck"]


@dataclass
class GradcheckConfig:
    """The network checked: layer sizes (or a train config's model), activation, loss, batch."""

    model: str = option("3-4-1", "--model", metavar="SIZES",
                        help="layer sizes, e.g. 3-4-1 (the articles' net; default)")  # fmt: skip
    activation: str = option("sigmoid", "--activation", choices=tuple(ACTIVATIONS))
    loss: str = option("mse", "--loss", choices=("mse", "cross_entropy"))
    config: str | None = option(None, "--config", metavar="TOML",
                                help="take [model] from a train config instead")  # fmt: skip
    batch: int = option(4, "--batch", type=positive_int, help="samples in the batch")
    seed: int = seed_option()


def _sizes(spec: str) -> list[int]:
    try:
        sizes = [int(s) for s in spec.replace("x", "-").split("-")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"gradcheck: --model must be layer sizes like 3-4-1, got {spec!r}")
    return sizes


def run_gradcheck(config: GradcheckConfig) -> dict[str, Any]:
    """Compare every parameter's backprop gradient with central differences in float64."""
    activation, loss, batch, seed = config.activation, config.loss, config.batch, config.seed
    config_path, model = config.config, config.model
    if config_path:
        cfg = resolve_train_config(config_path)
        task = load_task(cfg.data.name, seed=seed)
        sizes = [task.n_features, *cfg.model.hidden, task.n_outputs]
        activation = cfg.model.activation
        loss = "cross_entropy" if task.kind == "classification" else "mse"
    else:
        sizes = _sizes(model)
    net = build_mlp(
        sizes[0], sizes[1:-1], sizes[-1], activation=activation, seed=seed, dtype=np.float64
    )
    rng = np.random.default_rng(seed)
    x = gdlab.tensor(rng.normal(size=(batch, sizes[0])))
    if loss == "mse":
        y, loss_fn = gdlab.tensor(rng.normal(size=(batch, sizes[-1]))), nn.MSELoss()
    else:
        y, loss_fn = gdlab.tensor(rng.integers(0, sizes[-1], size=batch)), nn.CrossEntropyLoss()
    named = list(net.named_parameters())
    net.zero_grad()
    loss_fn(net(x), y).backward()
    numeric = numerical_grad(lambda *_: loss_fn(net(x), y), *[p for _, p in named])
    rows = []
    for (name, p), num in zip(named, numeric, strict=True):
        err = np.abs(p._grad - num)
        ok = bool(np.all(err <= 1e-5 + 1e-3 * np.abs(num)))
        rows.append(
            {
                "parameter": name,
                "shape": "x".join(map(str, p.shape)),
                "max_abs_error": float(err.max()),
                "max_rel_error": float((err / np.maximum(np.abs(num), 1e-12)).max()),
                "ok": ok,
            }
        )
    passed = all(r["ok"] for r in rows)
    head = f"model {'-'.join(map(str, sizes))} ({activation}), {loss}, batch {batch}, float64"
    text = f"{head}\n\n{format_table(rows)}\n\n" + (
        "gradcheck passed" if passed else "gradcheck FAILED"
    )
    return {
        "model": sizes,
        "activation": activation,
        "loss": loss,
        "passed": passed,
        "parameters": rows,
        "text": text,
    } | ({} if passed else {"exit_code": 1})
