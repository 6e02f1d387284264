"""gdlab: a gradient-descent laboratory.

An autodiff engine on NumPy, neural-network layers, every gradient-descent optimizer with
PyTorch's names and formulas, and a lab that compares them and shows how they move.
"""

# isort: off
from gdlab.tensor import Tensor, tensor  # first: every op module builds Tensors

# isort: on
from gdlab import autograd, data, datasets, nn, optim, utils
from gdlab.autograd import enable_grad, no_grad, set_grad_enabled
from gdlab.autograd import functional as _functional  # noqa: F401 - gdlab.autograd.functional
from gdlab.creation import (
    arange,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    linspace,
    meshgrid,
    normal,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from gdlab.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from gdlab.ops.elementwise import (
    abs,
    add,
    clamp,
    cos,
    cosh,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from gdlab.ops.linalg import bmm, dot, matmul, mm, mv
from gdlab.ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    var,
)
from gdlab.ops.shape import (
    cat,
    chunk,
    clone,
    expand,
    flatten,
    gather,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from gdlab.random import manual_seed
from gdlab.serialization import load, save

del _functional  # imported for its attribute on gdlab.autograd (as torch.autograd.functional)
__version__ = "0.1.0"

clip = clamp

__all__ = [
    "__version__", "abs", "add", "amax", "amin", "arange", "argmax", "argmin", "as_tensor",
    "autograd", "bmm", "bool_", "cat", "chunk", "clamp", "clip", "clone", "cos", "cosh", "data",
    "datasets", "div", "dot", "empty", "enable_grad", "exp", "expand", "eye", "flatten", "float16",
    "float32", "float64", "from_numpy", "full", "gather", "get_default_dtype", "int32", "int64",
    "linspace", "load", "log", "log_softmax", "logsumexp", "manual_seed", "matmul", "max",
    "maximum", "mean", "meshgrid", "min", "minimum", "mm", "mul", "mv", "neg", "nn", "no_grad",
    "normal", "ones", "ones_like", "optim", "pad", "permute", "pow", "rand", "randn", "relu",
    "reshape", "save", "set_default_dtype", "set_grad_enabled", "sigmoid", "sign", "sin", "sinh",
    "softmax", "softplus", "split", "sqrt", "square", "squeeze", "stack", "std", "sub", "sum",
    "tanh", "Tensor", "tensor", "transpose", "unsqueeze", "utils", "var", "where", "zeros",
    "zeros_like",
]  # fmt: skip
