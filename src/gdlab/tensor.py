"""The Tensor: a NumPy array, its gradient, and the node that made it.

``Tensor.data`` is a plain NumPy array, and so is ``Tensor.grad.data``: a user can always look
inside.
Arithmetic delegates to the op table (``gdlab.ops``); the gradient rules live there, next to
their forward computations. This module imports no op: the op modules build Tensors, so the
methods that mirror ``gdlab.*`` functions (``x.exp()``, ``x + y``, ``x.sum()``) are declared
below as typed stubs and bound from one table, ``gdlab.ops.methods``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gdlab.autograd import engine
from gdlab.autograd.hooks import RemovableHandle, TensorHooks
from gdlab.autograd.node import Node, Prior, RawNode
from gdlab.autograd.sparse import RowSparseGrad
from gdlab.autograd.state import STATE
from gdlab.devices import CPU, as_device, device
from gdlab.dtypes import get_default_dtype, is_floating, resolve_dtype

__all__ = ["Tensor", "as_array", "from_op", "tensor"]


def as_array(data: Any, dtype: object = None, copy: bool = True) -> np.ndarray:
    """Convert ``data`` to an array with torch's dtype rules (Python floats -> default dtype)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = resolve_dtype(dtype, "tensor: dtype")
    if isinstance(data, np.ndarray | np.generic):
        arr = np.array(data, dtype=dtype, copy=copy) if copy else np.asarray(data, dtype=dtype)
    else:
        try:
            arr = np.asarray(data, dtype=dtype)
        except ValueError as e:
            raise ValueError(f"tensor: could not convert data to an array: {e}") from None
        if dtype is None and arr.dtype == np.float64:
            arr = arr.astype(get_default_dtype())  # Python floats -> float32, as torch
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"tensor: can't convert data of dtype {arr.dtype} (type {type(data).__name__}); "
            "only floating, integer and bool data are supported"
        )
    return arr


def _check_can_require_grad(data: np.ndarray) -> None:
    if not is_floating(data.dtype):
        raise TypeError(
            f"Only Tensors of floating point dtype can require gradients, got dtype {data.dtype}"
        )


class Tensor:
    """An n-dimensional array that records the operations on it for reverse-mode autodiff.

    Args:
        data: array-like; Python floats become the default dtype (float32), NumPy arrays keep
            their dtype, Python ints become int64 (integer tensors cannot require grad).
        requires_grad: record operations so that ``backward`` fills ``.grad``.
        dtype: optional dtype to convert to.

    Mixed operands promote as in torch: float32 with float64 gives float64, an integer
    tensor with a float (tensor or Python number) gives that float dtype (the default dtype
    for a Python float), and a Python number beside a float tensor keeps the tensor's dtype.
    Nothing is silently downcast.

    Example:
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad  # a Tensor, as torch's; x.grad.data is its NumPy array
        tensor([2., 4., 6.])
    """

    __slots__ = ("data", "_grad", "requires_grad", "_node", "_version", "_prior", "_hooks")

    def __init__(self, data: Any, requires_grad: bool = False, dtype: object = None) -> None:
        self.data = as_array(data, dtype)
        self._grad = None
        self._node = None
        self._version = 0
        self._prior = None  # a recorded in-place op's trace (autograd.node.Prior)
        self._hooks = None
        if requires_grad:
            _check_can_require_grad(self.data)
        self.requires_grad = bool(requires_grad)

    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        """A tensor over ``data`` as it is (no conversion, no checks), outside any graph."""
        return from_op(data, None)

    # ----------------------------------------------------------------- gradient state
    @property
    def grad(self) -> Tensor | RowSparseGrad | None:
        """The accumulated gradient, a Tensor of the same shape and dtype (as torch's), or None.

        It wraps the stored array without copying: ``p.grad.data`` is that NumPy array,
        ``p.grad.norm()`` and ``p.grad.zero_()`` work as in torch, and assigning a NumPy array
        or a Tensor to ``.grad`` stores its array. With ``backward(create_graph=True)`` it is
        the gradient's own Tensor, with a graph; after a backward through
        ``embedding(..., sparse=True)`` the table's gradient is a
        :class:`~gdlab.autograd.sparse.RowSparseGrad` (torch's sparse gradient).
        """
        g = self._grad
        return from_op(g, None) if type(g) is _ndarray else g

    @grad.setter
    def grad(self, value: Any) -> None:
        if type(value) is Tensor and value.data is self._grad:
            return  # ``p.grad *= lr`` stores back the array it updated in place
        if type(value) is RowSparseGrad:
            if value.shape != self.data.shape:
                raise ValueError(
                    f"assigned grad has shape {value.shape}, which does not match the tensor's "
                    f"shape {self.data.shape}"
                )
            self._grad = value if value.dtype == self.data.dtype else value.astype(self.dtype)
            return
        if value is not None:
            value = np.asarray(_data(value))  # an ndarray as it is (its .data is a buffer)
            if value.shape != self.data.shape:
                raise ValueError(
                    f"assigned grad has shape {value.shape}, which does not match the tensor's "
                    f"shape {self.data.shape}"
                )
            if value.dtype != self.data.dtype:
                value = value.astype(self.data.dtype)
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user (not by an op recorded in a graph)."""
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The node that made this tensor (None for a leaf), for display and inspection."""
        return None if self._node is None else Node.of(self._node)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf (floating dtypes only) and return self."""
        if not self.is_leaf:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad:
            _check_can_require_grad(self.data)
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (to inspect it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._hooks is None:
            self._hooks = TensorHooks()
        self._hooks.retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this (non-leaf) tensor."""
        return self._hooks is not None and self._hooks.retains_grad and not self.is_leaf

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` each time the gradient with respect to this tensor is computed;
        a returned tensor replaces the gradient (as torch's ``Tensor.register_hook``).

        Example:
            >>> h = x.register_hook(lambda g: g * 0.5)     # halve x's gradient
            >>> h.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = TensorHooks()
        return self._hooks.add(hook)

    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate the gradient of this tensor into every leaf's ``.grad``; with
        ``create_graph`` the gradients are Tensors with a graph, differentiable again."""
        engine.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """The same data (shared, not copied) cut from the graph."""
        return Tensor._wrap(self.data)

    def _mark_modified(self) -> None:
        """Count an in-place change made outside the graph (``no_grad``, or nothing requires
        grad): a node that saved this tensor sees its version move and refuses to backward."""
        if STATE.grad_enabled and self.requires_grad:
            self._refuse_leaf("an in-place operation")
            raise RuntimeError(  # a graph tensor: only the recorded ops (add_, mul_...) reach here
                "a tensor that requires grad is being used in an in-place operation gdlab does "
                "not record (item assignment); use an out-of-place op, e.g. torch.where"
            )
        self._version += 1

    def _refuse_leaf(self, what: str) -> None:
        if self.is_leaf and self.requires_grad:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in {what}; wrap the "
                "update in gdlab.no_grad() (as an optimizer does) or clone() the leaf first"
            )

    def _records_inplace(self, other: Any = None) -> bool:
        """Whether an in-place op on this tensor goes into the graph (torch's rule): grad mode
        is on and this tensor or the operand requires grad."""
        return STATE.grad_enabled and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        )

    def _record_inplace(self, name: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """Record an in-place op in the graph, torch-style: the tensor's node becomes the op's.

        ``compute(old)`` gives the new value out of place from ``old``, a tensor that takes over
        this tensor's array and node (the graph up to here), so backward runs through the op
        and on into what came before. This tensor then holds the new array and node, its
        version moves on, and its ``Prior`` leads the edges recorded before the change to
        ``old`` (the engine's ``_at_version``). The old array is kept, not overwritten, so the
        nodes that saved it still see the right values: where torch raises because a saved
        tensor changed (exp's output), gdlab gives the out-of-place gradient.
        """
        self._refuse_leaf(f"an in-place operation ({name})")
        old = from_op(self.data, self._node)
        old._version = self._version
        old._prior = self._prior
        new = compute(old)
        if new.data.shape != self.data.shape:
            raise RuntimeError(
                f"{name}: output with shape {self.data.shape} doesn't match the broadcast shape "
                f"{new.data.shape}"
            )
        if new.data.dtype != self.data.dtype:
            if self.data.dtype.kind != "f":
                raise RuntimeError(
                    f"{name}: result type {new.data.dtype} can't be cast to the desired output "
                    f"type {self.data.dtype}"
                )
            new = new.to(self.data.dtype)
        self.data = new.data
        self._node = new._node
        self.requires_grad = new._node is not None
        self._version += 1
        self._prior = Prior(self._version, old)
        return self

    # ----------------------------------------------------------------- NumPy-like views
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of dimension ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, not copied); refused while it requires grad."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self.data.tolist()

    def __array__(self, dtype: object = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        """``f"{t:.3f}"`` formats a one-element tensor's value (torch); else ``str(t)``."""
        if self.data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    @property
    def device(self) -> device:
        """Always ``device("cpu")``: gdlab computes with NumPy on the CPU (torch's ``t.device``)."""
        return CPU

    is_cuda = False  # torch's flag: never on a GPU

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype not in (get_default_dtype(), np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ----------------------------------------------------------------- in-place
    # On a tensor in the graph (it or the operand requires grad, grad mode on) the op is
    # recorded (``_record_inplace``); otherwise the array is changed in place and the version
    # counted. A leaf that requires grad refuses both, as torch.
    def zero_(self) -> Tensor:
        """Fill with 0 in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a one-element tensor) in place."""
        if self._records_inplace(value):
            everywhere = np.zeros(self.data.shape, dtype=np.bool_)
            return self._record_inplace("fill_", lambda old: old.where(everywhere, value))
        self._mark_modified()
        self.data[...] = _data(value)
        return self

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """Copy ``src`` (broadcast, cast to this dtype) into this tensor in place."""
        src_data = np.asarray(_data(src))
        try:
            np.broadcast_to(src_data, self.data.shape)
        except ValueError:
            raise ValueError(
                f"copy_: source of shape {src_data.shape} cannot be copied into shape {self.shape}"
            ) from None
        if self._records_inplace(src):
            everywhere = np.zeros(self.data.shape, dtype=np.bool_)
            src_t = src if isinstance(src, Tensor) else Tensor._wrap(src_data)
            return self._record_inplace(
                "copy_", lambda old: old.where(everywhere, src_t.to(self.data.dtype))
            )
        self._mark_modified()
        np.copyto(self.data, np.broadcast_to(src_data, self.data.shape), casting="unsafe")
        return self

    def _inplace(self, ufunc: np.ufunc, other: Any) -> Tensor:
        # The caller found that the op is not recorded (``_records_inplace``), so this is
        # ``_mark_modified`` without its refusal: ``p.grad *= lr`` of every parameter at every
        # step of a hand-written update runs here.
        self._version += 1
        if isinstance(other, Tensor):
            other = other.data
        try:
            ufunc(self.data, other, out=self.data, casting="same_kind")
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}_: shapes {self.shape} and {np.shape(other)} cannot be "
                "broadcast in place"
            ) from None
        return self

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """self += alpha·other in place (keeps this dtype)."""
        if self._records_inplace(other):
            return self._record_inplace("add_", lambda old: old.add(other, alpha=alpha))
        return self._inplace(np.add, other if alpha == 1 else np.multiply(alpha, _data(other)))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """self −= alpha·other in place."""
        if self._records_inplace(other):
            return self._record_inplace("sub_", lambda old: old.sub(other, alpha=alpha))
        return self._inplace(np.subtract, other if alpha == 1 else np.multiply(alpha, _data(other)))

    def mul_(self, other: Any) -> Tensor:
        """self *= other in place."""
        if self._records_inplace(other):
            return self._record_inplace("mul_", lambda old: old * other)
        return self._inplace(np.multiply, other)

    def multiply_(self, other: Any) -> Tensor:
        """torch's alias of :meth:`mul_`."""
        return self.mul_(other)

    def div_(self, other: Any) -> Tensor:
        """self /= other in place."""
        if self._records_inplace(other):
            return self._record_inplace("div_", lambda old: old / other)
        return self._inplace(np.true_divide, other)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Clip to [min, max] in place."""
        if self._records_inplace():
            return self._record_inplace("clamp_", lambda old: old.clamp(min, max))
        self._mark_modified()
        np.clip(self.data, min, max, out=self.data)
        return self

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __setitem__(self, index: Any, value: Any) -> None:
        self._mark_modified()
        self.data[_index_data(index)] = _data(value)

    # ----------------------------------------------------------------- comparisons
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data < _data(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data <= _data(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data > _data(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data >= _data(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data == _data(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data != _data(other))

    def __invert__(self) -> Tensor:
        return Tensor._wrap(~self.data)

    def __and__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data & _data(other))

    def __or__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data | _data(other))

    # ----------------------------------------------------------------- methods from the op table
    # Bound by gdlab.ops.methods.install (the table there says which function each one is:
    # ``x.exp()`` is ``gdlab.exp(x)``, ``x + y`` is ``gdlab.add(x, y)``). Declared here, with
    # their signatures, for readers and type checkers; tests/test_tensor.py checks that the
    # declarations and the table list the same names.
    if TYPE_CHECKING:
        T: Tensor
        mT: Tensor

        # NumPy's protocols: np.exp(t) and ndarray + t are gdlab ops (ops/numpy_protocol.py)
        def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any: ...
        def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any: ...

        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        # elementwise
        def add(self, other: Any, alpha: float = 1) -> Tensor: ...
        def sub(self, other: Any, alpha: float = 1) -> Tensor: ...
        def mul(self, other: Any) -> Tensor: ...
        def div(self, other: Any) -> Tensor: ...
        def neg(self) -> Tensor: ...
        def pow(self, exponent: Any) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def sinh(self) -> Tensor: ...
        def cosh(self) -> Tensor: ...
        def square(self) -> Tensor: ...
        def sign(self) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def relu(self) -> Tensor: ...
        def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor: ...
        def clamp(self, min: float | None = None, max: float | None = None) -> Tensor: ...  # noqa: A002
        def clip(self, min: float | None = None, max: float | None = None) -> Tensor: ...  # noqa: A002
        def maximum(self, other: Any) -> Tensor: ...
        def minimum(self, other: Any) -> Tensor: ...
        def where(self, condition: Any, other: Any) -> Tensor: ...
        # dtype and device conversions
        def to(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def cpu(self, memory_format: Any = None) -> Tensor: ...
        def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor: ...
        def pin_memory(self, device: Any = None) -> Tensor: ...
        def type(self, dtype: object = None, non_blocking: bool = False) -> Any: ...
        def half(self) -> Tensor: ...
        def float(self) -> Tensor: ...
        def double(self) -> Tensor: ...
        def long(self) -> Tensor: ...
        def int(self) -> Tensor: ...
        def bool(self) -> Tensor: ...
        # reductions
        def sum(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor: ...
        def mean(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor: ...
        def amax(self, dim: Any = (), keepdim: bool = False, **kwargs: Any) -> Tensor: ...
        def amin(self, dim: Any = (), keepdim: bool = False, **kwargs: Any) -> Tensor: ...
        def max(self, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Any: ...
        def min(self, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Any: ...
        def argmax(self, dim: int | None = None, keepdim: bool = False, **kw: Any) -> Tensor: ...
        def argmin(self, dim: int | None = None, keepdim: bool = False, **kw: Any) -> Tensor: ...
        def var(self, dim: Any = None, *args: Any, **kwargs: Any) -> Tensor: ...
        def std(self, dim: Any = None, *args: Any, **kwargs: Any) -> Tensor: ...
        def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor: ...
        def all(self, dim: Any = None, keepdim: bool = False) -> Tensor: ...
        def any(self, dim: Any = None, keepdim: bool = False) -> Tensor: ...
        def logsumexp(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor: ...
        def softmax(self, dim: int | None = None, **kwargs: Any) -> Tensor: ...
        def log_softmax(self, dim: int | None = None, **kwargs: Any) -> Tensor: ...
        # ordering
        def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any: ...
        def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any: ...
        def argsort(
            self, dim: int = -1, descending: bool = False, stable: bool = False
        ) -> Tensor: ...
        # shape
        def reshape(self, *shape: Any) -> Tensor: ...
        def view(self, *shape: Any) -> Tensor: ...
        def permute(self, *dims: Any) -> Tensor: ...
        def transpose(self, dim0: int, dim1: int) -> Tensor: ...
        def unsqueeze(self, dim: int) -> Tensor: ...
        def squeeze(self, dim: Any = None) -> Tensor: ...
        def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor: ...
        def expand(self, *sizes: Any) -> Tensor: ...
        def expand_as(self, other: Tensor) -> Tensor: ...
        def reshape_as(self, other: Tensor) -> Tensor: ...
        def view_as(self, other: Tensor) -> Tensor: ...
        def gather(self, dim: int, index: Any) -> Tensor: ...
        def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple: ...
        def chunk(self, chunks: int, dim: int = 0) -> tuple: ...
        def clone(self) -> Tensor: ...
        def contiguous(self) -> Tensor: ...
        def matmul(self, other: Any) -> Tensor: ...
        def dot(self, other: Any) -> Tensor: ...
        def mv(self, vec: Any) -> Tensor: ...
        def mm(self, other: Any) -> Tensor: ...
        def bmm(self, other: Any) -> Tensor: ...


def from_op(data: np.ndarray, node: RawNode | None) -> Tensor:
    """The tensor an op returns: ``data`` as it is and the ``node`` that made it (None when
    nothing needs a gradient). The one place, besides ``__init__``, that fills a Tensor."""
    t = _new(Tensor)
    t.data = data if type(data) is _ndarray else np.asarray(data)
    t._grad = None
    t._node = node
    t.requires_grad = node is not None
    t._version = 0
    t._prior = None
    t._hooks = None
    return t


_new = object.__new__
_ndarray = np.ndarray


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _index_data(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def tensor(
    data: Any, dtype: object = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Make a tensor from data (always copied), as ``torch.tensor``.

    Args:
        data: a number, a (nested) list, a NumPy array or a Tensor. Python floats become the
            default dtype (float32; ``gdlab.set_default_dtype``), Python ints int64, bools
            bool; NumPy arrays keep their dtype.
        dtype: convert to this dtype (a NumPy dtype, or a name such as "float64", "double").
        requires_grad: record operations for ``backward`` (floating dtypes only: TypeError
            otherwise).
        device: ``None``, ``"cpu"`` or ``gdlab.device("cpu")`` (gdlab is CPU-only).

    Example:
        >>> x = gdlab.tensor([[1.0, 2.0]], requires_grad=True)
        >>> x.dtype, x.shape
        (dtype('float32'), (1, 2))
    """
    as_device(device, "tensor: device")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
