"""MultivariateNormal and Independent (events made of several dimensions)."""

from __future__ import annotations

import math

import numpy as np

from deepnum import ops
from deepnum.ops import linalg_functions as linalg
from deepnum.autograd.function import Function
from deepnum.distributions.distribution import Distribution, as_float_tensor
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["MultivariateNormal", "Independent"]


def _first_order_only(ctx) -> None:
    if ctx.graph_mode:
        raise RuntimeError(f"{ctx.name}: second derivatives (create_graph=True) are not supported by this op")


def _solve_lower(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """L⁻¹ B for lower-triangular L, batched over leading dims."""
    return np.linalg.solve(L, B)


class TriangularSolve(Function):
    """X = L⁻¹ B for lower-triangular L, with dB = L⁻ᵀ dX and dL = −tril(dB Xᵀ)."""

    @staticmethod
    def forward(ctx, L, B):
        X = _solve_lower(L, B)
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        _first_order_only(ctx)
        L, X = ctx.saved_tensors
        grad_b = np.linalg.solve(np.swapaxes(L, -1, -2), grad)
        grad_l = -np.tril(grad_b @ np.swapaxes(X, -1, -2))
        need_l, need_b = ctx.needs_input_grad
        return (grad_l if need_l else None), (grad_b if need_b else None)


class MultivariateNormal(Distribution):
    """N(μ, Σ) with Σ = L Lᵀ given as ``covariance_matrix``, ``precision_matrix`` or ``scale_tril``.

    log p(x) = −½ ‖L⁻¹(x − μ)‖² − Σ_i log L_ii − (k/2) log 2π.
    """

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None) -> None:
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        self.loc = as_float_tensor(loc)
        if self.loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional.")
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = as_float_tensor(scale_tril, self.loc)
        else:
            matrix = as_float_tensor(covariance_matrix if covariance_matrix is not None else precision_matrix, self.loc)
            name = "covariance_matrix" if covariance_matrix is not None else "precision_matrix"
            eig = np.linalg.eigvalsh(matrix.array.astype(np.float64))
            self._check(name, matrix, eig > 0, "PositiveDefinite()",
                        f"The {name} must be symmetric positive definite.")
            if covariance_matrix is None:
                matrix = linalg.inv(matrix)
            self._unbroadcasted_scale_tril = linalg.cholesky(matrix)
        L = self._unbroadcasted_scale_tril
        if L.ndim < 2 or L.shape[-1] != L.shape[-2] or L.shape[-1] != self.loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: scale must be a (..., {self.loc.shape[-1]}, {self.loc.shape[-1]}) matrix, got {tuple(L.shape)}")
        self._check("scale_tril", L, np.diagonal(L.array, axis1=-2, axis2=-1) > 0, "LowerCholesky()",
                    "scale_tril must be lower triangular with a positive diagonal.")
        batch = np.broadcast_shapes(L.shape[:-2], self.loc.shape[:-1])
        super().__init__(batch, self.loc.shape[-1:], validate_args)

    @property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril

    @property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return ops.matmul(L, L.transpose(-1, -2))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril ** 2).sum(-1)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = Tensor._make(_rng(None).standard_normal(shape).astype(self.loc.dtype), False, None, 0)
        return self.loc + ops.matmul(self._unbroadcasted_scale_tril, eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        diag = (L * Tensor._make(np.eye(L.shape[-1], dtype=L.dtype), False, None, 0)).sum(-1)
        return ops.log(diag).sum(-1)

    def log_prob(self, value) -> Tensor:
        value = as_float_tensor(value, self.loc)
        diff = value - self.loc
        L = self._unbroadcasted_scale_tril
        shape = np.broadcast_shapes(diff.shape[:-1], L.shape[:-2])
        Lb = L.expand(*(shape + tuple(L.shape[-2:])))
        db = diff.expand(*(shape + tuple(diff.shape[-1:])))
        z = TriangularSolve.apply(Lb, db.unsqueeze(-1)).squeeze(-1)
        k = self.loc.shape[-1]
        return -0.5 * (z * z).sum(-1) - self._half_log_det() - 0.5 * k * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        k = self.loc.shape[-1]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*tuple(self.batch_shape)) if tuple(h.shape) != tuple(self.batch_shape) else h


class Independent(Distribution):
    """Treat the last ``reinterpreted_batch_ndims`` batch dims of ``base_distribution`` as event dims.

    log_prob and entropy are summed over those dims (e.g. a diagonal Gaussian from Normal).
    """

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int, validate_args=None) -> None:
        batch = tuple(base_distribution.batch_shape)
        if reinterpreted_batch_ndims > len(batch):
            raise ValueError(
                f"Independent: expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                f"actual {reinterpreted_batch_ndims} vs {len(batch)}"
            )
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        cut = len(batch) - reinterpreted_batch_ndims
        super().__init__(batch[:cut], batch[cut:] + tuple(base_distribution.event_shape), validate_args)
        self.has_rsample = base_distribution.has_rsample

    def _sum_rightmost(self, x: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return x.sum(tuple(range(-n, 0))) if n else x

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    @property
    def stddev(self) -> Tensor:
        return self.base_dist.stddev

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_rightmost(self.base_dist.entropy())

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
