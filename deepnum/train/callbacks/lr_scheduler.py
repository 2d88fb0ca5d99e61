"""``LearningRateScheduler``: step a ``deepnum.optim.lr_scheduler`` scheduler (or a Keras-style
``schedule(epoch, lr)`` function) from inside ``fit``."""

from __future__ import annotations

from deepnum.train.callbacks.base import Callback

__all__ = ["LearningRateScheduler"]


class LearningRateScheduler(Callback):
    """Adjust the learning rate during training.

    Args:
        schedule: either a scheduler object with ``step()`` (``StepLR``, ``CosineAnnealingLR``,
            ``ReduceLROnPlateau``, ...; its state is saved in checkpoints), or a function
            ``schedule(epoch, lr) -> new_lr`` called before each epoch, e.g. the decay
            ``α = α0 / (1 + d·n_e)`` of 000 §7.3.
        interval: ``"epoch"`` (default) or ``"batch"`` (e.g. ``OneCycleLR``).
        monitor: the log passed to ``ReduceLROnPlateau.step`` (default ``"val_loss"``).

    Examples:
        >>> decay = LearningRateScheduler(lambda epoch, lr: 0.1 / (1 + 0.5 * epoch))

    References:
        000 §7.3 (learning-rate decay); 003 §2.2.
    """

    def __init__(self, schedule, interval: str = "epoch", monitor: str = "val_loss") -> None:
        super().__init__()
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LearningRateScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        self.schedule, self.interval, self.monitor = schedule, interval, monitor
        self.is_scheduler = hasattr(schedule, "step")

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if not self.is_scheduler:
            self._set_lr(self.schedule(epoch, self.optimizer.param_groups[0]["lr"]))

    def on_batch_end(self, batch: int, logs=None) -> None:
        if self.is_scheduler and self.interval == "batch":
            self.schedule.step()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if not self.is_scheduler or self.interval != "epoch":
            return
        if type(self.schedule).__name__ == "ReduceLROnPlateau":
            if self.monitor not in (logs or {}):
                raise KeyError(f"LearningRateScheduler: ReduceLROnPlateau needs {self.monitor!r} in the logs "
                               f"(available: {', '.join(sorted(logs or {}))})")
            self.schedule.step(logs[self.monitor])
        else:
            self.schedule.step()

    def state_dict(self) -> dict:
        return {"scheduler": self.schedule.state_dict()} if self.is_scheduler else {}

    def load_state_dict(self, state: dict) -> None:
        if self.is_scheduler and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])
