"""``CSVLogger``: the history as a CSV table, one row per epoch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from deepnum.train.atomic import replaced_atomically
from deepnum.train.callbacks.base import Callback
from deepnum.train.callbacks.history import History

__all__ = ["CSVLogger", "write_text_atomic"]


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half written)."""
    path = Path(path)
    with replaced_atomically(path) as tmp, open(tmp, "w", newline="") as f:
        f.write(text)
    return path


class CSVLogger(Callback):
    """After every epoch, rewrite ``filename`` with the whole history: a header
    ``epoch,loss,accuracy,val_loss,...`` and one row per epoch (epochs counted from 1).

    Rewriting the whole table (it is small) keeps the file consistent after a resume.
    """

    def __init__(self, filename, separator: str = ",") -> None:
        super().__init__()
        self.filename, self.separator = Path(filename), separator

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        history = self.callbacks.find(History) if self.callbacks else None
        rows = history.rows() if history is not None else [{"epoch": epoch + 1, **(logs or {})}]
        keys = list(dict.fromkeys(k for row in rows for k in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=keys, delimiter=self.separator, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.filename, buffer.getvalue())
