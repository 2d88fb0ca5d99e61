"""Normalisation: batch norm (002, 003 §2.6), batch renormalization, layer norm (004), group norm.

All share one fused ``Function``: x̂ = (x - μ) / sqrt(σ² + ε) over the statistics axes, then
y = γ ⊙ (r x̂ + d) + β. Fusing saves the half-dozen graph nodes (and their temporaries) that
the composite would record, and gives the classic closed-form backward

    dx = r / sqrt(σ² + ε) · (ĝ - mean(ĝ) - x̂ · mean(ĝ ⊙ x̂)),   ĝ = γ ⊙ g,

(with the means over the statistics axes; the two mean terms vanish when μ and σ are fixed,
as at evaluation). Under ``create_graph`` the backward recomputes x̂ from x with tensor ops,
so second derivatives are exact.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.autograd.grad_mode import no_grad
from deepnum.ops._util import as_tensor_arg
from deepnum.ops.elementwise import _float_input
from deepnum.tensor import Tensor

__all__ = ["batch_norm", "batch_renorm", "layer_norm", "group_norm"]


class Normalize(Function):
    """y = γ ⊙ (r · (x - μ)/sqrt(σ² + ε) + d) + β.

    ``stats`` is None to normalise with the statistics of ``x`` over ``stat_axes`` (their
    mean and biased variance are appended to ``stats_out``), or fixed ``(mean, var)`` arrays.
    ``r`` and ``d`` (batch renormalization) are constants, None for plain normalisation.
    ``view`` reshapes γ and β to broadcast against x; their gradients sum over ``param_axes``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stat_axes, param_axes, view, eps, stats, r, d, stats_out):
        if stats is None:
            mean = x.mean(axis=stat_axes, keepdims=True)
            xc = x - mean
            var = np.mean(xc * xc, axis=stat_axes, keepdims=True)
            if stats_out is not None:
                stats_out.extend((mean, var))
        else:
            mean, var = stats
            xc = x - mean
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = xc
        xhat *= invstd  # xc is a fresh temporary: normalise in place
        ctx.xhat, ctx.invstd = xhat, invstd
        ctx.batch_stats, ctx.stat_axes, ctx.param_axes, ctx.view = stats is None, stat_axes, param_axes, view
        ctx.eps, ctx.r, ctx.d, ctx.fixed = eps, r, d, None if stats is None else mean
        ctx.save_for_backward(x, weight)
        y = xhat if r is None else xhat * r + d
        if weight is not None:
            y = y * weight.reshape(view)
        if bias is not None:
            y = y + bias.reshape(view) if y is xhat else y.__iadd__(bias.reshape(view))
        return y if y is not xhat else xhat.copy()

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes, r, d = ctx.stat_axes, ctx.r, ctx.d
        if ctx.graph_mode:  # rebuild x̂ from x with tensor ops so its own dependence on x is recorded
            if ctx.batch_stats:
                xc = x - x.mean(axis=axes, keepdims=True)
                invstd = 1 / np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + ctx.eps)
            else:
                xc, invstd = x - ctx.fixed, ctx.invstd
            xhat = xc * invstd
        else:
            xhat, invstd = ctx.xhat, ctx.invstd
        grad_x = grad_w = grad_b = None
        p_axes = ctx.param_axes

        def over_params(t):  # sum over the axes γ and β are broadcast along (none for 1-D layer norm)
            return t.sum(axis=p_axes) if p_axes else t

        if need_w:
            scaled = xhat if r is None else xhat * r + d
            grad_w = over_params(grad * scaled).reshape(weight.shape)  # dy/dγ = r x̂ + d
        if need_b:
            grad_b = over_params(grad).reshape(weight.shape if weight is not None else (-1,))
        if need_x:
            g = grad * weight.reshape(ctx.view) if weight is not None else grad
            if r is not None:
                g = g * r
            if ctx.batch_stats:
                g = g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)
            grad_x = g * invstd
        return grad_x, grad_w, grad_b, None, None, None, None, None, None, None, None


class ChannelNormalize(Normalize):
    """Batch norm of ``(N, C, *S)`` input (C ≥ 1 spatial dims): ``Normalize`` with statistics
    and parameters per channel, computed on the ``(N, C, L)`` view of the array.

    The same maths, arranged for NumPy's speed: per-channel sums are matrix-vector products
    with a ones vector (``Σ_l x[n, c, l]``, then over n) or ``vecdot`` rows (``Σ x ⊙ y``), and
    per-channel scalings multiply by a dense ``(C, L)`` plane of the channel's value, which
    broadcasts over n only (NumPy broadcasting a ``(C, 1)`` column walks every short row
    separately, about twice as slow). The backward uses that both batch means of the
    closed form are the parameter gradients over the count:
    ``mean(ĝ) = γ · Σg / m`` and ``mean(ĝ ⊙ x̂) = γ · Σ(g ⊙ x̂) / m``, with ĝ = γ ⊙ g.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stat_axes, param_axes, view, eps, stats, r, d, stats_out):
        n, c = x.shape[:2]
        planes = x.reshape(n, c, -1)
        count = n * planes.shape[2]
        if stats is None:
            mean = _channel_sum(planes) / count
            xc = planes - _plane(mean, planes)
            var = _channel_dot(xc, xc) / count
            if stats_out is not None:
                stats_out.extend((mean.reshape(view), var.reshape(view)))
        else:
            mean, var = (a.reshape(-1) for a in stats)
            xc = planes - _plane(mean, planes)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = xc
        xhat *= _plane(invstd, planes)  # xc is a fresh temporary: normalise in place
        ctx.xhat, ctx.invstd = xhat.reshape(x.shape), invstd.reshape(view)
        ctx.batch_stats, ctx.stat_axes, ctx.param_axes, ctx.view = stats is None, stat_axes, param_axes, view
        ctx.eps, ctx.r, ctx.d = eps, None, None
        ctx.fixed = None if stats is None else mean.reshape(view)
        ctx.save_for_backward(x, weight)
        y = xhat * _plane(weight, planes) if weight is not None else xhat.copy()
        if bias is not None:
            y += _plane(bias, planes)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        if ctx.graph_mode:
            return Normalize.backward(ctx, grad)
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, c = grad.shape[:2]
        g = grad.reshape(n, c, -1)
        xhat = ctx.xhat.reshape(g.shape)
        sum_g = _channel_sum(g) if need_b or (need_x and ctx.batch_stats) else None
        sum_gx = _channel_dot(g, xhat) if need_w or (need_x and ctx.batch_stats) else None
        grad_x = None
        if need_x:
            invstd = ctx.invstd.reshape(-1)
            scale = invstd if weight is None else weight * invstd
            if ctx.batch_stats:  # dx = γ/σ · (g - Σg/m - x̂ Σ(g x̂)/m)
                count = g.shape[0] * g.shape[2]
                shift = xhat * _plane(sum_gx / count, g)
                shift += _plane(sum_g / count, g)
                grad_x = np.subtract(g, shift, out=shift)
                grad_x *= _plane(scale, g)
            else:
                grad_x = g * _plane(scale, g)
            grad_x = grad_x.reshape(grad.shape)
        grad_w = sum_gx.reshape(weight.shape) if need_w else None
        grad_b = sum_g.reshape(-1) if need_b else None
        return grad_x, grad_w, grad_b, None, None, None, None, None, None, None, None


def _channel_sum(planes: np.ndarray) -> np.ndarray:
    """Σ over n and l of an (N, C, L) array: one matrix-vector product, then a sum over n."""
    n, c, length = planes.shape
    ones = np.ones(length, dtype=planes.dtype)
    return (planes.reshape(n * c, length) @ ones).reshape(n, c).sum(axis=0)


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ over n and l of a ⊙ b for (N, C, L) arrays."""
    return np.vecdot(a, b).sum(axis=0)


def _plane(values: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """A (C, L) array holding each channel's value along its plane, to broadcast over N."""
    c, length = planes.shape[1:]
    return np.ascontiguousarray(
        np.broadcast_to(values.reshape(c, 1).astype(planes.dtype, copy=False), (c, length))
    )


def _channel_view(x: Tensor):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2), (0,) + tuple(range(2, x.ndim))


def _batch_normalize(x: Tensor):
    """The Function for batch norm of ``x``: per-channel planes when x has spatial dims."""
    return ChannelNormalize if x.ndim > 2 else Normalize


def _check_channels(x: Tensor, n: int, op: str) -> None:
    if x.ndim < 2 or x.shape[1] != n:
        raise RuntimeError(
            f"{op}: expected input with {n} channels in dimension 1, got shape {tuple(x.shape)}"
        )


def _update_running(running, batch_value, momentum: float) -> None:
    """running ← (1 - momentum) · running + momentum · batch (an EMA, 000 eq. 13)."""
    arr = running.array
    arr *= 1 - momentum
    arr += momentum * batch_value.reshape(arr.shape).astype(arr.dtype, copy=False)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = γ (x - μ_B) / sqrt(σ²_B + ε) + β per channel (dim 1), statistics over every other dim.

    In training the batch statistics are used and the running estimates are updated with
    ``momentum`` (running_var with the unbiased batch variance, as PyTorch); in evaluation
    the running estimates replace them (002; 003 §2.6 "running averages collected on the
    minibatches").

    References:
        Ioffe & Szegedy, "Batch Normalization", ICML 2015, arXiv:1502.03167.
    """
    x = _float_input(input)
    w = as_tensor_arg(weight) if weight is not None else None
    b = as_tensor_arg(bias) if bias is not None else None
    view, axes = _channel_view(x)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are required when training=False")
        stats = (running_mean.array.reshape(view), running_var.array.reshape(view))
        return _batch_normalize(x).apply(x, w, b, axes, axes, view, eps, stats, None, None, None)
    count = x.numel() // x.shape[1]
    if count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of "
            f"shape {tuple(x.shape)}"
        )
    out_stats = []
    y = _batch_normalize(x).apply(x, w, b, axes, axes, view, eps, None, None, None, out_stats)
    if running_mean is not None:
        mean, var = out_stats
        with no_grad():
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (count / (count - 1)), momentum)
    return y


def batch_renorm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
                 momentum: float = 0.1, eps: float = 1e-5, rmax: float = 3.0, dmax: float = 5.0) -> Tensor:
    """Batch renormalization: y = γ (r (x - μ_B)/σ_B + d) + β, r and d held constant in backward.

    r = clip(σ_B / σ, 1/rmax, rmax) and d = clip((μ_B - μ) / σ, -dmax, dmax), with μ, σ the
    running mean and standard deviation (σ = sqrt(running_var + ε)). With r = 1, d = 0 this is
    batch norm; the correction makes training use the same normalisation as inference.
    Evaluation uses the running statistics exactly as ``batch_norm``.

    References:
        003 §2.6; Ioffe, "Batch Renormalization: Towards Reducing Minibatch Dependence in
        Batch-Normalized Models", NeurIPS 2017, arXiv:1702.03275.
    """
    if not training:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    x = _float_input(input)
    w = as_tensor_arg(weight) if weight is not None else None
    b = as_tensor_arg(bias) if bias is not None else None
    view, axes = _channel_view(x)
    count = x.numel() // x.shape[1]
    if count <= 1:
        raise ValueError(f"batch_renorm: expected more than 1 value per channel when training, got shape {tuple(x.shape)}")
    a = x.array
    mean_b = a.mean(axis=axes, keepdims=True)
    var_b = ((a - mean_b) ** 2).mean(axis=axes, keepdims=True)
    sigma_b = np.sqrt(var_b + eps)
    sigma = np.sqrt(running_var.array.reshape(view) + eps).astype(a.dtype)
    r = np.clip(sigma_b / sigma, 1.0 / rmax, rmax).astype(a.dtype)
    d = np.clip((mean_b - running_mean.array.reshape(view)) / sigma, -dmax, dmax).astype(a.dtype)
    y = Normalize.apply(x, w, b, axes, axes, view, eps, None, r, d, None)
    with no_grad():
        _update_running(running_mean, mean_b, momentum)
        _update_running(running_var, var_b * (count / (count - 1)), momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """y = γ (x - μ) / sqrt(σ² + ε) + β with μ, σ² over the last ``len(normalized_shape)`` dims.

    References:
        004; Ba, Kiros & Hinton, "Layer Normalization", 2016, arXiv:1607.06450.
    """
    x = _float_input(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(x.shape[x.ndim - k:]) != shape or x.ndim < k:
        raise RuntimeError(
            f"layer_norm: expected input with shape (*, {', '.join(map(str, shape))}), got "
            f"{tuple(x.shape)}"
        )
    w = as_tensor_arg(weight) if weight is not None else None
    b = as_tensor_arg(bias) if bias is not None else None
    stat_axes = tuple(range(x.ndim - k, x.ndim))
    param_axes = tuple(range(x.ndim - k))
    return Normalize.apply(x, w, b, stat_axes, param_axes, shape, eps, None, None, None, None)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` channel groups per sample, then γ, β per channel.

    References:
        Wu & He, "Group Normalization", ECCV 2018, arXiv:1803.08494.
    """
    x = _float_input(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise RuntimeError(
            f"group_norm: expected input of shape (N, C, *) with C divisible by num_groups="
            f"{num_groups}, got {tuple(x.shape)}"
        )
    n = x.shape[0]
    grouped = x.reshape(n, num_groups, -1)
    y = Normalize.apply(grouped, None, None, (2,), (0, 2), (1, 1, 1), eps, None, None, None, None)
    y = y.reshape(tuple(x.shape))
    view, _ = _channel_view(x)
    if weight is not None:
        y = y * as_tensor_arg(weight).reshape(view)
    if bias is not None:
        y = y + as_tensor_arg(bias).reshape(view)
    return y

