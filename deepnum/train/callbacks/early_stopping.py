"""``EarlyStopping``: stop when the monitored quantity stops improving (004 Def. 6.17, 000 §6.3)."""

from __future__ import annotations

import numpy as np

from deepnum.train.callbacks.base import Callback

__all__ = ["EarlyStopping"]


def _copy_state(model) -> dict:
    return {k: np.array(v.array, copy=True) for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop training once ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs, optionally restoring the weights of the best epoch.

    Early stopping "returns to the parameter setting that produces the lowest validation error;
    training terminates when the best recorded validation error does not improve for a
    predefined number of epochs, the patience" (004 Def. 6.17).

    Args:
        monitor: the log to watch (default ``"val_loss"``).
        min_delta: the smallest change that counts as an improvement (default 0).
        patience: epochs without improvement before stopping (default 0).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for names containing "acc", else min).
        restore_best_weights: load the best epoch's weights when training ends (default False).
        verbose: print a line when stopping.

    Examples:
        >>> stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)

    References:
        004 Def. 6.17; 000 §6.3 (early stopping); L. Prechelt, "Early Stopping — But When?", 1998.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False, verbose: int = 0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.mode, self.restore_best_weights, self.verbose = mode, restore_best_weights, verbose
        self.reset()

    def reset(self) -> None:
        self.wait = 0
        self.best = np.inf if self.mode == "min" else -np.inf
        self.best_epoch = -1
        self.stopped_epoch = -1
        self.best_weights = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: monitored quantity {self.monitor!r} is not in the logs "
                           f"(available: {', '.join(sorted(logs))}); pass validation data or change monitor")
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(self.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"Early stopping at epoch {epoch + 1}: best {self.monitor} {self.best:.4g} at epoch {self.best_epoch + 1}")

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of epoch {self.best_epoch + 1} ({self.monitor} {self.best:.4g})")

    def state_dict(self) -> dict:
        state = {"wait": self.wait, "best": float(self.best), "best_epoch": self.best_epoch,
                 "stopped_epoch": self.stopped_epoch}
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch, self.stopped_epoch = int(state["best_epoch"]), int(state["stopped_epoch"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else {
            k: np.array(getattr(v, "array", v), copy=True) for k, v in weights.items()}
