"""Gradient checking: compare backward's Jacobian with central finite differences.

For every differentiable input ``x`` and output ``y`` the analytic Jacobian ``dy/dx`` (one
vector-Jacobian product per output element, i.e. one backward per row) is compared with
the numerical one

    dy/dx[:, j] ~= (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

whose error is O(eps^2) (central differences). The comparison is elementwise:
``|analytic - numerical| <= atol + rtol * |numerical|``. The check runs in float64 (float32
inputs are promoted) because in float32 the rounding error of the difference quotient,
about 1e-7 / eps, swamps everything.

``fast_mode=True`` is Chainer's cheaper check: with random directions ``u`` (over outputs)
and ``v`` (over one input) it compares ``u^T J v`` from one backward with the directional
difference quotient ``u^T (f(x + eps v) - f(x - eps v)) / (2 eps)``: two evaluations per
input instead of two per element, and a wrong gradient still shows with probability one.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.grad_mode import enable_grad
from deepnum.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when gradients disagree."""


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _promote(inputs: tuple) -> tuple:
    """Float64 leaf copies of floating tensor inputs (same requires_grad); others unchanged."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.array.dtype.kind == "f":
            out.append(Tensor._make(np.array(x.array, dtype=np.float64), x.requires_grad, None, 0))
        else:
            out.append(x)
    return tuple(out)


def _outputs(func, inputs) -> list:
    """Differentiable (floating) tensor outputs of ``func(*inputs)``."""
    with enable_grad():
        outs = _as_tuple(func(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o.array.dtype.kind in "fc"]


def _evaluate(func, inputs, i, array) -> list:
    """Output arrays of func with input ``i``'s values replaced by ``array``."""
    args = list(inputs)
    x = inputs[i]
    args[i] = Tensor._make(array, x.requires_grad, None, 0)
    return [np.array(o.array, dtype=np.float64) for o in _outputs(func, tuple(args))]


def _numerical_jacobian(func, inputs, i, n_out_elems, eps) -> np.ndarray:
    """(total output elements, numel of input i) central-difference Jacobian."""
    base = inputs[i].array
    x = base.copy()
    flat = x.reshape(-1)
    jac = np.zeros((n_out_elems, flat.size))
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        plus = _evaluate(func, inputs, i, x)
        flat[j] = orig - eps
        minus = _evaluate(func, inputs, i, x)
        flat[j] = orig
        if plus:
            diff = np.concatenate([(p - m).reshape(-1) for p, m in zip(plus, minus)])
            jac[:, j] = diff / (2 * eps)
    return jac


def _analytic_jacobians(outputs, diff_inputs) -> list:
    """One (total output elements, numel of input) Jacobian per input, by one VJP per row."""
    from deepnum.autograd import grad

    n_rows = sum(o.array.size for o in outputs)
    jacs = [np.zeros((n_rows, x.array.size)) for x in diff_inputs]
    row = 0
    for o in outputs:
        for k in range(o.array.size):
            if o.requires_grad:
                seed = np.zeros(o.array.shape, dtype=o.array.dtype)
                seed.reshape(-1)[k] = 1
                grads = grad([o], list(diff_inputs), [Tensor._make(seed, False, None, 0)],
                             retain_graph=True, allow_unused=True)
                for jac, g, x in zip(jacs, grads, diff_inputs):
                    if g is not None:
                        _check_grad_shape(g, x)
                        jac[row] = g.array.reshape(-1)
            row += 1
    return jacs


def _check_grad_shape(g, x) -> None:
    if g.shape != x.shape:
        raise GradcheckError(
            f"gradcheck: analytic gradient has shape {tuple(g.shape)} but the input has "
            f"shape {tuple(x.shape)}"
        )


def _locate(flat_index: int, shapes: list) -> tuple:
    """Map a row of the stacked output Jacobian back to (output number, element index)."""
    for nr, shape in enumerate(shapes):
        size = int(np.prod(shape))
        if flat_index < size:
            return nr, tuple(int(k) for k in np.unravel_index(flat_index, shape)) if shape else ()
        flat_index -= size
    raise IndexError(flat_index)


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def _compare_full(analytic, numerical, i, x, out_shapes, atol, rtol, raise_exception, what):
    bad = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
    if bad.size == 0 or not (bad > 0).any():
        return True
    row, col = np.unravel_index(int(np.argmax(bad)), bad.shape)
    nr, out_index = _locate(int(row), out_shapes)
    in_index = tuple(int(k) for k in np.unravel_index(int(col), x.shape)) if x.shape else ()
    a, n = float(analytic[row, col]), float(numerical[row, col])
    return _fail(
        f"{what}: Jacobian mismatch for output {nr} with respect to input {i}: worst element "
        f"is output index {out_index}, input index {in_index}: numerical = {n!r}, "
        f"analytical = {a!r} (|difference| = {abs(a - n):.3g} > atol + rtol * |numerical| = "
        f"{atol + rtol * abs(n):.3g})",
        raise_exception,
    )


def _fast_check(func, inputs, outputs, diff_idx, eps, atol, rtol, raise_exception, what):
    from deepnum.autograd import grad

    rng = np.random.default_rng(0)
    us = [rng.standard_normal(o.array.shape) for o in outputs]
    active = [(o, u) for o, u in zip(outputs, us) if o.requires_grad]
    diff_inputs = [inputs[i] for i in diff_idx]
    if active:
        grads = grad([o for o, _ in active], diff_inputs,
                     [Tensor._make(u.astype(o.array.dtype), False, None, 0) for o, u in active],
                     retain_graph=True, allow_unused=True)
    else:
        grads = [None] * len(diff_inputs)
    for i, g in zip(diff_idx, grads):
        x = inputs[i]
        v = rng.standard_normal(x.array.shape)
        analytic = 0.0 if g is None else float(np.sum(g.array * v))
        plus = _evaluate(func, inputs, i, x.array + eps * v)
        minus = _evaluate(func, inputs, i, x.array - eps * v)
        numerical = sum(float(np.sum(u * (p - m))) for u, p, m in zip(us, plus, minus)) / (2 * eps)
        if abs(analytic - numerical) > atol + rtol * abs(numerical):
            return _fail(
                f"{what} (fast mode): directional derivative mismatch for input {i}: "
                f"numerical u^T J v = {numerical!r}, analytical = {analytic!r} "
                f"(|difference| = {abs(analytic - numerical):.3g}); run with fast_mode=False "
                "to locate the worst element",
                raise_exception,
            )
    return True


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, **unused) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    ``|J_analytic - J_numerical| <= atol + rtol * |J_numerical|`` elementwise, where
    ``J_numerical[:, j] = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``.

    Args:
        func: function of ``inputs`` returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors (and other arguments, passed unchanged); those
            with ``requires_grad=True`` are checked. Floating inputs are promoted to float64.
        eps: finite-difference step.
        atol, rtol: absolute and relative tolerance.
        raise_exception: raise ``GradcheckError`` on failure (else return False).
        fast_mode: compare one random projection ``u^T J v`` per input (Chainer's check).
        **unused: other ``torch.autograd.gradcheck`` keywords, accepted and ignored.

    Returns:
        True when every gradient matches.

    Examples:
        >>> import deepnum
        >>> x = deepnum.randn(3, dtype=deepnum.float64, requires_grad=True)
        >>> deepnum.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    inputs = _promote(_as_tuple(inputs))
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck: expected at least one input tensor with requires_grad=True")
    outputs = _outputs(func, inputs)
    return _check(func, inputs, outputs, diff_idx, eps, atol, rtol, raise_exception, fast_mode,
                  "gradcheck")


def _check(func, inputs, outputs, diff_idx, eps, atol, rtol, raise_exception, fast_mode, what):
    if fast_mode:
        return _fast_check(func, inputs, outputs, diff_idx, eps, atol, rtol, raise_exception, what)
    out_shapes = [tuple(o.shape) for o in outputs]
    n_rows = sum(o.array.size for o in outputs)
    analytic = _analytic_jacobians(outputs, [inputs[i] for i in diff_idx])
    for i, jac in zip(diff_idx, analytic):
        numerical = _numerical_jacobian(func, inputs, i, n_rows, eps)
        if not _compare_full(jac, numerical, i, inputs[i], out_shapes, atol, rtol,
                             raise_exception, what):
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, fast_mode: bool = False,
                  **unused) -> bool:
    """Check second derivatives: ``gradcheck`` of ``(x, v) -> v^T dfunc/dx`` (create_graph).

    Args:
        func, inputs, eps, atol, rtol, raise_exception, fast_mode: as in ``gradcheck``.
        grad_outputs: the vectors ``v`` (one per output); random float64 ones by default.
            They are checked too when they require grad (the random ones do).

    Returns:
        True when the gradients of the gradients match.
    """
    from deepnum.autograd import grad

    inputs = _promote(_as_tuple(inputs))
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError(
            "gradgradcheck: expected at least one input tensor with requires_grad=True"
        )
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        grad_outputs = tuple(
            Tensor._make(rng.standard_normal(o.array.shape), True, None, 0) for o in outputs
        )
    else:
        grad_outputs = _promote(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        outs = _outputs(func, xs)
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        wrt = [xs[i] for i in diff_idx]
        if not pairs:
            return tuple(Tensor._make(np.zeros(x.array.shape), False, None, 0) for x in wrt)
        grads = grad([o for o, _ in pairs], wrt, [v for _, v in pairs],
                     create_graph=True, allow_unused=True)
        zeros = [Tensor._make(np.zeros(x.array.shape, x.array.dtype), False, None, 0) for x in wrt]
        return tuple(z if g is None else g for g, z in zip(grads, zeros))

    all_inputs = inputs + tuple(grad_outputs)
    all_diff = diff_idx + [n_in + k for k, v in enumerate(grad_outputs)
                           if isinstance(v, Tensor) and v.requires_grad]
    first = _outputs(first_derivative, all_inputs)
    return _check(first_derivative, all_inputs, first, all_diff, eps, atol, rtol,
                  raise_exception, fast_mode, "gradgradcheck")
