"""How the op-table tests sample each primitive's inputs: one row per op in ``SAMPLING``.

A row gives the interval input values are drawn from (``domain``: away from poles and kinks),
the keyword arguments for the default sampling (``kwargs``), or, for an op whose inputs must
fit together (matmul, gather, cat...), ``cases(rng, shape)``, which returns a list of
``(input_shapes, kwargs)`` built around a drawn ``shape``. By default the tests draw mutually
broadcastable shapes, one per VJP. Adding an op to the table adds a row here
(test_vjp_table.py checks that every op has one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

# One test case: the shapes of the positional inputs and the keyword arguments.
Sample = tuple[tuple[tuple[int, ...], ...], dict]
Sampler = Callable[[np.random.Generator, tuple[int, ...]], list[Sample]]


class Sampling(NamedTuple):
    """How to sample one op's inputs (see the module docstring)."""

    domain: tuple[float, float] = (-2.0, 2.0)
    kwargs: dict | None = None
    cases: Sampler | None = None


def _count(shape: tuple[int, ...], dim: tuple[int, ...] | None) -> int:
    return int(np.prod(shape if dim is None else [shape[d] for d in dim]))


# ------------------------------------------------------------------------- reduce
def sample_dims(rng: np.random.Generator, shape: tuple[int, ...]) -> list[dict]:
    """dim=None, one random axis and (for 2-D and up) two axes; keepdim both ways."""
    cases = [{"dim": None, "keepdim": False}]
    if shape:
        axis = int(rng.integers(len(shape)))
        cases.append({"dim": (axis,), "keepdim": bool(rng.integers(2))})
    if len(shape) >= 2:
        axes = rng.choice(len(shape), size=2, replace=False)
        cases.append({"dim": tuple(sorted(int(a) for a in axes)), "keepdim": True})
    return cases


def sample_reduce(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((shape,), kw) for kw in sample_dims(rng, shape)]


def sample_var(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    cases = []
    for kw in sample_dims(rng, shape):
        count = _count(shape, kw["dim"])
        for correction in (0, 1) if count > 1 else (0,):
            cases.append(((shape,), {**kw, "correction": correction}))
    return cases


def sample_norm(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """Each kind of p (2, 1, inf, below 1, between 1 and 2, above 2) over drawn dims."""
    dims = sample_dims(rng, shape)
    ps = (2.0, 1.0, np.inf, 0.5, 1.5, 3.0)
    return [((shape,), {**dims[k % len(dims)], "p": p}) for k, p in enumerate(ps)]


def sample_softmax(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = shape or (3,)
    return [((shape,), {"dim": int(rng.integers(len(shape)))})]


# ------------------------------------------------------------------------- shape
def sample_reshape(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((shape,), {"shape": (-1,)}), ((shape,), {"shape": (*shape[::-1], 1)})]


def sample_permute(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((shape,), {"dims": tuple(int(d) for d in rng.permutation(len(shape)))})]


def sample_expand(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    small = tuple(1 if rng.integers(2) else n for n in shape)
    return [((small,), {"shape": (2, *shape)}), ((shape,), {"shape": shape})]


def sample_getitem(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """Basic (int, slice, None, Ellipsis) and advanced (int arrays with duplicates, bool
    masks, arrays mixed with slices) indices."""
    shape = shape if len(shape) >= 2 else (3, 4)
    n0, n1 = shape[0], shape[1]
    mask = rng.random(shape) > 0.5
    indices = [
        0,
        -1,
        (slice(None, None, 2), Ellipsis, None),
        (Ellipsis, slice(1, None)),
        np.array([0, n0 - 1, 0]),  # duplicates accumulate
        (np.array([[0], [n0 - 1]]), np.array([n1 - 1, 0, n1 - 1])),  # broadcast index arrays
        (slice(None), np.array([0, 0])),
        mask,
        (np.array([True] * (n0 - 1) + [False]), 0),
    ]
    return [((shape,), {"index": index}) for index in indices]


def sample_index_scatter(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """getitem's gradient: a source of the indexed shape scattered into zeros of ``shape``."""
    cases = []
    for (x_shape,), kw in sample_getitem(rng, shape):
        src = np.zeros(x_shape)[kw["index"]].shape
        cases.append(((src,), {"index": kw["index"], "shape": x_shape}))
    return cases


def sample_gather(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = shape or (3,)
    dim = int(rng.integers(len(shape)))
    index_shape = tuple(int(rng.integers(1, n + 1)) for n in shape)
    index_shape = (*index_shape[:dim], 4, *index_shape[dim + 1 :])  # more picks than values
    index = rng.integers(0, shape[dim], size=index_shape)
    return [((shape,), {"dim": dim, "index": index})]


def sample_cat(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = shape or (2,)
    dim = int(rng.integers(len(shape)))
    shapes = tuple((*shape[:dim], k, *shape[dim + 1 :]) for k in (1, shape[dim], 2))
    return [(shapes, {"dim": dim})]


def sample_stack(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((shape,) * 3, {"dim": int(rng.integers(len(shape) + 1))})]


def sample_pad(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = shape or (2,)
    widths = [(int(rng.integers(3)), int(rng.integers(3))) for _ in shape]
    return [((shape,), {"widths": widths, "value": 0.5})]


# ------------------------------------------------------------------------- linalg
def sample_einsum(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """Products, a trace and a diagonal (repeated letters), letters summed away, three
    operands and an ellipsis dimension of size 1 broadcast against 3 (explicit equations)."""
    a, b, c = (tuple(shape) + (2, 3, 4))[:3]
    return [
        (((a, b), (b, c)), {"equation": "ij,jk->ik"}),
        (((b, b),), {"equation": "ii->"}),
        (((b, b),), {"equation": "ii->i"}),
        (((a, b),), {"equation": "ij->i"}),
        (((a,), (c,)), {"equation": "i,j->ij"}),
        (((2, a, b), (2, b, c)), {"equation": "bij,bjk->bik"}),
        (((a, b), (b, c), (c, 2)), {"equation": "ij,jk,kl->il"}),
        (((1, a, b), (3, b)), {"equation": "zij,zj->zi"}),
    ]


def sample_matmul(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """Vector and matrix cases, and leading dimensions that broadcast."""
    m, k, n = (tuple(shape) + (2, 3, 4))[:3]
    return [
        (((k,), (k,)), {}),
        (((m, k), (k,)), {}),
        (((k,), (k, n)), {}),
        (((m, k), (k, n)), {}),
        (((2, 1, m, k), (3, k, n)), {}),
        (((k,), (2, k, n)), {}),
        (((2, m, k), (k,)), {}),
    ]


# ------------------------------------------------------------------------- conv
def sample_conv2d(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [
        (((2, 2, 5, 4), (3, 2, 3, 2), (3,)), {}),
        (
            ((1, 4, 6, 5), (4, 2, 2, 3)),
            {"stride": (2, 1), "padding": (1, 0, 2, 1), "dilation": (1, 2), "groups": 2},
        ),
    ]


_CONV_DEFAULTS = {"stride": (1, 1), "padding": (0, 0, 0, 0), "dilation": (1, 1), "groups": 1}


def _conv_cases(rng: np.random.Generator) -> list:
    """(x shape, w shape, g shape, full geometry) of each conv2d case."""
    from gdlab.ops.conv import CONV2D

    out = []
    for shapes, kwargs in sample_conv2d(rng, ()):
        geometry = {**_CONV_DEFAULTS, **kwargs}
        g = CONV2D.forward(np.zeros(shapes[0]), np.zeros(shapes[1]), **geometry)
        out.append((shapes[0], shapes[1], g.shape, geometry))
    return out


def sample_conv2d_input_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((g, w), {**geo, "in_hw": x[2:]}) for x, w, g, geo in _conv_cases(rng)]


def sample_conv2d_weight_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((x, g), {**geo, "kernel": w[2:]}) for x, w, g, geo in _conv_cases(rng)]


def sample_linear(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    n, k, m = (tuple(shape) + (2, 3, 4))[:3]
    return [
        (((n, k), (m, k), (m,)), {}),
        (((2, n, k), (m, k), (m,)), {}),
        (((k,), (m, k)), {}),
    ]


def sample_cross_entropy(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    n, c = (tuple(shape) + (3, 4))[:2]
    q = rng.uniform(0, 1, (n, c))
    onehot = np.eye(c)[rng.integers(0, c, n)]
    return [(((n, c),), {"q": q}), (((n, c),), {"q": onehot, "denom": float(n)})]


def sample_soft_cross_entropy(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    n, c = (tuple(shape) + (3, 4))[:2]
    return [(((n, c), (n, c)), {}), (((n, c), (n, c)), {"denom": float(n)})]


def sample_cross_entropy_index(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    n, c = (tuple(shape) + (3, 4))[:2]
    t = rng.integers(0, c, n)
    return [(((n, c),), {"target": t}), (((n, c),), {"target": t, "denom": float(n)})]


def sample_embedding(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    idx = rng.integers(0, 4, (2, 3))
    # padding_idx is left out: its zero gradient is torch's convention, not the derivative
    return [(((4, 3),), {"indices": idx}), (((5, 2),), {"indices": idx[:, :2]})]


def sample_mode_pad(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    two_d = ((0, 0), (0, 0), (1, 2), (2, 1))
    return [
        (((2, 3, 4),), {"widths": ((0, 0), (0, 0), (2, 3)), "mode": "reflect"}),
        (((1, 2, 3, 3),), {"widths": two_d, "mode": "replicate"}),
        (((2, 2, 3, 4),), {"widths": two_d, "mode": "circular"}),
        (((2, 3, 3),), {"widths": ((0, 0), (0, 0), (3, 3)), "mode": "circular"}),
    ]


# ------------------------------------------------------------------------- pool
def sample_pool(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [
        (((2, 2, 4, 5),), {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0, 0, 0),
                           "dilation": (1, 1), "out_hw": (2, 2)}),
        (((1, 1, 5, 5),), {"kernel": (3, 2), "stride": (2, 1), "padding": (1, 1, 0, 1),
                           "dilation": (1, 2), "out_hw": (3, 4)}),
    ]  # fmt: skip


def sample_avg_pool(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    cases = sample_pool(rng, shape)
    divisor = rng.uniform(1.0, 4.0, (3, 4))
    return [cases[0], (cases[1][0], {**cases[1][1], "divisor": divisor})]


def _pooled(rng: np.random.Generator) -> list:
    """(x, its max pooling, kwargs) of each max-pool case, x drawn without ties."""
    from gdlab.ops.pool import MAX_POOL2D

    out = []
    for (shape,), kwargs in sample_pool(rng, ()):
        x = rng.permutation(np.prod(shape)).reshape(shape) / 4.0 - 1.0
        out.append((x, MAX_POOL2D.forward(x, **kwargs), kwargs))
    return out


def sample_max_pool_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((p.shape,), {**kw, "x": x, "pooled": p}) for x, p, kw in _pooled(rng)]


def sample_max_pool_select(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((x.shape,), {**kw, "x": x, "pooled": p}) for x, p, kw in _pooled(rng)]


def sample_avg_pool_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    out = []
    for (x,), kwargs in sample_avg_pool(rng, shape):
        out.append((((x[0], x[1], *kwargs["out_hw"]),), {**kwargs, "in_hw": x[2:]}))
    return out


# ------------------------------------------------------------------------- rnn_ops
def sampler(gates: int, with_c: bool, extra: dict) -> Callable:
    def sample(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
        t_len, n, hid = (tuple(shape) + (3, 2, 2))[:3]
        states = ((n, hid),) * (2 if with_c else 1)
        full = ((t_len, n, gates * hid), *states, (gates * hid, hid), (gates * hid,))
        return [
            (full, dict(extra)),
            (full[:-1], {**extra, "reverse": True}),  # no b_hh
        ]

    return sample


def sample_lstm(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    t_len, n, hid = (tuple(shape) + (3, 2, 2))[:3]
    cases = sampler(4, True, {})(rng, (t_len, n, hid))
    hid, p = hid + 1, hid  # with a projection: h is P < H wide
    projected = ((t_len, n, 4 * hid), (n, p), (n, hid), (4 * hid, p), (4 * hid,), (p, hid))
    return [*cases, (projected, {"reverse": True})]


# ------------------------------------------------------------------------- elementwise
def sample_softplus(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [
        ((shape,), {"beta": 1.0, "threshold": 20.0}),
        ((shape,), {"beta": 2.0, "threshold": 3.0}),  # some inputs on the linear side
    ]


def sample_clamp(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [
        ((shape,), {"min": -1.0, "max": 1.0}),
        ((shape,), {"min": 0.5, "max": None}),
        ((shape,), {"min": None, "max": -0.5}),
    ]


def sample_where(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [
        ((shape, shape[1:]), {"condition": rng.random(shape) > 0.5}),
        ((shape[1:], shape), {"condition": rng.random(shape[-1:]) > 0.5}),
    ]


def sample_scaled_softmax(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = shape or (3,)
    mask = np.where(rng.random(shape) < 0.3, -np.inf, 0.0)
    mask[..., 0] = 0.0  # every row keeps one position (a fully masked row is NaN, as torch)
    masked = np.where(np.arange(shape[-1]) < 1, -np.inf, 0.0)
    return [
        ((shape,), {"scale": 0.7}),
        ((shape,), {"scale": 0.9, "bias": masked, "safe": True}),
        ((shape,), {"scale": 1.3, "bias": rng.standard_normal(shape[-1:])}),
        ((shape,), {"scale": 0.5, "bias": mask}),
    ]


def sample_attention(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """q (..., L, E), k (..., S, E), v (..., S, Ev), bias (L, S) or None; batch dims broadcast."""
    batch = tuple(shape[:-1])[:2]
    q, k, v = (*batch, 3, 2), (*batch[1:], 4, 2), (*batch, 4, 3)
    masked = np.where(rng.random((3, 4)) < 0.3, -np.inf, 0.0)
    masked[:, 0] = 0.0
    return [
        ((q, k, v), {"scale": 0.7}),
        ((q, k, v, (3, 4)), {"scale": 1.1}),  # a float bias that is differentiated
        ((q, k, v), {"scale": 0.9, "bias": masked, "safe": True}),
        # MultiheadAttention's layout: 2 heads in the last dimension, a per-head bias
        (((*batch, 3, 4), (*batch, 4, 4), (*batch[1:], 4, 6), (2, 3, 4)), {"heads": 2}),
    ]


def sample_self_attention(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """qkv (..., L, 3·E) with E split over 1 or 2 heads; a float bias (L, L) or a mask."""
    batch = tuple(shape[:-1])[:2]
    masked = np.where(rng.random((3, 3)) < 0.3, -np.inf, 0.0)
    masked[:, 0] = 0.0
    return [
        (((*batch, 3, 6),), {"scale": 0.7}),
        (((*batch, 3, 12), (2, 3, 3)), {"scale": 0.8, "heads": 2}),  # a differentiated bias
        (((*batch, 3, 12),), {"scale": 1.2, "heads": 2, "bias": masked, "safe": True}),
    ]


def sample_layer_norm(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = tuple(shape) if len(shape) >= 2 else (2, 3)
    last = shape[-1:]
    two = shape[-2:]
    return [
        ((shape, last, last), {"ndim": 1, "eps": 1e-5}),
        ((shape, two, two), {"ndim": 2, "eps": 1e-3}),
    ]


def sample_batch_norm(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    mean, var = rng.uniform(-1.0, 1.0, 3), rng.uniform(0.5, 2.0, 3)
    return [
        (((4, 3, 2, 2), (3,), (3,)), {"eps": 1e-5}),
        (((5, 3), (3,), (3,)), {"eps": 1e-3}),
        (((2, 3, 4),), {"eps": 1e-5}),
        (((3, 3, 2, 1), (3,), (3,)), {"eps": 1e-5, "mean": mean, "var": var}),
    ]


def sample_gelu(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    return [((shape,), {"approximate": "tanh"}), ((shape,), {"approximate": "none"})]


SAMPLING: dict[str, Sampling] = {
    # elementwise
    "add": Sampling(),
    "sub": Sampling(),
    "mul": Sampling(),
    "div": Sampling(domain=(0.5, 2.0)),
    "neg": Sampling(),
    "pow": Sampling(domain=(0.5, 2.0)),
    "exp": Sampling(),
    "log": Sampling(domain=(0.1, 10.0)),
    "sqrt": Sampling(domain=(0.1, 10.0)),
    "abs": Sampling(),
    "sin": Sampling(),
    "cos": Sampling(),
    "tanh": Sampling(),
    "sinh": Sampling(),
    "cosh": Sampling(),
    "square": Sampling(),
    "sign": Sampling(domain=(0.5, 2.0)),  # away from the jump at 0
    "sigmoid": Sampling(domain=(-8, 8)),
    "relu": Sampling(),
    "softplus": Sampling(domain=(-3.0, 3.0), cases=sample_softplus),
    "clamp": Sampling(cases=sample_clamp),
    "maximum": Sampling(),
    "minimum": Sampling(),
    "where": Sampling(cases=sample_where),
    "to": Sampling(kwargs={"dtype": np.dtype(np.float64)}),  # float32 would swamp the FD check
    # reductions
    "sum": Sampling(cases=sample_reduce),
    "mean": Sampling(cases=sample_reduce),
    "amax": Sampling(cases=sample_reduce),
    "amin": Sampling(cases=sample_reduce),
    "var": Sampling(cases=sample_var),
    "std": Sampling(domain=(-2.0, 2.0), cases=sample_var),
    "norm": Sampling(cases=sample_norm),
    "logsumexp": Sampling(cases=sample_reduce),
    "softmax": Sampling(cases=sample_softmax),
    "log_softmax": Sampling(cases=sample_softmax),
    # shape
    "reshape": Sampling(cases=sample_reshape),
    "permute": Sampling(cases=sample_permute),
    "expand": Sampling(cases=sample_expand),
    "clone": Sampling(),
    "getitem": Sampling(cases=sample_getitem),
    "index_scatter": Sampling(cases=sample_index_scatter),
    "gather": Sampling(cases=sample_gather),
    "cat": Sampling(cases=sample_cat),
    "stack": Sampling(cases=sample_stack),
    "pad": Sampling(cases=sample_pad),
    # linalg, conv, pool
    "matmul": Sampling(cases=sample_matmul),
    "einsum": Sampling(cases=sample_einsum),
    "conv2d": Sampling(cases=sample_conv2d),
    "max_pool2d": Sampling(cases=sample_pool),
    "avg_pool2d": Sampling(cases=sample_avg_pool),
    "conv2d_input_grad": Sampling(cases=sample_conv2d_input_grad),
    "conv2d_weight_grad": Sampling(cases=sample_conv2d_weight_grad),
    "max_pool2d_grad": Sampling(cases=sample_max_pool_grad),
    "max_pool2d_select": Sampling(cases=sample_max_pool_select),
    "avg_pool2d_grad": Sampling(cases=sample_avg_pool_grad),
    # nn
    "linear": Sampling(cases=sample_linear),
    "erf": Sampling(domain=(-3.0, 3.0)),
    "gelu": Sampling(domain=(-3.0, 3.0), cases=sample_gelu),
    "scaled_softmax": Sampling(cases=sample_scaled_softmax),
    "attention": Sampling(cases=sample_attention),
    "self_attention": Sampling(cases=sample_self_attention),
    "layer_norm": Sampling(cases=sample_layer_norm),
    "batch_norm": Sampling(cases=sample_batch_norm),
    "leaky_relu": Sampling(kwargs={"negative_slope": 0.2}),
    "elu": Sampling(kwargs={"alpha": 0.7}),
    "hardtanh": Sampling(kwargs={"min_val": -1.0, "max_val": 1.0}),
    "cross_entropy": Sampling(cases=sample_cross_entropy),
    "soft_cross_entropy": Sampling(cases=sample_soft_cross_entropy),
    "cross_entropy_index": Sampling(cases=sample_cross_entropy_index),
    "binary_cross_entropy": Sampling(domain=(0.1, 0.9)),
    "embedding": Sampling(cases=sample_embedding),
    "mode_pad": Sampling(cases=sample_mode_pad),
    # recurrences
    "rnn_scan": Sampling(cases=sampler(1, False, {"nonlinearity": "tanh"})),
    "lstm_scan": Sampling(domain=(-1.0, 1.0), cases=sample_lstm),
    "gru_scan": Sampling(domain=(-1.0, 1.0), cases=sampler(3, False, {})),
}
