"""gdlab: a gradient-descent laboratory.

An autodiff engine on NumPy, neural-network layers, every gradient-descent optimizer with
PyTorch's names and formulas, and a lab that compares them and shows how they move.
"""

# isort: off
from gdlab.tensor import Tensor, tensor  # first: every op module builds Tensors

# isort: on
from gdlab import autograd, backends, cuda, data, datasets, nn, optim, utils
from gdlab._allocator import keep_freed_memory as _keep_freed_memory
from gdlab.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
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
    randint,
    randn,
    randperm,
    zeros,
    zeros_like,
)
from gdlab.devices import device
from gdlab.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from gdlab.num_threads import cap_to_usable_cores as _cap_to_usable_cores
from gdlab.num_threads import get_num_threads, set_num_threads
from gdlab.ops.comparison import allclose, equal, isclose
from gdlab.ops.einsum import einsum
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
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    softmax,
    std,
    sum,
    var,
)
from gdlab.ops.selection import argsort, sort, topk
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
from gdlab.random import Generator, manual_seed
from gdlab.serialization import load, save

del _functional  # imported for its attribute on gdlab.autograd (as torch.autograd.functional)
__version__ = "0.1.0"
_cap_to_usable_cores()  # never more BLAS threads than usable cores (gdlab.num_threads)
del _cap_to_usable_cores
_keep_freed_memory()  # a step's freed arrays stay mapped for the next (gdlab._allocator)
del _keep_freed_memory

clip = clamp
# torch's other dtype names (torch.long is torch.int64): bound here, where shadowing the
# builtins float, int and bool is harmless (gdlab.float is torch.float).
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
bool = bool_  # noqa: A001

__all__ = [
    "__version__", "abs", "add", "allclose", "amax", "amin", "arange", "argmax", "argmin",
    "argsort", "as_tensor", "autograd", "backends", "bmm", "bool", "bool_", "cat", "chunk",
    "clamp", "clip", "clone", "cos", "cosh", "cuda", "data", "datasets", "device", "div", "dot",
    "double", "einsum", "empty", "enable_grad", "equal", "exp", "expand", "eye", "flatten",
    "float", "float16", "float32", "float64", "from_numpy", "full", "gather", "Generator",
    "get_default_dtype", "half", "inference_mode", "int", "int8", "int16", "int32", "int64",
    "is_grad_enabled", "is_inference_mode_enabled", "isclose", "linspace", "load", "log",
    "log_softmax", "logsumexp", "long", "manual_seed", "matmul", "max", "maximum", "mean",
    "meshgrid", "min", "minimum", "mm", "mul", "mv", "neg", "nn", "no_grad", "normal", "ones",
    "ones_like", "optim", "pad", "permute", "pow", "rand", "randint", "randn", "randperm", "relu",
    "reshape", "save", "set_default_dtype", "set_grad_enabled", "short", "sigmoid", "sign", "sin",
    "sinh", "softmax", "softplus", "sort", "split", "sqrt", "square", "squeeze", "stack", "std",
    "norm", "sub", "all", "any", "sum", "tanh", "Tensor", "tensor", "topk", "transpose", "uint8",
    "unsqueeze", "utils", "var", "where", "zeros", "zeros_like", "get_num_threads",
    "set_num_threads",
]  # fmt: skip
