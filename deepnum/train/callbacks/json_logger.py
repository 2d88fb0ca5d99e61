"""``JSONLogger``: the history as JSON, ``{"epoch": [...], "history": {"loss": [...], ...}}``."""

from __future__ import annotations

import json
from pathlib import Path

from deepnum.train.callbacks.base import Callback
from deepnum.train.callbacks.csv_logger import write_text_atomic
from deepnum.train.callbacks.history import History

__all__ = ["JSONLogger"]


class JSONLogger(Callback):
    """After every epoch, rewrite ``filename`` with the whole history as JSON (atomically)."""

    def __init__(self, filename, indent: int = 1) -> None:
        super().__init__()
        self.filename, self.indent = Path(filename), indent

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        history = self.callbacks.find(History) if self.callbacks else None
        state = history.state_dict() if history is not None else {"epoch": [epoch], "history": logs or {}}
        state = {"epoch": [e + 1 for e in state["epoch"]], "history": state["history"]}
        write_text_atomic(self.filename, json.dumps(state, indent=self.indent) + "\n")
