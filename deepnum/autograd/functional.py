"""Whole-function derivatives: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``vhp``, ``hvp``.

Everything is built on reverse mode (``autograd.grad``), as ``torch.autograd.functional``:

    vjp(v)  = v^T J                      one backward
    jvp(v)  = J v = d/du (u^T J v)       the "double-backward trick": u^T J is linear in u,
                                         so its gradient with respect to u is J v
    J       = rows e_k^T J               one backward per output element
    H       = J(grad f)                  jacobian of the create_graph gradient (003 §2.5)
    v^T H   = grad of (grad f . v)       two backwards
    H v     = v^T H for twice continuously differentiable f (H is symmetric, Schwarz)

Return structures follow PyTorch: a tensor where the argument was a tensor, a tuple where it
was a tuple; ``jacobian`` of a tuple of outputs by a tuple of inputs is a tuple of tuples
``J[i][j] = d out_i / d in_j`` with shape ``out_i.shape + in_j.shape``.
Results are detached unless ``create_graph=True``.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.autograd.grad_mode import enable_grad
from deepnum.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


class _Stack(Function):
    """Stack equally shaped arrays along a new first axis (rows of a Jacobian)."""

    @staticmethod
    def forward(ctx, *arrays):
        return np.stack(arrays)

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[k] for k in range(len(ctx.needs_input_grad)))


def _as_tuple(x, arg_name: str, fn_name: str) -> tuple:
    """(tuple of tensors, whether x was a tuple)."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"element {i} of " if is_tuple else ""
            raise TypeError(
                f"{fn_name}: the {where}{arg_name} must be a Tensor (or a tuple of Tensors), "
                f"got {type(t).__name__}"
            )
    return items, is_tuple


def _prepare_inputs(inputs: tuple, create_graph: bool) -> tuple:
    """Tensors to differentiate with respect to: graph-attached views under create_graph
    (so the result can be differentiated further), else fresh leaves."""
    out = []
    for x in inputs:
        if x.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"functional: inputs must be floating point to be differentiated, got {x.dtype}"
            )
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(Tensor._make(x.array, True, None, 0))
    return tuple(out)


def _grad(outputs, inputs, grad_outputs, create_graph, strict, fn_name, what="output"):
    """autograd.grad that tolerates outputs without a graph: their contribution is zero."""
    from deepnum.autograd import grad

    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad and g is not None]
    if strict:
        for i, o in enumerate(outputs):
            if not o.requires_grad:
                raise RuntimeError(
                    f"{fn_name}: {what} {i} of the user-provided function does not require "
                    "gradients (it is independent of the inputs); this is not allowed in "
                    "strict mode"
                )
    if not pairs:
        return (None,) * len(inputs)
    with enable_grad():
        grads = grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    if strict:
        for i, g in enumerate(grads):
            if g is None:
                raise RuntimeError(
                    f"{fn_name}: the {what} of the user-provided function is independent of "
                    f"input {i}; this is not allowed in strict mode"
                )
    return grads


def _fill(grads, refs, create_graph):
    """Replace absent gradients by zeros; detach unless create_graph."""
    out = []
    for g, r in zip(grads, refs):
        if g is None:
            g = Tensor._make(np.zeros(r.array.shape, r.array.dtype), False, None, 0)
        elif not create_graph:
            g = g.detach()
        out.append(g)
    return tuple(out)


def _call(func, inputs, fn_name):
    with enable_grad():
        out = func(*inputs)
    outs, is_tuple = _as_tuple(out, "output of the user-provided function", fn_name)
    return outs, is_tuple


def _detach_all(items, create_graph):
    return tuple(t if create_graph else t.detach() for t in items)


def _shape_of(v, ref, fn_name, arg):
    if tuple(v.shape) != tuple(ref.shape):
        raise RuntimeError(
            f"{fn_name}: entry {arg} of v has shape {tuple(v.shape)} but the corresponding "
            f"tensor has shape {tuple(ref.shape)}; they must match"
        )


def _vector(v, refs, fn_name, ref_name):
    """Validate ``v`` against ``refs``; None is allowed only for a single one-element ref."""
    if v is None:
        if len(refs) != 1 or refs[0].array.size != 1:
            raise RuntimeError(
                f"{fn_name}: the vector v can only be None if the {ref_name} is a single "
                "Tensor with a single element"
            )
        return (Tensor._make(np.ones_like(refs[0].array), False, None, 0),)
    vs, _ = _as_tuple(v, "v", fn_name)
    if len(vs) != len(refs):
        raise RuntimeError(
            f"{fn_name}: v has {len(vs)} entries but the {ref_name} has {len(refs)}"
        )
    for k, (a, r) in enumerate(zip(vs, refs)):
        _shape_of(a, r, fn_name, k)
    return vs


def _result(items, is_tuple):
    return tuple(items) if is_tuple else items[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Returns:
        ``(func_output, vjp)``; ``vjp`` has the structure of ``inputs``.

    Examples:
        >>> import deepnum
        >>> x = deepnum.tensor([1.0, 2.0])
        >>> deepnum.autograd.functional.vjp(lambda t: t ** 2, x, deepnum.ones(2))[1]
        tensor([2., 4.])
    """
    ins, in_tuple = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare_inputs(ins, create_graph)
    outs, out_tuple = _call(func, xs, "vjp")
    vs = _vector(v, outs, "vjp", "output of the user-provided function")
    grads = _grad(outs, xs, vs, create_graph, strict, "vjp")
    return (_result(_detach_all(outs, create_graph), out_tuple),
            _result(_fill(grads, xs, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Jacobian-vector product ``J v`` by the double-backward trick.

    Returns:
        ``(func_output, jvp)``; ``jvp`` has the structure of the output.
    """
    ins, in_tuple = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare_inputs(ins, create_graph)
    vs = _vector(v, ins, "jvp", "input")
    outs, out_tuple = _call(func, xs, "jvp")
    # u^T J is linear in u, so d(u^T J v)/du = J v for any u; zeros keep it cheap.
    us = tuple(Tensor._make(np.zeros(o.array.shape, o.array.dtype), True, None, 0) for o in outs)
    grads_u = _grad(outs, xs, us, True, strict, "jvp")
    pairs = [(g, w) for g, w in zip(grads_u, vs) if g is not None and g.requires_grad]
    if pairs:
        from deepnum.autograd import grad

        with enable_grad():
            jv = grad([g for g, _ in pairs], list(us), [w for _, w in pairs],
                      retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        jv = (None,) * len(us)
    if strict and any(g is None for g in jv):
        raise RuntimeError("jvp: the output of the user-provided function is independent of "
                           "the inputs; this is not allowed in strict mode")
    return (_result(_detach_all(outs, create_graph), out_tuple),
            _result(_fill(jv, outs, create_graph), out_tuple))


def _jacobian_rows(out, xs, create_graph, strict, fn_name):
    """For one output: per input, the (out.numel, *in.shape) stack of gradient rows."""
    rows = [[] for _ in xs]
    for k in range(out.array.size):
        seed = np.zeros(out.array.shape, out.array.dtype)
        seed.reshape(-1)[k] = 1
        grads = _grad([out], xs, [Tensor._make(seed, False, None, 0)], create_graph, strict,
                      fn_name)
        for j, g in enumerate(_fill(grads, xs, create_graph)):
            rows[j].append(g)
    blocks = []
    for j, x in enumerate(xs):
        shape = tuple(out.shape) + tuple(x.shape)
        if not rows[j]:
            blocks.append(Tensor._make(np.zeros(shape, x.array.dtype), False, None, 0))
        else:
            blocks.append(_Stack.apply(*rows[j]).reshape(shape))
    return blocks


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """Jacobian ``J[i][j] = d out_i / d in_j`` of shape ``out_i.shape + in_j.shape``.

    ``vectorize`` is accepted for compatibility and ignored; ``strategy`` must be
    ``'reverse-mode'`` or ``'forward-mode'`` (both computed in reverse mode here).

    Examples:
        >>> import deepnum
        >>> deepnum.autograd.functional.jacobian(lambda t: 3 * t, deepnum.tensor([1.0, 2.0]))
        tensor([[3., 0.],
                [0., 3.]])
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(
            f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}"
        )
    ins, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare_inputs(ins, create_graph)
    outs, out_tuple = _call(func, xs, "jacobian")
    per_output = [
        _jacobian_rows(o, xs, create_graph, strict, "jacobian") for o in outs
    ]
    per_output = [tuple(_detach_all(b, create_graph)) for b in per_output]
    if out_tuple and in_tuple:
        return tuple(tuple(b) for b in per_output)
    if out_tuple:
        return tuple(b[0] for b in per_output)
    if in_tuple:
        return tuple(per_output[0])
    return per_output[0][0]


def _scalar_output(func, fn_name):
    def wrapped(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.array.size != 1:
            shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise RuntimeError(
                f"{fn_name}: the function given to {fn_name} should return a single Tensor "
                f"with a single element, got {shape}"
            )
        return out.reshape(())

    return wrapped


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Hessian ``H[i][j] = d^2 f / d in_i d in_j`` of a scalar function (003 §2.5).

    Shape of ``H[i][j]``: ``in_i.shape + in_j.shape``; a tensor for a single input.
    ``vectorize`` and ``outer_jacobian_strategy`` are accepted for compatibility.

    Examples:
        >>> import deepnum
        >>> f = lambda t: (t ** 3).sum()
        >>> deepnum.autograd.functional.hessian(f, deepnum.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    ins, in_tuple = _as_tuple(inputs, "inputs", "hessian")
    scalar = _scalar_output(func, "hessian")

    def gradient(*xs):
        jac = jacobian(scalar, xs, create_graph=True, strict=strict)
        if strict:
            for i, g in enumerate(jac):
                if not g.requires_grad:
                    raise RuntimeError(
                        f"hessian: the jacobian with respect to input {i} is independent of "
                        "the inputs; this is not allowed in strict mode"
                    )
        return jac

    res = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    if in_tuple:
        return res
    return res[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Hessian product ``v^T H`` of a scalar function.

    Returns:
        ``(func_output, vhp)``; ``vhp`` has the structure of ``inputs``.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Hessian-vector product ``H v`` of a scalar function (equal to ``v^T H``: the Hessian
    of a twice continuously differentiable function is symmetric).

    Returns:
        ``(func_output, hvp)``; ``hvp`` has the structure of ``inputs``.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    ins, in_tuple = _as_tuple(inputs, "inputs", fn_name)
    xs = _prepare_inputs(ins, create_graph)
    vs = _vector(v, ins, fn_name, "input")
    outs, _ = _call(func, xs, fn_name)
    if len(outs) != 1 or outs[0].array.size != 1:
        raise RuntimeError(
            f"{fn_name}: the function given to {fn_name} should return a single Tensor with a "
            f"single element, got {[tuple(o.shape) for o in outs]}"
        )
    out = outs[0]
    ones = Tensor._make(np.ones_like(out.array), False, None, 0)
    grads = _grad([out], xs, [ones], True, strict, fn_name)
    if strict:
        for i, g in enumerate(grads):
            if not g.requires_grad:
                raise RuntimeError(
                    f"{fn_name}: the jacobian of the user-provided function with respect to "
                    f"input {i} is independent of the inputs; this is not allowed in strict mode"
                )
    pairs = [(g, w) for g, w in zip(grads, vs) if g is not None and g.requires_grad]
    if pairs:
        hv = _grad([g for g, _ in pairs], xs, [w for _, w in pairs], create_graph, strict,
                   fn_name, what="jacobian")
    else:
        hv = (None,) * len(xs)
    return (out if create_graph else out.detach()), _result(_fill(hv, xs, create_graph), in_tuple)
