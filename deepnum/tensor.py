"""``Tensor``: an n-dimensional NumPy array that remembers how it was made.

A tensor holds its values in ``.array`` (a NumPy array), and, when it was produced by a
recorded operation, the graph node ``grad_fn`` that made it (004 Alg. 6.3: a network is a
DAG of nodes). Operators and methods delegate to the functions in ``deepnum.ops``.
"""

from __future__ import annotations

import numpy as np

from deepnum import _dtype


class Tensor:
    """A multi-dimensional array with automatic differentiation, as ``torch.Tensor``.

    Examples:
        >>> import deepnum
        >>> x = deepnum.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    # _view_of: (base tensor, index or ops.shape.ShapeView) when this tensor is a view of ``base``
    # (set by ``x[index]``, reshape, transpose...), so that in-place ops recorded on the view
    # also update the base; _views: weak references to this tensor's views, which read its
    # new value after an in-place op recorded on it (ops/inplace.py).
    __slots__ = (
        "array", "requires_grad", "grad", "grad_fn", "output_nr", "_hooks", "_view_of", "_views",
        "__weakref__",
    )
    __array_priority__ = 1000

    def __init__(self, data=(), *sizes, dtype=None, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.array
        dtype = _dtype.to_dtype(dtype) if dtype is not None else None
        dtype = dtype if dtype is not None else _dtype.get_default_dtype()
        if sizes or isinstance(data, (int, np.integer, Size)) and not isinstance(data, (bool, np.bool_)):
            # PyTorch's legacy constructor: Tensor(2, 3) or Tensor(Size) is a tensor of that shape
            shape = tuple(data) if isinstance(data, Size) else (data, *sizes)
            array = np.zeros(tuple(int(n) for n in shape), dtype=dtype)
        else:
            array = np.array(data, dtype=dtype)
        self.array = array
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None
        self.output_nr = 0
        self._hooks = None

    @classmethod
    def _make(cls, array: np.ndarray, requires_grad: bool, grad_fn, output_nr: int) -> Tensor:
        """Fast constructor used by the engine: no copies, no checks."""
        t = object.__new__(cls)
        t.array = array
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t.output_nr = output_nr
        t._hooks = None
        return t

    # ------------------------------------------------------------------ fields
    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares memory, as PyTorch's ``.data``)."""
        return Tensor._make(self.array, False, None, 0)

    @data.setter
    def data(self, value) -> None:
        self.array = value.array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> tuple:
        return Size(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self):
        from deepnum.device import device

        return device("cpu")

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_floating_point_(self) -> bool:
        return self.array.dtype.kind == "f"

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return self.array.size

    nelement = numel

    def element_size(self) -> int:
        return self.array.itemsize

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self.array.size} elements cannot be converted to a "
                "Python number"
            )
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError(
                "numpy(): can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy()"
            )
        return self.array

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise RuntimeError(
                "can't convert a tensor that requires grad to a NumPy array; "
                "use tensor.detach().numpy()"
            )
        if dtype is not None and dtype != self.array.dtype:
            return self.array.astype(dtype)
        return self.array

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on tensors run as deepnum ops (and so are differentiable)."""
        from deepnum.ops import ufunc_table

        fn = ufunc_table().get(ufunc.__name__)
        if method != "__call__" or fn is None or kwargs:
            return NotImplemented
        return fn(*inputs)

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None):
        """Accumulate d(self)/d(leaf) * gradient into the ``.grad`` of every leaf."""
        from deepnum.autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        return Tensor._make(self.array, False, None, 0)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False): you can only change requires_grad flags of leaf "
                "tensors; use detach() for a non-leaf tensor"
            )
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_(): only tensors of floating point dtype can require "
                f"gradients, this one is {self.array.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            return
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad")
        import weakref

        from deepnum.autograd.grad_mode import _GradMode

        ref = weakref.ref(self)

        def store(grad):
            t = ref()
            if t is not None:
                g = grad.detach() if grad.grad_fn is not None and not _GradMode.enabled else grad
                t.grad = g if t.grad is None else t.grad + g

        self._register_node_hook(store)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("register_hook(): cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
        else:
            self._register_node_hook(hook)
        return hook

    def _register_node_hook(self, hook) -> None:
        node = self.grad_fn
        if node.hooks is None:
            node.hooks = {}
        node.hooks.setdefault(self.output_nr, []).append(hook)

    # ---------------------------------------------------------------- repr
    def __repr__(self) -> str:
        body = _array_str(self.array)
        extras = []
        if self.array.dtype not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool):
            extras.append(f"dtype=deepnum.{self.array.dtype}")
        if self.array.size == 0 and self.array.ndim != 1:
            extras.append(f"size={tuple(self.array.shape)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0:
            return self.array.item().__format__(spec)
        return object.__format__(self, spec) if spec == "" else format(self.array.tolist(), spec)

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.array.size} values is ambiguous"
            )
        return bool(self.array)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.array.item())

    __hash__ = object.__hash__

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __deepcopy__(self, memo) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol; detach() it first"
            )
        new = object.__new__(type(self))
        memo[id(self)] = new
        new.array = self.array.copy()
        new.requires_grad = self.requires_grad
        new.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        new.grad_fn = None
        new.output_nr = 0
        new._hooks = None
        for slot in getattr(type(self), "__slots__", ()):
            if slot == "persistent":
                new.persistent = self.persistent
        return new

    def __reduce_ex__(self, protocol):
        raise TypeError("deepnum tensors are not pickled; use deepnum.save / deepnum.load")


PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
"""How tensors print; changed by ``deepnum.set_printoptions`` (PyTorch's defaults)."""


def _float_format(values: np.ndarray):
    """PyTorch's choice of number format for printing floats, from the finite non-zero values.

    Integers print as ``3.``; values spanning more than three decades, or above 1e8 or below
    1e-4, print in scientific notation; the rest with four decimals (``precision``). Every
    entry is padded to a common width. ``sci_mode`` True/False forces or forbids scientific.
    """
    finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
    if finite.size == 0:
        fmt = lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"  # noqa: E731
        return fmt, 1
    mag = np.abs(finite)
    lo, hi = mag.min(), mag.max()
    digits, sci_mode = PRINT_OPTIONS["precision"], PRINT_OPTIONS["sci_mode"]
    sci, fixed = ("{:.%de}" % digits).format, ("{:.%df}" % digits).format
    if np.all(finite == np.ceil(finite)):
        if sci_mode or (sci_mode is None and (hi / lo > 1000.0 or hi > 1.0e8)):
            fmt = sci
        else:
            fmt = lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"  # noqa: E731
    elif sci_mode or (sci_mode is None and (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)):
        fmt = sci
    else:
        fmt = fixed
    return fmt, max(len(fmt(v)) for v in finite)


def _array_str(array: np.ndarray) -> str:
    """The body of a tensor's repr, laid out as PyTorch prints it."""
    kind = array.dtype.kind
    threshold, edge = PRINT_OPTIONS["threshold"], PRINT_OPTIONS["edgeitems"]
    if kind == "f":
        fmt, width = _float_format(array)
        if array.size > threshold:  # only the edges are printed; size the columns on those
            shown = array
            for axis, n in enumerate(array.shape):
                if n > 2 * edge:
                    shown = np.take(shown, list(range(edge)) + list(range(n - edge, n)), axis=axis)
            fmt, width = _float_format(shown)
        formatter = {"float_kind": lambda v: fmt(float(v)).rjust(width)}
    elif kind == "b":
        formatter = {"bool": lambda v: str(bool(v)).rjust(5 if not array.all() else 4)}
    else:
        width = max((len(str(v)) for v in (array.min(), array.max())), default=1) if array.size else 1
        formatter = {"int_kind": lambda v: str(v).rjust(width)}
    body = np.array2string(array, separator=", ", prefix="tensor(", threshold=threshold, edgeitems=edge,
                           max_line_width=PRINT_OPTIONS["linewidth"], formatter=formatter)
    return body.replace(", ...,", ",  ...,") if array.size > threshold else body


class Size(tuple):
    """Shape of a tensor: a tuple, printed as ``deepnum.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"deepnum.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n
