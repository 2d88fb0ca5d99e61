"""``GradientMonitor``: per-layer gradient norms, dead and saturated units, and a warning when
gradients vanish or explode (004 Def. 6.11-6.12, 003 §2.9)."""

from __future__ import annotations

import warnings

import numpy as np

from deepnum.train.callbacks.base import Callback

__all__ = ["GradientMonitor", "GradientWarning"]

# activation modules watched through forward hooks, and what "not learning" means for each:
# a ReLU unit is dead when it outputs 0 for every example of a batch (its gradient is then 0);
# a sigmoid / tanh value is saturated when its local derivative is below 0.01 (|y| near the bounds)
_DEAD = {"ReLU", "ReLU6"}
_SATURATED = {"Sigmoid": lambda y: y * (1 - y) < 0.01, "Tanh": lambda y: 1 - y * y < 0.01,
              "Hardtanh": lambda y: np.abs(y) >= 1.0}


class GradientWarning(UserWarning):
    """Gradients of a layer vanished or exploded."""


class GradientMonitor(Callback):
    """Record, every ``every`` batches, the L2 norm of each layer's gradient and the fraction of
    dead (ReLU) or saturated (sigmoid, tanh) units; warn once per layer when a norm falls below
    ``vanish_threshold`` or rises above ``explode_threshold`` (or is not finite).

    Layers are the modules owning parameters (``fc1``, ``0``, ``encoder.layers.2``); activations
    are the ``nn.ReLU`` / ``nn.Sigmoid`` / ``nn.Tanh`` modules of the model (functional calls
    such as ``F.relu`` inside a ``forward`` cannot be seen).

    Attributes:
        history: ``{layer: [grad norm per record]}``, ready for ``plots.plot_grad_norms``.
        dead_fraction: ``{activation: [fraction per record]}`` (ReLU: dead units).
        saturated_fraction: ``{activation: [fraction per record]}`` (sigmoid / tanh).

    Examples:
        >>> monitor = GradientMonitor(every=20)
        >>> # fit(..., callbacks=[monitor]); print(monitor.summary())

    References:
        004 Def. 6.11 (vanishing gradients), Def. 6.12 (exploding gradients); 003 §2.9 (dead
        units, flat loss).
    """

    def __init__(self, every: int = 10, vanish_threshold: float = 1e-7, explode_threshold: float = 1e3,
                 warn: bool = True) -> None:
        super().__init__()
        self.every, self.warn = max(int(every), 1), warn
        self.vanish_threshold, self.explode_threshold = vanish_threshold, explode_threshold
        self.history: dict[str, list[float]] = {}
        self.dead_fraction: dict[str, list[float]] = {}
        self.saturated_fraction: dict[str, list[float]] = {}
        self._warned: set = set()
        self._handles: list = []
        self._recording = False

    # ----------------------------------------------------------------- activation statistics
    def _hook(self, name: str, kind: str):
        def hook(module, inputs, output):
            if not self._recording:
                return None
            y = getattr(output, "array", None)
            if y is None:
                return None
            if kind in _DEAD:
                # a unit = one output feature; dead if zero for all examples of the batch
                dead = ~(y.reshape(y.shape[0], -1) > 0).any(axis=0)
                self.dead_fraction.setdefault(name, []).append(float(dead.mean()))
            else:
                self.saturated_fraction.setdefault(name, []).append(float(_SATURATED[kind](y).mean()))
            return None

        return hook

    def on_train_begin(self, logs=None) -> None:
        for name, module in self.model.named_modules():
            kind = type(module).__name__
            if kind in _DEAD or kind in _SATURATED:
                self._handles.append(module.register_forward_hook(self._hook(name or kind, kind)))

    def on_train_end(self, logs=None) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def on_batch_begin(self, batch: int, logs=None) -> None:
        self._recording = batch % self.every == 0

    # ------------------------------------------------------------------------ gradient norms
    def layer_grad_norms(self) -> dict[str, float]:
        """The current L2 norm of the gradient of each layer's parameters (together)."""
        squares: dict[str, float] = {}
        for name, p in self.model.named_parameters():
            if p.grad is None:
                continue
            layer = name.rpartition(".")[0] or name
            g = p.grad.array
            squares[layer] = squares.get(layer, 0.0) + float(np.vdot(g, g).real)
        return {k: float(np.sqrt(v)) for k, v in squares.items()}

    def on_batch_end(self, batch: int, logs=None) -> None:
        if not self._recording:
            return
        self._recording = False
        for layer, norm in self.layer_grad_norms().items():
            self.history.setdefault(layer, []).append(norm)
            if not self.warn:
                continue
            if not np.isfinite(norm) or norm > self.explode_threshold:
                self._warn(layer, "explode", f"gradient norm of layer {layer!r} is {norm:.3g} "
                           f"(> {self.explode_threshold:g}): exploding gradients; lower the learning "
                           "rate or clip gradients (004 Def. 6.12)")
            elif norm < self.vanish_threshold:
                self._warn(layer, "vanish", f"gradient norm of layer {layer!r} is {norm:.3g} "
                           f"(< {self.vanish_threshold:g}): vanishing gradients; check saturating "
                           "activations, initialisation, depth (004 Def. 6.11)")

    def _warn(self, layer: str, kind: str, message: str) -> None:
        if (layer, kind) not in self._warned:
            self._warned.add((layer, kind))
            warnings.warn(message, GradientWarning, stacklevel=3)

    def summary(self) -> str:
        """One line per layer: last and median gradient norm, then dead / saturated fractions."""
        lines = ["layer gradient norms (last, median):"]
        for layer, norms in self.history.items():
            lines.append(f"  {layer:<24} {norms[-1]:.3e}  {np.median(norms):.3e}")
        for title, stats in (("dead units (ReLU)", self.dead_fraction), ("saturated values", self.saturated_fraction)):
            if stats:
                lines.append(f"{title}, last record:")
                lines += [f"  {name:<24} {values[-1]:.1%}" for name, values in stats.items()]
        return "\n".join(lines)
