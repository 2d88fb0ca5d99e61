"""``orthogonal``, ``weight_norm`` and ``spectral_norm`` as parametrizations
(``torch.nn.utils.parametrizations``).

Each registers a parametrization with
:func:`deepnum.nn.utils.parametrize.register_parametrization`, so the weight is recomputed
from unconstrained tensors on every access and ``state_dict`` keys are PyTorch's
(``parametrizations.weight.original``, ``original0``/``original1`` for weight norm,
``parametrizations.weight.0._u``/``_v`` for spectral norm, ``parametrizations.weight.0.base``
for orthogonal).
"""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

import deepnum
from deepnum.autograd.grad_mode import no_grad
from deepnum.nn import functional as F
from deepnum.nn.modules.module import Module
from deepnum.nn.utils import parametrize
from deepnum.nn.utils.weight_norm import norm_except_dim
from deepnum.tensor import Tensor

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ------------------------------------------------------------------ matrix functions
def _cayley(A: Tensor) -> Tensor:
    """The Cayley map Q = (I - A/2)⁻¹ (I + A/2): orthogonal when A is skew-symmetric."""
    identity = deepnum.eye(A.shape[-1], dtype=A.dtype)
    return deepnum.linalg.solve(identity - 0.5 * A, identity + 0.5 * A)


def _householder_product(reflectors: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 H_2 ... H_k, with H_i = I - τ_i v_i v_iᵀ (LAPACK's orgqr).

    ``reflectors`` is (..., n, k) and zero on and above the diagonal; v_i is e_i plus its
    column i. The product is applied right to left to the first k columns of the identity:
    M ← M - τ_i v_i (v_iᵀ M).
    """
    n, k = reflectors.shape[-2:]
    unit_columns = deepnum.eye(n, k, dtype=reflectors.dtype)
    result = unit_columns
    for i in reversed(range(k)):
        v = reflectors[..., :, i : i + 1] + unit_columns[:, i : i + 1]
        tau_i = tau[..., i : i + 1].unsqueeze(-1)
        result = result - tau_i * (v @ (v.mT @ result))
    return result


def _geqrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Householder QR of a tall matrix in LAPACK's compact form (``geqrf``).

    Returns R on and above the diagonal with the reflector vectors below it (their leading 1
    left implicit), and the scalars τ. Step j maps the column x = (α, x₂) to β e₁ with
    H = I - τ v vᵀ, where β = -sign(α) ‖x‖, τ = (β - α) / β and v = (1, x₂ / (α - β));
    τ = 0 (H = I) when x₂ = 0.
    """
    r = np.array(a, copy=True)
    n, k = r.shape
    tau = np.zeros(k, dtype=r.dtype)
    for j in range(k):
        alpha, below = r[j, j], r[j + 1 :, j]
        below_norm = np.linalg.norm(below)
        if below_norm == 0:
            continue
        beta = -np.copysign(np.hypot(alpha, below_norm), alpha)
        tau[j] = (beta - alpha) / beta
        v = np.concatenate([[1.0], below / (alpha - beta)]).astype(r.dtype)
        r[j + 1 :, j] = v[1:]
        r[j, j] = beta
        trailing = r[j:, j + 1 :]
        trailing -= tau[j] * np.outer(v, v @ trailing)
    return r, tau


def _batched_geqrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.empty_like(a)
    tau = np.empty(a.shape[:-2] + (a.shape[-1],), dtype=a.dtype)
    for index in np.ndindex(a.shape[:-2]):
        r[index], tau[index] = _geqrf(a[index])
    return r, tau


def _make_orthogonal(a: np.ndarray) -> np.ndarray:
    """The Q of A = QR normalised so that diag(R) ≥ 0 (unique for full-rank A)."""
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    signs[signs == 0] = 1
    return q * signs[..., None, :]


def _is_orthogonal(q: np.ndarray) -> bool:
    """QᵀQ = I to within 10 n ε (and rtol 1e-5, PyTorch's allclose default)."""
    n, k = q.shape[-2:]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return np.allclose(np.swapaxes(q, -1, -2) @ q, np.eye(k), rtol=1e-5, atol=eps)


def _as_tensor(array: np.ndarray) -> Tensor:
    return Tensor._make(np.ascontiguousarray(array), False, None, 0)


# ----------------------------------------------------------------------- orthogonal
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Q orthogonal (QᵀQ = I for tall Q, QQᵀ = I for wide Q) from an unconstrained X.

    Working with the tall orientation (n ≥ k, wide inputs are transposed):

    - ``matrix_exp`` / ``cayley``: A = L - Lᵀ with L the lower triangle of X (padded with
      zero columns to n × n) is skew-symmetric, so Q = exp(A) and the Cayley map
      Q = (I - A/2)⁻¹ (I + A/2) are orthogonal; Q keeps the first k columns.
    - ``householder``: Q = H_1 ... H_k (first k columns), H_i = I - τ_i v_i v_iᵀ built from the
      strictly lower part of X with τ_i = 2 / ‖v_i‖² (a reflection), columns multiplied by the
      diagonal of X truncated to an integer (±1).

    With the dynamic trivialization (Lezcano-Casado, 2019) the result is ``base @ Q``, where
    the buffer ``base`` is set by ``right_inverse`` to the orthogonalised target and the
    original becomes -I, which all three maps send to the identity.
    """

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    @property
    def _uses_trivialization(self) -> bool:
        return "base" in self._buffers

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT
        if self.orthogonal_map == _OrthMaps.householder:
            Q = self._householder(X)
        else:
            Q = self._exp_or_cayley(X)
        if self._uses_trivialization:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def _exp_or_cayley(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        lower = X.tril()
        if n != k:
            padding = deepnum.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)
            lower = deepnum.cat([lower, padding], dim=-1)
        A = lower - lower.mT
        Q = deepnum.linalg.matrix_exp(A) if self.orthogonal_map == _OrthMaps.matrix_exp else _cayley(A)
        return Q[..., :k] if n != k else Q

    @staticmethod
    def _householder(X: Tensor) -> Tensor:
        reflectors = X.tril(-1)
        tau = 2.0 / (1.0 + (reflectors * reflectors).sum(-2))
        Q = _householder_product(reflectors, tau)
        # the signs are not learnt: no gradient flows to the diagonal of X
        signs = X.detach().diagonal(dim1=-2, dim2=-1).trunc()
        return Q * signs.unsqueeze(-2)

    def right_inverse(self, Q: Tensor) -> Tensor:
        """An X with ``forward(X) = Q`` for orthogonal Q (Q is orthogonalised first if not)."""
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. "
                f"Got a tensor of shape {Q.shape}."
            )
        with no_grad():
            if self._uses_trivialization:
                return self._set_base(Q)
            if self.orthogonal_map != _OrthMaps.householder:
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential "
                    "or the Cayley parametrizations when use_trivialization=False."
                )
            return self._householder_reflectors(Q)

    def _set_base(self, Q: Tensor) -> Tensor:
        """``base`` = Q completed to an n × n orthogonal matrix; returns -I."""
        q = Q.detach().numpy()
        n, k = q.shape[-2:]
        if n < k:
            q, n, k = np.swapaxes(q, -1, -2), k, n
        if n == k:
            base = np.array(q, copy=True) if _is_orthogonal(q) else _make_orthogonal(q)
        else:
            completion = deepnum.randn(*q.shape[:-2], n, n - k, dtype=q.dtype).numpy()
            base = _make_orthogonal(np.concatenate([q, completion], axis=-1))
        self.base = _as_tensor(base)
        negative_identity = np.zeros(Q.shape, dtype=q.dtype)
        diagonal = np.arange(min(Q.shape[-2:]))
        negative_identity[..., diagonal, diagonal] = -1.0
        return _as_tensor(negative_identity)

    @staticmethod
    def _householder_reflectors(Q: Tensor) -> Tensor:
        """The Householder vectors of Q's QR decomposition, with the signs of diag(R) on the
        diagonal (a reflector that is the identity, τ = 0, gets the opposite sign)."""
        q = Q.detach().numpy()
        transposed = q.shape[-2] < q.shape[-1]
        if transposed:
            q = np.swapaxes(q, -1, -2)
        reflectors, tau = _batched_geqrf(q)
        diagonal = np.arange(q.shape[-1])
        signs = np.sign(reflectors[..., diagonal, diagonal])
        signs[tau == 0] *= -1
        reflectors[..., diagonal, diagonal] = signs
        return _as_tensor(np.swapaxes(reflectors, -1, -2) if transposed else reflectors)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` (a matrix or a batch of matrices) to be orthogonal.

    An m × n weight Q satisfies QᵀQ = I_n if m ≥ n and QQᵀ = I_m otherwise. ``orthogonal_map``
    chooses how Q is built from the unconstrained original: ``"matrix_exp"`` (Q = exp(A)) or
    ``"cayley"`` (Q = (I - A/2)⁻¹ (I + A/2)) of a skew-symmetric A, or ``"householder"`` (a
    product of Householder reflections). Default: ``"matrix_exp"`` for square matrices,
    ``"householder"`` otherwise.

    With ``use_trivialization=True`` (default) the weight is ``base @ map(original)`` with the
    buffer ``module.parametrizations.<name>[0].base`` (Lezcano-Casado, "Trivializations for
    gradient-based optimization on manifolds", 2019). At registration the weight keeps its
    value if it is orthogonal and is otherwise replaced by the Q of its QR decomposition
    (a non-square weight is completed with random columns). Assigning ``module.weight = Q``
    works the same way.

    Args:
        module: the module holding the tensor.
        name: name of the tensor to make orthogonal. Default: ``"weight"``.
        orthogonal_map: ``"matrix_exp"``, ``"cayley"``, ``"householder"`` or None.
        use_trivialization: use the dynamic trivialization. Default: ``True``.

    Returns:
        ``module``, with the parametrization registered.

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> m = orthogonal(nn.Linear(4, 6))
        >>> Q = m.weight
        >>> bool(deepnum.allclose(Q.T @ Q, deepnum.eye(4), atol=1e-5))
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    orth_enum = _OrthMaps.__members__.get(orthogonal_map)
    if orth_enum is None:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------------- weight norm
class _WeightNorm(Module):
    """w = g · v / ‖v‖ (Salimans & Kingma, 2016), the norm taken over every dim but ``dim``
    (over all of v for ``dim=None`` or -1). ``original0`` is g, ``original1`` is v."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Write ``module.<name>`` as w = g · v / ‖v‖, learning magnitude g and direction v.

    The norm is taken over every dim but ``dim`` (so one g per output unit for the default
    ``dim=0``), or over the whole tensor for ``dim=None``; as in PyTorch, ``dim=-1`` also means
    the whole tensor. g is ``module.parametrizations.<name>.original0`` and v is ``original1``;
    at registration v = w and g = ‖w‖, so the weight keeps its value
    (Salimans & Kingma, "Weight normalization", 2016).

    Returns:
        ``module``, with the parametrization registered.

    Examples:
        >>> import deepnum.nn as nn
        >>> m = weight_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original0.shape, m.parametrizations.weight.original1.shape
        (deepnum.Size([40, 1]), deepnum.Size([40, 20]))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


# -------------------------------------------------------------------- spectral norm
class _SpectralNorm(Module):
    """W / σ(W), σ the largest singular value of W seen as a matrix (``dim`` first, the
    other dims flattened), estimated by power iteration (Miyato et al., 2018).

    The buffers u and v approximate the leading left and right singular vectors; each access
    in training mode advances them by ``n_power_iterations`` steps u ← Wv / ‖Wv‖,
    v ← Wᵀu / ‖Wᵀu‖ (in place), and σ = uᵀ W v. No gradient flows through u and v. A 1-D
    weight is simply divided by its norm.
    """

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] "
                f"but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but "
                f"got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            for name, size in (("_u", h), ("_v", w)):
                start = deepnum.randn(size, dtype=weight.dtype)
                self.register_buffer(name, F.normalize(start, dim=0, eps=eps))
            self._power_method(weight_mat, 15)  # start from good estimates

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """Advance u and v in place (whoever holds the buffers sees the new values)."""
        w = weight_mat.detach().numpy()
        u, v = self._u.array, self._v.array
        for _ in range(n_power_iterations):
            u[...] = _normalize(w @ v, self.eps)
            v[...] = _normalize(w.T @ u, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # copies: a later in-place update must not change what this graph's backward uses
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * deepnum.mv(weight_mat, v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), eps)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm σ(W) = max ‖W h‖ / ‖h‖ on every access.

    σ is estimated by the power method on the weight reshaped to a matrix with ``dim`` as rows;
    the singular-vector estimates ``module.parametrizations.<name>[0]._u`` and ``._v`` start
    from random vectors refined by 15 iterations and advance by ``n_power_iterations`` on every
    access in training mode (Miyato et al., "Spectral normalization for generative adversarial
    networks", 2018). A 1-D tensor is divided by its norm.

    Args:
        module: the module holding the tensor.
        name: name of the tensor. Default: ``"weight"``.
        n_power_iterations: power iterations per access in training mode. Default: 1.
        eps: lower bound of the norms in the power method. Default: 1e-12.
        dim: the dimension of outputs; default 0, except 1 for ``ConvTranspose1d/2d/3d``.

    Returns:
        ``module``, with the parametrization registered.

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> m = spectral_norm(nn.Linear(20, 40))
        >>> sorted(m.parametrizations.weight[0].state_dict())
        ['_u', '_v']
        >>> bool(abs(deepnum.linalg.matrix_norm(m.weight, 2) - 1) < 0.1)
        True
    """
    from deepnum.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        transposed = isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))
        dim = 1 if transposed else 0
    parametrization = _SpectralNorm(weight, n_power_iterations, dim, eps)
    parametrize.register_parametrization(module, name, parametrization)
    return module
