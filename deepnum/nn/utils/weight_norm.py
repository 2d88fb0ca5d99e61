"""``weight_norm`` and ``spectral_norm`` (PyTorch's ``torch.nn.utils`` hook-based versions).

``weight_norm`` writes a weight as ``w = g · v / ‖v‖`` (norm over every dim but ``dim``) and
learns ``g`` and ``v`` (Salimans & Kingma, 2016). ``spectral_norm`` divides the weight by its
largest singular value σ, estimated by power iteration on buffers ``u``, ``v`` that advance in
training mode (Miyato et al., 2018): ``σ = uᵀ W v``. Both recompute the weight before every
forward, from parameters named ``<name>_g``/``<name>_v`` or ``<name>_orig``, with PyTorch's
``state_dict`` keys.
"""

from __future__ import annotations

import numpy as np

import deepnum
from deepnum.nn.parameter import Parameter
from deepnum.tensor import Tensor

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def norm_except_dim(v: Tensor, dim) -> Tensor:
    """‖v‖₂ over every dim but ``dim`` (kept with size 1); over all of v when ``dim`` is None
    or -1 (PyTorch's convention: -1 does not mean the last dim here)."""
    if dim is None or dim == -1:
        return deepnum.norm(v)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [-{v.ndim}, {v.ndim - 1}], "
            f"but got {dim})"
        )
    dim %= v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return deepnum.norm(v, 2, others, keepdim=True) if others else v.abs()


class _WeightNorm:
    def __init__(self, name: str, dim) -> None:
        self.name, self.dim = name, dim

    def compute(self, module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))

    def __call__(self, module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute(module))


def weight_norm(module, name: str = "weight", dim=0):
    """Reparameterise ``module.<name>`` as ``g · v / ‖v‖``; returns the module.

    Examples:
        >>> import deepnum.nn as nn
        >>> m = weight_norm(nn.Linear(20, 40))
        >>> m.weight_g.shape, m.weight_v.shape
        (deepnum.Size([40, 1]), deepnum.Size([40, 20]))
    """
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNorm) and hook.name == name:
            raise RuntimeError(
                f"weight_norm: cannot register two weight_norm hooks on the same parameter {name}"
            )
    weight = getattr(module, name)
    fn = _WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(
        name + "_g", Parameter(norm_except_dim(weight, dim).detach().numpy().copy())
    )
    module.register_parameter(name + "_v", Parameter(weight.detach().numpy().copy()))
    object.__setattr__(module, name, fn.compute(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Fold ``g`` and ``v`` back into one parameter ``<name>``."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNorm) and hook.name == name:
            weight = hook.compute(module).detach()
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_g"], module._parameters[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight.numpy().copy()))
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


def _normalize(a: np.ndarray, eps: float) -> np.ndarray:
    return a / max(float(np.linalg.norm(a)), eps)


class _SpectralNorm:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                f"spectral_norm: expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute(self, module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        w = self.matrix(weight)
        if do_power_iteration:
            wa = w.detach().numpy()
            ua, va = u.array, v.array  # updated in place, as PyTorch's buffers
            for _ in range(self.n_power_iterations):
                va[...] = _normalize(wa.T @ ua, self.eps)
                ua[...] = _normalize(wa @ va, self.eps)
        u_t = Tensor._make(u.array.copy(), False, None, 0)
        v_t = Tensor._make(v.array.copy(), False, None, 0)
        sigma = (u_t * deepnum.mv(w, v_t)).sum()
        return weight / sigma

    def __call__(self, module, inputs) -> None:
        object.__setattr__(
            module, self.name, self.compute(module, do_power_iteration=module.training)
        )


def spectral_norm(
    module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim=None
):
    """Divide ``module.<name>`` by its spectral norm before every forward; returns the module.

    ``dim`` is the output dimension (0, or 1 for transposed convolutions by default).
    """
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            raise RuntimeError(
                f"spectral_norm: cannot register two spectral_norm hooks on the same parameter {name}"
            )
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    weight = getattr(module, name)
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    mat = fn.matrix(weight).detach().numpy()
    h, w = mat.shape
    u = _normalize(deepnum.randn(h, dtype=weight.dtype).numpy(), eps)
    v = _normalize(deepnum.randn(w, dtype=weight.dtype).numpy(), eps)
    del module._parameters[name]
    module.register_parameter(
        name + "_orig", weight if isinstance(weight, Parameter) else Parameter(weight.numpy())
    )
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", Tensor._make(u.astype(weight.dtype), False, None, 0))
    module.register_buffer(name + "_v", Tensor._make(v.astype(weight.dtype), False, None, 0))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Replace the normalised weight by a plain parameter holding its current value."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            weight = hook.compute(module, do_power_iteration=False).detach()
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_orig"]
            del module._buffers[name + "_u"], module._buffers[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight.numpy().copy()))
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
