"""``Function``: one differentiable primitive, with its forward and backward side by side.

A graph node is one call of a Function (its ``ctx``), as in PyTorch and in the DAG view of
004 Alg. 6.10: ``forward`` maps NumPy arrays to arrays; ``backward`` maps the gradient of the
loss with respect to each output to the gradient with respect to each input (the local chain
rule, 003 §2.1).

How to define a new op::

    class Tanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = np.tanh(x)
            ctx.save_for_backward(y)      # the derivative is cheaper in the output
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * (1 - y * y)     # d tanh(x)/dx = 1 - tanh(x)^2

    y = Tanh.apply(x)

``forward`` receives NumPy arrays where ``apply`` received tensors, and every other
argument unchanged. ``backward`` returns one gradient per argument of ``forward`` (``None`` for
non-tensors or inputs that need none; ``ctx.needs_input_grad`` tells which).

Backward is written once and serves two purposes. Normally it runs on NumPy arrays (no
overhead). Under ``create_graph=True`` (higher-order derivatives) the same code runs on
tensors: ``ctx.saved_tensors`` then returns tensors still attached to the graph, operators
and NumPy ufuncs dispatch to deepnum ops, and so the backward pass is itself recorded.
To stay differentiable, a backward uses only operators (``+ - * / ** @``), NumPy ufuncs
(``np.exp``...), array methods shared with tensors (``reshape``, ``swapaxes``,
``sum(axis=, keepdims=)``) and other Functions' ``apply`` (which, called on arrays only,
just returns the forward's array). ``save_for_backward`` should be given the inputs or
outputs themselves (not copies) where their own gradient matters for second derivatives.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.anomaly import _AnomalyMode, check_forward, creation_site
from deepnum.autograd.grad_mode import _GradMode
from deepnum.tensor import Tensor

_INPUT, _OUTPUT, _CONST = 0, 1, 2


class Function:
    """Base class of differentiable operations; see the module docstring for the recipe."""

    # set on graph nodes: edges[i] = (parent_node, output_nr) | (leaf_tensor, 0) | None
    edges: tuple = ()
    needs_input_grad: tuple = ()
    out_meta: tuple = ()  # (shape, dtype) of each output, to fill absent gradients with zeros
    saved: tuple = ()
    freed = False
    graph_mode = False  # True while backward runs under create_graph
    hooks = None  # {output_nr: [fn]} for register_hook / retain_grad on non-leaf tensors
    site = None  # where the op was created, recorded under anomaly detection

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self.freed:
            raise RuntimeError(
                f"{type(self).__name__}: trying to backward through the graph a second time "
                "(or to use saved values after they were freed). Saved intermediate values "
                "are freed after .backward() or autograd.grad(); pass retain_graph=True to "
                "backward through the graph again."
            )
        if not self.graph_mode:
            return self.saved
        return tuple(self._saved_as_tensor(i) for i in range(len(self.saved)))

    def _saved_as_tensor(self, i: int):
        """Rebuild saved value i as a tensor attached to the graph (for create_graph)."""
        kind, index = self.saved_kinds[i]
        data = self.saved[i]
        if kind == _OUTPUT:
            return Tensor._make(data, True, self, index)
        if kind == _INPUT:
            edge = self.edges[index]
            if edge is None:
                return Tensor._make(data, False, None, 0)
            parent, nr = edge
            if isinstance(parent, Tensor):
                return parent
            return Tensor._make(data, True, parent, nr)
        return data

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    @classmethod
    def apply(cls, *args):
        """Run forward; if any tensor input requires grad (and grad mode is on), record a node.

        Called with no tensor among ``args`` (as inside a backward pass on arrays), returns
        the forward's raw NumPy result.
        """
        # this runs once per op: one pass over args, and a fast path for one output
        ctx = cls.__new__(cls)
        arrays = []
        edges = []
        has_tensor = record = False
        for a in args:
            if isinstance(a, Tensor):
                has_tensor = True
                arrays.append(a.array)
                if a.requires_grad:
                    record = True
                    fn = a.grad_fn
                    edges.append((a, 0) if fn is None else (fn, a.output_nr))
                    continue
            else:
                arrays.append(a)
            edges.append(None)
        if _AnomalyMode.enabled:
            # the anomaly check below reports NaN/Inf with the op's name; no NumPy warning first
            with np.errstate(all="ignore"):
                out = cls.forward(ctx, *arrays)
        else:
            out = cls.forward(ctx, *arrays)
        if not has_tensor:
            return out
        record = record and _GradMode.enabled
        multi = type(out) is tuple
        if not multi and type(out) is np.ndarray:
            outs = (out,)
        else:
            raw_outs = out if multi else (out,)
            outs = tuple(o if type(o) is np.ndarray else np.asarray(o) for o in raw_outs)
            if ctx.saved and any(r is not o for r, o in zip(raw_outs, outs)):
                # a NumPy scalar output (0-d results) saved for backward is still that output
                as_array = {id(r): o for r, o in zip(raw_outs, outs) if r is not o}
                ctx.saved = tuple(as_array.get(id(s), s) for s in ctx.saved)
        if _AnomalyMode.enabled:
            ctx.site = creation_site()
            check_forward(cls.__name__, outs, ctx.site)
        if not record:
            if not multi:
                return Tensor._make(outs[0], False, None, 0)
            return tuple(Tensor._make(o, False, None, 0) for o in outs)
        ctx.edges = tuple(edges)
        ctx.needs_input_grad = tuple([e is not None for e in edges])
        if ctx.saved:
            ctx.saved_kinds = tuple([_saved_kind(s, arrays, args, outs) for s in ctx.saved])
        if not multi:
            o = outs[0]
            ctx.out_meta = ((o.shape, o.dtype),)
            if o.dtype.kind in "fc":
                return Tensor._make(o, True, ctx, 0)
            return Tensor._make(o, False, None, 0)
        ctx.out_meta = tuple([(o.shape, o.dtype) for o in outs])
        return tuple([
            Tensor._make(o, True, ctx, i) if o.dtype.kind in "fc"
            else Tensor._make(o, False, None, 0)
            for i, o in enumerate(outs)
        ])


def will_record(*args) -> bool:
    """Whether ``apply`` would record an op on ``args`` for backward: grad mode is on and a
    tensor among them requires grad (for a forward pass that stores more when it will be)."""
    return _GradMode.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _saved_kind(value, arrays, args, outs) -> tuple:
    for j, o in enumerate(outs):
        if value is o:
            return (_OUTPUT, j)
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and arrays[i] is value:
            return (_INPUT, i)
    return (_CONST, None)
