"""In-place methods (``add_``, ``mul_``, ``zero_``, ``copy_``, ``fill_``, ``x[idx] = v``...).

Outside autograd (no grad needed, or under ``no_grad``) they write into the tensor's array,
so views such as ``p.data`` see the change. On a non-leaf tensor that is part of a graph the
op is recorded: the tensor is rebound to the result, and values saved for backward stay
intact. On a leaf that requires grad they raise, as in PyTorch.

Views behave as PyTorch's, which share their base's memory: an op recorded on a view is
written back into its base (``_write_back``), and every live view of a tensor rebound by a
recorded op is made again from the new value, as a view op recorded on it
(``_refresh_views``), so it reads the new values and passes gradients to the new graph.
"""

from __future__ import annotations

import weakref

import numpy as np

from deepnum.autograd.function import will_record
from deepnum.autograd.grad_mode import _GradMode
from deepnum.tensor import Tensor


def apply_inplace(self: Tensor, op_name: str, compute, *args) -> Tensor:
    """Run ``compute(self, *args)`` and store the result into ``self``."""
    if _GradMode.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError(
            f"{op_name}: a leaf tensor that requires grad is being used in an in-place "
            "operation; wrap it in deepnum.no_grad() or use an out-of-place op"
        )
    if will_record(self, *args):
        base = getattr(self, "_view_of", None)
        while base is not None:
            base = base[0]
            if _GradMode.enabled and base.requires_grad and base.grad_fn is None:
                raise RuntimeError(
                    f"{op_name}: a view of a leaf tensor that requires grad is being used in an "
                    "in-place operation; wrap it in deepnum.no_grad() or use an out-of-place op"
                )
            base = getattr(base, "_view_of", None)
        result = compute(self, *args)
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op_name}: result shape {tuple(result.shape)} does not match the tensor's "
                f"{tuple(self.shape)}"
            )
        self.array, self.grad_fn, self.output_nr = result.array, result.grad_fn, result.output_nr
        self.requires_grad = result.requires_grad
        view_of = getattr(self, "_view_of", None)
        if view_of is not None:
            _write_back(self, *view_of)  # the base's views, this one among them, are made again
        else:
            _refresh_views(self)
        return self
    from deepnum.autograd.grad_mode import no_grad

    with no_grad():
        result = compute(self.detach(), *args)
    value = result.array if isinstance(result, Tensor) else result
    if np.shape(value) != self.array.shape:
        try:
            value = np.broadcast_to(value, self.array.shape)
        except ValueError:
            raise RuntimeError(
                f"{op_name}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                f"shape {tuple(np.shape(value))}"
            ) from None
    np.copyto(self.array, value, casting="unsafe")
    return self


def _write_back(view: Tensor, base: Tensor, how) -> None:
    """After a recorded in-place op on a view of ``base``, record the change on ``base`` too.

    This is PyTorch's rule that a view and its base change together. For ``view = base[index]``
    the base's new value holds the view's result at ``index`` (``base[index] = view``); for a
    view that covers all of the base in another shape or order (``how`` a ``ShapeView``:
    reshape, transpose...) the base's new value is the view's, mapped back. Gradients flow
    from the base into the view's graph, and the view then reads the base's new array again.
    """
    from deepnum.ops.index_put import IndexPut
    from deepnum.ops.shape import ShapeView

    def put(b, v):
        return how.put(v) if isinstance(how, ShapeView) else IndexPut.apply(b, v, how, False)

    apply_inplace(base, "in-place operation on a view", put, view)


def register_view(view: Tensor, base: Tensor, how) -> Tensor:
    """Record that ``view`` is ``base`` seen through ``how`` (an index or a ``ShapeView``).

    The base keeps weak references to its views (a list, cheaper than a WeakSet) and drops
    the dead ones whenever the list's length reaches a power of two from 8 on."""
    view._view_of = (base, how)
    views = getattr(base, "_views", None)
    if views is None:
        base._views = [weakref.ref(view)]
        return view
    views.append(weakref.ref(view))
    if len(views) >= 8 and len(views) & (len(views) - 1) == 0:  # at 8, 16, 32...: prune
        views[:] = [ref for ref in views if ref() is not None]
    return view


def _refresh_views(base: Tensor) -> None:
    """Make every live view of ``base`` again from its new value (and their views in turn)."""
    views = getattr(base, "_views", None)
    if not views:
        return
    from deepnum.ops.index import GetItem
    from deepnum.ops.shape import ShapeView

    for view in [ref() for ref in views]:
        if view is None:
            continue
        _, how = view._view_of
        fresh = how.of(base) if isinstance(how, ShapeView) else GetItem.apply(base, how)
        view.array, view.grad_fn, view.output_nr = fresh.array, fresh.grad_fn, fresh.output_nr
        view.requires_grad = fresh.requires_grad
        _refresh_views(view)


def _inplace(fn_name: str):
    def method(self, *args, **kwargs):
        from deepnum import ops

        fn = getattr(ops, fn_name)
        return apply_inplace(self, fn_name + "_", lambda s, *a: fn(s, *a, **kwargs), *args)

    method.__name__ = fn_name + "_"
    return method


def zero_(self) -> Tensor:
    return fill_(self, 0)


def fill_(self, value) -> Tensor:
    v = value.array if isinstance(value, Tensor) else value
    def filled(s):
        return Tensor._make(np.full(s.shape, v, dtype=s.dtype), False, None, 0)

    return apply_inplace(self, "fill_", filled)


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    from deepnum.ops._util import as_tensor_arg, cast
    from deepnum.ops.shape import expand

    src = as_tensor_arg(src)
    return apply_inplace(self, "copy_", lambda s, v: expand(cast(v, s.dtype), s.shape), src)


def setitem(self, index, value) -> None:
    """``x[index] = value``: in place outside autograd, recorded as an op inside it."""
    from deepnum.ops.index import _index_arrays

    idx = _index_arrays(index)
    if _GradMode.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError(
            "__setitem__: a leaf tensor that requires grad is being used in an in-place "
            "operation; wrap it in deepnum.no_grad()"
        )
    if not will_record(self, value):
        self.array[idx] = value.array if isinstance(value, Tensor) else value
        return
    from deepnum.ops.index_put import index_put

    apply_inplace(self, "__setitem__", lambda s, v: index_put(s, idx, v), value)


_NAMES = ["add", "sub", "mul", "div", "pow", "clamp", "exp", "log", "sqrt", "tanh", "sigmoid",
          "relu", "abs", "neg", "maximum", "minimum", "sin", "cos", "masked_fill", "sign",
          "floor", "ceil", "round", "addcmul", "addcdiv", "lerp", "clamp_min", "clamp_max",
          "index_fill", "scatter", "scatter_add", "index_add", "nan_to_num", "remainder", "fmod",
          "floor_divide", "square", "rsqrt", "reciprocal", "erf", "log2", "log10", "log1p",
          "expm1",
          "trunc", "frac", "tan", "atan", "sinh", "cosh", "clip", "exp2", "logit"]

TENSOR_METHODS = {name + "_": _inplace(name) for name in _NAMES}
TENSOR_METHODS.update({
    "zero_": zero_, "fill_": fill_, "copy_": copy_, "__setitem__": setitem,
    "__iadd__": _inplace("add"), "__isub__": _inplace("sub"), "__imul__": _inplace("mul"),
    "__itruediv__": _inplace("div"),
})
