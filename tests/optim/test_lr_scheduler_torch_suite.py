"""torch's own scheduler tests (test/optim/test_lrscheduler.py, torch 2.13), adapted to gdlab.

Every scenario of torch's file that applies is a row: the same optimizer as torch's ``setUp``
(two param groups, the second with a *tensor* lr 0.5), the same scheduler arguments, the same
way of stepping (plain ``step()``, deprecated ``step(epoch)``, metrics for ReduceLROnPlateau,
fractional epochs for the warm restarts). The row is run on torch and on gdlab and the learning
rates (and momentum / beta1) are compared after every step; rows whose targets torch's file
writes out are also checked against those numbers. The behaviour tests below (warnings, tensor
lrs, state dicts, add_param_group) follow torch's test of the same name.

SWALR's rows (``swa_utils.SWALR``, torch's ``test_swalr_*``) switch from a first scheduler
to SWALR at ``swa_start`` as torch's ``_test_swalr``. Not adapted: torch.save/weights_only,
Dynamo and garbage-collector internals of torch's optimizer wrapping (gdlab wraps ``step`` once
per class for the hooks, never per instance; ``test_no_cyclic_references`` is kept).
"""

from __future__ import annotations

import copy
import gc
import math
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdlab  # noqa: E402
from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402
from gdlab.optim import lr_scheduler as gd_sched  # noqa: E402

FLOAT32_RTOL = 1e-6  # the tensor lr is float32 in both libraries; torch computes it in float32
TORCH_ATOL = 1e-5  # the tolerance of torch's own assertions on the written-out targets


class Lib(NamedTuple):
    """One library's names, so a row is written once for torch and gdlab."""

    sched: Any
    optim: Any
    tensor: Callable[..., Any]
    param: Callable[[int], Any]
    swa: Any = None  # the swa_utils module (SWALR)


GD = Lib(
    gd_sched, optim, gdlab.tensor, lambda n: Parameter(np.zeros(n, np.float32)), optim.swa_utils
)
TH = Lib(
    torch.optim.lr_scheduler,
    torch.optim,
    torch.tensor,
    lambda n: torch.nn.Parameter(torch.zeros(n)),
    torch.optim.swa_utils,
)


def setup(L: Lib, opt: str = "SGD") -> Any:
    """torch's ``setUp``: conv1 (weight, bias) at lr 0.05, conv2 at ``tensor(0.5)``."""
    groups = [
        {"params": [L.param(1), L.param(1)]},
        {"params": [L.param(1), L.param(1)], "lr": L.tensor(0.5)},
    ]
    return getattr(L.optim, opt)(groups, lr=0.05)


class Row(NamedTuple):
    name: str
    make: Callable[[Lib, Any], Any]  # (library, optimizer) -> a scheduler or a list of them
    epochs: int
    drive: str = "step"  # step | epoch | const_epoch | plateau | cycle | fractional | epochs
    lr: float | None = None  # torch's tests that first set every group's lr to this float
    metrics: tuple[float, ...] = ()
    opt: str = "SGD"
    epoch_list: tuple[float, ...] = ()
    targets: tuple[tuple[float, ...], ...] = ()  # group 0's lrs, written out in torch's file
    swa_start: int = 0  # drive "swa": the epoch SWALR (the last scheduler) takes over


def _cos(lr: float, t: float, t_max: float, eta_min: float = 1e-10) -> float:
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def _cawr_epochs(t_mult: int) -> tuple[float, ...]:
    return tuple(
        {
            1: [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13],
            2: [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3],
            3: [0, 0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50],
        }[t_mult]
    )


def _plateau(**kw: Any) -> Callable[[Lib, Any], Any]:
    return lambda L, o: L.sched.ReduceLROnPlateau(o, **kw)


def _compound_plateau(other: Callable[[Lib, Any], Any], **kw: Any) -> Callable[[Lib, Any], Any]:
    return lambda L, o: [L.sched.ReduceLROnPlateau(o, **kw), other(L, o)]


M1 = tuple(10 - i * 0.0167 for i in range(20))
M2 = tuple(10 - i * 0.0165 for i in range(22))
M3 = (-0.8,) * 2 + (-0.234,) * 20
M4 = tuple(1.5 * 1.025**i for i in range(20))
M5 = tuple(1.5 * 1.005**i for i in range(20))
M6 = tuple(1.5 * 0.85**i for i in range(20))
M7 = (1.0,) * 7 + (0.6,) + (0.5,) * 12
P_ABS = {"threshold_mode": "abs", "mode": "min"}
TRI = {"base_lr": 1, "max_lr": 5, "step_size_up": 4}
MOM = {"cycle_momentum": True, "base_momentum": 1, "max_momentum": 5}
ONE = {"max_lr": 25, "base_momentum": 1, "max_momentum": 22, "total_steps": 10}

ROWS = [
    # -------------------------------------------------------------- decays, step()
    Row("step_lr", lambda L, o: L.sched.StepLR(o, gamma=0.1, step_size=3), 10,
        targets=((0.05,) * 3 + (0.005,) * 3 + (0.0005,) * 3 + (0.00005,),)),
    Row("multi_step_lr", lambda L, o: L.sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
        10, targets=((0.05,) * 2 + (0.005,) * 3 + (0.0005,) * 4 + (0.00005,),)),
    Row("constantlr", lambda L, o: L.sched.ConstantLR(o, factor=1.0 / 2, total_iters=5), 10,
        targets=((0.025,) * 5 + (0.05,) * 5,)),
    Row("linearlr", lambda L, o: L.sched.LinearLR(o, start_factor=0.5, total_iters=4), 10,
        targets=((0.025, 0.03125, 0.0375, 0.04375) + (0.05,) * 6,)),
    Row("linearlr_end", lambda L, o: L.sched.LinearLR(o, 0.25, 0.6, total_iters=4), 10),
    Row("exp_lr", lambda L, o: L.sched.ExponentialLR(o, gamma=0.9), 10,
        targets=(tuple(0.05 * 0.9**x for x in range(10)),)),
    Row("poly_lr", lambda L, o: L.sched.PolynomialLR(o, power=0.9, total_iters=5), 10,
        targets=(tuple((1.0 - x / 5) ** 0.9 * 0.05 for x in range(5)) + (0.0,) * 5,)),
    Row("cos_anneal_lr", lambda L, o: L.sched.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        10, targets=(tuple(_cos(0.05, x, 10) for x in range(10)),)),
    Row("lambda_lr", lambda L, o: L.sched.LambdaLR(o, [lambda e: 0.9**e, lambda e: 0.8**e]),
        10, targets=(tuple(0.05 * 0.9**x for x in range(10)),)),
    Row("multiplicative_lr",
        lambda L, o: L.sched.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 0.8]), 10,
        targets=(tuple(0.05 * 0.9**x for x in range(10)),)),
    # --------------------------------------------- step(epoch): closed forms, deprecated
    Row("multi_step_lr_with_epoch",
        lambda L, o: L.sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]), 10, "epoch"),
    Row("constantlr_with_epoch", lambda L, o: L.sched.ConstantLR(o, 0.5, total_iters=5), 10,
        "epoch"),
    Row("linearlr_with_epoch", lambda L, o: L.sched.LinearLR(o, 0.5, 1.0, total_iters=4), 10,
        "epoch"),
    Row("closed_form_step_lr", lambda L, o: L.sched.StepLR(o, gamma=0.1, step_size=3), 20,
        "epoch"),
    Row("closed_form_linearlr", lambda L, o: L.sched.LinearLR(o, 1.0 / 3, 0.7, total_iters=4),
        20, "epoch"),
    Row("closed_form_constantlr", lambda L, o: L.sched.ConstantLR(o, 1.0 / 3, total_iters=4),
        20, "epoch"),
    Row("closed_form_exp_lr", lambda L, o: L.sched.ExponentialLR(o, gamma=0.9), 20, "epoch"),
    Row("closed_form_poly_lr", lambda L, o: L.sched.PolynomialLR(o, power=0.9), 20, "epoch"),
    Row("closed_form_cos_anneal_lr",
        lambda L, o: L.sched.CosineAnnealingLR(o, T_max=5, eta_min=1e-10), 20, "epoch"),
    Row("step_lr_constant_epoch", lambda L, o: L.sched.StepLR(o, 2), 10, "const_epoch"),
    Row("exponential_lr_constant_epoch", lambda L, o: L.sched.ExponentialLR(o, gamma=0.9), 10,
        "const_epoch"),
    Row("constantlr_constant_epoch", lambda L, o: L.sched.ConstantLR(o), 10, "const_epoch"),
    Row("linearlr_constant_epoch", lambda L, o: L.sched.LinearLR(o), 10, "const_epoch"),
    Row("polynomial_lr_constant_epoch", lambda L, o: L.sched.PolynomialLR(o, power=0.9), 10,
        "const_epoch"),
    # ------------------------------------------------------------ ReduceLROnPlateau
    Row("reduce_lr_on_plateau1", _plateau(threshold=0.01, patience=5, cooldown=5, **P_ABS), 10,
        "plateau", 0.5, M1, targets=((0.5,) * 10,)),
    Row("reduce_lr_on_plateau2", _plateau(patience=5, cooldown=0, threshold=0.1, **P_ABS), 22,
        "plateau", 0.5, M2, targets=((0.5,) * 6 + (0.05,) * 7 + (0.005,) * 7 + (0.0005,) * 2,)),
    Row("reduce_lr_on_plateau3",
        _plateau(mode="max", patience=5, cooldown=5, threshold_mode="abs"), 22, "plateau", 0.5,
        M3, targets=((0.5,) * 8 + (0.05,) * 11 + (0.005,) * 3,)),
    Row("reduce_lr_on_plateau4",
        _plateau(mode="max", patience=3, threshold_mode="rel", threshold=0.1), 20, "plateau",
        0.5, M4, targets=((0.5,) * 20,)),
    Row("reduce_lr_on_plateau5", _plateau(mode="max", threshold_mode="rel", threshold=0.1,
                                          patience=5, cooldown=5), 20, "plateau", 0.5, M5,
        targets=((0.5,) * 6 + (0.05,) * 11 + (0.005,) * 3,)),
    Row("reduce_lr_on_plateau6", _plateau(mode="min", threshold_mode="rel", threshold=0.1), 20,
        "plateau", 0.5, M6, targets=((0.5,) * 20,)),
    Row("reduce_lr_on_plateau7", _plateau(mode="min", threshold_mode="rel", threshold=0.1,
                                          patience=5, cooldown=5), 20, "plateau", 0.5, M7,
        targets=((0.5,) * 6 + (0.05,) * 11 + (0.005,) * 3,)),
    Row("reduce_lr_on_plateau8", _plateau(mode="max", threshold_mode="rel", min_lr=[0.4, 0.3],
                                          threshold=0.1, patience=5, cooldown=5), 20,
        "plateau", 0.5, M5, targets=((0.5,) * 6 + (0.4,) * 14,)),
    # -------------------------------------------------------- sequential and chained
    Row("sequentiallr1", lambda L, o: L.sched.SequentialLR(
        o, [L.sched.ExponentialLR(o, gamma=0.8), L.sched.StepLR(o, gamma=0.1, step_size=4)],
        milestones=[3]), 19,
        targets=((0.05, 0.04, 0.032) + (0.05,) * 4 + (0.005,) * 4 + (0.0005,) * 4
                 + (0.00005,) * 4,)),
    Row("sequentiallr2", lambda L, o: L.sched.SequentialLR(
        o, [L.sched.ConstantLR(o, factor=0.1, total_iters=3), L.sched.ExponentialLR(o, 0.9)],
        milestones=[3]), 13, targets=((0.005,) * 3 + tuple(0.05 * 0.9**x for x in range(10)),)),
    Row("sequentiallr3", lambda L, o: L.sched.SequentialLR(
        o, [L.sched.ConstantLR(o, factor=0.1, total_iters=3), L.sched.ExponentialLR(o, 0.8),
            L.sched.StepLR(o, gamma=0.1, step_size=2)], milestones=[3, 6]), 12,
        targets=((0.005,) * 3 + (0.05, 0.04, 0.032, 0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005),)),
    Row("sequentiallr5_chained", lambda L, o: L.sched.SequentialLR(
        o, [L.sched.ChainedScheduler([L.sched.LinearLR(o, start_factor=0.1, total_iters=5),
                                      L.sched.ConstantLR(o, factor=0.1, total_iters=5)]),
            L.sched.ConstantLR(o, factor=0.5, total_iters=5)], milestones=[5]), 10,
        targets=((0.0005, 0.0014, 0.0023, 0.0032, 0.0041) + (0.025,) * 5,)),
    Row("chained_lr1", lambda L, o: L.sched.ChainedScheduler([L.sched.StepLR(o, 3, 0.1)]), 10,
        targets=((0.05,) * 3 + (0.005,) * 3 + (0.0005,) * 3 + (0.00005,),)),
    Row("chained_lr2", lambda L, o: L.sched.ChainedScheduler(
        [L.sched.LinearLR(o, start_factor=0.4, total_iters=3)]), 10,
        targets=((0.02, 0.03, 0.04) + (0.05,) * 7,)),
    Row("chained_lr3", lambda L, o: L.sched.ChainedScheduler(
        [L.sched.LinearLR(o, start_factor=0.4, total_iters=3),
         L.sched.MultiStepLR(o, milestones=[4, 8, 10], gamma=0.1)]), 10,
        targets=((0.02, 0.03, 0.04, 0.05) + (0.005,) * 4 + (0.0005,) * 2,)),
    Row("chained_lr4", lambda L, o: L.sched.ChainedScheduler(
        [L.sched.ExponentialLR(o, gamma=0.9), L.sched.ConstantLR(o, factor=0.2, total_iters=4),
         L.sched.StepLR(o, gamma=0.1, step_size=3)]), 9),
    Row("chained_lr5", lambda L, o: L.sched.ChainedScheduler(
        [L.sched.PolynomialLR(o, power=0.9, total_iters=5), L.sched.ConstantLR(o, factor=0.1)]),
        10),
    Row("compound_step_and_multistep_lr", lambda L, o: [
        L.sched.StepLR(o, gamma=0.1, step_size=3),
        L.sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])], 10,
        targets=((0.05,) * 2 + (0.005,) + (5e-4,) * 2 + (5e-5,) + (5e-6,) * 3 + (5e-8,),)),
    Row("compound_step_and_exp_lr", lambda L, o: [
        L.sched.StepLR(o, gamma=0.1, step_size=3), L.sched.ExponentialLR(o, gamma=0.9)], 10),
    Row("compound_exp_and_multistep_lr", lambda L, o: [
        L.sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
        L.sched.ExponentialLR(o, gamma=0.9)], 10),
    Row("compound_exp_and_linearlr", lambda L, o: [
        L.sched.LinearLR(o, start_factor=0.4, end_factor=0.9, total_iters=4),
        L.sched.ExponentialLR(o, gamma=0.9)], 10),
    Row("compound_step_and_constantlr", lambda L, o: [
        L.sched.StepLR(o, gamma=0.1, step_size=3),
        L.sched.ConstantLR(o, factor=0.4, total_iters=4)], 10),
    Row("compound_linearlr_and_multistep_lr", lambda L, o: [
        L.sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
        L.sched.LinearLR(o, start_factor=0.4, total_iters=4)], 10),
    Row("compound_cosanneal_and_step_lr", lambda L, o: [
        L.sched.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        L.sched.StepLR(o, gamma=0.1, step_size=3)], 10),
    Row("compound_cosanneal_and_multistep_lr", lambda L, o: [
        L.sched.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        L.sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])], 10),
    Row("compound_cosanneal_and_linearlr", lambda L, o: [
        L.sched.LinearLR(o, start_factor=0.4, total_iters=4),
        L.sched.CosineAnnealingLR(o, T_max=10, eta_min=1e-10)], 10),
    Row("compound_cosanneal_and_exp_lr", lambda L, o: [
        L.sched.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        L.sched.ExponentialLR(o, gamma=0.1)], 10),
    Row("compound_reduce_lr_on_plateau1", _compound_plateau(
        lambda L, o: L.sched.StepLR(o, gamma=0.1, step_size=3),
        threshold=0.01, patience=5, cooldown=5, **P_ABS), 10, "plateau", 0.5, M1),
    Row("compound_reduce_lr_on_plateau2", _compound_plateau(
        lambda L, o: L.sched.MultiStepLR(o, gamma=0.1, milestones=[3, 8, 12]),
        patience=5, cooldown=0, threshold=0.1, **P_ABS), 22, "plateau", 0.5, M2),
    Row("compound_reduce_lr_on_plateau3", _compound_plateau(
        lambda L, o: L.sched.ExponentialLR(o, gamma=0.1),
        mode="max", patience=5, cooldown=5, threshold_mode="abs"), 22, "plateau", 0.5, M3),
    Row("compound_reduce_lr_on_plateau4", _compound_plateau(
        lambda L, o: L.sched.CosineAnnealingLR(o, 10, 1e-10),
        mode="max", patience=3, threshold_mode="rel", threshold=0.1), 10, "plateau", 0.05, M4),
    Row("compound_reduce_lr_on_plateau5", _compound_plateau(
        lambda L, o: L.sched.LinearLR(o, start_factor=0.4, total_iters=4),
        patience=5, cooldown=0, threshold=0.1, **P_ABS), 22, "plateau", 0.5, M2),
    # ------------------------------------------------------------ cyclic schedules
    Row("cycle_lr_triangular_mode_one_lr", lambda L, o: L.sched.CyclicLR(o, **TRI, **MOM), 11,
        "cycle", targets=((1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3),)),
    Row("cycle_lr_triangular_mode_one_lr_no_momentum",
        lambda L, o: L.sched.CyclicLR(o, **TRI, cycle_momentum=False), 11, "cycle"),
    Row("cycle_lr_triangular2_mode_one_lr",
        lambda L, o: L.sched.CyclicLR(o, **TRI, **MOM, mode="triangular2"), 22, "cycle",
        targets=((1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.5,
                  1.75, 2.0, 1.75),)),
    Row("cycle_lr_exp_range_mode_one_lr",
        lambda L, o: L.sched.CyclicLR(o, **TRI, **MOM, mode="exp_range", gamma=0.9), 13,
        "cycle"),
    Row("cycle_lr_triangular_mode", lambda L, o: L.sched.CyclicLR(
        o, base_lr=[1, 2], max_lr=[5, 6], step_size_up=4, base_momentum=[1, 2],
        max_momentum=[5, 6]), 11, "cycle"),
    Row("cycle_lr_triangular2_mode", lambda L, o: L.sched.CyclicLR(
        o, base_lr=[1, 3], max_lr=[5, 7], step_size_up=4, base_momentum=[1, 3],
        max_momentum=[5, 7], mode="triangular2"), 22, "cycle"),
    Row("cycle_lr_exp_range_mode", lambda L, o: L.sched.CyclicLR(
        o, base_lr=[1, 5], max_lr=[5, 12], step_size_up=4, base_momentum=[1, 5],
        max_momentum=[5, 12], mode="exp_range", gamma=0.9), 13, "cycle"),
    Row("cycle_lr_triangular_mode_step_size_up_down", lambda L, o: L.sched.CyclicLR(
        o, **TRI, step_size_down=6, **MOM), 11, "cycle"),
    Row("cycle_lr_triangular2_mode_step_size_up_down", lambda L, o: L.sched.CyclicLR(
        o, base_lr=[1, 3], max_lr=[5, 7], step_size_up=2, step_size_down=6,
        base_momentum=[1, 3], max_momentum=[5, 7], mode="triangular2"), 24, "cycle"),
    Row("cycle_lr_exp_range_mode_step_size_up_down", lambda L, o: L.sched.CyclicLR(
        o, base_lr=1, max_lr=5, step_size_up=2, step_size_down=6, **MOM, mode="exp_range",
        gamma=0.9), 13, "cycle"),
    Row("cycle_lr_with_momentumless_optimizer",
        lambda L, o: L.sched.CyclicLR(o, **TRI, cycle_momentum=False), 11, "cycle",
        opt="Adam"),
    Row("onecycle_lr_linear_annealing", lambda L, o: L.sched.OneCycleLR(
        o, **ONE, final_div_factor=2, anneal_strategy="linear"), 10, "cycle",
        targets=((1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5),)),
    Row("onecycle_lr_linear_annealing_three_phases", lambda L, o: L.sched.OneCycleLR(
        o, **ONE, div_factor=25, anneal_strategy="linear", pct_start=0.4, final_div_factor=4,
        three_phase=True), 10, "cycle", targets=((1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25),)),
    Row("onecycle_lr_cosine_annealing",
        lambda L, o: L.sched.OneCycleLR(o, **ONE, final_div_factor=2), 10, "cycle"),
    Row("cycle_lr_with_adam", lambda L, o: L.sched.OneCycleLR(
        o, **ONE, final_div_factor=2, anneal_strategy="linear"), 10, "cycle", opt="Adam"),
    # ------------------------------------------------------- SWALR (torch's _test_swalr)
    Row("swalr_no_anneal", lambda L, o: [L.swa.SWALR(o, anneal_epochs=1, swa_lr=0.01)], 10,
        "swa", swa_start=5, targets=((0.05,) * 6 + (0.01,) * 4,)),
    Row("swalr_cosine_anneal_after_multiplicative", lambda L, o: [
        L.sched.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.9),
        L.swa.SWALR(o, anneal_epochs=5, swa_lr=0.01)], 15, "swa", swa_start=5),
    Row("swalr_linear_anneal_after_multiplicative", lambda L, o: [
        L.sched.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.9),
        L.swa.SWALR(o, anneal_epochs=4, anneal_strategy="linear", swa_lr=[0.01, 0.02])], 15,
        "swa", swa_start=5),
    Row("swalr_zero_anneal_epochs", lambda L, o: [L.swa.SWALR(o, 0.2, anneal_epochs=0)], 6,
        "swa", swa_start=2),
    Row("swalr_cosine_from_the_start", lambda L, o: [L.swa.SWALR(o, 0.3, anneal_epochs=7)], 10,
        "swa"),
    # ------------------------------------------------------------------ warm restarts
    *[Row(f"CosineAnnealingWarmRestarts_lr1_T_mult{m}",
          lambda L, o, m=m: L.sched.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=m,
                                                                eta_min=1e-10), 100)
      for m in (1, 2, 4)],
    *[Row(f"CosineAnnealingWarmRestarts_lr2_T_mult{m}",
          lambda L, o, m=m: L.sched.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=m,
                                                                eta_min=1e-10), 30, "fractional")
      for m in (1, 2, 4)],
    *[Row(f"CosineAnnealingWarmRestarts_lr3_T_mult{m}",
          lambda L, o, m=m: L.sched.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=m,
                                                                eta_min=1e-10), 0, "epochs",
          epoch_list=_cawr_epochs(m))
      for m in (1, 2, 3)],
]  # fmt: skip


def _momentum(group: dict[str, Any]) -> float | None:
    if "betas" in group:
        return float(group["betas"][0])
    return float(group["momentum"]) if "momentum" in group else None


def _snapshot(opt: Any) -> list[tuple[float, float | None]]:
    return [(float(g["lr"]), _momentum(g)) for g in opt.param_groups]


def run(L: Lib, row: Row) -> tuple[list[list[tuple[float, float | None]]], list[str]]:
    """The row on one library: the groups' (lr, momentum) after each step, and the warnings."""
    opt = setup(L, row.opt)
    if row.lr is not None:
        for g in opt.param_groups:
            g["lr"] = row.lr
    trace = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = row.make(L, opt)  # construction warnings count too
        scheds = made if isinstance(made, list) else [made]
        if row.drive in ("step", "cycle"):
            for _ in range(row.epochs):
                trace.append(_snapshot(opt))  # torch's _test / _test_cycle_lr: check, then step
                opt.step()
                for s in scheds:
                    s.step()
        elif row.drive in ("epoch", "const_epoch"):
            for epoch in range(row.epochs):
                opt.step()
                for s in scheds:
                    s.step(2 if row.drive == "const_epoch" else epoch)
                trace.append(_snapshot(opt))
        elif row.drive == "plateau":
            for epoch in range(row.epochs):
                opt.step()
                for s in scheds:
                    is_plateau = isinstance(s, L.sched.ReduceLROnPlateau)
                    s.step(row.metrics[epoch]) if is_plateau else s.step()
                trace.append(_snapshot(opt))
        elif row.drive == "swa":  # torch's _test_swalr: check, then step
            for epoch in range(row.epochs):
                trace.append(_snapshot(opt))
                if epoch >= row.swa_start:
                    opt.step()
                    scheds[-1].step()
                elif len(scheds) > 1:
                    scheds[0].step()
        else:  # the warm restarts stepped with (fractional) epochs
            epochs = row.epoch_list or [round(0.1 * i, 1) for i in range(10 * row.epochs)]
            for epoch in epochs:
                scheds[0].step(epoch)
                trace.append(_snapshot(opt))
    return trace, [str(w.message) for w in caught]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_scheduler_row_matches_torch(row):
    got, got_warnings = run(GD, row)
    want, want_warnings = run(TH, row)
    assert len(got) == len(want) > 0
    for step, (g_groups, w_groups) in enumerate(zip(got, want, strict=True)):
        for i, ((g_lr, g_mom), (w_lr, w_mom)) in enumerate(zip(g_groups, w_groups, strict=True)):
            where = f"{row.name}: step {step}, group {i}"
            np.testing.assert_allclose(g_lr, w_lr, rtol=FLOAT32_RTOL, atol=1e-12, err_msg=where)
            if w_mom is None:
                assert g_mom is None, where
            else:
                np.testing.assert_allclose(g_mom, w_mom, rtol=1e-12, atol=1e-12, err_msg=where)
    assert got_warnings == want_warnings  # the same deprecation and order warnings
    for target in row.targets:  # the numbers torch's file writes out, for group 0
        np.testing.assert_allclose([s[0][0] for s in got], target, rtol=0, atol=TORCH_ATOL)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"anneal_strategy": "exponential", "swa_lr": 1.0}, "anneal_strategy must"),
        ({"anneal_epochs": -1, "swa_lr": 1.0}, "anneal_epochs must"),
        ({"anneal_epochs": 1.7, "swa_lr": 1.0}, "anneal_epochs must"),
        ({"swa_lr": [1.0, 0.1, 0.01]}, "swa_lr must"),
    ],
)
def test_swalr_hypers(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.swa_utils.SWALR(setup(GD), **kwargs)


def test_tensor_lr_stays_a_tensor_filled_in_place():
    opt = setup(GD)
    lr = opt.param_groups[1]["lr"]
    sched = gd_sched.StepLR(opt, gamma=0.1, step_size=1)
    opt.step()
    sched.step()
    assert opt.param_groups[1]["lr"] is lr and isinstance(lr, gdlab.Tensor)
    assert float(lr) == pytest.approx(0.05, rel=FLOAT32_RTOL)
    last = sched.get_last_lr()[1]
    assert isinstance(last, gdlab.Tensor) and last is not lr  # a copy, as torch's
    assert isinstance(opt.param_groups[1]["initial_lr"], gdlab.Tensor)
    assert opt.param_groups[1]["initial_lr"] is not lr


@pytest.mark.parametrize(
    "lr, exc, msg",
    [
        (gdlab.tensor([0.1, 0.2]), ValueError, "Tensor lr must be 1-element"),
        (gdlab.tensor(-0.1), ValueError, "Invalid learning rate"),
    ],
)
def test_bad_tensor_lr(lr, exc, msg):
    with pytest.raises(exc, match=msg):
        optim.SGD([Parameter(np.zeros(1))], lr=lr)


def test_tensor_betas_step_like_floats():
    def run_adam(betas):
        p = Parameter(np.array([1.0, -2.0]))
        opt = optim.Adam([p], lr=0.1, betas=betas)
        for _ in range(3):
            p.grad = np.array([0.5, 0.25])
            opt.step()
        return p.data

    tensors = (gdlab.tensor(0.9, dtype=np.float64), gdlab.tensor(0.999, dtype=np.float64))
    np.testing.assert_array_equal(run_adam(tensors), run_adam((0.9, 0.999)))


def test_error_when_getlr_has_epoch():
    class MultiStepLR(gd_sched.LRScheduler):
        def __init__(self, optimizer, gamma, milestones, last_epoch=-1):
            self.init_lr = [group["lr"] for group in optimizer.param_groups]
            self.gamma, self.milestones = gamma, milestones
            super().__init__(optimizer, last_epoch)

        def get_lr(self, step):
            return self.init_lr

    with pytest.raises(TypeError):
        MultiStepLR(optim.SGD([Parameter(np.zeros(1))], lr=1), gamma=1, milestones=[10, 20])


def test_no_cyclic_references():
    param = Parameter(np.zeros(10))
    opt = optim.SGD([param], lr=0.5)
    scheduler = gd_sched.LambdaLR(opt, lambda epoch: 1.0)
    del scheduler
    assert len(gc.get_referrers(opt)) == 0
    gc.collect()
    del opt
    assert gc.collect() == 0


def test_no_cyclic_references_in_step():
    def run_once():
        param = Parameter(np.zeros(10))
        opt = optim.SGD([param], lr=0.5)
        scheduler = gd_sched.LambdaLR(opt, lambda epoch: 1.0)
        param.grad = np.ones(10)
        opt.step()
        scheduler.step()
        return weakref.ref(scheduler)

    gc.disable()
    try:
        assert run_once()() is None
    finally:
        gc.enable()


def _steps(opt, sched, order: str, epochs: int = 35) -> None:
    for _ in range(epochs):
        if order == "old":
            sched.step()
            opt.step()
        else:
            opt.step()
            sched.step()


def _override_step(opt) -> None:
    old_step = opt.step

    def new_step(o, *args, **kwargs):
        return old_step(*args, **kwargs)

    opt.step = types.MethodType(new_step, opt)


@pytest.mark.parametrize("resuming", [False, True])
def test_old_pattern_warning(resuming):
    opt = setup(GD)
    if resuming:
        for group in opt.param_groups:
            group["initial_lr"] = 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at construction
        sched = gd_sched.StepLR(opt, gamma=0.1, step_size=3, last_epoch=10 if resuming else -1)
    with pytest.warns(UserWarning, match="how-to-adjust-learning-rate"):
        _steps(opt, sched, "old")


def test_old_pattern_warning_with_overridden_optim_step():
    opt = setup(GD)
    for group in opt.param_groups:
        group["initial_lr"] = 0.01
    sched = gd_sched.StepLR(opt, gamma=0.1, step_size=3, last_epoch=10)
    _override_step(opt)
    with pytest.warns(UserWarning, match="how-to-adjust-learning-rate"):
        _steps(opt, sched, "old")


def test_new_pattern_no_warning():
    opt = setup(GD)
    sched = gd_sched.StepLR(opt, gamma=0.1, step_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _steps(opt, sched, "new")


def test_new_pattern_no_warning_with_optim_step_overridden_before_the_scheduler():
    opt = setup(GD)
    _override_step(opt)  # torch wraps the override; gdlab's Optimizer.step records the call
    sched = gd_sched.StepLR(opt, gamma=0.1, step_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _steps(opt, sched, "new")


def test_new_pattern_warning_with_overridden_optim_step():
    opt = setup(GD)
    sched = gd_sched.StepLR(opt, gamma=0.1, step_size=3)
    _override_step(opt)
    with pytest.warns(UserWarning, match=r"`optimizer.step\(\)` has been overridden"):
        _steps(opt, sched, "new")


def test_epoch_deprecation_warning_is_torchs():
    assert gd_sched.EPOCH_DEPRECATION_WARNING == torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING
    opt = setup(GD)
    sched = gd_sched.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning) as record:
        sched.step(1.0, epoch=3)
    assert [str(w.message) for w in record] == [gd_sched.EPOCH_DEPRECATION_WARNING]
    assert sched.last_epoch == 3


def test_raise_error_when_last_epoch_is_greater_than_0_and_initial_lr_is_not_specified():
    opt = optim.SGD([Parameter(np.zeros((2, 2)))], 0.1)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        gd_sched.StepLR(opt, step_size=3, gamma=0.1, last_epoch=1)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: gd_sched.LinearLR(o, start_factor=0.0, total_iters=4),
        lambda o: gd_sched.LinearLR(o, start_factor=1.1, total_iters=4),
        lambda o: gd_sched.CyclicLR(o, base_lr=0, max_lr=0, mode="CATS"),
        lambda o: gd_sched.CyclicLR(optim.Rprop(o.param_groups[0]["params"]), 1, 5),
        lambda o: gd_sched.OneCycleLR(o, max_lr=1e-3, total_steps=10, anneal_strategy="CATS"),
        lambda o: gd_sched.OneCycleLR(o, max_lr=1e-3, total_steps=10, pct_start=1.1),
        lambda o: gd_sched.OneCycleLR(o, max_lr=1e-3),
    ],
    ids=["linear_start0", "linear_start1.1", "cycle_mode", "cycle_rprop", "onecycle_anneal",
         "onecycle_pct", "onecycle_total"],
)  # fmt: skip
def test_invalid_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make(setup(GD))


def test_cycle_lr_cycle_momentum_with_beta1_optimizer():
    opt = optim.Adam([Parameter(np.zeros(2))])
    gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=True)
    assert opt.param_groups[0]["betas"][0] == 0.9  # max_momentum


def test_multiplicative_lr_with_lr_lambda():
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        gd_sched.MultiplicativeLR(setup(GD), 0.95)
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        gd_sched.MultiplicativeLR(setup(GD), [0.95, 0.95])


def test_cos_anneal_lr_continue():
    opt = setup(GD)
    sched = gd_sched.CosineAnnealingLR(opt, T_max=5, eta_min=0.1)
    opt.step()
    sched.step()
    new = gd_sched.CosineAnnealingLR(opt, T_max=5, eta_min=0.1, last_epoch=0)
    np.testing.assert_allclose(
        [float(x) for x in sched.get_last_lr()],
        [float(x) for x in new.get_last_lr()],
        rtol=1e-4,
        atol=1e-5,
    )


def test_CosineAnnealingWarmRestarts_T_cur_reset():
    sch = gd_sched.CosineAnnealingWarmRestarts(setup(GD), T_0=4)
    for epoch in [7, 8, 9]:
        sch.T_cur = epoch
        sch.step()
        assert sch.T_cur == (epoch + 1) % sch.T_0


def test_reduce_lr_on_plateau_get_last_lr_before_step_and_lr_type():
    opt = setup(GD)
    types_before = [type(g["lr"]) for g in opt.param_groups]
    sched = gd_sched.ReduceLROnPlateau(opt, mode="min", patience=0)
    assert [float(x) for x in sched.get_last_lr()] == [0.05, 0.5]
    sched.step(1.0)
    sched.step(2.0)  # reduces
    assert [type(g["lr"]) for g in opt.param_groups] == types_before
    np.testing.assert_allclose([float(g["lr"]) for g in opt.param_groups], [0.005, 0.05], 1e-6)


@pytest.mark.parametrize("min_lr", ["scalar", "list"])
def test_add_param_group_does_not_break_reduce_lr_on_plateau(min_lr):
    opt = setup(GD)
    for group in opt.param_groups:
        group["lr"] = 0.5
    targets = [0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4
    sched = gd_sched.ReduceLROnPlateau(
        opt, mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5,
        min_lr=0 if min_lr == "scalar" else [1e-5, 1e-4],
    )  # fmt: skip
    for epoch in range(20):
        if epoch == 8:  # pytorch#104361
            opt.add_param_group({"params": [Parameter(np.zeros((2, 3)))], "lr": 0.05})
            if min_lr == "list":
                sched.min_lrs.append(1e-6)
        opt.step()
        sched.step(M7[epoch])
        assert opt.param_groups[0]["lr"] == pytest.approx(targets[epoch], abs=TORCH_ATOL)
    assert len(sched.min_lrs) == 3


def test_add_param_group_errors_reduce_lr_on_plateau():
    opt = setup(GD)
    sched = gd_sched.ReduceLROnPlateau(
        opt, mode="min", threshold_mode="rel", threshold=1e-5, patience=0, cooldown=0,
        min_lr=[1e-5, 1e-4],
    )  # fmt: skip
    opt.add_param_group({"params": [Parameter(np.zeros((2, 3)))], "lr": 0.05})
    opt.step()
    sched.step(1)
    with pytest.raises(RuntimeError, match="The number of param groups in the"):
        opt.step()
        sched.step(1.3)


def test_sequentiallr4_keeps_the_initial_lr():
    opt = optim.SGD([Parameter(np.zeros(1))], lr=0.1)
    schedulers = [gd_sched.ConstantLR(opt, factor=1), gd_sched.ConstantLR(opt, factor=0.1)]
    gd_sched.SequentialLR(opt, schedulers, milestones=[10])
    assert opt.param_groups[0]["lr"] == 0.1


def test_sequentiallr_no_warnings():
    opt = setup(GD)
    s1 = gd_sched.LinearLR(opt, start_factor=0.5, end_factor=0.1, total_iters=5)
    sched = gd_sched.SequentialLR(opt, [s1, gd_sched.ExponentialLR(opt, 0.9)], milestones=[5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _steps(opt, sched, "new", epochs=10)


def test_sequentiallr_does_not_alias_lr_and_initial_lr():
    opt = optim.SGD([Parameter(np.zeros(1, np.float32))], lr=gdlab.tensor(2.0))
    schedulers = [gd_sched.LinearLR(opt, 0.1, 0.8, total_iters=4),
                  gd_sched.LinearLR(opt, 0.8, 0.1, total_iters=4)]  # fmt: skip
    sched = gd_sched.SequentialLR(opt, schedulers, milestones=[4])
    lrs = []
    for _ in range(8):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, [0.2, 0.55, 0.9, 1.25, 1.6, 1.25, 0.9, 0.55], atol=TORCH_ATOL)


def test_chained_get_last_lr_is_the_last_schedulers():
    opt = setup(GD)
    schedulers = [gd_sched.LinearLR(opt, start_factor=0.4, total_iters=3),
                  gd_sched.MultiStepLR(opt, milestones=[4, 8, 10], gamma=0.1)]  # fmt: skip
    sched = gd_sched.ChainedScheduler(schedulers)
    for _ in range(5):
        assert [float(x) for x in sched.get_last_lr()] == [
            float(x) for x in schedulers[-1].get_last_lr()
        ]
        opt.step()
        sched.step()


def test_cosine_then_cyclic():
    """pytorch#21965: CyclicLR after CosineAnnealingLR stays below max_lr."""
    opt = optim.SGD([Parameter(np.zeros(2))], lr=0.5)
    first = gd_sched.CosineAnnealingLR(opt, T_max=20, eta_min=0.1)
    second = gd_sched.CyclicLR(opt, base_lr=0.1, max_lr=0.3, step_size_up=1, step_size_down=3)
    for i in range(40):
        opt.step()
        (first if i <= first.T_max else second).step()
    assert opt.param_groups[0]["lr"] <= 0.3


def test_cycle_lr_exposes_torchs_attributes():
    opt = optim.SGD([Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    sched = gd_sched.CyclicLR(opt, 0.1, 1.0, step_size_up=3, step_size_down=5, mode="exp_range",
                              gamma=0.5)  # fmt: skip
    t_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    t_sched = torch.optim.lr_scheduler.CyclicLR(
        t_opt, 0.1, 1.0, step_size_up=3, step_size_down=5, mode="exp_range", gamma=0.5
    )
    for name in ("mode", "gamma", "scale_mode", "total_size", "step_ratio", "cycle_momentum",
                 "use_beta1", "base_lrs", "max_lrs", "base_momentums", "max_momentums",
                 "last_epoch", "_scale_fn_custom"):  # fmt: skip
        assert getattr(sched, name) == getattr(t_sched, name), name
    assert sched.scale_fn(3) == t_sched.scale_fn(3) == 0.125


def test_cycle_lr_state_dict_and_scale_fn_restored():
    opt = optim.Adam([Parameter(np.zeros(2))])
    sched = gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=False, mode="triangular2")
    state = sched.state_dict()
    assert state["_scale_fn_custom"] is None and "optimizer" not in state
    restored = gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=False)
    restored.load_state_dict(sched.state_dict())
    assert restored.mode == sched.mode == "triangular2"
    assert restored.scale_fn(3) == 0.25  # the restored mode's amplitude, not "triangular"'s

    class ScaleFn:
        def __init__(self) -> None:
            self.x = 0.5

        def __call__(self, _):
            return self.x

    fn = ScaleFn()
    sched = gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=False, scale_fn=fn)
    assert sched.state_dict()["_scale_fn_custom"] == {"x": 0.5}
    other = ScaleFn()
    other.x = 0.25
    restored = gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=False, scale_fn=other)
    restored.load_state_dict(sched.state_dict())
    assert restored._scale_fn_custom is other and other.x == 0.5

    def plain(_):
        return 0.5

    sched = gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=False, scale_fn=plain)
    assert sched.state_dict()["_scale_fn_custom"] is None
    restored = gd_sched.CyclicLR(opt, base_lr=1, max_lr=5, cycle_momentum=False, scale_fn=plain)
    restored.load_state_dict(sched.state_dict())
    assert restored._scale_fn_custom is plain


STATE_DICT_PAIRS = {
    "step": (lambda o: gd_sched.StepLR(o, gamma=0.1, step_size=3),
             lambda o: gd_sched.StepLR(o, gamma=0.01 / 2, step_size=1)),
    "multi_step": (lambda o: gd_sched.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
                   lambda o: gd_sched.MultiStepLR(o, gamma=0.01, milestones=[1, 4, 6])),
    "exp": (lambda o: gd_sched.ExponentialLR(o, gamma=0.1),
            lambda o: gd_sched.ExponentialLR(o, gamma=0.01)),
    "cosine": (lambda o: gd_sched.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
               lambda o: gd_sched.CosineAnnealingLR(o, T_max=5, eta_min=1e-10 / 2)),
    "warm_restarts": (lambda o: gd_sched.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
                      lambda o: gd_sched.CosineAnnealingWarmRestarts(o, T_0=100)),
}  # fmt: skip


@pytest.mark.parametrize("name", STATE_DICT_PAIRS)
def test_scheduler_state_dict(name):
    constr, constr2 = STATE_DICT_PAIRS[name]
    opt = setup(GD)
    sched = constr(opt)
    for _ in range(10):
        opt.step()
        sched.step()
    copy_ = constr2(opt)
    copy_.load_state_dict(sched.state_dict())
    for key in sched.__dict__:
        if key != "optimizer":
            assert sched.__dict__[key] == copy_.__dict__[key], key
    assert sched.get_last_lr() == copy_.get_last_lr()


def test_reduce_lr_on_plateau_state_dict():
    opt = setup(GD)
    sched = gd_sched.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=2)
    for score in [1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0, 3.0, 2.0, 1.0]:
        sched.step(score)
    copy_ = gd_sched.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=10)
    copy_.load_state_dict(sched.state_dict())
    for key in sched.__dict__:
        if key != "optimizer":
            assert sched.__dict__[key] == copy_.__dict__[key], key


class LambdaLRTestObject:
    def __init__(self, value):
        self.value = value

    def __call__(self, epoch):
        return self.value * epoch

    def __eq__(self, other):
        return isinstance(other, type(self)) and self.__dict__ == other.__dict__


def test_lambda_lr_state_dict_fn_and_obj():
    sched = gd_sched.LambdaLR(setup(GD), lr_lambda=lambda x: x)
    assert sched.state_dict()["lr_lambdas"][0] is None
    sched = gd_sched.LambdaLR(setup(GD), lr_lambda=LambdaLRTestObject(10))
    state = sched.state_dict()
    assert state["lr_lambdas"][0] == {"value": 10}
    copy_ = gd_sched.LambdaLR(setup(GD), lr_lambda=LambdaLRTestObject(-1))
    copy_.load_state_dict(state)
    assert copy_.lr_lambdas == sched.lr_lambdas


LR_CLASSES = {
    "lambda": lambda o, **kw: gd_sched.LambdaLR(o, lr_lambda=lambda e: e // 10, **kw),
    "multiplicative": lambda o, **kw: gd_sched.MultiplicativeLR(o, lambda e: 0.95, **kw),
    "step": lambda o, **kw: gd_sched.StepLR(o, step_size=30, **kw),
    "multi_step": lambda o, **kw: gd_sched.MultiStepLR(o, milestones=[30, 80], **kw),
    "constant": lambda o, **kw: gd_sched.ConstantLR(o, **kw),
    "linear": lambda o, **kw: gd_sched.LinearLR(o, **kw),
    "exponential": lambda o, **kw: gd_sched.ExponentialLR(o, gamma=0.9, **kw),
    "polynomial": lambda o, **kw: gd_sched.PolynomialLR(o, **kw),
    "cosine": lambda o, **kw: gd_sched.CosineAnnealingLR(o, T_max=10, **kw),
    "warm_restarts": lambda o, **kw: gd_sched.CosineAnnealingWarmRestarts(o, T_0=20, **kw),
}


@pytest.mark.parametrize("name", LR_CLASSES)
def test_constant_initial_lr(name):
    """The initial lr does not alias a tensor lr the user changes in place afterwards."""
    lr = gdlab.as_tensor(0.1)
    opt = optim.SGD([Parameter(np.zeros(1, np.float32))], lr=lr)
    sched = LR_CLASSES[name](opt)
    original = copy.deepcopy([g["initial_lr"] for g in opt.param_groups])
    for i in range(2):
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecated step(epoch)
            sched.step(i)
        lr.multiply_(0.1)
        for group, initial in zip(opt.param_groups, original, strict=True):
            assert float(group["initial_lr"]) == float(initial)
            assert sched.base_lrs == [pytest.approx(0.1, rel=FLOAT32_RTOL)]
            assert sched.base_lrs[0] is not group["initial_lr"]


def test_constant_initial_params_cyclelr_and_onecyclelr():
    lr, max_lr = gdlab.as_tensor(0.1), gdlab.as_tensor(0.2)
    base_m, max_m = gdlab.as_tensor(0.8), gdlab.as_tensor(0.9)
    opt = optim.SGD([Parameter(np.zeros(1, np.float32))], lr=lr, momentum=0.5)
    sched = gd_sched.CyclicLR(opt, base_lr=lr, max_lr=max_lr, base_momentum=base_m,
                              max_momentum=max_m)  # fmt: skip
    one_opt = optim.SGD([Parameter(np.zeros(1, np.float32))], lr=0.1, momentum=0.5)
    one = gd_sched.OneCycleLR(one_opt, max_lr=lr, total_steps=10, base_momentum=base_m,
                              max_momentum=max_m)  # fmt: skip
    for i in range(2):
        for t in (lr, max_lr, base_m, max_m):
            t.multiply_(0.5)
        for o, s in ((opt, sched), (one_opt, one)):
            o.step()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s.step(i)
    approx = pytest.approx
    assert sched.base_lrs == [approx(0.1, rel=FLOAT32_RTOL)]
    assert sched.max_lrs == [approx(0.2, rel=FLOAT32_RTOL)]
    for group in (opt.param_groups[0], one_opt.param_groups[0]):
        assert float(group["max_momentum"]) == approx(0.9, rel=FLOAT32_RTOL)
        assert float(group["base_momentum"]) == approx(0.8, rel=FLOAT32_RTOL)
    assert float(one_opt.param_groups[0]["max_lr"]) == approx(0.1, rel=FLOAT32_RTOL)


@pytest.mark.parametrize("name", [*LR_CLASSES, "cyclic", "onecycle"])
def test_lr_scheduler_checkpoint(name):
    """A scheduler rebuilt with last_epoch=0 on a loaded optimizer gives the saved lr."""
    make = {
        **LR_CLASSES,
        "cyclic": lambda o, **kw: gd_sched.CyclicLR(o, base_lr=0.01, max_lr=0.1, **kw),
        "onecycle": lambda o, **kw: gd_sched.OneCycleLR(o, max_lr=0.01, total_steps=10, **kw),
    }[name]
    params = [Parameter(np.zeros((3, 3))), Parameter(np.zeros(3))]
    opt = optim.AdamW(params)
    sched = make(opt)
    opt.step()
    sched.step()
    opt2 = optim.AdamW(params)
    opt2.load_state_dict(opt.state_dict())
    sched2 = make(opt2, last_epoch=0)
    assert sched2.get_last_lr()[0] == opt.param_groups[0]["lr"]


def test_lr_scheduler_checkpoint_on_plateau():
    params = [Parameter(np.zeros((3, 3)))]
    opt = optim.AdamW(params)
    sched = gd_sched.ReduceLROnPlateau(opt, mode="min")
    opt.step()
    sched.step(1)
    opt2 = optim.AdamW(params)
    opt2.load_state_dict(opt.state_dict())
    assert gd_sched.ReduceLROnPlateau(opt2).get_last_lr()[0] == opt.param_groups[0]["lr"]


@pytest.mark.parametrize(
    "make",
    [
        *LR_CLASSES.values(),
        lambda o: gd_sched.ChainedScheduler([gd_sched.ConstantLR(o), gd_sched.ConstantLR(o)]),
        lambda o: gd_sched.SequentialLR(o, [gd_sched.ConstantLR(o), gd_sched.ConstantLR(o)],
                                        milestones=[2]),
        gd_sched.ReduceLROnPlateau,
        lambda o: gd_sched.CyclicLR(o, base_lr=0.01, max_lr=0.1),
        lambda o: gd_sched.OneCycleLR(o, max_lr=0.01, total_steps=10, anneal_strategy="linear"),
    ],
)  # fmt: skip
def test_lr_scheduler_state_dict_load(make):
    opt = setup(GD)
    state = make(opt).state_dict()
    again = make(opt)
    again.load_state_dict(state)
    assert again.state_dict().keys() == state.keys()
