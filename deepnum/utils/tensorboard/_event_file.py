"""One TensorBoard event file: TFRecord framing, naming, buffering and flushing.

Each encoded ``Event`` is framed as a TFRecord::

    uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)

(little-endian). Records are kept in memory and appended to the file, whole and in order, when
``max_queue`` of them are waiting, every ``flush_secs`` seconds (a background thread), on
:meth:`EventFileWriter.flush` and :meth:`EventFileWriter.close`, and when the interpreter exits.
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import struct
import threading
import time
import weakref

from deepnum.utils.tensorboard._crc32c import masked_crc32c
from deepnum.utils.tensorboard._summary import FILE_VERSION, event

__all__ = ["EventFileWriter", "frame_record", "event_file_name"]

SOURCE_WRITER = "deepnum.utils.tensorboard"

_file_numbers = itertools.count()
_file_numbers_lock = threading.Lock()
_open_writers: weakref.WeakSet = weakref.WeakSet()


def frame_record(data: bytes) -> bytes:
    """``data`` framed as one TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    length = struct.pack("<Q", len(data))
    return b"".join([
        length,
        struct.pack("<I", masked_crc32c(length)),
        data,
        struct.pack("<I", masked_crc32c(data)),
    ])


def event_file_name(filename_suffix: str = "") -> str:
    """``events.out.tfevents.{time}.{hostname}.{pid}.{n}{suffix}``; ``n`` counts the files this
    process has opened, so that two files opened in the same second get different names."""
    with _file_numbers_lock:
        number = next(_file_numbers)
    seconds = int(time.time())
    return f"events.out.tfevents.{seconds:010d}.{socket.gethostname()}.{os.getpid()}.{number}" + (
        filename_suffix
    )


class _PeriodicFlush(threading.Thread):
    """Calls ``flush`` every ``interval`` seconds until stopped; keeps the first ``OSError``."""

    def __init__(self, flush, interval: float) -> None:
        super().__init__(name="tensorboard-event-file-flush", daemon=True)
        self._flush = flush
        self._interval = interval
        self._stopped = threading.Event()
        self.error: OSError | None = None

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._flush()
            except OSError as error:
                self.error = error
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join()


class EventFileWriter:
    """Appends encoded ``Event`` messages, as TFRecords, to a new event file in ``log_dir``.

    The file starts with the event ``file_version="brain.Event:2"``, written at once. With
    ``flush_secs <= 0`` every record is written as soon as it is added.
    """

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self._log_dir = os.fspath(log_dir)
        os.makedirs(self._log_dir, exist_ok=True)
        self._path = os.path.join(self._log_dir, event_file_name(filename_suffix))
        self._max_queue = max(int(max_queue), 1)
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self._closed = False
        self._flush_every_event = flush_secs <= 0
        self._periodic_flush = None
        self._file = open(self._path, "ab")  # appending: never truncates an existing file
        self.add_event(event(time.time(), file_version=FILE_VERSION, source_writer=SOURCE_WRITER))
        self.flush()
        if not self._flush_every_event:
            self._periodic_flush = _PeriodicFlush(self.flush, flush_secs)
            self._periodic_flush.start()
        _open_writers.add(self)

    @property
    def path(self) -> str:
        """The event file's path."""
        return self._path

    def get_logdir(self) -> str:
        """The directory of the event file."""
        return self._log_dir

    def add_event(self, encoded_event: bytes) -> None:
        """Queue one encoded ``Event``; write the queue out when it holds ``max_queue`` events."""
        record = frame_record(encoded_event)
        with self._lock:
            self._raise_if_unusable()
            self._pending.append(record)
            if self._flush_every_event or len(self._pending) >= self._max_queue:
                self._write_pending()

    def flush(self) -> None:
        """Write every queued event to the file and flush the file (nothing once closed)."""
        with self._lock:
            if self._closed:
                return
            self._raise_if_unusable()
            self._write_pending()

    def close(self) -> None:
        """Flush and close the file; a second call does nothing."""
        if self._periodic_flush is not None:
            self._periodic_flush.stop()
        with self._lock:
            if self._closed:
                return
            try:
                self._write_pending()
            finally:
                self._closed = True
                self._file.close()
                _open_writers.discard(self)

    def _write_pending(self) -> None:
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()
        self._file.flush()

    def _raise_if_unusable(self) -> None:
        if self._closed:
            raise ValueError(f"the event file {self._path} is closed")
        if self._periodic_flush is not None and self._periodic_flush.error is not None:
            raise self._periodic_flush.error


@atexit.register
def _flush_open_writers() -> None:
    """Events still queued at exit are written, as if every writer had been flushed."""
    for writer in list(_open_writers):
        try:
            writer.flush()
        except (OSError, ValueError):
            pass
