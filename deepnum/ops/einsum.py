"""``einsum``: sums of products over labelled dimensions (Einstein notation).

The gradient with respect to one operand is itself an einsum: the incoming gradient
contracted with all the other operands, producing that operand's labels (003 §2.1: for
``X = AB``, ``grad_A = G Bᵀ`` is ``einsum('ik,jk->ij', G, B)``). Labels that only the
operand carries are broadcast back; labels repeated within it (a diagonal) are placed back
on the diagonal with a mask.
"""

from __future__ import annotations

import string

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import BroadcastTo, as_tensor_arg, cast
from deepnum.tensor import Tensor


def _parse(equation: str, shapes) -> tuple:
    """Input terms and output term with ``...`` replaced by explicit labels."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(
            f"einsum(): {equation!r} has {len(terms)} operand terms but {len(shapes)} operands "
            "were given"
        )
    free = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in eq]
    n_ell = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(s) - (len(t) - 3))
    ell = "".join(free[:n_ell])
    expanded = []
    for i, (t, s) in enumerate(zip(terms, shapes)):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:] if k else "")
        if len(t) != len(s) or not t.isalpha() and t:
            raise RuntimeError(
                f"einsum(): the term {terms[i]!r} for operand {i} does not match its shape "
                f"{tuple(s)}"
            )
        expanded.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for t in expanded:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    for c in out:
        if not any(c in t for t in expanded):
            raise RuntimeError(
                f"einsum(): output subscript {c} does not appear in the equation for any input "
                "operand"
            )
    return expanded, out


class Einsum(Function):
    @staticmethod
    def forward(ctx, equation, *xs):
        ctx.equation = equation
        ctx.save_for_backward(*xs)
        return np.asarray(np.einsum(equation, *xs, optimize=len(xs) > 1))

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        lhs, out = ctx.equation.split("->")
        terms = lhs.split(",")
        sizes = {c: n for t, x in zip(terms, xs) for c, n in zip(t, x.shape)}
        grads = [None]
        for i, t in enumerate(terms):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [(terms[j], xs[j]) for j in range(len(xs)) if j != i]
            seen = "".join(c for k, c in enumerate(t) if c not in t[:k])  # unique, in order
            elsewhere = set(out).union(*[set(s) for s, _ in others])
            avail = "".join(c for c in seen if c in elsewhere)
            eq = ",".join([out] + [s for s, _ in others]) + "->" + avail
            g = Einsum.apply(eq, grad, *[x for _, x in others])
            if avail != seen:  # labels summed only inside this operand: broadcast back
                g = g.reshape(tuple(sizes[c] if c in avail else 1 for c in seen))
                g = BroadcastTo.apply(g, tuple(sizes[c] for c in seen))
            if seen != t:  # repeated labels: the gradient lives on the diagonal
                first = [t.index(c) == k for k, c in enumerate(t)]
                g = g.reshape(tuple(sizes[c] if f else 1 for c, f in zip(t, first)))
                g = g * _diagonal_mask(t, sizes).astype(_dtype_of(g))
            grads.append(g)
        return tuple(grads)


def _dtype_of(x):
    return x.dtype


def _diagonal_mask(term: str, sizes: dict) -> np.ndarray:
    grids = np.ogrid[tuple(slice(0, sizes[c]) for c in term)]
    mask = np.ones(tuple(sizes[c] for c in term), dtype=bool)
    for k, c in enumerate(term):
        first = term.index(c)
        if first != k:
            mask = mask & (grids[first] == grids[k])
    return mask


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: e.g. ``einsum('bij,bjk->bik', A, B)`` is a batched matrix product.

    Supports explicit (``->``) and implicit output, ``...`` for broadcast dimensions,
    repeated labels (diagonals) and size-1 broadcasting of labelled dimensions.

    Examples:
        >>> a = deepnum.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> deepnum.einsum('ii->', a)
        tensor(5.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    xs = [as_tensor_arg(x) for x in operands]
    if not xs:
        raise RuntimeError("einsum(): must provide at least one operand")
    terms, out = _parse(equation, [x.shape for x in xs])
    dt = xs[0].dtype
    for x in xs[1:]:
        dt = np.promote_types(dt, x.dtype)
    xs = [cast(x, dt) for x in xs]
    sizes = {}
    for t, x in zip(terms, xs):
        for c, n in zip(t, x.shape):
            if sizes.get(c, 1) != 1 and n not in (1, sizes[c]):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes: subscript {c} has "
                    f"size {sizes[c]} in one operand and {n} in another ({equation!r}, shapes "
                    f"{[tuple(x.shape) for x in xs]})"
                )
            sizes[c] = max(sizes.get(c, 1), n) if n != 0 else 0
    from deepnum.ops.shape import expand

    full = [tuple(sizes[c] for c in t) for t in terms]
    xs = [expand(x, shape) if tuple(x.shape) != shape else x for x, shape in zip(xs, full)]
    return Einsum.apply(",".join(terms) + "->" + out, *xs)
