"""``SummaryWriter``: PyTorch's ``torch.utils.tensorboard.SummaryWriter`` for deepnum."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

from deepnum.utils.tensorboard._event_file import EventFileWriter
from deepnum.utils.tensorboard._hparams import hparams_summaries
from deepnum.utils.tensorboard._summary import (
    FILE_VERSION,
    SESSION_START,
    event,
    histogram_proto,
    histogram_summary,
    image_summary,
    scalar_summary,
    summary,
    summary_value,
    tensorflow_bucket_limits,
    text_summary,
    to_numpy,
)

__all__ = ["SummaryWriter"]

_TENSORFLOW_BUCKET_LIMITS = tensorflow_bucket_limits()


def default_log_dir(comment: str = "") -> str:
    """``runs/{Mon}{day}_{HH}-{MM}-{SS}_{hostname}{comment}``, PyTorch's default run folder."""
    current_time = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", current_time + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Writes scalars, histograms, images and text to TensorBoard event files in ``log_dir``.

    Same arguments and methods as ``torch.utils.tensorboard.SummaryWriter``; values can be
    deepnum tensors, NumPy arrays or Python numbers. Events are appended to
    ``log_dir/events.out.tfevents.*`` and written to disk every ``flush_secs`` seconds, when
    ``max_queue`` are waiting, on :meth:`flush` and on :meth:`close`. View them with
    ``tensorboard --logdir runs``.

    Args:
        log_dir: the folder of the event file. Default: ``runs/{datetime}_{hostname}{comment}``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: when resuming a crashed run in the same ``log_dir`` at step ``T``, TensorBoard
            hides the events of earlier files whose step is ``>= T``.
        max_queue: how many events wait in memory before they are written.
        flush_secs: how often, in seconds, waiting events are written.
        filename_suffix: appended to the event file's name.

    Examples:
        >>> import tempfile
        >>> import numpy as np
        >>> import deepnum
        >>> from deepnum.utils.tensorboard import SummaryWriter
        >>> with tempfile.TemporaryDirectory() as logs, SummaryWriter(logs) as writer:
        ...     for step in range(3):
        ...         writer.add_scalar("loss", 1.0 / (step + 1), step)
        ...     writer.add_histogram("weights", deepnum.randn(100), global_step=2)
        ...     writer.add_image("noise", np.random.rand(3, 8, 8), global_step=2)
        ...     writer.add_text("note", "first run", global_step=0)
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            log_dir = default_log_dir(comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.default_bins = list(_TENSORFLOW_BUCKET_LIMITS)
        # Both are set by _get_file_writer and cleared by close; a later add_* opens a new file.
        self.file_writer: EventFileWriter | None = None
        self.all_writers: dict[str, EventFileWriter] | None = None
        self._get_file_writer()

    def _get_file_writer(self) -> EventFileWriter:
        """The writer of ``log_dir``'s event file, opening a new file after :meth:`close`."""
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = self._new_file_writer(self.log_dir)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self._mark_restart(self.file_writer, self.purge_step)
                self.purge_step = None
        return self.file_writer

    def _new_file_writer(self, log_dir) -> EventFileWriter:
        return EventFileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    @staticmethod
    def _mark_restart(file_writer: EventFileWriter, step: int) -> None:
        """The events by which TensorBoard drops earlier events at or after ``step``."""
        file_writer.add_event(event(time.time(), step, file_version=FILE_VERSION))
        file_writer.add_event(event(time.time(), step, session_status=SESSION_START))

    @staticmethod
    def _add_summary(file_writer: EventFileWriter, encoded_summary: bytes, global_step=None,
                     walltime=None) -> None:
        wall_time = time.time() if walltime is None else walltime
        step = 0 if global_step is None else int(global_step)
        file_writer.add_event(event(wall_time, step, summary=encoded_summary))

    def get_logdir(self):
        """The directory where event files are written.

        Examples:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as logs, SummaryWriter(logs) as writer:
            ...     writer.get_logdir() == logs
            True
        """
        return self.log_dir

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name: str | None = None, global_step=None) -> None:
        """Record a trial's hyperparameters and metrics for TensorBoard's HPARAMS tab, in a run
        folder ``log_dir/{run_name}`` (default: the current time).

        Args:
            hparam_dict: hyperparameter name -> ``int``, ``float``, ``bool``, ``str`` or
                ``None`` (left out); numbers and bools are shown as numbers.
            metric_dict: metric tag -> value, written as scalars in the trial's folder (use
                tags that ``add_scalar`` does not use elsewhere).
            hparam_domain_discrete: hyperparameter name -> every value it can take.
            run_name: the trial's sub-folder.
            global_step: the step of the metrics.

        Examples:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as logs, SummaryWriter(logs) as writer:
            ...     writer.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/accuracy": 0.9},
            ...                        run_name="trial-1")
            ...     sorted(name for name in os.listdir(logs) if not name.startswith("events"))
            ['trial-1']
        """
        experiment, session_start, session_end = hparams_summaries(
            hparam_dict, metric_dict, hparam_domain_discrete
        )
        if not run_name:
            run_name = str(time.time())
        trial_dir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=trial_dir) as trial_writer:
            trial_file_writer = trial_writer._get_file_writer()
            for encoded in (experiment, session_start, session_end):
                self._add_summary(trial_file_writer, encoded, global_step)
            for tag, value in metric_dict.items():
                trial_writer.add_scalar(tag, value, global_step)

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Record one number.

        Args:
            tag: the series name, e.g. ``"loss/train"`` (``/`` groups series in TensorBoard).
            scalar_value: a number, or a tensor or array holding a single value.
            global_step: the step to plot it at (default 0).
            walltime: seconds since the epoch to record instead of ``time.time()``.
            new_style: store it as a scalar tensor for the scalars plugin instead of the
                ``simple_value`` field.
            double_precision: with ``new_style``, keep 64 bits instead of 32.
        """
        encoded = scalar_summary(tag, scalar_value, new_style, double_precision)
        self._add_summary(self._get_file_writer(), encoded, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Record several numbers in one chart, as PyTorch does: each ``tag`` goes to its own run
        folder ``log_dir/{main_tag}_{tag}`` (``/`` in ``main_tag`` replaced by ``_``), under the
        tag ``main_tag``.

        Examples:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as logs, SummaryWriter(logs) as writer:
            ...     writer.add_scalars("loss", {"train": 0.5, "dev": 0.7}, global_step=1)
            ...     [name for name in sorted(os.listdir(logs)) if name.startswith("loss")]
            ['loss_dev', 'loss_train']
        """
        walltime = time.time() if walltime is None else walltime
        base_dir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            run_dir = base_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            file_writer = self.all_writers.get(run_dir)
            if file_writer is None:
                file_writer = self.all_writers[run_dir] = self._new_file_writer(run_dir)
            self._add_summary(file_writer, scalar_summary(main_tag, scalar_value), global_step,
                              walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins: int | None = None) -> None:
        """Record the distribution of ``values`` (any shape).

        Args:
            bins: ``'tensorflow'`` (TensorFlow's exponential buckets, the default), a NumPy rule
                (``'auto'``, ``'fd'``, ``'sqrt'``, ...), a number of bins, or the bin edges.
            max_bins: merge neighbouring bins when there are more than this.
        """
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        encoded = histogram_summary(tag, values, bins, max_bins=max_bins)
        self._add_summary(self._get_file_writer(), encoded, global_step, walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None) -> None:
        """Record a histogram already counted: ``bucket_counts[i]`` values up to
        ``bucket_limits[i]``, with the values' min, max, number, sum and sum of squares."""
        limits = to_numpy(bucket_limits).reshape(-1)
        counts = to_numpy(bucket_counts).reshape(-1)
        if len(limits) != len(counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        histogram = histogram_proto(min, max, num, sum, sum_squares, limits, counts)
        encoded = summary(summary_value(tag, histo=histogram))
        self._add_summary(self._get_file_writer(), encoded, global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        """Record an image.

        ``img_tensor`` is laid out as ``dataformats`` says (``CHW``, ``HWC``, ``HW``, ...) with 1
        (gray, shown as RGB), 3 (RGB) or 4 (RGBA) channels. ``uint8`` values are taken as they
        are; other dtypes are read as [0, 1] and scaled by 255 (clipped, truncated).
        """
        encoded = image_summary(tag, img_tensor, dataformats)
        self._add_summary(self._get_file_writer(), encoded, global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """Record a batch of images (``NCHW``, ``NHWC``, ...; 1 or 3 channels) as one image:
        a grid of at most 8 columns, filled row by row, black where the last row is short."""
        encoded = image_summary(tag, img_tensor, dataformats)
        self._add_summary(self._get_file_writer(), encoded, global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Record a piece of text (shown as Markdown) under ``tag + '/text_summary'``.

        Examples:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as logs, SummaryWriter(logs) as writer:
            ...     writer.add_text("config", "lr: **0.1**", global_step=0)
        """
        encoded = text_summary(tag, text_string)
        self._add_summary(self._get_file_writer(), encoded, global_step, walltime)

    def flush(self) -> None:
        """Write every waiting event to disk."""
        if self.all_writers is None:
            return
        for file_writer in self.all_writers.values():
            file_writer.flush()

    def close(self) -> None:
        """Write every waiting event and close the files; a later ``add_*`` opens a new file."""
        if self.all_writers is None:
            return
        for file_writer in self.all_writers.values():
            file_writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.close()
