"""``deepnum.utils.tensorboard``: PyTorch's ``torch.utils.tensorboard``, without TensorFlow,
TensorBoard or protobuf.

:class:`SummaryWriter` writes TensorBoard *event files*, which TensorBoard reads as they grow:

* an event file (``events.out.tfevents.{time}.{hostname}.{pid}.{n}``) is a sequence of
  TFRecords, ``uint64 length | uint32 masked CRC-32C of the length | data | uint32 masked
  CRC-32C of the data``, all little-endian (:mod:`._crc32c`, :mod:`._event_file`);
* each record's data is a protocol-buffer ``Event`` (wall time, step, and a ``Summary`` of
  tagged values), encoded by a small wire-format encoder (:mod:`._proto`, :mod:`._summary`);
* the first event of a file holds ``file_version = "brain.Event:2"``;
* scalars are ``simple_value`` floats, histograms ``HistogramProto`` buckets, images PNG files
  (:mod:`._png`), text a string tensor for TensorBoard's text plugin.

Examples:
    >>> import tempfile
    >>> from deepnum.utils.tensorboard import SummaryWriter
    >>> with tempfile.TemporaryDirectory() as logs, SummaryWriter(logs) as writer:
    ...     writer.add_scalar("loss", 0.25, global_step=10)
"""

from deepnum.utils.tensorboard.writer import SummaryWriter

__all__ = ["SummaryWriter"]
