"""Every constructor and state-dict error, with torch's wording (CHECKLIST A, Optimizers)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdlab
from gdlab import optim
from gdlab.nn import Parameter
from gdlab.optim import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

NAN, INF = float("nan"), float("inf")

BAD_KWARGS = [
    (SGD, dict(lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (SGD, dict(lr=NAN), ValueError, "Invalid learning rate: nan"),
    (SGD, dict(lr=INF), ValueError, "Invalid learning rate: inf"),
    (Adam, dict(lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (SGD, dict(lr="0.1"), TypeError, "lr must be a float, got str"),
    (SGD, dict(lr=True), TypeError, "lr must be a float, got bool"),
    (SGD, dict(lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (SGD, dict(lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (SGD, dict(lr=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (SGD, dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (Adam, dict(betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (Adam, dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (Adam, dict(betas=(0.9,)), ValueError, "Invalid betas"),
    (AdamW, dict(betas=(-0.1, 0.9)), ValueError, "Invalid beta parameter at index 0: -0.1"),
    (Adam, dict(eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (Adam, dict(weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (Adam, dict(capturable=True), ValueError, "capturable=True is not supported"),
    (Adam, dict(differentiable=True), ValueError, "differentiable=True is not supported"),
    (Adadelta, dict(rho=1.1), ValueError, "Invalid rho value: 1.1"),
    (Adagrad, dict(lr_decay=-0.5), ValueError, "Invalid lr_decay value: -0.5"),
    (Adagrad, dict(initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value: -1"),
    (Adagrad, dict(eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (RMSprop, dict(alpha=-0.1), ValueError, "Invalid alpha value: -0.1"),
    (RMSprop, dict(momentum=-1), ValueError, "Invalid momentum value: -1"),
    (optim.NAdam, dict(momentum_decay=-1), ValueError, "Invalid momentum_decay value: -1"),
    (optim.Adamax, dict(betas=(0.9, 1.5)), ValueError, "Invalid beta parameter at index 1: 1.5"),
    (optim.RAdam, dict(eps=-1), ValueError, "Invalid epsilon value: -1"),
    (optim.ASGD, dict(weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (optim.Rprop, dict(etas=(1.5, 1.2)), ValueError, "Invalid eta values: 1.5, 1.2"),
    (optim.Adafactor, dict(lr=-1), ValueError, "Learning rate should be >= 0 but is: -1"),
    (optim.Yogi, dict(initial_accumulator=-1), ValueError,
     "Invalid initial_accumulator value: -1"),
    (optim.Yogi, dict(eps=-1), ValueError, "Invalid epsilon value: -1"),
    (optim.Adan, dict(betas=(0.9, 0.9)), ValueError,
     "Invalid betas: expected 3 values (beta1, beta2, beta3)"),
    (optim.Adan, dict(betas=(0.9, 0.9, 1.0)), ValueError, "Invalid beta parameter at index 2: 1.0"),
    (optim.LAMB, dict(weight_decay=-0.1), ValueError, "Invalid weight_decay value: -0.1"),
    (optim.LARS, dict(trust_coefficient=-1), ValueError, "Invalid trust_coefficient value: -1"),
    (optim.LARS, dict(momentum=1.0), ValueError, "Invalid momentum value: 1.0"),
    (optim.LARS, dict(dampening=1.5), ValueError, "Invalid dampening value: 1.5"),
    (optim.NovoGrad, dict(betas=(0.95, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (optim.MADGRAD, dict(momentum=1.0), ValueError, "Momentum 1.0 must be in the range [0,1]"),
    (optim.MADGRAD, dict(eps=-1), ValueError, "Invalid epsilon value: -1"),
    (optim.AdaBound, dict(final_lr=-0.1), ValueError, "Invalid final learning rate: -0.1"),
    (optim.AdaBound, dict(gamma=1.0), ValueError, "Invalid gamma parameter: 1.0"),
    (optim.AdaBound, dict(gamma=0.0), ValueError, "Invalid gamma parameter: 0.0"),
    (optim.ADOPT, dict(clip_exponent=-0.25), ValueError, "Invalid clip_exponent value: -0.25"),
    (optim.AdEMAMix, dict(alpha=-1), ValueError, "Invalid alpha value: -1"),
    (optim.AdEMAMix, dict(beta3_warmup=0), ValueError, "Invalid beta3_warmup value: 0"),
    (optim.AdEMAMix, dict(betas=(0.9, 0.999, 1.5)), ValueError,
     "Invalid beta parameter at index 2: 1.5"),
    (optim.Adafactor, dict(beta2_decay=0.5), ValueError, "beta2_decay should be <= 0"),
    (optim.Adafactor, dict(d=0.5), ValueError, "Clipping threshold d should be >= 1"),
    (optim.Muon, dict(momentum=-1), ValueError, "momentum should be >= 0 but is: -1"),
    (optim.Muon, dict(adjust_lr_fn="x"), ValueError, "Adjust learning rate function x"),
    (optim.LBFGS, dict(lr=-1), ValueError, "Invalid learning rate: -1"),
    (optim.LBFGS, dict(line_search_fn="armijo"), ValueError, "line_search_fn must be None"),
    (optim.LBFGS, dict(history_size=0), ValueError,
     "LBFGS: history_size must be a positive integer, got 0"),
    # issue 15, part 2: schedule-free, Prodigy, D-Adaptation, SAM, Lookahead
    (optim.SGDScheduleFree, dict(momentum=1.0), ValueError,
     "Momentum must be between 0 and 1 exclusive: 1.0"),
    (optim.SGDScheduleFree, dict(momentum=0.0), ValueError,
     "Momentum must be between 0 and 1 exclusive: 0.0"),
    (optim.SGDScheduleFree, dict(warmup_steps=-1), ValueError,
     "SGDScheduleFree: warmup_steps must be an integer >= 0, got -1"),
    (optim.SGDScheduleFree, dict(lr=NAN), ValueError, "Invalid learning rate: nan"),
    (optim.AdamWScheduleFree, dict(betas=(0.0, 0.999)), ValueError,
     "Invalid beta parameter at index 0: 0.0 (AdamWScheduleFree needs β1 > 0"),
    (optim.AdamWScheduleFree, dict(eps=-1), ValueError, "Invalid epsilon value: -1"),
    (optim.AdamWScheduleFree, dict(weight_lr_power=-2.0), ValueError,
     "Invalid weight_lr_power value: -2.0"),
    (optim.RAdamScheduleFree, dict(r=-1.0), ValueError, "Invalid r value: -1.0"),
    (optim.Prodigy, dict(d0=0.0), ValueError, "Invalid d0 value: 0.0"),
    (optim.Prodigy, dict(beta3=1.0), ValueError, "Invalid beta3 value: 1.0"),
    (optim.Prodigy, dict(slice_p=0), ValueError, "Invalid slice_p value: 0"),
    (optim.Prodigy, dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (optim.DAdaptSGD, dict(momentum=1.0), ValueError, "Invalid momentum value: 1.0"),
    (optim.DAdaptSGD, dict(d0=-1.0), ValueError, "Invalid d0 value: -1.0"),
    (optim.DAdaptAdam, dict(growth_rate=0.0), ValueError, "Invalid growth_rate value: 0.0"),
    (optim.DAdaptAdam, dict(lr=-1), ValueError, "Invalid learning rate: -1"),
    (optim.DAdaptAdam, dict(layer_scale=-1.0), ValueError, "Invalid layer_scale value: -1.0"),
    (optim.SAM, dict(base_optimizer=SGD, rho=-0.1, lr=0.1), ValueError, "Invalid rho value: -0.1"),
    (optim.SAM, dict(base_optimizer=SGD, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (optim.SAM, dict(base_optimizer="adamz"), ValueError,
     "SAM: base_optimizer invalid optimizer: 'adamz'"),
    (optim.SAM, dict(base_optimizer=optim.LBFGS), ValueError,
     "SAM: base_optimizer LBFGS needs a closure"),
    (optim.SAM, dict(base_optimizer=len), TypeError,
     "SAM: base_optimizer must be a gdlab optimizer class"),
    (optim.Lookahead, dict(base_optimizer="sgd", k=0), ValueError,
     "Lookahead: k must be an integer >= 1, got 0"),
    (optim.Lookahead, dict(base_optimizer="sgd", alpha=1.5), ValueError,
     "Lookahead: alpha must be in [0, 1], got 1.5"),
    (optim.Lookahead, dict(base_optimizer="sgd", pullback_momentum="x"), ValueError,
     "Lookahead: pullback_momentum must be one of ('none', 'reset', 'pullback'), got 'x'"),
    (optim.Lookahead, dict(lr=0.1), TypeError,
     "Lookahead: arguments ['lr'] are for a base_optimizer, and none given"),
    # optim3: Shampoo, SOAP, SophiaG
    (optim.Shampoo, dict(betas=(0.9, 1.5)), ValueError, "Invalid beta parameter at index 1: 1.5"),
    (optim.Shampoo, dict(betas=(1.0, 1.0)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (optim.Shampoo, dict(graft_type="adam"), ValueError,
     "Shampoo: graft_type must be one of ('none', 'sgd', 'adagrad', 'rmsprop', 'sqrtn'), "
     "got 'adam'"),
    (optim.Shampoo, dict(precondition_frequency=0), ValueError,
     "Shampoo: precondition_frequency must be a positive integer, got 0"),
    (optim.Shampoo, dict(start_preconditioning_step=2.5), ValueError,
     "Shampoo: start_preconditioning_step must be a positive integer, got 2.5"),
    (optim.Shampoo, dict(block_size="big"), ValueError,
     "Shampoo: block_size must be an integer, got 'big'"),
    (optim.Shampoo, dict(matrix_eps=-1.0), ValueError, "Invalid matrix_eps value: -1.0"),
    (optim.Shampoo, dict(diagonal_eps=-1.0), ValueError, "Invalid diagonal_eps value: -1.0"),
    (optim.SOAP, dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (optim.SOAP, dict(shampoo_beta=1.0), ValueError, "Invalid shampoo_beta value: 1.0"),
    (optim.SOAP, dict(eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (optim.SOAP, dict(precondition_frequency=0), ValueError,
     "SOAP: precondition_frequency must be a positive integer, got 0"),
    (optim.SOAP, dict(max_precond_dim=-5), ValueError,
     "SOAP: max_precond_dim must be a positive integer, got -5"),
    (optim.SophiaG, dict(lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (optim.SophiaG, dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (optim.SophiaG, dict(rho=-0.1), ValueError, "Invalid rho value: -0.1"),
    (optim.SophiaG, dict(weight_decay=-1.0), ValueError, "Invalid weight_decay value: -1.0"),
    (optim.SophiaG, dict(bs=0), ValueError,
     "SophiaG: bs must be a positive number of labels, got 0"),
]  # fmt: skip


@pytest.mark.parametrize("cls, kwargs, exc, msg", BAD_KWARGS)
def test_invalid_hyperparameters(cls, kwargs, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        cls([Parameter(np.zeros((3, 3)))], **kwargs)


def _p(n=3):
    return Parameter(np.zeros(n))


def test_schedule_free_step_in_eval_mode_raises():
    w = _p()
    opt = optim.AdamWScheduleFree([w], lr=0.1)
    w.grad = np.ones(3)
    opt.step()
    opt.eval()
    with pytest.raises(RuntimeError, match="is in eval mode .* call optimizer.train()"):
        opt.step()
    opt.train()
    opt.step()


@pytest.mark.parametrize("cls", [optim.Prodigy, optim.DAdaptSGD, optim.DAdaptAdam])
def test_d_adaptation_groups_share_one_lr(cls):
    opt = cls([{"params": [_p()]}, {"params": [_p()], "lr": 0.5}])
    for g in opt.param_groups:
        g["params"][0].grad = np.ones(3)
    with pytest.raises(ValueError, match="every param group must have the same lr or lr=0"):
        opt.step()
    opt.param_groups[1]["lr"] = 0.0  # a frozen group is allowed, as the references
    opt.step()


BAD_PARAMS = [
    (lambda: _p(), TypeError, "should be an iterable of Tensors or dicts, but got Parameter"),
    (lambda: [], ValueError, "optimizer got an empty parameter list"),
    (lambda: iter([]), ValueError, "optimizer got an empty parameter list"),
    (lambda: {_p()}, TypeError, "ordering of tensors in sets will change between runs"),
    (lambda: [np.zeros(3)], TypeError, "can only optimize Tensors, but one of the params is"),
    (lambda: [gdlab.tensor([1.0], requires_grad=True) * 2], ValueError,
     "can't optimize a non-leaf Tensor"),
    (lambda: [gdlab.tensor([1, 2])], TypeError, "floating point Tensors"),
    (lambda: [{"lr": 0.1}], ValueError, "param group has no 'params' key"),
    (lambda: [{"params": [_p()], "lrr": 0.1}], ValueError, "unknown key(s) ['lrr']"),
    (lambda: [{"params": [_p()], "lr": -1.0}], ValueError, "Invalid learning rate: -1.0"),
    (lambda: [{"params": [_p()], "differentiable": True}], ValueError,
     "differentiable=True is not supported"),
]  # fmt: skip


@pytest.mark.parametrize("make, exc, msg", BAD_PARAMS)
def test_invalid_params(make, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        SGD(make(), lr=0.1)


def test_parameter_in_two_groups_and_duplicates():
    p = _p()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        SGD([p, p], lr=0.1)
    opt = SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": p})


def test_lbfgs_rejects_groups_and_missing_closure():
    with pytest.raises(ValueError, match=re.escape("LBFGS doesn't support per-parameter options")):
        optim.LBFGS([{"params": [_p()]}, {"params": [_p()]}])
    with pytest.raises(ValueError, match="LBFGS requires a closure"):
        optim.LBFGS([_p()]).step()


def test_muon_rejects_non_matrices():
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        optim.Muon([_p()])


def _primed(n_groups=1, sizes=(3,)):
    ps = [_p(n) for n in sizes]
    groups = [{"params": ps[i::n_groups]} for i in range(n_groups)]
    opt = Adam(groups, lr=0.1)
    for p in ps:
        p.grad = np.ones(p.shape)
    opt.step()
    return opt


STATE_DICT_ERRORS = [
    (lambda: _primed(2, (3, 3)), lambda: _primed(1, (3, 3)),
     "different number of parameter groups"),
    (lambda: _primed(1, (3, 3)), lambda: _primed(1, (3,)),
     "doesn't match the size of optimizer's group: group 0 has 2 parameters in the state dict "
     "and 1 in the optimizer"),
    (lambda: _primed(1, (4,)), lambda: _primed(1, (3,)),
     "loaded state for parameter 0 ('exp_avg') has shape (4,), which does not match the "
     "parameter's shape (3,)"),
]  # fmt: skip


@pytest.mark.parametrize("source, target, msg", STATE_DICT_ERRORS)
def test_load_state_dict_errors(source, target, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        target().load_state_dict(source().state_dict())


def test_load_pre_first_step_state_dict():
    p, q = _p(), _p()
    fresh = Adam([p], lr=0.1).state_dict()
    opt = Adam([q], lr=0.2)
    opt.load_state_dict(fresh)
    assert opt.param_groups[0]["lr"] == 0.1 and not opt.state
    q.grad = np.ones(3)
    opt.step()
    np.testing.assert_allclose(q.data, -0.1)
