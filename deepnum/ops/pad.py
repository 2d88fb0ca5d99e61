"""``pad``: constant, reflect, replicate and circular padding with PyTorch's pad tuple.

``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)``: pairs apply to the
last dimension first. Constant padding may be negative (it then crops). The other modes
build each border by reading input positions (``index_select``) and concatenating, so the
gradient of a border element flows back to the input element it copies.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg
from deepnum.ops.gather_scatter import IndexSelect
from deepnum.ops.index import GetItem
from deepnum.tensor import Tensor


class ConstantPad(Function):
    """Surround with ``value``; the gradient is the centre crop of the incoming gradient."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.centre = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        shape = tuple(n + lo + hi for (lo, hi), n in zip(widths, x.shape))
        out = np.full(shape, value, dtype=x.dtype)
        out[ctx.centre] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.centre), None, None


def _border_positions(mode: str, n: int, left: int, right: int):
    """Input positions copied into the left and right borders of a dimension of size ``n``."""
    if mode == "reflect":  # mirror without repeating the edge element
        return np.arange(left, 0, -1), np.arange(n - 2, n - 2 - right, -1)
    if mode == "replicate":
        return np.zeros(left, dtype=np.int64), np.full(right, n - 1, dtype=np.int64)
    return np.arange(n - left, n), np.arange(0, right)  # circular: wrap around


def _check(mode: str, x: Tensor, pairs) -> None:
    for k, (left, right) in enumerate(pairs):
        d = x.ndim - 1 - k
        n = x.shape[d]
        if left < 0 or right < 0:
            raise NotImplementedError(
                f"pad(mode={mode!r}): negative padding {(left, right)} is only supported in "
                "'constant' mode"
            )
        limit_ok = {"reflect": left < n and right < n, "circular": left <= n and right <= n,
                    "replicate": n > 0 or left + right == 0}[mode]
        if not limit_ok:
            rule = {"reflect": "less than", "circular": "at most"}.get(mode, "non-empty for")
            raise RuntimeError(
                f"pad(mode={mode!r}): padding size should be {rule} the corresponding input "
                "dimension, "
                f"but got: padding ({left}, {right}) at dimension {d} of input {list(x.shape)}"
            )


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions of ``input``.

    Args:
        input: tensor to pad.
        pad: ``(left, right)`` widths per dimension, last dimension first.
        mode: ``'constant'`` (fill with ``value``), ``'reflect'`` (mirror, edge not repeated),
            ``'replicate'`` (repeat the edge) or ``'circular'`` (wrap around).
        value: fill value for ``'constant'`` (default 0).

    Examples:
        >>> deepnum.pad(deepnum.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
        tensor([[3., 2., 1., 2., 3., 2.]])
    """
    from deepnum.ops.join import cat

    x = as_tensor_arg(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)} ({pad})")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(
            f"pad: padding length {len(pad)} is too large: it pads {len(pad) // 2} dimensions but "
            f"the input has shape {tuple(x.shape)}"
        )
    pairs = [(pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]
    if mode == "constant":
        # negative widths crop first, then non-negative widths pad
        crop = [slice(None)] * x.ndim
        widths = [(0, 0)] * x.ndim
        for k, (left, right) in enumerate(pairs):
            d = x.ndim - 1 - k
            crop[d] = slice(max(-left, 0), x.shape[d] - max(-right, 0))
            if crop[d].start > crop[d].stop:
                raise RuntimeError(
                    f"pad: the resulting size of dimension {d} would be negative (input "
                    f"{list(x.shape)}, pad {pad})"
                )
            widths[d] = (max(left, 0), max(right, 0))
        if any(s != slice(None) for s in crop):
            x = GetItem.apply(x, tuple(crop))
        return ConstantPad.apply(x, tuple(widths), 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(
            f"pad: mode {mode!r} is not supported; use 'constant', 'reflect', 'replicate' or "
            "'circular'"
        )
    _check(mode, x, pairs)
    for k, (left, right) in enumerate(pairs):
        if left == 0 and right == 0:
            continue
        d = x.ndim - 1 - k
        lpos, rpos = _border_positions(mode, x.shape[d], left, right)
        pieces = [IndexSelect.apply(x, d, lpos)] if left else []
        pieces.append(x)
        if right:
            pieces.append(IndexSelect.apply(x, d, rpos))
        x = cat(pieces, d)
    return x


TENSOR_METHODS = {}
