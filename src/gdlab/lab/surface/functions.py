"""A zoo of 2-D (and two 1-D) test functions, written with gdlab ops.

Each function is a small record: its formula ``f(x, y)`` on gdlab Tensors (so the gradient
comes from the autodiff engine, exactly as for a network's loss), a plot domain, its known
minima and optimal value f*, a default start and a one-line description. The same code
evaluates contour grids: ``fn.grid(X, Y)`` wraps the NumPy arrays in Tensors under
``no_grad`` and returns an array.

Example:
    >>> fn = get_function("rosenbrock")
    >>> p = gdlab.tensor([-1.2, 1.0], dtype="float64", requires_grad=True)
    >>> fn(p).backward()          # p.grad now holds ∇f from the engine
    >>> fn.f_star, fn.minima
    (0.0, ((1.0, 1.0),))

References: Surjanovic & Bingham, "Virtual Library of Simulation Experiments: test functions"
(https://www.sfu.ca/~ssurjano/optimization.html); Jamil & Yang, "A literature survey of
benchmark functions for global optimization problems" (2013); d2l.ai chapter 12.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import gdlab
from gdlab.tensor import Tensor

__all__ = [
    "FUNCTIONS",
    "FUNCTIONS_1D",
    "Function1D",
    "TestFunction",
    "get_function",
    "get_function_1d",
    "noisy",
]

Point = tuple[float, float]
Formula = Callable[[Any, Any], Tensor]


@dataclass(frozen=True)
class TestFunction:
    """A 2-D test function f(x, y) with its plot domain and known minima.

    Args:
        name: registry key.
        formula: ``f(x, y)`` on gdlab Tensors (any broadcastable shapes).
        domain: ``((xmin, xmax), (ymin, ymax))`` drawn by the plots.
        minima: known global minimisers (empty when f is unbounded below).
        f_star: the optimal value, or None when f is unbounded below.
        start: a default starting point that shows the function's character.
        description: one line for legends and reports.
        smooth_at_minima: False where f has a kink at its minimum (Ackley).
        noise_std: standard deviation of Gaussian noise added to every gradient by the
            trajectory runner (mimics stochastic descent); 0 for the exact gradient.
    """

    __test__ = False  # a "Test..." class that pytest must not collect

    name: str
    formula: Formula
    domain: tuple[Point, Point]
    minima: tuple[Point, ...]
    f_star: float | None
    start: Point
    description: str
    smooth_at_minima: bool = True
    noise_std: float = 0.0

    def f(self, x: Any, y: Any) -> Tensor:
        """f(x, y) on Tensors (or numbers); the graph is recorded if the inputs require grad."""
        return self.formula(x, y)

    def __call__(self, xy: Tensor) -> Tensor:
        """f of a length-2 tensor ``xy`` (an optimizer's parameter)."""
        return self.formula(xy[0], xy[1])

    def grid(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """f on NumPy arrays (contour grids, paths), through the same gdlab ops, no graph."""
        with gdlab.no_grad(), np.errstate(all="ignore"):
            out = self.formula(Tensor(np.asarray(x, np.float64)), Tensor(np.asarray(y, np.float64)))
        return np.broadcast_to(out.data, np.broadcast_shapes(np.shape(x), np.shape(y))).copy()

    def gradient(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∇f at many points at once, shape ``(..., 2)``, from the engine (points are independent,
        so the gradient of the sum is every point's own gradient)."""
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        tx = Tensor(np.broadcast_to(np.asarray(x, np.float64), shape).copy(), requires_grad=True)
        ty = Tensor(np.broadcast_to(np.asarray(y, np.float64), shape).copy(), requires_grad=True)
        with np.errstate(all="ignore"):
            out = self.formula(tx, ty)
            if not out.requires_grad:  # constant in both arguments
                return np.zeros((*shape, 2))
            gx, gy = gdlab.autograd.grad(out, [tx, ty], np.ones(out.shape), allow_unused=True)
        zero = np.zeros(shape)
        return np.stack([zero if gx is None else gx, zero if gy is None else gy], axis=-1)


@dataclass(frozen=True)
class Function1D:
    """A 1-D test function f(x) for d2l's one-dimensional gradient-descent pictures."""

    name: str
    formula: Callable[[Any], Tensor]
    domain: Point
    minima: tuple[float, ...]
    f_star: float | None
    start: float
    description: str

    def __call__(self, x: Any) -> Tensor:
        return self.formula(x)

    def grid(self, x: np.ndarray) -> np.ndarray:
        """f on a NumPy array through the same gdlab ops, no graph."""
        with gdlab.no_grad():
            return np.asarray(self.formula(Tensor(np.asarray(x, np.float64))).data)


def noisy(function: TestFunction, noise_std: float = 1.0) -> TestFunction:
    """The same function, but the trajectory runner adds N(0, noise_std²) to each gradient.

    The noise is drawn from the generator the runner is given (``seed=``), so a noisy run is
    reproducible; it mimics the gradient noise of stochastic (mini-batch) descent.

    Example:
        >>> t = run_trajectory(noisy(get_function("ravine"), 0.5), "sgd", steps=50, lr=0.1, seed=0)
    """
    if not noise_std >= 0:
        raise ValueError(f"noisy: noise_std must be non-negative, got {noise_std}")
    return dataclasses.replace(
        function,
        name=f"{function.name}_noisy",
        noise_std=float(noise_std),
        description=f"{function.description} + gradient noise N(0, {noise_std:g}²)",
    )


# ---------------------------------------------------------------- formulas
def _rosenbrock(b: float) -> Formula:
    return lambda x, y: (1 - x) ** 2 + b * (y - x**2) ** 2


def _beale(x: Any, y: Any) -> Tensor:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _rastrigin(x: Any, y: Any) -> Tensor:
    tau = 2 * math.pi
    return 20.0 + x**2 - 10 * gdlab.cos(tau * x) + y**2 - 10 * gdlab.cos(tau * y)


def _ackley(x: Any, y: Any) -> Tensor:
    tau = 2 * math.pi
    r = gdlab.sqrt(0.5 * (x**2 + y**2))
    waves = gdlab.exp(0.5 * (gdlab.cos(tau * x) + gdlab.cos(tau * y)))
    return -20 * gdlab.exp(-0.2 * r) - waves + math.e + 20


def _goldstein_price(x: Any, y: Any) -> Tensor:
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


def _six_hump_camel(x: Any, y: Any) -> Tensor:
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _plateau(x: Any, y: Any) -> Tensor:
    # A narrow well in a flat plain: far from 0 the gradient 2r·exp(−r²) all but vanishes.
    return 1 - gdlab.exp(-(x**2 + y**2))


_XCOS_C = 0.15 * math.pi
_CAMEL_MIN = (0.08984201310031807, -0.7126564030207396)

_ZOO = [
    TestFunction("bowl", lambda x, y: x**2 + y**2, ((-3, 3), (-3, 3)), ((0.0, 0.0),), 0.0,
                 (-2.5, 2.0), "quadratic bowl x² + y² (κ = 1)"),
    TestFunction("elliptic", lambda x, y: x**2 + 2 * y**2, ((-5.5, 1), (-3, 1.5)), ((0.0, 0.0),),
                 0.0, (-5.0, -2.0), "d2l's quadratic x₁² + 2x₂² (κ = 2)"),
    TestFunction("ravine", lambda x, y: 0.1 * x**2 + 2 * y**2, ((-5.5, 1), (-3, 1.5)),
                 ((0.0, 0.0),), 0.0, (-5.0, -2.0), "d2l's ravine 0.1x₁² + 2x₂² (κ = 20)"),
    TestFunction("ravine_dlfs", lambda x, y: x**2 / 20 + y**2, ((-10, 10), (-5, 5)),
                 ((0.0, 0.0),), 0.0, (-7.0, 2.0), "DLFS ch. 6 ravine x²/20 + y² (κ = 20)"),
    TestFunction("rotated_ravine", lambda x, y: 1.05 * x**2 + 1.05 * y**2 - 1.9 * x * y,
                 ((-5.5, 3), (-4, 3)), ((0.0, 0.0),), 0.0, (-5.0, -2.0),
                 "the ravine rotated 45°: 0.1u² + 2v², u, v = (x ± y)/√2 (κ = 20)"),
    TestFunction("rosenbrock", _rosenbrock(100.0), ((-2, 2), (-1, 3)), ((1.0, 1.0),), 0.0,
                 (-1.2, 1.0), "Rosenbrock (1 − x)² + 100(y − x²)²: a curved valley"),
    TestFunction("rosenbrock_b1", _rosenbrock(1.0), ((-2, 2), (-1, 3)), ((1.0, 1.0),), 0.0,
                 (-1.5, 2.0), "Rosenbrock with b = 1: (1 − x)² + (y − x²)²"),
    TestFunction("beale", _beale, ((-4.5, 4.5), (-4.5, 4.5)), ((3.0, 0.5),), 0.0, (1.5, 1.5),
                 "Beale: flat plateaus and steep ridges near the corners"),
    TestFunction("booth", lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
                 ((-10, 10), (-10, 10)), ((1.0, 3.0),), 0.0, (-6.0, -6.0),
                 "Booth: a tilted quadratic"),
    TestFunction("matyas", lambda x, y: 0.26 * (x**2 + y**2) - 0.48 * x * y,
                 ((-10, 10), (-10, 10)), ((0.0, 0.0),), 0.0, (6.0, 6.0),
                 "Matyas: a flat, strongly correlated quadratic (κ = 25)"),
    TestFunction("himmelblau", lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
                 ((-5, 5), (-5, 5)),
                 ((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                  (-3.779310253377747, -3.2831859912861696),
                  (3.5844283403304917, -1.8481265269644036)),
                 0.0, (0.0, 0.0), "Himmelblau: four global minima, which one is found?"),
    TestFunction("rastrigin", _rastrigin, ((-5.12, 5.12), (-5.12, 5.12)), ((0.0, 0.0),), 0.0,
                 (3.3, -2.7), "Rastrigin: a bowl covered in local minima"),
    TestFunction("ackley", _ackley, ((-5, 5), (-5, 5)), ((0.0, 0.0),), 0.0, (3.0, -2.5),
                 "Ackley: a narrow funnel in a bumpy plain", smooth_at_minima=False),
    TestFunction("goldstein_price", _goldstein_price, ((-2, 2), (-2, 2)), ((0.0, -1.0),), 3.0,
                 (-1.5, 1.5), "Goldstein-Price: local minima, values spanning 6 decades"),
    TestFunction("six_hump_camel", _six_hump_camel, ((-2, 2), (-1, 1)),
                 (_CAMEL_MIN, (-_CAMEL_MIN[0], -_CAMEL_MIN[1])), -1.0316284534898774,
                 (-1.5, -0.8), "six-hump camel: two global and four local minima"),
    TestFunction("saddle", lambda x, y: x**2 - y**2, ((-2, 2), (-2, 2)), (), None, (-1.8, 0.01),
                 "saddle x² − y²: zero gradient at (0, 0), not a minimum"),
    TestFunction("monkey_saddle", lambda x, y: x**3 - 3 * x * y**2, ((-2, 2), (-2, 2)), (), None,
                 (1.5, 0.01), "monkey saddle x³ − 3xy²: a flat degenerate saddle at (0, 0)"),
    TestFunction("plateau", _plateau, ((-4, 4), (-4, 4)), ((0.0, 0.0),), 0.0, (2.5, 1.5),
                 "plateau 1 − exp(−x² − y²): vanishing gradient far from the well"),
]  # fmt: skip

_NOISY = [("bowl", 1.0), ("ravine", 1.0), ("rosenbrock", 10.0)]

#: name -> TestFunction; the noisy variants are named ``<name>_noisy``.
FUNCTIONS: dict[str, TestFunction] = {fn.name: fn for fn in _ZOO}
FUNCTIONS.update({f"{n}_noisy": noisy(FUNCTIONS[n], s) for n, s in _NOISY})

#: name -> Function1D (d2l's one-dimensional examples).
FUNCTIONS_1D: dict[str, Function1D] = {
    fn.name: fn
    for fn in [
        Function1D("square", lambda x: x**2, (-10.0, 10.0), (0.0,), 0.0, 10.0, "f(x) = x²"),
        Function1D(
            "xcos",
            lambda x: x * gdlab.cos(_XCOS_C * x),
            (-10.0, 10.0),
            (7.269388146311475,),
            -6.9781408310704744,
            10.0,
            "f(x) = x·cos(cx), c = 0.15π: local minima (f* on [−10, 10])",
        ),
        Function1D("cosh", lambda x: (gdlab.exp(0.5 * x) + gdlab.exp(-0.5 * x)) / 2,
                   (-10.0, 10.0), (0.0,), 1.0, 10.0, "f(x) = cosh(x/2): convex"),
    ]
}  # fmt: skip


def _lookup(registry: dict, name: str, what: str) -> Any:
    if not isinstance(name, str):
        raise TypeError(f"{what}: name must be a str, got {type(name).__name__}")
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(repr(k) for k in registry)
        raise ValueError(f"{what}: unknown function {name!r} (choose from {valid})") from None


def get_function(name: str) -> TestFunction:
    """The 2-D test function registered as ``name``; an unknown name lists the valid ones.

    Example:
        >>> fn = get_function("himmelblau")
        >>> fn.minima[:2], fn.f_star
    """
    return _lookup(FUNCTIONS, name, "get_function")


def get_function_1d(name: str) -> Function1D:
    """The 1-D test function registered as ``name``; an unknown name lists the valid ones."""
    return _lookup(FUNCTIONS_1D, name, "get_function_1d")
