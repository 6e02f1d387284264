"""The MLP estimators' fitting loops, with scikit-learn's rules and attribute names.

Stochastic solvers: epochs of shuffled mini-batches; after each epoch ``loss_curve_``,
``t_``, the no-improvement count on the training loss (or on the validation score with
``early_stopping``), SGD's 'invscaling' / 'adaptive' learning rates, and the stop after
``n_iter_no_change`` epochs without an improvement of ``tol``. A solver needing a closure
(SAM, ASAM) is stepped as the ``Trainer`` steps it; a schedule-free one (``train()`` /
``eval()``) trains at y, and is scored on validation data and left after fitting at x, where
``predict`` evaluates it. L-BFGS: gdlab's ``LBFGS``
over the whole data set. ``verbose`` prints scikit-learn's progress lines: printing is the
documented behaviour of that scikit-learn argument.

The loop is deliberately lean (forward, backward, the penalty's gradient added in place,
``optimizer.step()``): the general ``Trainer`` records per-step history, gradient norms and
divergence snapshots the estimator does not report, and costs more than the model itself
at these sizes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gdlab import optim
from gdlab.creation import from_numpy
from gdlab.estimators._api import ConvergenceWarning
from gdlab.estimators._loss import data_loss, poisson_constant
from gdlab.estimators._split import validation_split

__all__ = ["fit_lbfgs", "fit_stochastic"]


def _batch_loss(
    est: Any,
    X: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None,
    labels: np.ndarray | None,
) -> float:
    """Gradients of the objective on one batch (into ``.grad``); returns its value."""
    model = est._model
    model.zero_flat_grad()
    sw_sum = float(len(X)) if weight is None else float(weight.sum())
    w = None if weight is None else from_numpy(weight.reshape(-1, 1))
    kind = est._loss_kind
    loss = data_loss(kind, model(from_numpy(X)), from_numpy(target), w, sw_sum, labels)
    loss.backward()
    value = float(loss.item()) + model.add_penalty(est.alpha, sw_sum)
    if kind == "poisson":
        value += poisson_constant(target, weight, sw_sum)
    return value


def _labels(est: Any, target: np.ndarray, weight: np.ndarray | None) -> np.ndarray | None:
    """Class indices of one-hot targets, for the gather form of the log-loss."""
    return target.argmax(axis=1) if est._loss_kind == "log" and weight is None else None


def _has_modes(optimizer: Any) -> bool:
    """Whether the optimizer has ``train()`` and ``eval()`` (the schedule-free ones)."""
    return callable(getattr(optimizer, "train", None)) and callable(
        getattr(optimizer, "eval", None)
    )


def _step(optimizer: Any, closure: Any) -> float:
    """One step as the optimizer asks for it (``closure`` sets the batch's gradients and
    returns its loss); returns the loss at the current point. ``requires_closure`` with
    ``gradient_before_closure`` (SAM): the gradient at w, then ``step(closure)``, which takes
    the one at w + ε; ``requires_closure`` alone: ``step(closure)``."""
    if getattr(optimizer, "requires_closure", False):
        if getattr(optimizer, "gradient_before_closure", False):
            value = closure()
            optimizer.step(closure)
            return value
        return float(optimizer.step(closure))
    value = closure()
    optimizer.step()
    return value


def fit_stochastic(
    est: Any,
    X: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None,
    incremental: bool,
    rng: Any,
) -> None:
    """``max_iter`` epochs (one for ``partial_fit``) of shuffled mini-batches, holding out
    the early-stopping validation set first and restoring its best weights at the end."""
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    val = None
    if est.early_stopping:
        split = validation_split(
            X,
            target,
            weight,
            fraction=est.validation_fraction,
            stratify=est._stratified_split(),
            seed=rng if isinstance(rng, np.random.RandomState) else int(rng.integers(2**31 - 1)),
        )
        X, target, weight = split.X, split.target, split.weight
        val = split
    n = len(X)
    labels = _labels(est, target, weight)
    batch_size = est._batch_size(n)
    optimizer = est._optimizer
    modes = _has_modes(optimizer)
    if modes:
        optimizer.train()  # y, where gradients are taken (a no-op if there already)
    order = np.arange(n)
    est.n_iter_ = 0
    for _ in range(est.max_iter):
        if est.shuffle:  # scikit-learn's utils.shuffle: the previous order, permuted
            perm = np.arange(n)
            rng.shuffle(perm)
            order = order[perm]
        accumulated = 0.0
        for start in range(0, n, batch_size):
            end = start + batch_size
            rows = order[start:end] if est.shuffle else slice(start, end)
            xb = X[rows]
            wb = None if weight is None else weight[rows]
            lb = None if labels is None else labels[rows]
            tb = target[rows]

            def closure(xb=xb, tb=tb, wb=wb, lb=lb) -> float:
                return _batch_loss(est, xb, tb, wb, lb)

            accumulated += _step(optimizer, closure) * len(xb)
        est.n_iter_ += 1
        est.loss_ = accumulated / n
        est.t_ += n
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        _update_no_improvement_count(est, val, optimizer)
        if est._solver_name() == "sgd" and est.learning_rate == "invscaling":
            _set_lr(optimizer, est.learning_rate_init / (est.t_ + 1) ** est.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if val is not None else "Training loss"
            msg = (
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs."
            )
            if _trigger_stopping(est, optimizer, msg):
                break
            est._no_improvement_count = 0
        if incremental:
            break
        if est.n_iter_ == est.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )
    if modes:
        optimizer.eval()  # x, the point the method converges to: predict evaluates there
    if val is not None:  # keep the weights of the best validation score
        np.copyto(est._model.flat, est._best_flat)
        if modes:  # the best x without its y and z: the next partial_fit starts anew there
            est._optimizer = None


def _validation_score(est: Any, val: Any, optimizer: Any) -> float:
    """The validation score, of a schedule-free solver at x (y put back exactly after)."""
    if not _has_modes(optimizer):
        return est._validation_score(val.X_val, val.target_val, val.weight_val)
    y = est._model.flat.copy()
    optimizer.eval()
    try:
        return est._validation_score(val.X_val, val.target_val, val.weight_val)
    finally:
        optimizer.train()
        np.copyto(est._model.flat, y)


def _update_no_improvement_count(est: Any, val: Any, optimizer: Any) -> None:
    if val is not None:
        score = _validation_score(est, val, optimizer)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_flat = _weights_at_x(est, optimizer)
        return
    if est.best_loss_ is None:  # trained with early stopping before, without it now
        est.best_loss_ = np.inf
    if est.loss_curve_[-1] > est.best_loss_ - est.tol:
        est._no_improvement_count += 1
    else:
        est._no_improvement_count = 0
    if est.loss_curve_[-1] < est.best_loss_:
        est.best_loss_ = est.loss_curve_[-1]


def _weights_at_x(est: Any, optimizer: Any) -> np.ndarray:
    """A copy of the flat weights; of a schedule-free solver, at x (y left in place)."""
    if not _has_modes(optimizer):
        return est._model.flat.copy()
    y = est._model.flat.copy()
    optimizer.eval()
    x = est._model.flat.copy()
    optimizer.train()
    np.copyto(est._model.flat, y)
    return x


def _set_lr(optimizer: Any, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _trigger_stopping(est: Any, optimizer: Any, msg: str) -> bool:
    """scikit-learn's rule: stop, unless SGD's 'adaptive' rate can still be divided by 5."""
    if est._solver_name() != "sgd" or est.learning_rate != "adaptive":
        if est.verbose:
            print(msg + " Stopping.")
        return True
    lr = optimizer.param_groups[0]["lr"]
    if lr <= 1e-6:
        if est.verbose:
            print(msg + " Learning rate too small. Stopping.")
        return True
    _set_lr(optimizer, lr / 5.0)
    if est.verbose:
        print(msg + f" Setting learning rate to {lr / 5.0:f}")
    return False


def fit_lbfgs(est: Any, X: np.ndarray, target: np.ndarray, weight: np.ndarray | None) -> None:
    """Full-batch L-BFGS with a strong-Wolfe line search (gdlab's ``LBFGS``), bounded by
    ``max_iter`` iterations and ``max_fun`` loss evaluations, stopping at ``tol`` on the
    largest gradient entry (scikit-learn's ``gtol``)."""
    params = list(est._model.parameters())
    opt = optim.LBFGS(
        params,
        lr=1,
        max_iter=est.max_iter,
        max_eval=est.max_fun,
        tolerance_grad=est.tol,
        tolerance_change=0.0,
        history_size=10,
        line_search_fn="strong_wolfe",
    )

    labels = _labels(est, target, weight)

    def closure() -> float:
        return _batch_loss(est, X, target, weight, labels)

    opt.step(closure)
    state = opt.state[params[0]]
    est.n_iter_ = int(state.get("n_iter", 0))
    est.loss_ = closure()
    if est.verbose:
        print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
    if est.n_iter_ >= est.max_iter or state.get("func_evals", 0) >= est.max_fun:
        limit = (
            f"max_iter={est.max_iter}"
            if est.n_iter_ >= est.max_iter
            else f"max_fun={est.max_fun} loss evaluations"
        )
        warnings.warn(
            f"lbfgs failed to converge after {est.n_iter_} iteration(s) ({limit} reached). "
            "Increase the number of iterations to improve the convergence.",
            ConvergenceWarning,
            stacklevel=4,
        )
