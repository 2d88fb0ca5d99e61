"""``ModelCheckpoint``: save the full training state after each epoch (or only the best)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepnum.train.callbacks.base import Callback
from deepnum.train.checkpoint import save_checkpoint

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Write a resumable checkpoint (model, optimiser, scheduler, RNG state, epoch, callback
    states) at the end of every epoch, atomically: the previous file stays valid until the new
    one is complete, so Ctrl-C at any moment leaves the last good checkpoint.

    Args:
        filepath: where to write; may contain ``{epoch}`` (counted from 1) to keep one per epoch.
        monitor: the log compared when ``save_best_only`` (default ``"val_loss"``).
        save_best_only: write only when ``monitor`` improved (default False: every epoch).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for names containing "acc").
        verbose: print a line per write.

    Resume with ``fit(..., resume_from=filepath)`` (or ``deepnum train --resume``).

    Examples:
        >>> checkpoint = ModelCheckpoint("runs/mnist/checkpoint.dnm")
    """

    run_last = True  # record the state after every other callback has updated it

    def __init__(self, filepath, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, save_best_only
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.verbose = verbose
        self.best = np.inf if self.mode == "min" else -np.inf
        self.last_path: Path | None = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.save_best_only:
            if self.monitor not in logs:
                raise KeyError(f"ModelCheckpoint: monitored quantity {self.monitor!r} is not in the logs "
                               f"(available: {', '.join(sorted(logs))})")
            value = float(logs[self.monitor])
            if not (value < self.best if self.mode == "min" else value > self.best):
                return
            self.best = value
        path = Path(self.filepath.format(epoch=epoch + 1))
        self.last_path = save_checkpoint(path, self.model, self.optimizer, epoch, self.callbacks,
                                         self.params.get("train_loader"))
        if self.verbose:
            print(f"Saved checkpoint {path} (epoch {epoch + 1})")

    def state_dict(self) -> dict:
        return {"best": float(self.best)}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
