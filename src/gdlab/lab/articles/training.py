"""The articles' training experiments, re-run with gdlab's nn, optim and train (``reproduce``).

``article_batch_modes`` (article 002): x ~ U(0, 1) of shape (100, 8), y ~ U(0, 5) of shape
(100, 1); Linear(8, 1) -> Sigmoid -> Linear(1, 1) in float64; MSE; SGD lr 1e-3; 100 epochs with
the full batch (BGD), mini-batches of 20 (MBGD) and single samples (SGD), the three loss curves
drawn together. The article's own loops never call ``zero_grad`` (all three modes; its
mini-batches are drawn with replacement, ``np.random.choice``, here ``RandomSampler(
replacement=True)``), so their gradients accumulate (an accidental heavy ball): each step
uses the sum of every batch gradient so far, which is checked. Those loops are re-run as
printed (``article loop ...``) next to the correct ones, and all are reported. The
article's data are unseeded, so the exact digits cannot be reproduced: the shape of the
curves can.

``article_adam`` (article 003): Adam on x = [(1,1,1),(1,2,1),(2,2,1),(3,1,1),(1,3,1),(2,4,1)],
y = [6,8,9,8,10,13], θ₀ = 0, lr 0.01, β = (0.9, 0.999), ε = 1e-7, per-sample updates for
1000 passes, loss ½(x·θ − y)². gdlab (a bias-free ``nn.Linear(3, 1)``, ``optim.Adam``,
``train.fit`` with batch size 1, no shuffling) is checked against a NumPy loop with torch's
formula (exact to float64 round-off). The article's own loop is run verbatim too: its bias
correction uses t + 1 instead of t, and it breaks out of a pass as soon as the error
½·mean(r²) is at most 1e-4 — from pass 693 on, so θ stops at (1.014894, 2.009181, 2.951946).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import gdlab
from gdlab import data, datasets, nn, optim, train
from gdlab.lab.articles.claims import Check, ClaimResult, write_claim
from gdlab.lab.articles.registry import Experiment, register_experiment
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.tasks import make_loader
from gdlab.random import get_generator

__all__ = ["ArticleAdamRun", "article_adam", "article_adam_loop", "article_batch_modes"]


def _mlp_8_1_1(seed: int) -> Any:
    model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1)).double()
    rng = get_generator(seed)
    for layer in (model[0], model[2]):  # torch's default init, from the seed
        bound = 1.0 / math.sqrt(layer.weight.shape[1])
        nn.init.uniform_(layer.weight, -bound, bound, generator=rng)
        nn.init.uniform_(layer.bias, -bound, bound, generator=rng)
    return model


ARTICLE_LOOPS = {  # label -> batch size (None: the full batch), article 002's three loops
    "article loop BGD (no zero_grad)": None,
    "article loop MBGD (20, no zero_grad)": 20,
    "article loop SGD (1, no zero_grad)": 1,
}


def _article_loop(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    epochs: int,
    batch_size: int | None,
    checked: int = 300,
) -> dict[str, Any]:
    """Article 002's loop as printed: SGD lr 1e-3 and no ``zero_grad``; the full batch, or
    ``len(x) // b`` batches of ``b`` per epoch drawn with replacement (the article's
    ``np.random.choice(range(len(train_x)), size=b)``, here torch's ``RandomSampler(
    replacement=True)``).

    Beside the loop, for the first ``checked`` steps, each batch's own gradient is computed
    fresh (``autograd.grad``), and the ``.grad`` the optimizer steps with is compared with the
    sum of those gradients so far: the missing ``zero_grad`` makes every step use that sum.
    (Only the first steps: the second backward pass would double the cost of 10,000 SGD steps.)
    """
    model = _mlp_8_1_1(seed)
    params = list(model.parameters())
    opt = optim.SGD(params, lr=1e-3)
    dataset = data.TensorDataset(x, y)
    if batch_size is None:
        loader = data.DataLoader(dataset, batch_size=None)
    else:
        draws = data.RandomSampler(
            dataset, replacement=True, num_samples=len(x) // batch_size * batch_size, generator=seed
        )
        loader = data.DataLoader(dataset, batch_size=batch_size, sampler=draws)
    loss_fn, losses = nn.MSELoss(), []
    summed = [np.zeros_like(p.data) for p in params]
    deviation = 0.0  # max |p.grad − Σ batch gradients| / max |Σ batch gradients|
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            own = gdlab.autograd.grad(loss, params, retain_graph=True) if checked else None
            loss.backward()  # accumulates into .grad: the article never zeroes it
            if own is not None:
                checked -= 1
                deviation = max(deviation, _accumulation_deviation(summed, own, params))
            losses.append(float(loss.item()))
            opt.step()
    steps = 1 if batch_size is None else len(x) // batch_size
    return {"loss": losses, "steps_per_epoch": steps, "accumulation_deviation": deviation}


def _accumulation_deviation(summed: list[np.ndarray], own: Any, params: list[Any]) -> float:
    """Add each batch gradient to ``summed``; the largest |p.grad − Σ| relative to |Σ|."""
    worst = 0.0
    for total, g, p in zip(summed, own, params, strict=True):
        total += np.asarray(g)
        scale = max(float(np.abs(total).max()), 1e-300)
        worst = max(worst, float(np.abs(np.asarray(p.grad) - total).max()) / scale)
    return worst


def article_batch_modes(seed: int = 0, epochs: int = 100) -> dict[str, Any]:
    """Article 002's experiment; returns per-step losses of every mode, correct (with
    ``zero_grad``, through ``train.fit``) and as the article's loops run them (without)."""
    b = datasets.load("article_uniform", seed=seed)
    x, y = b.X_train, b.y_train
    curves: dict[str, dict[str, Any]] = {}
    for label, bs in [("BGD (100)", None), ("MBGD (20)", 20), ("SGD (1)", 1)]:
        model = _mlp_8_1_1(seed)
        opt = optim.SGD(model.parameters(), lr=1e-3)
        hist = train.fit(model, nn.MSELoss(), opt, make_loader(x, y, bs, seed=seed), epochs=epochs)
        steps_per_epoch = 1 if bs is None else math.ceil(len(x) / bs)
        curves[label] = {"loss": hist.steps["loss"], "steps_per_epoch": steps_per_epoch}
    for label, bs in ARTICLE_LOOPS.items():
        curves[label] = _article_loop(x, y, seed, epochs, bs)
    return curves


def _adam_numpy(x: np.ndarray, y: np.ndarray, passes: int) -> np.ndarray:
    """Per-sample Adam on ½(x·θ − y)² with torch's formula (bias correction at t)."""
    theta, m, v, t = np.zeros(3), np.zeros(3), np.zeros(3), 0
    b1, b2, lr, eps = 0.9, 0.999, 0.01, 1e-7
    for _ in range(passes):
        for j in range(len(x)):
            t += 1
            g = x[j] * (x[j] @ theta - y[j])
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


@dataclass(frozen=True)
class ArticleAdamRun:
    """The article's loop: where it ends, when its ``break`` first fired, θ after each pass."""

    theta: np.ndarray
    stopped_at_pass: int | None
    error: float
    path: np.ndarray  # (passes + 1, 3): θ₀ = 0, then θ after each pass


def article_adam_loop(
    x: np.ndarray, y: np.ndarray, passes: int = 1000, threshold: float = 1e-4
) -> ArticleAdamRun:
    """Article 003's Adam loop verbatim: per-sample updates, ε = 1e-7, bias correction with
    t + 1, and ``if abs(error) <= threshold: break`` before each sample's update, where
    ``error`` is ½·mean of the squared residuals. The ``break`` leaves only the inner loop, so
    once the error is below the threshold every later pass breaks at once and θ stays put."""
    theta, mt, vt, t = np.zeros(3), np.zeros(3), np.zeros(3), 0
    b1, b2, alpha, e = 0.9, 0.999, 0.01, 1e-7
    stopped, error, path = None, 0.0, [theta]
    for i in range(passes):
        for j in range(len(x)):
            t += 1
            residual = x @ theta - y
            error = float(residual @ residual / (2 * len(x)))
            if abs(error) <= threshold:
                stopped = stopped or i + 1
                break
            gradient = x[j] * (x[j] @ theta - y[j])
            mt = b1 * mt + (1 - b1) * gradient
            vt = b2 * vt + (1 - b2) * gradient**2
            mtt = mt / (1 - b1 ** (t + 1))
            vtt = vt / (1 - b2 ** (t + 1))
            theta = theta - alpha * mtt / (np.sqrt(vtt) + e)
        path.append(theta)
    return ArticleAdamRun(theta, stopped, error, np.array(path))


def article_adam(passes: int = 1000) -> dict[str, Any]:
    """Article 003's Adam run with gdlab, torch's formula in NumPy, and the article's loop."""
    b = datasets.load("article_six_samples")
    x, y = np.asarray(b.X_train, np.float64), np.asarray(b.y_train, np.float64)
    model = nn.Linear(3, 1, bias=False).double()
    nn.init.zeros_(model.weight)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    path = [model.weight.data.reshape(-1).copy()]

    def half_squared_error(pred: Any, target: Any) -> Any:
        return 0.5 * ((pred - target) ** 2).mean()

    record = train.LambdaCallback(
        on_epoch_end=lambda *_: path.append(model.weight.data.reshape(-1).copy())
    )
    hist = train.fit(model, half_squared_error, opt, make_loader(x, y, 1, shuffle=False),
                     epochs=passes, callbacks=[record])  # fmt: skip
    theta = model.weight.data.reshape(-1).astype(np.float64)
    ref = _adam_numpy(x, y[:, 0], passes)
    art = article_adam_loop(x, y[:, 0], passes)

    def error(th: np.ndarray) -> float:  # the article's printed error: ½·mean squared residual
        r = x @ th - y[:, 0]
        return float(r @ r / (2 * len(x)))

    return {
        "theta": theta,
        "theta_reference": ref,
        "article": art,
        "max_abs_diff": float(np.abs(theta - ref).max()),
        "error": error(theta),
        "step_loss": hist.steps["loss"],
        "path": np.array(path),
        "lstsq": np.linalg.lstsq(x, y[:, 0], rcond=None)[0],
    }


# --------------------------------------------------------------------------- reproduce
def _epoch_means(curve: dict[str, Any]) -> np.ndarray:
    """Mean step loss per epoch: a single step's loss says little when the batch is one sample."""
    k = curve["steps_per_epoch"]
    loss = np.asarray(curve["loss"], dtype=np.float64)
    return loss[: len(loss) // k * k].reshape(-1, k).mean(axis=1)


def _outline() -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=3.6, foreground="white"), patheffects.Normal()]


def _write_batch_modes(run_dir: RunDir, seed: int, full: bool = False) -> dict[str, Any]:
    from matplotlib.figure import Figure

    curves = article_batch_modes(seed)
    rows = [
        {"mode": k, "step": i + 1, "loss": v}
        for k, c in curves.items()
        for i, v in enumerate(c["loss"])
    ]
    run_dir.write_csv("steps.csv", rows)
    fig = Figure(figsize=(13, 5), layout="constrained")
    ours, theirs = fig.subplots(1, 2)
    styles = {"SGD (1)": ("C4", 0.5, 0.35), "MBGD (20)": ("C2", 0.9, 0.6),
              "BGD (100)": ("C0", 2.0, 1.0)}  # fmt: skip
    panels = [
        (ours, ["SGD (1)", "MBGD (20)", "BGD (100)"], "with zero_grad (gdlab's train.fit)"),
        (theirs, list(ARTICLE_LOOPS), "the article's loops: no zero_grad, gradients accumulate"),
    ]
    for ax, labels, title in panels:
        for label in labels:
            c = curves[label]
            mode = label.removeprefix("article loop ").split(" (")[0]
            key = next(k for k in styles if k.startswith(mode))
            color, lw, alpha = styles[key]
            ep = (np.arange(len(c["loss"])) + 1) / c["steps_per_epoch"]
            ax.plot(ep, c["loss"], lw=lw, alpha=alpha, color=color, label=label)
            if c["steps_per_epoch"] > 1:  # the trend under the noise: one point per epoch
                means = _epoch_means(c)
                ax.plot(np.arange(1, len(means) + 1), means, lw=2.2, color=color,
                        path_effects=_outline(), label=f"{label}, epoch mean")  # fmt: skip
        ax.set(xlabel="epoch", title=title)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    for ax, labels, _ in panels:  # each panel up to its noisiest curve's 99th percentile
        top = max(float(np.percentile(curves[k]["loss"], 99)) for k in labels)
        ax.set(ylim=(0, top * 1.05), ylabel="MSE loss of the step's batch")
    fig.suptitle("Article 002: batch vs mini-batch vs stochastic descent, SGD lr 1e-3")
    table = [
        {
            "mode": k,
            "steps": len(c["loss"]),
            "first_loss": c["loss"][0],
            "last_loss": c["loss"][-1],
            "last_epoch_mean": float(_epoch_means(c)[-1]),
        }
        for k, c in curves.items()
    ]
    settings = {"lr": 1e-3, "epochs": 100}
    result = ClaimResult(table, _batch_mode_checks(curves), settings, {"loss-curves": lambda: fig},
                         notes=__doc__.split("\n\n")[1])  # fmt: skip
    return write_claim("article_batch_modes", "article 002: BGD / MBGD / SGD on (100, 8)",
                       "the articles (002)", result, run_dir, seed)  # fmt: skip


def _roughness(loss: list[float]) -> float:
    """Spread of the step-to-step change of log loss: 0 for a smooth descent."""
    return float(np.std(np.diff(np.log(np.asarray(loss, dtype=np.float64)))))


def _batch_mode_checks(curves: dict[str, dict[str, Any]]) -> list[Check]:
    bgd, mbgd, sgd = (curves[k]["loss"] for k in ("BGD (100)", "MBGD (20)", "SGD (1)"))
    article = curves["article loop BGD (no zero_grad)"]["loss"]
    rough = [_roughness(c) for c in (bgd, mbgd, sgd)]
    final = [float(_epoch_means(curves[k])[-1]) for k in ("BGD (100)", "MBGD (20)", "SGD (1)")]
    apart = float(np.abs(np.subtract(article, bgd)).max())
    deviation = max(curves[k]["accumulation_deviation"] for k in ARTICLE_LOOPS)
    return [
        Check("the full batch descends smoothly (loss never rises)",
              bool(np.all(np.diff(bgd) <= 1e-12)), f"{bgd[0]:.3f} -> {bgd[-1]:.3f}"),
        Check("smaller batches are noisier: roughness SGD > MBGD > BGD",
              rough[2] > rough[1] > rough[0], " > ".join(f"{r:.4f}" for r in rough[::-1])),
        Check("more updates per epoch: after 100 epochs SGD < MBGD < BGD (epoch-mean loss)",
              final[2] < final[1] < final[0], " < ".join(f"{v:.3f}" for v in final[::-1])),
        Check("without zero_grad the gradients accumulate: same first loss, then the paths part",
              article[0] == bgd[0] and apart > 1e-3,
              f"first {article[0]:.4f} = {bgd[0]:.4f}; max difference {apart:.3f}"),
        Check("article loops (all 3): .grad = sum of the batch gradients so far (300 steps)",
              deviation <= 1e-12,
              f"max relative difference {deviation:.1e}"),
    ]  # fmt: skip


def _adam_figure(res: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    art: ArticleAdamRun = res["article"]
    for k, ax in enumerate(fig.subplots(1, 3)):
        ax.plot(res["path"][:, k], label="gdlab optim.Adam (torch's formula)")
        ax.plot(art.path[:, k], "--", label="the article's loop (t + 1, break)")
        ax.axhline(res["lstsq"][k], color="0.5", lw=0.8, ls=":", label="least squares")
        if art.stopped_at_pass:
            ax.axvline(art.stopped_at_pass, color="C1", lw=0.6)
        ax.set(xlabel="pass over the six samples", ylabel=f"θ{k + 1}")
    fig.axes[0].legend(fontsize=8)
    fig.suptitle("Adam per sample on the six-sample regression: θ after each pass")
    return fig


#: The article's loop run verbatim breaks at this pass and stays at this θ.
ARTICLE_STOP = 693
ARTICLE_THETA = (1.014894, 2.009181, 2.951946)


def _write_adam(run_dir: RunDir, seed: int, full: bool = False) -> dict[str, Any]:
    res = article_adam()
    art: ArticleAdamRun = res["article"]
    table = [
        {"run": "gdlab optim.Adam", "theta": _vec(res["theta"]), "error": res["error"]},
        {"run": "NumPy, torch's formula", "theta": _vec(res["theta_reference"]),
         "error": res["error"]},
        {"run": f"article's loop (t + 1, break at pass {art.stopped_at_pass})",
         "theta": _vec(art.theta), "error": art.error},
        {"run": "least squares", "theta": _vec(res["lstsq"]), "error": None},
    ]  # fmt: skip
    theta_err = float(np.abs(art.theta - np.array(ARTICLE_THETA)).max())
    checks = [
        Check("gdlab's Adam equals torch's formula per sample", res["max_abs_diff"] < 1e-12,
              f"max |Δθ| = {res['max_abs_diff']:.1e}"),
        Check(f"the article's loop breaks at pass {ARTICLE_STOP}",
              art.stopped_at_pass == ARTICLE_STOP, f"pass {art.stopped_at_pass}"),
        Check(f"the article's loop ends at θ = {ARTICLE_THETA}", theta_err < 1e-6,
              f"θ = {_vec(art.theta)}, max diff {theta_err:.1e}"),
    ]  # fmt: skip
    run_dir.write_json("steps.json", {"step_loss": res["step_loss"]})
    settings = {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-7, "passes": 1000,
                "article_threshold": 1e-4}  # fmt: skip
    result = ClaimResult(table, checks, settings, {"theta_path": lambda: _adam_figure(res)},
                         notes=__doc__.split("\n\n")[2])  # fmt: skip
    out = write_claim("article_adam", "article 003: Adam, per-sample, six-sample regression",
                      "the articles (003)", result, run_dir, seed)  # fmt: skip
    return out | {"max_abs_diff": res["max_abs_diff"]}


def _vec(a: np.ndarray) -> str:
    return "(" + ", ".join(f"{float(v):.6f}" for v in a) + ")"


register_experiment(
    Experiment("article_batch_modes", "article 002: BGD / MBGD / SGD on (100, 8)",
               "the articles (002)", _write_batch_modes)
)  # fmt: skip
register_experiment(
    Experiment("article_adam", "article 003: Adam, per-sample, six-sample regression",
               "the articles (003)", _write_adam)
)  # fmt: skip
