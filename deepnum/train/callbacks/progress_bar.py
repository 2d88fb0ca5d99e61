"""``ProgressBar``: a tqdm bar per epoch on a terminal, one summary line per epoch otherwise."""

from __future__ import annotations

import importlib.util
import sys

from deepnum.train.callbacks.base import Callback

__all__ = ["ProgressBar", "format_logs"]


def format_logs(logs: dict) -> str:
    """``"loss 0.3121 - accuracy 0.9102 - val_loss 0.2911 ..."`` (learning rate in %.3g)."""
    parts = []
    for key, value in logs.items():
        parts.append(f"{key} {value:.3g}" if key == "lr" else f"{key} {value:.4f}")
    return " - ".join(parts)


class ProgressBar(Callback):
    """Show training progress.

    On a terminal with tqdm installed (``pip install deepnum[progress]``): a bar per epoch with
    the running loss. Otherwise (no tqdm, or output redirected to a file or pipe) it stays quiet
    during the epoch and prints one line per epoch, so logs are not flooded with bar redraws.

    Args:
        stream: where to write (default ``sys.stdout``).
        bar: ``None`` (auto: a bar when ``stream`` is a terminal and tqdm is installed),
            True or False.
    """

    def __init__(self, stream=None, bar: bool | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.bar = bar
        self._pbar = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _use_bar(self) -> bool:
        if self.bar is not None:
            return self.bar and importlib.util.find_spec("tqdm") is not None
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty()) and importlib.util.find_spec("tqdm") is not None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch
        if self._use_bar():
            from tqdm.auto import tqdm

            self._pbar = tqdm(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                              file=self._out(), leave=True, dynamic_ncols=True, unit="batch")

    def on_batch_end(self, batch: int, logs=None) -> None:
        if self._pbar is not None:
            self._pbar.update(1)
            if logs and "loss" in logs and batch % 10 == 0:
                self._pbar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        summary = format_logs(logs or {})
        if self._pbar is not None:
            self._pbar.set_postfix_str(summary, refresh=True)
            self._pbar.close()
            self._pbar = None
        else:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')}: {summary}", file=self._out(), flush=True)

    def on_train_end(self, logs=None) -> None:
        if self._pbar is not None:  # interrupted mid-epoch
            self._pbar.close()
            self._pbar = None
