"""Optimisers that use curvature: damped Newton and nonlinear conjugate gradient (003 §2.5).

Both treat all parameters as one flat vector θ and need a ``closure`` that re-evaluates the
loss, as ``LBFGS`` does.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import grad as autograd_grad
from deepnum.optim.lbfgs import _strong_wolfe
from deepnum.optim.optimizer import Optimizer, _check_lr, _check_nonneg, _scalar
from deepnum.tensor import Tensor

__all__ = ["Newton", "ConjugateGradient"]


class _FlatParams:
    """The parameters of one group seen as one flat vector."""

    def __init__(self, params) -> None:
        self.params = params
        self.sizes = [p.array.size for p in params]

    def grad(self) -> np.ndarray:
        return np.concatenate([
            np.zeros(p.array.size, p.array.dtype) if p.grad is None else p.grad.array.reshape(-1)
            for p in self.params
        ])

    def get(self) -> np.ndarray:
        return np.concatenate([p.array.reshape(-1) for p in self.params])

    def set(self, flat: np.ndarray) -> None:
        offset = 0
        for p, n in zip(self.params, self.sizes):
            p.array[...] = flat[offset:offset + n].reshape(p.array.shape)
            offset += n

    def add(self, t, direction: np.ndarray) -> None:
        offset = 0
        for p, n in zip(self.params, self.sizes):
            p.array += t * direction[offset:offset + n].reshape(p.array.shape)
            offset += n


def _require_closure(closure, name: str) -> None:
    if closure is None:
        raise RuntimeError(
            f"{name}.step() requires a closure that re-evaluates and returns the loss"
        )


class Newton(Optimizer):
    r"""Damped Newton's method: ``θ ← θ − lr·(H + αI)⁻¹ g`` with the exact Hessian H.

    The loss is expanded to second order around θ and the step jumps to the minimum of that
    quadratic (003 §2.5); on a quadratic loss with ``damping=0`` and ``lr=1`` it lands on the
    minimum in one step. The damping α > 0 (ridge regularisation of the step, 003 §2.5) keeps
    the system solvable and the step a descent direction where H is indefinite or singular.

    H is built by differentiating the gradient: one backward pass through the
    ``create_graph=True`` gradient per parameter coordinate, so for n parameters a step costs
    n + 1 backward passes, O(n²) memory for H and O(n³) time for the solve. Use it for small
    models; ``LBFGS`` approximates the same step from gradients alone.

    ``step(closure)`` needs a closure that re-evaluates and **returns** the loss without
    calling ``backward()`` (the step differentiates it twice itself and leaves the gradient
    in each ``p.grad``).

    Args:
        params: parameters to optimise, all treated as one vector (a single group).
        lr: step scale (default 1.0, the full Newton step).
        damping: α added to the Hessian's diagonal (default 0).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([3.0, -1.0], dtype=deepnum.float64))
        >>> opt = deepnum.optim.Newton([w])
        >>> _ = opt.step(lambda: ((w - 2.0) ** 2).sum() + (w[0] * w[1]))
        >>> [round(v, 6) for v in w.tolist()]  # minimum of a quadratic in one step
        [1.333333, 1.333333]

    References:
        003 §2.5 (Newton's method, damping ``[H + αI]⁻¹``). J. Nocedal, S. Wright,
        "Numerical Optimization", 2006, ch. 3.3.
    """

    def __init__(self, params, lr=1.0, damping=0.0) -> None:
        _check_lr(lr)
        _check_nonneg(damping, "damping")
        super().__init__(params, dict(lr=lr, damping=damping))
        if len(self.param_groups) != 1:
            raise ValueError("Newton doesn't support per-parameter options (parameter groups)")

    def hessian(self, loss: Tensor):
        """Gradient g and Hessian H of ``loss`` over the flattened parameters."""
        params = self.param_groups[0]["params"]
        grads = autograd_grad(loss, params, create_graph=True, allow_unused=True)
        grads = [g if g is not None else Tensor._make(np.zeros_like(p.array), False, None, 0)
                 for g, p in zip(grads, params)]
        flat = _FlatParams(params)
        n = sum(flat.sizes)
        dtype = params[0].array.dtype
        g = np.concatenate([gi.array.reshape(-1) for gi in grads])
        H = np.zeros((n, n), dtype=dtype)
        live = [gi for gi in grads if gi.requires_grad]
        if not live:  # the loss is linear in θ
            return g, H
        live_index = [i for i, gi in enumerate(grads) if gi.requires_grad]
        offsets = np.cumsum([0] + flat.sizes)
        for row in range(n):
            # row of H = ∂(e_rowᵀ g)/∂θ, one backward pass through the gradient's graph
            seeds = []
            for i in live_index:
                e = np.zeros(flat.sizes[i], dtype=dtype)
                if offsets[i] <= row < offsets[i + 1]:
                    e[row - offsets[i]] = 1
                seeds.append(Tensor._make(e.reshape(grads[i].shape), False, None, 0))
            cols = autograd_grad(live, params, grad_outputs=seeds, retain_graph=True,
                                 allow_unused=True)
            H[row] = np.concatenate([
                np.zeros(p.array.size, dtype) if c is None else c.array.reshape(-1)
                for c, p in zip(cols, params)
            ])
        return g, H

    def step(self, closure):
        """One damped Newton step; ``closure`` returns the loss (without calling backward)."""
        _require_closure(closure, "Newton")
        group = self.param_groups[0]
        loss = self._evaluate(closure)
        if not isinstance(loss, Tensor) or not loss.requires_grad:
            raise RuntimeError(
                "Newton.step(): the closure must return the loss as a tensor that requires grad "
                "(and must not call backward() on it)"
            )
        g, H = self.hessian(loss)
        H[np.diag_indices_from(H)] += group["damping"]  # H + αI   (003 §2.5)
        try:
            delta = np.linalg.solve(H, g)  # (H + αI)⁻¹ g without forming the inverse
        except np.linalg.LinAlgError:
            raise RuntimeError(
                f"Newton.step(): the Hessian (+ damping {group['damping']}) is singular; "
                "use damping > 0"
            ) from None
        flat = _FlatParams(group["params"])
        offset = 0
        for p, n in zip(flat.params, flat.sizes):
            grad = g[offset:offset + n].reshape(p.array.shape).copy()
            p.grad = Tensor._make(grad, False, None, 0)
            offset += n
        flat.add(-_scalar(group["lr"]), delta)  # θ ← θ − lr·(H + αI)⁻¹ g
        state = self.state[group["params"][0]]
        state["n_iter"] = state.get("n_iter", 0) + 1
        return loss.detach()


class ConjugateGradient(Optimizer):
    r"""Nonlinear conjugate gradient: ``d_t = −g_t + β_t d_{t−1}``, ``θ ← θ + s·d_t``.

    Each direction is made conjugate to the previous one (``d_{t−1}ᵀ H d_t = 0`` on a
    quadratic), so it does not undo earlier progress (003 §2.5), with

    * Fletcher-Reeves: ``β = g_tᵀg_t / g_{t−1}ᵀg_{t−1}``;
    * Polak-Ribière: ``β = (g_t − g_{t−1})ᵀg_t / g_{t−1}ᵀg_{t−1}``.

    The step length s comes from a line search along d: ``'exact'`` minimises exactly on a
    quadratic (``s = −gᵀd / dᵀHd``, with ``Hd = g(θ+d) − g(θ)`` from one more gradient; on other
    losses a secant estimate, falling back to Armijo where the curvature is not positive),
    ``'armijo'`` backtracks from ``lr`` by halves until ``f(θ+sd) ≤ f(θ) + c1·s·gᵀd``, and
    ``'strong_wolfe'`` uses LBFGS's strong-Wolfe search with ``c2 = 0.1``. With the exact
    search, CG finds the minimum of a k-dimensional quadratic in at most k steps (003 §2.5).
    When d is not a descent direction the method restarts from ``−g``.

    ``step(closure)`` needs a closure that clears the gradients, evaluates the loss, calls
    ``backward()`` and returns the loss (as for ``LBFGS``).

    Args:
        params: parameters to optimise, all treated as one vector (a single group).
        lr: initial trial step of the Armijo and strong-Wolfe searches (default 1.0).
        beta: ``'fr'`` (Fletcher-Reeves) or ``'pr'`` (Polak-Ribière) (default ``'pr'``).
        line_search: ``'armijo'``, ``'exact'`` or ``'strong_wolfe'`` (default ``'armijo'``).
        c1: sufficient-decrease constant of the Armijo test (default 1e-4).
        max_ls: maximum number of closure evaluations in one line search (default 25).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([3.0, -1.0], dtype=deepnum.float64))
        >>> opt = deepnum.optim.ConjugateGradient([w], beta="fr", line_search="exact")
        >>> def closure():
        ...     opt.zero_grad(); loss = ((w - 2.0) ** 2).sum() + w[0] * w[1]
        ...     loss.backward(); return loss
        >>> for _ in range(2):
        ...     _ = opt.step(closure)
        >>> [round(v, 6) for v in w.tolist()]  # a 2-d quadratic: two steps
        [1.333333, 1.333333]

    References:
        003 §2.5 (conjugate gradients, Fletcher-Reeves, Polak-Ribière). R. Fletcher,
        C. M. Reeves, "Function minimization by conjugate gradients", Comput. J. 1964;
        E. Polak, G. Ribière, 1969; J. Nocedal, S. Wright, "Numerical Optimization", ch. 5.
    """

    def __init__(self, params, lr=1.0, beta="pr", line_search="armijo", c1=1e-4,
                 max_ls=25) -> None:
        _check_lr(lr)
        if beta not in ("fr", "pr"):
            raise ValueError(f"ConjugateGradient: beta must be 'fr' or 'pr', got {beta!r}")
        if line_search not in ("armijo", "exact", "strong_wolfe"):
            raise ValueError(
                "ConjugateGradient: line_search must be 'armijo', 'exact' or 'strong_wolfe', "
                f"got {line_search!r}"
            )
        super().__init__(params, dict(lr=lr, beta=beta, line_search=line_search, c1=c1,
                                      max_ls=max_ls))
        if len(self.param_groups) != 1:
            raise ValueError(
                "ConjugateGradient doesn't support per-parameter options (parameter groups)"
            )

    def _loss_and_grad(self, closure, flat: _FlatParams):
        return float(self._evaluate(closure)), flat.grad()

    def _armijo(self, closure, flat, x, f, gtd, d, group):
        s = _scalar(group["lr"])
        for _ in range(group["max_ls"]):
            flat.set(x)
            flat.add(s, d)
            f_new = float(self._evaluate(closure))
            if f_new <= f + group["c1"] * s * gtd:  # sufficient decrease (Armijo)
                return s
            s *= 0.5
        return s

    def step(self, closure):
        """One CG iteration: new direction, line search, update; returns the initial loss."""
        _require_closure(closure, "ConjugateGradient")
        group = self.param_groups[0]
        flat = _FlatParams(group["params"])
        state = self.state[group["params"][0]]
        orig_loss = self._evaluate(closure)
        f, g = float(orig_loss), flat.grad()

        prev_g, d = state.get("prev_grad"), state.get("direction")
        if prev_g is None:
            d = -g  # the first direction is steepest descent
        else:
            gg_prev = prev_g.dot(prev_g)
            if group["beta"] == "fr":
                beta = g.dot(g) / gg_prev  # Fletcher-Reeves
            else:
                beta = (g - prev_g).dot(g) / gg_prev  # Polak-Ribière
            d = -g + beta * d  # conjugate to the previous direction
        gtd = g.dot(d)
        if gtd >= 0:  # not a descent direction: restart
            d = -g
            gtd = g.dot(d)
        state["prev_grad"], state["direction"] = g, d
        state["n_iter"] = state.get("n_iter", 0) + 1
        if gtd == 0:  # zero gradient: at a stationary point
            return orig_loss

        x = flat.get()
        search = group["line_search"]
        if search == "exact":
            flat.add(1.0, d)
            _, g_d = self._loss_and_grad(closure, flat)
            curvature = d.dot(g_d - g)  # dᵀHd, exact on a quadratic
            flat.set(x)
            if curvature > 0:
                s = -gtd / curvature  # minimiser of the quadratic along d
            else:
                s = self._armijo(closure, flat, x, f, gtd, d, group)
        elif search == "armijo":
            s = self._armijo(closure, flat, x, f, gtd, d, group)
        else:
            def obj_func(x0, t, direction):
                flat.set(x0)
                flat.add(t, direction)
                out = self._loss_and_grad(closure, flat)
                flat.set(x0)
                return out

            _, _, s, _ = _strong_wolfe(obj_func, x, _scalar(group["lr"]), d, f, g, gtd, c2=0.1,
                                        max_ls=group["max_ls"])
        flat.set(x)
        flat.add(s, d)  # θ ← θ + s·d
        return orig_loss
