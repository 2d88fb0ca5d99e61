"""Automatic differentiation: ``backward``, ``grad``, grad modes, anomaly detection.

Also ``deepnum.autograd.Function`` for defining new differentiable ops.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from deepnum.autograd.engine import run_backward
from deepnum.autograd.function import Function
from deepnum.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from deepnum.autograd import functional
from deepnum.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from deepnum.tensor import Tensor

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "inference_mode", "detect_anomaly", "set_detect_anomaly",
    "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "gradcheck", "gradgradcheck", "GradcheckError", "functional",
]


def _as_sequence(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _root_gradients(outputs, grad_outputs, create_graph, op):
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; this output "
                    f"has shape {tuple(out.shape)}, so pass a gradient of that shape"
                )
            g = np.ones_like(out.array)
            grads.append(Tensor._make(g, False, None, 0) if create_graph else g)
            continue
        if not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=out.dtype), False, None, 0)
        if g.shape != out.shape:
            raise RuntimeError(
                f"{op}: mismatch in shape: gradient has shape {tuple(g.shape)} but the output "
                f"has shape {tuple(out.shape)}"
            )
        grads.append(g if create_graph else g.array)
    return grads


def _check_requires_grad(outputs, op):
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: element 0 of tensors does not require grad and does not have a grad_fn "
                "(was it computed under no_grad, or from tensors without requires_grad=True?)"
            )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves of their graph."""
    outputs = _as_sequence(tensors)
    grad_tensors = _as_sequence(grad_tensors)
    _check_requires_grad(outputs, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_gradients(outputs, grad_tensors, create_graph, "backward")
    if inputs is not None:
        inputs = _as_sequence(inputs)
        grads = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs)
        for t, g in zip(inputs, grads):
            if g is not None:
                g = g if isinstance(g, Tensor) else Tensor._make(np.array(g), False, None, 0)
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(outputs, roots, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    With ``create_graph=True`` the result is itself differentiable, which gives
    higher-order derivatives (Hessians, 003 §2.5). ``only_inputs`` is accepted and ignored,
    as in PyTorch (deprecated there).
    """
    single = isinstance(inputs, Tensor)
    outputs = _as_sequence(outputs)
    inputs = _as_sequence(inputs)
    grad_outputs = _as_sequence(grad_outputs)
    _check_requires_grad(outputs, "grad")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_gradients(outputs, grad_outputs, create_graph, "grad")
    grads = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if materialize_grads:
                g = np.zeros_like(t.array)
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: one of the differentiated tensors (input {i}, shape "
                    f"{tuple(t.shape)}) appears to not have been used in the graph; "
                    "set allow_unused=True if this is intended"
                )
            else:
                result.append(None)
                continue
        if not isinstance(g, Tensor):
            g = Tensor._make(np.array(g, copy=True), False, None, 0)
        result.append(g)
    return tuple(result)


def Variable(data, requires_grad: bool = False, volatile: bool = False) -> Tensor:
    """The pre-0.4 PyTorch wrapper old programs still call: a leaf tensor sharing ``data``'s memory.

    Tensors carry ``requires_grad`` themselves, so ``Variable(x, requires_grad=True)`` is
    ``x.detach().requires_grad_(True)``.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: data must be a tensor, got {type(data).__name__}")
    out = data.detach()
    return out.requires_grad_(True) if requires_grad else out
