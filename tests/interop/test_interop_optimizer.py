"""TorchOptimizer: gdlab's rules inside torch loops, against torch.optim and gdlab itself."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdlab.optim as gopt  # noqa: E402
from gdlab.interop.torch import TorchOptimizer  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402
from tolerances import RTOL_TORCH  # noqa: E402

ATOL = 1e-13
STEPS = 6

# (id, gdlab name, gdlab hyper-parameters, torch.optim class name, torch hyper-parameters)
VS_TORCH = [
    ("sgd-momentum", "SGD", dict(lr=0.05, momentum=0.9), "SGD", None),
    ("sgd-nesterov-wd", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
     "SGD", None),
    ("sgd-dampening-maximize", "SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True),
     "SGD", None),
    ("adam", "Adam", dict(lr=0.01), "Adam", None),
    ("adam-amsgrad-wd", "Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1), "Adam", None),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.1), "AdamW", None),
    ("rmsprop", "RMSprop", dict(lr=0.01), "RMSprop", None),
    ("rmsprop-centered-momentum", "RMSprop", dict(lr=0.01, momentum=0.5, centered=True),
     "RMSprop", None),
    ("adagrad", "Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
     "Adagrad", None),
    ("adadelta", "Adadelta", dict(lr=0.5), "Adadelta", None),
    ("adamax", "Adamax", dict(lr=0.01), "Adamax", None),
    ("nadam", "NAdam", dict(lr=0.01), "NAdam", None),
    ("radam", "RAdam", dict(lr=0.01), "RAdam", None),
    ("rprop", "Rprop", dict(lr=0.01), "Rprop", None),
    ("asgd", "ASGD", dict(lr=0.05, t0=3), "ASGD", None),
    # the articles' momentum (lr inside the velocity) equals torch's SGD while lr is constant
    ("momentum-article", "Momentum", dict(lr=0.05, momentum=0.9), "SGD",
     dict(lr=0.05, momentum=0.9)),
]  # fmt: skip

# gdlab-only forms: the oracle is gdlab's own optimizer fed torch's gradients
GDLAB_ONLY = [
    ("momentum", "Momentum", dict(lr=0.05, momentum=0.9)),
    ("adagrad-eps-in-sqrt", "Adagrad", dict(lr=0.1, eps=1e-6, eps_in_sqrt=True)),
    ("rmsprop-eps-in-sqrt", "RMSprop", dict(lr=0.01, eps=1e-6, eps_in_sqrt=True)),
    ("adam-eps-hat", "Adam", dict(lr=0.01, eps=1e-3, eps_hat=True)),
    ("adafactor", "Adafactor", dict(lr=0.01)),
    # steps that are not a per-parameter rule: gdlab's own step on views of the tensors
    ("sgd-schedule-free", "SGDScheduleFree", dict(lr=0.05)),
    ("prodigy", "Prodigy", dict(weight_decay=0.01)),
    ("dadapt-adam", "DAdaptAdam", dict(lr=0.5)),
    ("lookahead", "Lookahead", dict(base_optimizer="adam", lr=0.01, k=2)),
    *[(row[0], row[1], row[2]) for row in VS_TORCH],
    # beyond torch.optim (issue 15); their work arrays stay out of torch's state
    ("lion", "Lion", dict(lr=1e-3)),
    ("adabelief", "AdaBelief", dict(lr=0.01)),
    ("yogi", "Yogi", dict(lr=0.01)),
    ("adan", "Adan", dict(lr=0.01, weight_decay=0.1)),
    ("lamb", "LAMB", dict(lr=0.01)),
    ("lars", "LARS", dict(lr=0.5, nesterov=True)),
    ("novograd", "NovoGrad", dict(lr=0.01)),
    ("madgrad", "MADGRAD", dict(lr=0.01)),
    ("amsbound", "AdaBound", dict(lr=0.01, amsbound=True)),
    ("adopt", "ADOPT", dict(lr=0.01)),
    ("ademamix", "AdEMAMix", dict(lr=0.01, alpha_warmup=3)),
]


@pytest.fixture(autouse=True)
def torch_float64_scalars():
    """torch.optim keeps scalar state (NAdam's mu_product, ASGD's eta) in the default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def make_model(seed: int = 0, dtype=torch.float64) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).to(
        dtype
    )


def batch(dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, generator=g, dtype=dtype), torch.randn(8, 2, generator=g, dtype=dtype)


def train_step(model, opt, x, y, sched=None) -> None:
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()
    if sched is not None:
        sched.step()


def params_of(model) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_close(a, b, rtol=RTOL_TORCH):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=ATOL)


def with_sched(opt, sched):
    return None if sched is None else torch.optim.lr_scheduler.StepLR(opt, **sched)


@pytest.mark.parametrize("sched", [None, dict(step_size=2, gamma=0.5)], ids=["const", "steplr"])
@pytest.mark.parametrize(("name", "gkw", "tname", "tkw"), [r[1:] for r in VS_TORCH],
                         ids=[r[0] for r in VS_TORCH])  # fmt: skip
def test_equals_torch_optim_step_by_step(name, gkw, tname, tkw, sched):
    if name == "Momentum" and sched is not None:
        pytest.skip("the articles' momentum differs from torch's SGD once lr changes (by design)")
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), name, **gkw)
    ref_opt = getattr(torch.optim, tname)(ref.parameters(), **(tkw or gkw))
    s1, s2 = with_sched(opt, sched), with_sched(ref_opt, sched)
    x, y = batch()
    for _ in range(STEPS):
        train_step(ours, opt, x, y, s1)
        train_step(ref, ref_opt, x, y, s2)
        assert_close(params_of(ours), params_of(ref))
    if tkw is None:  # same algorithm: same state layout as torch.optim (keys, shapes, values)
        mine, theirs = opt.state_dict()["state"], ref_opt.state_dict()["state"]
        assert mine.keys() == theirs.keys()
        for i in theirs:
            assert set(mine[i]) == set(theirs[i]), (mine[i].keys(), theirs[i].keys())
            for k, v in theirs[i].items():
                if isinstance(v, torch.Tensor):
                    assert isinstance(mine[i][k], torch.Tensor) and mine[i][k].dtype == v.dtype
                    np.testing.assert_allclose(mine[i][k].numpy(), v.numpy(), rtol=1e-8,
                                               atol=1e-12)  # fmt: skip


def run_gdlab_native(model, name, gkw, steps, sched=None, make=None) -> None:
    """The oracle for gdlab-only forms: gdlab's optimizer on Parameters viewing the tensors."""
    params = [Parameter(p.detach().numpy()) for p in model.parameters()]
    opt = (make or getattr(gopt, name))(params, **gkw)
    s = None if sched is None else gopt.lr_scheduler.StepLR(opt, **sched)
    x, y = batch()
    for _ in range(steps):
        model.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        for p, t in zip(params, model.parameters(), strict=True):
            p.grad = t.grad.numpy().copy()
        opt.step()
        if s is not None:
            s.step()
    return opt


@pytest.mark.parametrize("sched", [None, dict(step_size=2, gamma=0.5)], ids=["const", "steplr"])
@pytest.mark.parametrize(
    ("name", "gkw"), [r[1:] for r in GDLAB_ONLY], ids=[r[0] for r in GDLAB_ONLY]
)
def test_bitwise_equal_to_gdlab_itself(name, gkw, sched):
    cls_name = gopt.__dict__[name].__name__ if name in gopt.__dict__ else name.capitalize()
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), cls_name, **gkw)
    s = with_sched(opt, sched)
    x, y = batch()
    for _ in range(STEPS):
        train_step(ours, opt, x, y, s)
    run_gdlab_native(ref, cls_name, gkw, STEPS, sched)
    for a, b in zip(params_of(ours), params_of(ref), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not any(k.startswith("_") for s in opt.state_dict()["state"].values() for k in s)


@pytest.mark.parametrize(("name", "gkw"), [("SGD", dict(lr=0.05, momentum=0.9)),
                                           ("Adam", dict(lr=0.01, amsgrad=True)),
                                           ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3)),
                                           ("Adagrad", dict(lr=0.1))])  # fmt: skip
def test_state_dict_round_trips_with_torch_optim(name, gkw):
    x, y = batch()
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), name, **gkw)
    for _ in range(3):
        train_step(ours, opt, x, y)
    ref.load_state_dict(ours.state_dict())
    saved = opt.state_dict()
    frozen = copy.deepcopy(saved)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), **gkw)
    ref_opt.load_state_dict(copy.deepcopy(saved))  # ours -> torch.optim (which would share)
    back = TorchOptimizer(make_model(5).parameters(), name, **gkw)
    back.load_state_dict(ref_opt.state_dict())  # torch.optim -> ours (fresh model, new params)
    clone = TorchOptimizer(ours.parameters(), name, **gkw)
    clone.load_state_dict(saved)  # ours -> ours: continues identically
    for _ in range(3):
        train_step(ours, clone, x, y)
        train_step(ref, ref_opt, x, y)
        assert_close(params_of(ours), params_of(ref))
    for i, st in frozen["state"].items():  # our loads copied: the saved dict is unchanged
        for k, v in st.items():
            assert torch.equal(v, saved["state"][i][k]), k


def test_gdlab_state_dict_loads_and_continues():
    """A native gdlab optimizer's state_dict (NumPy arrays, float step) loads, and back."""
    x, y = batch()
    ours, ref = make_model(), make_model()
    run_gdlab_native(ref, "Adam", dict(lr=0.01), 0)
    params = [Parameter(p.detach().numpy()) for p in ref.parameters()]
    native = gopt.Adam(params, lr=0.01)
    for _ in range(3):
        ref.zero_grad()
        torch.nn.functional.mse_loss(ref(x), y).backward()
        for p, t in zip(params, ref.parameters(), strict=True):
            p.grad = t.grad.numpy().copy()
        native.step()
    ours.load_state_dict(ref.state_dict())
    opt = TorchOptimizer(ours.parameters(), "Adam", lr=0.01)
    opt.load_state_dict(native.state_dict())
    native.load_state_dict(opt.state_dict())  # torch layout into gdlab: also accepted
    ref_opt = TorchOptimizer(ref.parameters(), "Adam", lr=0.01)
    ref_opt.load_state_dict(native.state_dict())
    for _ in range(2):
        train_step(ours, opt, x, y)
        train_step(ref, ref_opt, x, y)
    for a, b in zip(params_of(ours), params_of(ref), strict=True):
        np.testing.assert_array_equal(a, b)
    assert float(opt.state[next(ours.parameters())]["step"]) == 5.0


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_with_closure_equals_torch(line_search_fn):
    x, y = batch()
    ours, ref = make_model(), make_model()
    kw = dict(lr=0.5, max_iter=5, history_size=4, line_search_fn=line_search_fn)
    opt = TorchOptimizer(ours.parameters(), "LBFGS", **kw)
    ref_opt = torch.optim.LBFGS(ref.parameters(), **kw)

    def closure_for(model, o):
        def closure():
            o.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss

        return closure

    for _ in range(3):
        l1 = opt.step(closure_for(ours, opt))
        l2 = ref_opt.step(closure_for(ref, ref_opt))
        assert l1.item() == pytest.approx(l2.item(), rel=1e-9)
        assert_close(params_of(ours), params_of(ref), rtol=1e-8)
    twin = make_model()
    twin.load_state_dict(ours.state_dict())
    resumed = TorchOptimizer(twin.parameters(), "LBFGS", **kw)
    resumed.load_state_dict(opt.state_dict())  # history lists of tensors round-trip
    opt.step(closure_for(ours, opt))
    resumed.step(closure_for(twin, resumed))
    for a, b in zip(params_of(ours), params_of(twin), strict=True):
        np.testing.assert_array_equal(a, b)


def test_closure_loss_is_returned_and_grad_enabled():
    model = make_model()
    opt = TorchOptimizer(model.parameters(), "Adam", lr=0.01)
    x, y = batch()

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert loss.requires_grad and loss.item() > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_in_place_shared_memory_no_copies(dtype):
    model = make_model(dtype=dtype)
    opt = TorchOptimizer(model.parameters(), "Adam", lr=0.01)
    ptrs = [p.data_ptr() for p in model.parameters()]
    versions = [p._version for p in model.parameters()]
    before = params_of(model)
    train_step(model, opt, *batch(dtype))
    for p, ptr, v, b in zip(model.parameters(), ptrs, versions, before, strict=True):
        assert p.data_ptr() == ptr and p.dtype == dtype
        assert p._version > v  # autograd sees the in-place update
        assert not np.array_equal(p.detach().numpy(), b)
        assert opt.state[p]["exp_avg"].dtype == dtype
    state = opt.state[next(model.parameters())]
    ptr = state["exp_avg"].data_ptr()
    train_step(model, opt, *batch(dtype))
    assert state["exp_avg"].data_ptr() == ptr  # state tensors updated in place too


@pytest.mark.parametrize(
    ("name", "gkw"),
    [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)), ("RMSprop", dict(lr=0.1))],
)
def test_non_contiguous_params(name, gkw):
    def make():
        g = torch.Generator().manual_seed(0)
        w = torch.randn(4, 3, generator=g, dtype=torch.float64).t().requires_grad_()
        v = torch.randn(3, 6, generator=g, dtype=torch.float64)[:, ::2].requires_grad_()
        return [w, v]

    ours, ref = make(), make()
    assert not ours[0].is_contiguous() and not ours[1].is_contiguous()
    opt = TorchOptimizer(ours, name, **gkw)
    ref_opt = getattr(torch.optim, name)(ref, **gkw)
    strides = [p.stride() for p in ours]
    for _ in range(4):
        for ps, o in ((ours, opt), (ref, ref_opt)):
            o.zero_grad()
            (ps[0].sin().sum() + (ps[1] ** 2).sum()).backward()
            o.step()
        assert_close([p.detach().numpy() for p in ours], [p.detach().numpy() for p in ref])
    assert [p.stride() for p in ours] == strides


def test_param_group_added_later_and_grad_none_skipped():
    model = make_model()
    first, *rest = list(model.parameters())
    opt = TorchOptimizer([first], "SGD", lr=0.1)
    opt.add_param_group({"params": rest, "lr": 0.0})
    frozen = [p.detach().clone() for p in rest]
    train_step(model, opt, *batch())
    assert all(torch.equal(a, b) for a, b in zip(frozen, rest, strict=True))
    opt.zero_grad()
    assert first.grad is None
    opt.step()  # no gradients: nothing moves, no error


def test_is_a_torch_optimizer_with_hooks():
    model = make_model()
    opt = TorchOptimizer(model.parameters(), gopt.Momentum, lr=0.1)
    assert isinstance(opt, torch.optim.Optimizer)
    calls = []
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(1))
    train_step(model, opt, *batch())
    assert calls == [1]
    assert "TorchOptimizer[Momentum]" in repr(opt)


BAD = [
    (dict(optimizer="adamz"), ValueError, "unknown optimizer 'adamz'"),
    (dict(optimizer=torch.optim.Adam), TypeError, "gdlab optimizer class"),
    (dict(optimizer="sgd", lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (dict(optimizer="adam", betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0"),
    (dict(optimizer="adam", momentum=0.9), TypeError, "momentum"),
    (dict(optimizer="adam", params="meta"), ValueError, "device meta"),
    (dict(optimizer="adam", params="half"), TypeError, "float32 or float64"),
    (dict(optimizer="adam", params="tensor"), TypeError, "iterable of Tensors"),
    (dict(optimizer="lbfgs", params="two-groups"), ValueError, "parameter groups"),
]


@pytest.mark.parametrize(("kw", "exc", "match"), BAD, ids=[str(b[2]) for b in BAD])
def test_bad_arguments(kw, exc, match):
    kw = dict(kw)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    q = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    params = {
        None: [p],
        "meta": [torch.zeros(3, device="meta", requires_grad=True)],
        "half": [torch.zeros(3, dtype=torch.float16, requires_grad=True)],
        "tensor": p,
        "two-groups": [{"params": [p]}, {"params": [q]}],
    }[kw.pop("params", None)]
    with pytest.raises(exc, match=match):
        TorchOptimizer(params, kw.pop("optimizer"), **kw)


def test_bad_group_added_later_is_rejected_and_not_kept():
    opt = TorchOptimizer([torch.zeros(3, requires_grad=True)], "sgd", lr=0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "momentum": -1})
    assert len(opt.param_groups) == 1


def reset_moment(opt, p):
    opt.state[p]["exp_avg"] = torch.zeros_like(p)  # a state entry replaced


def rewind_step(opt, p):
    opt.state[p]["step"].fill_(1.0)  # a scalar changed in place


def new_storage(opt, p):
    p.data = p.data.clone() * 0.5  # the parameter's storage replaced


@pytest.mark.parametrize("edit", [reset_moment, rewind_step, new_storage])
def test_state_and_storage_edits_between_steps_are_seen(edit):
    """Views are cached between steps; editing the tensors behind them must still work."""
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), "Adam", lr=0.01)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01)
    x, y = batch()
    for step in range(4):
        if step == 2:
            edit(opt, next(ours.parameters()))
            edit(ref_opt, next(ref.parameters()))
        train_step(ours, opt, x, y)
        train_step(ref, ref_opt, x, y)
        assert_close(params_of(ours), params_of(ref))


@pytest.mark.parametrize(("name", "gkw"), [("Adam", dict(lr=0.01)), ("LBFGS", dict(max_iter=3))])
def test_deepcopy_of_model_and_optimizer_continues_identically(name, gkw):
    x, y = batch()
    model = make_model()
    opt = TorchOptimizer(model.parameters(), name, **gkw)

    def step(m, o):
        def closure():
            o.zero_grad()
            loss = torch.nn.functional.mse_loss(m(x), y)
            loss.backward()
            return loss

        o.step(closure)

    step(model, opt)
    model2, opt2 = copy.deepcopy((model, opt))
    assert opt2.gdlab_class is opt.gdlab_class
    for _ in range(2):
        step(model, opt)
        step(model2, opt2)
    for a, b in zip(params_of(model), params_of(model2), strict=True):
        np.testing.assert_array_equal(a, b)


def test_threaded_rules_give_the_same_result():
    x, y = batch()
    runs, old = [], gopt.get_num_threads()
    for threads in (1, 2):
        gopt.set_num_threads(threads)
        try:
            model = make_model()
            opt = TorchOptimizer(model.parameters(), "Adam", lr=0.01)
            for _ in range(3):
                train_step(model, opt, x, y)
        finally:
            gopt.set_num_threads(old)
        runs.append(params_of(model))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("name", "gkw"),
    [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01)), ("NAdam", dict(lr=0.01))],
)
def test_float32_with_torch_default_dtype(name, gkw):
    torch.set_default_dtype(torch.float32)  # the fixture restores float64 afterwards
    ours, ref = make_model(dtype=torch.float32), make_model(dtype=torch.float32)
    opt = TorchOptimizer(ours.parameters(), name, **gkw)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), **gkw)
    x, y = batch(torch.float32)
    for _ in range(STEPS):
        train_step(ours, opt, x, y)
        train_step(ref, ref_opt, x, y)
    assert_close(params_of(ours), params_of(ref), rtol=1e-5)
    mine, theirs = opt.state_dict()["state"][0], ref_opt.state_dict()["state"][0]
    for k, v in theirs.items():  # step float32 as torch; moments float32; other scalars
        if k == "step" or v.dim() > 0:  # (mu_product) float64, to keep gdlab's precision
            assert mine[k].dtype == v.dtype, k


def test_pre_first_step_state_dict_loads():
    x, y = batch()
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), "Adam", lr=0.01)
    opt.load_state_dict(torch.optim.Adam(ref.parameters(), lr=0.01).state_dict())
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01)
    ref_opt.load_state_dict(TorchOptimizer(make_model().parameters(), "adam", lr=0.01).state_dict())
    for _ in range(2):
        train_step(ours, opt, x, y)
        train_step(ref, ref_opt, x, y)
    assert_close(params_of(ours), params_of(ref))


def test_torch_checkpoint_saved_with_execution_flags_loads():
    """capturable/foreach choose how torch ran the step: they do not travel into ours."""
    x, y = batch()
    ours, ref = make_model(), make_model()
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01, foreach=True)
    for _ in range(2):
        train_step(ref, ref_opt, x, y)
    ours.load_state_dict(ref.state_dict())
    saved = ref_opt.state_dict()
    saved["param_groups"][0]["capturable"] = True  # as saved on a GPU (torch refuses it on CPU)
    opt = TorchOptimizer(ours.parameters(), "Adam", lr=0.01)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["capturable"] is False and opt.param_groups[0]["foreach"] is None
    for _ in range(3):
        train_step(ours, opt, x, y)
        train_step(ref, ref_opt, x, y)
        assert_close(params_of(ours), params_of(ref))


SCHEDULE_FREE = [
    ("SGDScheduleFree", dict(lr=0.05, momentum=0.9)),
    ("AdamWScheduleFree", dict(lr=0.01, weight_decay=0.01, warmup_steps=2)),
    ("RAdamScheduleFree", dict(lr=0.01)),
]


@pytest.mark.parametrize(("name", "gkw"), SCHEDULE_FREE, ids=[r[0] for r in SCHEDULE_FREE])
def test_train_eval_forwarded_to_schedule_free(name, gkw):
    """train()/eval() reach the gdlab optimizer: the tensors hold x after eval() and y after
    train(), bit for bit as the gdlab optimizer run alone with the same switches, through a
    state_dict reload in eval mode; stepping in eval mode raises, as gdlab's does."""
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), name, **gkw)
    params = [Parameter(p.detach().numpy()) for p in ref.parameters()]
    gd = getattr(gopt, name)(params, **gkw)
    x, y = batch()
    for step in range(8):
        opt.train()
        gd.train()
        train_step(ours, opt, x, y)
        ref.zero_grad()
        torch.nn.functional.mse_loss(ref(x), y).backward()
        for p, t in zip(params, ref.parameters(), strict=True):
            p.grad = t.grad.numpy().copy()
        gd.step()
        if step % 3 == 2:
            opt.eval()
            gd.eval()
            for a, b in zip(params_of(ours), params_of(ref), strict=True):
                np.testing.assert_array_equal(a, b)
            assert opt.param_groups[0]["train_mode"] is False
            with pytest.raises(RuntimeError, match="eval mode"):
                opt.step()
            opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    opt.eval()
    gd.eval()
    x_ours = params_of(ours)
    for a, b in zip(x_ours, params_of(ref), strict=True):
        np.testing.assert_array_equal(a, b)
    opt.eval()  # already at x: a no-op
    for a, b in zip(params_of(ours), x_ours, strict=True):
        np.testing.assert_array_equal(a, b)


def test_no_train_eval_without_modes():
    opt = TorchOptimizer(make_model().parameters(), "Adam", lr=0.01)
    assert not hasattr(opt, "train") and not hasattr(opt, "eval")
    with pytest.raises(AttributeError, match=r"TorchOptimizer\(Adam\) has no train\(\)"):
        opt.train()


# registry names, as the CLI takes them: the class and settings of gdlab.optim.OPTIMIZERS
REGISTRY_NAMES = [
    ("momentum", dict(lr=0.05)),  # SGD(momentum=0.9), not the articles' Momentum class
    ("nesterov", dict(lr=0.05)),
    ("adamw", {}),
    ("amsbound", dict(lr=0.01)),
    ("lion", {}),
    ("adamw_schedule_free", dict(lr=0.01)),  # train mode: the optimizer's own step
    ("lookahead", dict(k=2)),  # over "adam", the registry's base optimizer
    ("dadapt_sgd", {}),
]


@pytest.mark.parametrize(("name", "gkw"), REGISTRY_NAMES, ids=[r[0] for r in REGISTRY_NAMES])
def test_registry_names_with_the_registry_settings(name, gkw):
    spec = gopt.get_optimizer_spec(name)
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), name, **gkw)
    assert opt.gdlab_class is spec.cls
    assert opt._hparams == {"lr": spec.lr, **spec.defaults, **gkw}
    x, y = batch()
    for _ in range(STEPS):
        train_step(ours, opt, x, y)
    settings = {"lr": spec.lr, **spec.defaults, **gkw}
    run_gdlab_native(ref, name, settings, STEPS, make=spec.cls)
    for a, b in zip(params_of(ours), params_of(ref), strict=True):
        np.testing.assert_array_equal(a, b)


def test_sam_by_name_takes_its_two_gradients_through_the_closure():
    """SAM ("sam": over SGD with momentum 0.9) needs the gradient at w before step() and a
    closure for the one at w + ε, as torch loops write it; equal to gdlab's SAM bit for bit."""
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), "sam", lr=0.05, rho=0.1)
    params = [Parameter(p.detach().numpy()) for p in ref.parameters()]
    spec = gopt.get_optimizer_spec("sam")
    gd = spec.cls(params, **{**spec.defaults, "lr": 0.05, "rho": 0.1})
    x, y = batch()

    def gradients_of(model):
        model.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    def gd_closure():
        loss = gradients_of(ref)
        for p, t in zip(params, ref.parameters(), strict=True):
            p.grad = t.grad.numpy().copy()
        return float(loss.detach())

    for _ in range(STEPS):
        gradients_of(ours)
        opt.step(lambda: gradients_of(ours))
        gd_closure()
        gd.step(gd_closure)
        for a, b in zip(params_of(ours), params_of(ref), strict=True):
            np.testing.assert_array_equal(a, b)


IMPORTED = """
import numpy as np

from gdlab.optim import chain
from gdlab.optim.transforms import add_decayed_weights, scale_by_adam, scale_by_lr, trace


def signsgd_(param, grad, state, *, lr=0.01, maximize=False):
    param -= lr * np.sign(-grad if maximize else grad)


AdamWChain = chain(scale_by_adam(), add_decayed_weights(0.1), scale_by_lr(0.01))
TraceChain = chain(trace(0.9), scale_by_lr(0.05))
"""


@pytest.mark.parametrize(
    ("attr", "oracle"),
    [
        ("AdamWChain", lambda ps: gopt.AdamW(ps, lr=0.01, weight_decay=0.1)),
        ("TraceChain", lambda ps: gopt.SGD(ps, lr=0.05, momentum=0.9)),
        ("signsgd_", None),
    ],
)
def test_import_specs(tmp_path, monkeypatch, attr, oracle):
    """``pkg.mod:Name`` as the CLI takes it: a chain (its own step, on views of the tensors)
    equals the optimizer it spells out bit for bit; a rule function becomes its class."""
    (tmp_path / "bridge_rules.py").write_text(IMPORTED)
    monkeypatch.syspath_prepend(str(tmp_path))
    ours, ref = make_model(), make_model()
    opt = TorchOptimizer(ours.parameters(), f"bridge_rules:{attr}")
    x, y = batch()
    for _ in range(STEPS):
        train_step(ours, opt, x, y)
    if oracle is None:
        spec = gopt.get_optimizer_spec(f"bridge_rules:{attr}")
        oracle = lambda ps: spec.cls(ps, lr=spec.lr)  # noqa: E731
    run_gdlab_native(ref, None, {}, STEPS, make=oracle)
    for a, b in zip(params_of(ours), params_of(ref), strict=True):
        np.testing.assert_array_equal(a, b)
    saved = opt.state_dict()["state"]
    assert not any(k.startswith("_") for s in saved.values() for k in s)


def test_unknown_name_lists_registry_names():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm' \(choose a registry name: "):
        TorchOptimizer(make_model().parameters(), "adamm")
