"""gdlab.sklearn: scikit-learn's estimator checks, its defaults, its exact one-step numbers."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from gdlab import optim
from gdlab.sklearn import MLPClassifier, MLPRegressor

sklearn = pytest.importorskip("sklearn")
from sklearn import neural_network  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

SMALL = dict(hidden_layer_sizes=(16,), max_iter=100, random_state=0, learning_rate_init=0.01)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


CHECKED = [
    MLPClassifier(**SMALL),
    MLPRegressor(**SMALL),
    MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0),  # no partial_fit
    MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        random_state=0,
    ),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize(
    "ours, theirs",
    [(MLPClassifier, neural_network.MLPClassifier), (MLPRegressor, neural_network.MLPRegressor)],
)
def test_same_arguments_and_defaults_as_sklearn(ours, theirs):
    mine = inspect.signature(ours.__init__).parameters
    ref = inspect.signature(theirs.__init__).parameters
    for name, p in mine.items():
        assert name in ref, name
        assert p.default == ref[name].default, name
        assert p.kind == ref[name].kind, name


def test_sklearn_test_fit_one_sgd_step_exact():
    """scikit-learn's test_fit (REFERENCES.md §1): a 3-2-1 logistic net, one SGD step."""
    X, y = np.array([[0.6, 0.8, 0.7]]), np.array([0])
    clf = MLPClassifier(
        hidden_layer_sizes=2,
        activation="logistic",
        solver="sgd",
        alpha=0.1,
        learning_rate_init=0.1,
        momentum=0.0,
        batch_size=1,
        max_iter=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X, y, classes=[0, 1])  # builds the network
    clf.coefs_[0][...] = [[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]]
    clf.coefs_[1][...] = [[0.1], [0.2]]
    clf.intercepts_[0][...] = [0.1, 0.1]
    clf.intercepts_[1][...] = [1.0]
    assert clf.predict_proba(X)[0, 1] == pytest.approx(0.7654520, abs=1e-7)
    clf.partial_fit(X, y)
    assert clf.loss_ == pytest.approx(1.4725951, abs=1e-7)
    w1 = [[0.0979993, 0.1957546], [0.2956657, 0.0960061], [0.4938325, -0.0026197]]
    np.testing.assert_allclose(clf.coefs_[0], w1, atol=1e-7)
    np.testing.assert_allclose(clf.coefs_[1][:, 0], [0.0470121, 0.1540292], atol=1e-7)
    np.testing.assert_allclose(clf.intercepts_[0], [0.0983321, 0.0962576], atol=1e-7)
    np.testing.assert_allclose(clf.intercepts_[1], [0.9234548], atol=1e-7)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


# the optimizers beyond torch.optim by name (issue 15), each at an lr that fits digits in 30 epochs
BEYOND_TORCH = [
    ("lion", 1e-3), ("adabelief", 0.01), ("yogi", 0.01), ("adan", 0.01), ("lamb", 0.01),
    ("lars", 3.0), ("novograd", 0.01), ("madgrad", 0.01), ("adabound", 0.01),
    ("amsbound", 0.01), ("adopt", 0.01), ("ademamix", 3e-3),
]  # fmt: skip


@pytest.mark.parametrize(
    "solver, kwargs",
    [
        ("adam", dict(learning_rate_init=0.01)),
        ("sgd", dict(learning_rate_init=0.05)),
        ("lbfgs", {}),
        ("rmsprop", dict(learning_rate_init=0.003)),
        (optim.Adagrad, dict(learning_rate_init=0.05)),
        *[(name, dict(learning_rate_init=lr)) for name, lr in BEYOND_TORCH],
    ],
    ids=["adam", "sgd", "lbfgs", "rmsprop", "Adagrad-class", *(n for n, _ in BEYOND_TORCH)],
)
def test_digits_classifier_with_any_solver(digits, solver, kwargs):
    Xtr, Xte, ytr, yte = digits
    clf = MLPClassifier(
        hidden_layer_sizes=(32,), max_iter=30, random_state=0, solver=solver, **kwargs
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        clf.fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= 0.93
    assert clf.n_features_in_ == 64 and list(clf.classes_) == list(range(10))
    assert clf.predict_proba(Xte[:5]).sum(axis=1) == pytest.approx(np.ones(5))
    if solver != "lbfgs":
        assert len(clf.loss_curve_) == clf.n_iter_ <= 30
        assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_wrong_feature_count_message(digits):
    Xtr, _, ytr, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(Xtr[:, :4], ytr)
    with pytest.raises(
        ValueError,
        match=r"^X has 3 features, but MLPClassifier is expecting 4 "
        r"features as input\.$",
    ):
        clf.predict(Xtr[:, :3])


def test_partial_fit_needs_classes_then_keeps_learning(digits):
    Xtr, _, ytr, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(Xtr[:50], ytr[:50])
    clf.partial_fit(Xtr[:100], ytr[:100], classes=np.arange(10))
    for _ in range(5):
        clf.partial_fit(Xtr, ytr)
    # scikit-learn: n_iter_ counts the latest call; loss_curve_ and t_ accumulate
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 6 and clf.t_ == 100 + 5 * len(Xtr)
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    with pytest.raises(AttributeError, match="has no attribute .partial_fit."):
        MLPClassifier(solver="lbfgs").partial_fit(Xtr[:10], ytr[:10], classes=np.arange(10))
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")


def test_early_stopping_keeps_best_validation_weights(digits):
    Xtr, Xte, ytr, yte = digits
    clf = MLPClassifier(
        hidden_layer_sizes=(32,),
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=200,
        random_state=0,
        learning_rate_init=0.01,
    )
    clf.fit(Xtr, ytr)
    assert clf.n_iter_ < 200 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(Xte, yte) > 0.93


def test_regressor_learns_and_keeps_y_shape():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5) + 0.05 * rng.normal(size=200)
    reg = MLPRegressor(
        hidden_layer_sizes=(32,), max_iter=300, random_state=0, learning_rate_init=0.01, tol=1e-6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    ref = neural_network.MLPRegressor(
        hidden_layer_sizes=(32,), max_iter=300, random_state=0, learning_rate_init=0.01, tol=1e-6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    # same initial weights and shuffles as scikit-learn: only Adam's eps placement differs
    assert reg.n_iter_ == ref.n_iter_
    assert reg.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-4)
    assert reg.score(X, y) > 0.97 and reg.predict(X[:3]).shape == (3,)
    reg2 = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg2.fit(X, np.column_stack([y, -y]))
    assert reg2.predict(X[:3]).shape == (3, 2)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(activation="softsign"), "'activation' parameter"),
        (dict(solver="newton"), "'solver' parameter"),
        (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes must be > 0"),
        (dict(learning_rate="cyclic"), "learning_rate must be"),
        (dict(validation_fraction=1.0), "validation_fraction must be in"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_works_without_scikit_learn():
    script = textwrap.dedent(
        """
        import sys, warnings
        sys.modules["sklearn"] = None  # the extra is not installed
        import numpy as np
        from gdlab.sklearn import HAVE_SKLEARN, MLPClassifier
        assert not HAVE_SKLEARN
        X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
        warnings.simplefilter("ignore")
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, learning_rate_init=0.01,
                            random_state=0).fit(X, y)
        assert clf.score(X, y) > 0.8 and clf.get_params()["max_iter"] == 50
        try:
            clf.predict(X[:, :2])
        except ValueError as e:
            assert "X has 2 features, but MLPClassifier is expecting 3" in str(e)
        es = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, random_state=0)
        es.fit(X, y, sample_weight=np.ones(40))  # gdlab's own stratified split
        assert len(es.validation_scores_) == es.n_iter_
        try:
            MLPClassifier(early_stopping=True).fit(X[:4], [0, 0, 0, 1])
        except ValueError as e:
            assert "Classes with too few members are: ['True']" in str(e)
        else:
            raise AssertionError("a class of one sample was not refused")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_accuracy_matches_scikit_learn_on_digits(digits, solver):
    """The live check of REFERENCES.md: same data, same hyper-parameters, similar accuracy."""
    Xtr, Xte, ytr, yte = digits
    params = dict(hidden_layer_sizes=(32,), max_iter=40, solver=solver, learning_rate_init=0.01)
    scores = {}
    for name, cls in (("gdlab", MLPClassifier), ("sklearn", neural_network.MLPClassifier)):
        accs = []
        for seed in range(2):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                accs.append(cls(random_state=seed, **params).fit(Xtr, ytr).score(Xte, yte))
        scores[name] = np.mean(accs)
    assert scores["gdlab"] > 0.94 and abs(scores["gdlab"] - scores["sklearn"]) < 0.02, scores


def _trajectory_data():
    from sklearn.datasets import load_digits, make_multilabel_classification, make_regression

    X, y = load_digits(n_class=3, return_X_y=True)
    X, y = X[:150] / 16, y[:150]
    Xr, yr = make_regression(n_samples=120, n_features=6, noise=1.0, random_state=0)
    Xm, ym = make_multilabel_classification(n_samples=60, random_state=0)
    counts = np.random.RandomState(0).poisson(np.exp(0.3 * Xr[:, 0]))
    return {
        "multiclass": (X, y),
        "binary": (X, (y == 1).astype(int)),
        "multilabel": (Xm, ym),
        "regression": (Xr, yr / yr.std()),
        "counts": (Xr, counts),
    }


# (name, estimator, data, sample_weight, settings, tolerance on weights and loss curve):
# scikit-learn's own initial weights, shuffles and validation split (the same RandomState
# draws), the same SGD arithmetic: equal to rounding. (Adam is torch's, eps added to the
# bias-corrected √v̂: weights whose gradient is ~0 move differently, so it has no row here.)
TRAJECTORIES = [
    ("sgd", "C", "multiclass", None, dict(solver="sgd", momentum=0.0), 1e-12),
    ("sgd-nesterov", "C", "binary", None, dict(solver="sgd"), 1e-12),
    ("sgd-momentum-tanh", "C", "multiclass", None, dict(momentum=0.8, activation="tanh"), 1e-12),
    ("sgd-multilabel", "C", "multilabel", None, dict(solver="sgd", activation="logistic"), 1e-12),
    ("sgd-early-stopping", "C", "multiclass", None, dict(solver="sgd", early_stopping=True), 1e-12),
    (
        "sgd-invscaling",
        "R",
        "regression",
        None,
        dict(momentum=0.0, learning_rate="invscaling"),
        1e-12,
    ),
    ("sgd-sample-weight", "R", "regression", "ramp", dict(solver="sgd"), 1e-12),
    ("sgd-poisson", "R", "counts", None, dict(solver="sgd", loss="poisson"), 1e-12),
]


@pytest.mark.parametrize(
    "kind, data, weight, settings, tol",
    [row[1:] for row in TRAJECTORIES],
    ids=[r[0] for r in TRAJECTORIES],
)
def test_trajectory_equals_scikit_learn(kind, data, weight, settings, tol):
    X, y = _trajectory_data()[data]
    w = np.linspace(0.5, 2.0, len(X)) if weight == "ramp" else None
    settings = dict(settings)
    settings.setdefault("solver", "sgd")
    params = dict(
        hidden_layer_sizes=(7, 5),
        max_iter=5,
        batch_size=32,
        random_state=3,
        alpha=0.01,
        learning_rate_init=0.05,
        **settings,
    )
    ours = (MLPClassifier if kind == "C" else MLPRegressor)(**params)
    ref = (neural_network.MLPClassifier if kind == "C" else neural_network.MLPRegressor)(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        ours.fit(X, y, sample_weight=w)
        ref.fit(X, y, sample_weight=w)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=tol)
    assert ours.n_iter_ == ref.n_iter_ and ours.out_activation_ == ref.out_activation_
    assert ours.validation_scores_ == ref.validation_scores_
    if kind == "C":
        np.testing.assert_array_equal(ours.predict(X[:20]), ref.predict(X[:20]))
    else:
        np.testing.assert_allclose(ours.predict(X[:20]), ref.predict(X[:20]), rtol=0, atol=tol)


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop", "yogi", "lamb", "lars"])
def test_flat_solver_equals_per_tensor_solver(digits, solver):
    """A named element-wise solver steps on the one flat parameter array, a layer-wise one
    (LAMB, LARS: a norm per tensor) on the layers' tensors; the same optimizer class given as
    ``solver`` steps per layer tensor: both give the same weights."""
    Xtr, _, ytr, _ = digits
    params = dict(hidden_layer_sizes=(16, 8), max_iter=3, random_state=0, momentum=0.0)
    cls = {"adam": optim.Adam, "sgd": optim.SGD, "rmsprop": optim.RMSprop, "yogi": optim.Yogi,
           "lamb": optim.LAMB, "lars": optim.LARS}[solver]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        flat = MLPClassifier(solver=solver, **params).fit(Xtr, ytr)
        per_tensor = MLPClassifier(solver=cls, **params).fit(Xtr, ytr)
    theirs = per_tensor.coefs_ + per_tensor.intercepts_
    for a, b in zip(flat.coefs_ + flat.intercepts_, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


# every registry name is a solver: (name, learning_rate_init, the test-set accuracy it reaches on
# digits in 30 epochs of a 32-unit network from random_state=0; measured 0.929 to 0.978)
REGISTRY_SOLVERS = [
    ("lion", 1e-3, 0.92),
    ("momentum", 0.01, 0.93),
    ("adabelief", 0.01, 0.95),
    ("lookahead", 0.01, 0.95),
    ("sam", 0.01, 0.93),
    ("asam", 0.01, 0.93),
    ("sgd_schedule_free", 0.5, 0.95),
    ("adamw_schedule_free", 0.01, 0.95),
    ("radam_schedule_free", 0.01, 0.92),
    ("prodigy", 1.0, 0.93),
    ("dadapt_sgd", 1.0, 0.95),
    ("dadapt_adam", 1.0, 0.93),
]


@pytest.mark.parametrize(
    "solver, lr, score", REGISTRY_SOLVERS, ids=[r[0] for r in REGISTRY_SOLVERS]
)
def test_registry_name_as_solver(digits, solver, lr, score):
    """Any registry name: its spec's class and defaults, lr = learning_rate_init, on the
    network's one flat parameter if its rule is element-wise (Lion, AdaBelief), else on the
    layers' tensors; closures (SAM) and train/eval work."""
    Xtr, Xte, ytr, yte = digits
    clf = MLPClassifier(
        hidden_layer_sizes=(32,), max_iter=30, random_state=0, solver=solver, learning_rate_init=lr
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        clf.fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= score
    spec = optim.OPTIMIZERS[solver]
    opt = clf._optimizer
    assert type(opt) is spec.cls and opt.param_groups[0]["lr"] == lr
    params = [p for g in opt.param_groups for p in g["params"]]
    if clf._flat_solver():
        assert len(params) == 1 and params[0].data is clf._model.flat
    else:
        assert params == list(clf._model.parameters())
    assert len(clf.loss_curve_) == clf.n_iter_ and np.isfinite(clf.loss_curve_).all()
    params = clf.get_params()
    assert params["solver"] == solver
    twin = sklearn.base.clone(clf)
    assert twin.get_params() == params and not hasattr(twin, "coefs_")
    assert twin.set_params(solver="adam").solver == "adam"


@pytest.mark.parametrize("solver", ["sgd_schedule_free", "adamw_schedule_free"])
def test_schedule_free_solver_predicts_at_x(digits, solver):
    """After fit the optimizer is in eval mode: coefs_ hold x, and y = (1 − β)·z + β·x is
    where train() takes them back (partial_fit continues there)."""
    Xtr, Xte, ytr, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0, solver=solver)
    clf.set_params(learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        clf.fit(Xtr, ytr)
    opt = clf._optimizer
    assert not opt.param_groups[0]["train_mode"]
    x = [p.data.copy() for p in clf._model.parameters()]
    z = [opt.state[p]["z"].copy() for p in clf._model.parameters()]
    beta = opt._beta(opt.param_groups[0])
    hidden = np.maximum(Xte @ x[0] + x[2], 0.0)
    expected = (hidden @ x[1] + x[3]).argmax(axis=1)
    np.testing.assert_array_equal(clf.predict(Xte), expected)
    opt.train()
    for p, xi, zi in zip(clf._model.parameters(), x, z, strict=True):
        np.testing.assert_allclose(p.data, (1 - beta) * zi + beta * xi, rtol=1e-12, atol=1e-15)
    opt.eval()
    clf.partial_fit(Xtr, ytr)  # trains at y again, ends at x
    assert clf._optimizer is opt and not opt.param_groups[0]["train_mode"]


def test_schedule_free_early_stopping_restores_best_x(digits):
    """Validation scores are taken at x (y put back exactly); the best x is restored, and the
    optimizer, whose y and z belong to a later x, is dropped: the next partial_fit starts
    a new one there (x = y = z)."""
    Xtr, _, ytr, _ = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=8, random_state=0, learning_rate_init=0.01)
    clf = MLPClassifier(solver="adamw_schedule_free", early_stopping=True, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        clf.fit(Xtr, ytr)
    assert clf._optimizer is None
    np.testing.assert_array_equal(clf._model.flat, clf._best_flat)
    assert max(clf.validation_scores_) == clf.best_validation_score_
    clf.set_params(early_stopping=False).partial_fit(Xtr, ytr)
    assert clf._optimizer is not None and clf.n_iter_ == 1


def test_unknown_solver_lists_registry_names():
    with pytest.raises(ValueError, match="'sgd_schedule_free'.*Got 'newton'"):
        MLPClassifier(solver="newton").fit(np.zeros((4, 2)), [0, 1, 0, 1])


@pytest.mark.parametrize("solver", ["sam", "asam", "adamw_schedule_free", "lion", "lookahead"])
def test_registry_solver_equals_a_hand_written_loop(solver):
    """The estimator's run of a registry solver equals the optimizer stepped by hand on the
    same network, batches and loss (SAM: gradient at w, first_step, gradient at w + ε,
    second_step; schedule-free: eval() after, so the weights are x), bit for bit."""
    from gdlab.creation import from_numpy
    from gdlab.estimators._mlp import DenseNet, glorot_arrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    est = MLPRegressor(
        solver=solver, hidden_layer_sizes=(8,), max_iter=3, shuffle=False, batch_size=20,
        alpha=0.0, random_state=0, tol=0.0, learning_rate_init=0.05,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        est.fit(X, y)
    coefs, intercepts = glorot_arrays([3, 8, 1], "relu", np.float64, np.random.RandomState(0))
    model = DenseNet(coefs, intercepts, "relu")
    spec = optim.OPTIMIZERS[solver]
    opt = spec.cls(list(model.parameters()), lr=0.05, **spec.defaults)

    def gradient(xb, yb):
        model.zero_grad()
        loss = ((model(from_numpy(xb)) - from_numpy(yb.reshape(-1, 1))) ** 2).mean() / 2
        loss.backward()

    for _ in range(3):
        for s in range(0, 60, 20):
            xb, yb = X[s : s + 20], y[s : s + 20]
            gradient(xb, yb)
            if solver in ("sam", "asam"):
                opt.first_step(zero_grad=True)
                gradient(xb, yb)
                opt.second_step(zero_grad=True)
            else:
                opt.step()
    if solver == "adamw_schedule_free":
        opt.eval()
    ours = [*est.coefs_, *est.intercepts_]
    for a, b in zip(ours, [*model.weights(), *model.biases()], strict=True):
        np.testing.assert_array_equal(a, b.data)
