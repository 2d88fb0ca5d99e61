"""``index_put``: ``x[index] = values`` as a differentiable op (what recorded ``x[idx] = v`` runs).

The output equals ``input`` except at ``index``, where it holds ``values`` (broadcast to the
indexed shape), or ``input + values`` with ``accumulate=True``. Gradients: the input gets the
incoming gradient except where it was overwritten; the values get the incoming gradient read
at ``index`` and summed over the dimensions they were broadcast along.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, cast, sum_to
from deepnum.ops.index import GetItem, _check_index, _index_arrays, add_at
from deepnum.tensor import Tensor


class IndexPut(Function):
    @staticmethod
    def forward(ctx, x, values, index, accumulate):
        out = x.copy()
        target = out[index].shape
        vshape = np.shape(values)
        while len(vshape) > len(target) and vshape[0] == 1:  # PyTorch drops leading 1s of values
            vshape = vshape[1:]
        try:
            v = np.broadcast_to(np.reshape(values, vshape), target)
        except ValueError:
            raise RuntimeError(
                "index_put: shape mismatch: value tensor of shape "
                f"{list(np.shape(values))} cannot "
                f"be broadcast to indexing result of shape {list(target)}"
            ) from None
        ctx.index, ctx.accumulate = index, accumulate
        ctx.vshape, ctx.full_vshape = vshape, np.shape(values)
        if accumulate:
            add_at(out, index, v)
        else:
            out[index] = v
            ctx.kept = np.ones(x.shape, dtype=bool)
            ctx.kept[index] = False
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_v = ctx.needs_input_grad[:2]
        grad_x = grad_v = None
        if need_x:
            grad_x = grad if ctx.accumulate else grad * ctx.kept
        if need_v:
            grad_v = sum_to(GetItem.apply(grad, ctx.index), ctx.vshape).reshape(ctx.full_vshape)
        return grad_x, grad_v, None, None


def index_put(input, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or added, ``accumulate=True``) at ``indices``.

    ``indices`` is a tuple of index tensors as in ``torch.index_put``, or any index that
    ``x[...]`` accepts.

    Examples:
        >>> x = deepnum.zeros(3)
        >>> deepnum.index_put(x, (deepnum.tensor([0, 2]),), deepnum.tensor([1.0, 2.0]))
        tensor([1., 0., 2.])
    """
    x = as_tensor_arg(input)
    idx = _index_arrays(indices)
    _check_index(x, idx, "index_put")
    if isinstance(values, Tensor):
        values = cast(values, x.dtype)
    else:
        values = np.asarray(values, dtype=x.dtype)
    return IndexPut.apply(x, values, idx, bool(accumulate))


def index_put_(self, indices, values, accumulate: bool = False) -> Tensor:
    from deepnum.ops.inplace import apply_inplace

    def compute(s, v):
        return index_put(s, indices, v, accumulate)

    return apply_inplace(self, "index_put_", compute, values)


TENSOR_METHODS = {"index_put": index_put, "index_put_": index_put_}
