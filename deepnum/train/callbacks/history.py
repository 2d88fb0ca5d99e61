"""``History``: the per-epoch logs of a run, ``history.history["val_loss"][e]`` (as in Keras)."""

from __future__ import annotations

from deepnum.train.callbacks.base import Callback

__all__ = ["History"]


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it.

    Attributes:
        epoch: the epoch numbers recorded (from 0).
        history: ``{name: [value per epoch]}``, e.g. ``loss``, ``accuracy``, ``val_loss``, ``lr``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(int(epoch))
        for key, value in (logs or {}).items():
            # a metric that appears late is padded so that every list lines up with `epoch`
            self.history.setdefault(key, [float("nan")] * (len(self.epoch) - 1)).append(float(value))

    def rows(self) -> list[dict]:
        """One dict per epoch: ``{"epoch": 1, "loss": ..., ...}`` (epochs counted from 1)."""
        return [{"epoch": e + 1, **{k: v[i] for k, v in self.history.items() if i < len(v)}}
                for i, e in enumerate(self.epoch)]

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
