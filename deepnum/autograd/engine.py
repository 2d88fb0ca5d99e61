"""Reverse-mode automatic differentiation over the graph of ``Function`` nodes.

The graph is walked without recursion (a 10,000-op chain is fine): first a depth-first pass
counts, for every node, how many consumers will send it a gradient; then nodes are processed
in reverse topological order (Kahn's algorithm), each one only after all its consumers have
added their contributions, as in 004 Alg. 6.10:

    grad(node input) += backward(node, grad(node output))

Leaf tensors that require grad accumulate into ``.grad`` as PyTorch's AccumulateGrad does:
once their last consumer has sent its part, the contributions' sum goes through the leaf's
hooks and into ``.grad``; a fresh gradient that nothing else holds becomes ``.grad`` without
a copy. Unless ``retain_graph`` is set, each node's saved values are released as soon as its
backward has run, so peak memory follows what is still needed. ``autograd.grad`` runs only
the nodes between the outputs and the requested inputs.
"""

from __future__ import annotations

import sys

import numpy as np

from deepnum.autograd.anomaly import _AnomalyMode, check_backward, note_backward_error
from deepnum.autograd.grad_mode import set_grad_enabled
from deepnum.tensor import Tensor


def _unshared_ref_counts() -> tuple:
    """``sys.getrefcount`` of a tuple held by one local variable, of an array held only by
    that tuple and one local (as the gradients fresh from ``backward`` are in the engine
    loop), and of an array held only by one view of it and one local (measured, not
    assumed: the counts differ between Python versions)."""
    items = (np.empty(1),)
    g = items[0]
    return sys.getrefcount(items), sys.getrefcount(g), _refs_of_base(np.empty(1).reshape(1))


def _refs_of_base(view) -> int:
    base = view.base
    return sys.getrefcount(base)


def _own_memory(grad) -> bool:
    """Whether ``grad`` (held by nobody else) can become a ``.grad`` without a copy: it owns
    its data, or views an array that only it refers to (e.g. a fresh result reshaped)."""
    if not grad.flags.writeable:
        return False
    base = grad.base
    if base is None:
        return True
    return type(base) is np.ndarray and base.base is None and sys.getrefcount(base) <= _BASE_REFS


_UNSHARED_TUPLE_REFS, _UNSHARED_REFS, _BASE_REFS = _unshared_ref_counts()


def _graph_order(root_nodes, needed=None, run=None):
    """How many gradient contributions each node (in ``needed``) and each leaf will receive.

    Returns ``(pending, leaf_pending)``; leaves are keyed by ``id``. Only nodes that run
    (all, unless ``run`` is given) send contributions.
    """
    pending = {}
    leaf_pending = {}
    seen = set(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        if run is not None and node not in run:
            continue
        for edge in node.edges:
            if edge is None:
                continue
            parent = edge[0]
            if isinstance(parent, Tensor):
                key = id(parent)
                leaf_pending[key] = leaf_pending.get(key, 0) + 1
                continue
            if needed is not None and parent not in needed:
                continue
            pending[parent] = pending.get(parent, 0) + 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return pending, leaf_pending


def _needed_nodes(root_nodes, leaf_ids, target_nodes) -> tuple:
    """For autograd.grad: which nodes receive gradients and which must run their backward.

    A node runs when one of its parents leads to a requested input (a requested leaf, or a
    node that is needed); it is needed when it runs or one of its outputs is requested.
    Everything else is neither computed nor freed, as in PyTorch. Found by an iterative
    post-order walk, parents before children.
    """
    needed, run, done = set(), set(), set()
    stack = [(n, False) for n in root_nodes]
    while stack:
        node, expanded = stack.pop()
        if node in done:
            continue
        if not expanded:
            stack.append((node, True))
            for edge in node.edges:
                if edge is not None and not isinstance(edge[0], Tensor) and edge[0] not in done:
                    stack.append((edge[0], False))
            continue
        done.add(node)
        for edge in node.edges:
            if edge is None:
                continue
            parent = edge[0]
            leads = id(parent) in leaf_ids if isinstance(parent, Tensor) else parent in needed
            if leads:
                run.add(node)
                break
        if node in run or node in target_nodes:
            needed.add(node)
    return needed, run


def _add(a, b):
    if a is None:
        return b
    return a + b


def _zeros(meta, create_graph):
    shape, dtype = meta
    z = np.zeros(shape, dtype)
    return Tensor._make(z, False, None, 0) if create_graph else z


def _shape_error(node, index, grad, shape):
    raise RuntimeError(
        f"{node.name} backward returned a gradient of shape {tuple(grad.shape)} for input "
        f"{index}, which has shape {tuple(shape)}"
    )


def _apply_hooks(hooks, grad, create_graph):
    for hook in hooks:
        wrapped = grad if create_graph else Tensor._make(grad, False, None, 0)
        result = hook(wrapped)
        if result is not None:
            grad = result if create_graph else result.array
    return grad


def run_backward(
    roots,
    root_grads,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs=None,
):
    """Backpropagate ``root_grads`` from ``roots``.

    With ``inputs`` (autograd.grad), returns the gradients for those tensors and leaves every
    ``.grad`` untouched; otherwise accumulates into the ``.grad`` of leaves.
    """
    capture_leaf = {}
    capture_node = {}
    captured = None
    if inputs is not None:
        captured = [None] * len(inputs)
        for i, t in enumerate(inputs):
            if t.grad_fn is None:
                capture_leaf.setdefault(id(t), []).append(i)
            else:
                capture_node.setdefault((t.grad_fn, t.output_nr), []).append(i)

    def deliver_to_leaf(leaf, grad, unshared=False):
        """The leaf's summed gradient: through its hooks, into .grad (or captured)."""
        if inputs is not None and id(leaf) not in capture_leaf:
            return
        if leaf._hooks:
            grad = _apply_hooks(leaf._hooks, grad, create_graph)
            unshared = False
        if inputs is not None:
            for i in capture_leaf[id(leaf)]:
                captured[i] = _add(captured[i], grad)
            return
        if create_graph:
            grad = grad if isinstance(grad, Tensor) else Tensor._make(grad, False, None, 0)
            leaf.grad = grad if leaf.grad is None else leaf.grad + grad
            return
        if isinstance(grad, Tensor):
            grad = grad.array
            unshared = False
        if grad.dtype != leaf.array.dtype:
            grad = grad.astype(leaf.array.dtype)
            unshared = True
        if leaf.grad is None:
            # .grad is accumulated into in place later, so it must be its own memory; an
            # array nobody else holds (and that views nothing) is kept as it is, as PyTorch
            # steals an unshared gradient, saving one copy of every parameter per step
            if not (unshared and _own_memory(grad)):
                grad = np.array(grad, copy=True)
            leaf.grad = Tensor._make(grad, False, None, 0)
        elif leaf.grad.grad_fn is None and leaf.grad.array.shape == grad.shape:
            leaf.grad.array += grad
        else:
            leaf.grad = leaf.grad + grad

    buffers = {}
    root_nodes = []
    for t, g in zip(roots, root_grads):
        if t.grad_fn is None:
            if t.requires_grad:
                deliver_to_leaf(t, g)
            continue
        node = t.grad_fn
        if node not in buffers:
            buffers[node] = [None] * len(node.out_meta)
            root_nodes.append(node)
        slot = buffers[node]
        slot[t.output_nr] = _add(slot[t.output_nr], g)

    needed = run = None
    if inputs is not None:
        targets = {node for node, _ in capture_node}
        needed, run = _needed_nodes(root_nodes, capture_leaf, targets)
        root_nodes = [n for n in root_nodes if n in needed]
    pending, leaf_pending = _graph_order(root_nodes, needed, run)
    leaf_sums = {}  # id(leaf) -> [gradient so far, whether no one else holds it]
    ready = [n for n in root_nodes if pending.get(n, 0) == 0]
    # NaN and Inf propagate silently, as in PyTorch; anomaly mode is the way to catch them
    with set_grad_enabled(create_graph), np.errstate(all="ignore"):
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if node.hooks:
                for nr, hooks in node.hooks.items():
                    if grads[nr] is not None:
                        grads[nr] = _apply_hooks(hooks, grads[nr], create_graph)
            if capture_node:
                for nr, g in enumerate(grads):
                    if g is not None and (node, nr) in capture_node:
                        for i in capture_node[(node, nr)]:
                            captured[i] = _add(captured[i], g)
            if run is not None and node not in run:
                continue  # a requested non-leaf input: its own inputs are not wanted
            # identity tests only: `None in grads` would compare arrays elementwise
            single = len(grads) == 1
            if grads[0] is None if single else all(g is None for g in grads):
                in_grads = (None,) * len(node.edges)
            else:
                if not single:
                    grads = [
                        _zeros(meta, create_graph) if g is None else g
                        for g, meta in zip(grads, node.out_meta)
                    ]
                if create_graph:
                    node.graph_mode = True
                try:
                    in_grads = node.backward(node, *grads)
                except Exception as error:
                    if _AnomalyMode.enabled:
                        note_backward_error(error, node.name, node.site)
                    raise
                finally:
                    if create_graph:
                        node.graph_mode = False
                if type(in_grads) is not tuple:
                    in_grads = (in_grads,)
                if len(in_grads) != len(node.edges):
                    raise RuntimeError(
                        f"{node.name}.backward returned {len(in_grads)} gradients, "
                        f"expected {len(node.edges)} (one per forward argument)"
                    )
                if _AnomalyMode.enabled:
                    check_backward(node.name, in_grads, node.site or "<unknown>")
            if not retain_graph:
                node.saved = ()
                node.freed = True
            fresh = sys.getrefcount(in_grads) <= _UNSHARED_TUPLE_REFS
            for index, edge in enumerate(node.edges):
                if edge is None:
                    continue
                g = in_grads[index]
                parent, nr = edge
                is_leaf = isinstance(parent, Tensor)
                if g is not None:
                    if type(g) is not np.ndarray and not isinstance(g, Tensor):
                        g = np.asarray(g)
                    shape = parent.array.shape if is_leaf else parent.out_meta[nr][0]
                    if g.shape != shape:
                        _shape_error(node, index, g, shape)
                if is_leaf:
                    # as PyTorch's AccumulateGrad: hooks and .grad see the sum of all
                    # contributions, once the last consumer of the leaf has sent its part
                    key = id(parent)
                    if g is not None:
                        total = leaf_sums.get(key)
                        if total is None:
                            # counted here, not among a call's arguments (which add one)
                            unshared = fresh and sys.getrefcount(g) <= _UNSHARED_REFS
                            leaf_sums[key] = [g, unshared]
                        else:
                            total[0] = total[0] + g
                            total[1] = True
                    count = leaf_pending[key] - 1
                    leaf_pending[key] = count
                    if count == 0 and key in leaf_sums:
                        total = leaf_sums.pop(key)
                        deliver_to_leaf(parent, total[0], total[1])
                    continue
                if needed is not None and parent not in needed:
                    continue
                slot = buffers.get(parent)
                if slot is None:
                    slot = buffers[parent] = [None] * len(parent.out_meta)
                if g is not None:
                    slot[nr] = g if slot[nr] is None else slot[nr] + g
                count = pending[parent] - 1
                pending[parent] = count
                if count == 0:
                    ready.append(parent)
    return captured
