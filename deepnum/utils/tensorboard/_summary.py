"""TensorBoard's ``Event`` and ``Summary`` messages, encoded with :mod:`._proto`.

The field numbers are those of TensorBoard's ``event.proto``, ``summary.proto``, ``tensor.proto``
and ``tensor_shape.proto``::

    Event           wall_time=1 (double), step=2 (int64), oneof {file_version=3 (string),
                    summary=5, session_log=7}, source_metadata=10
    SessionLog      status=1 (enum: START=1)
    SourceMetadata  writer=1 (string)
    Summary         value=1 (repeated Summary.Value)
    Summary.Value   tag=1, oneof {simple_value=2 (float), image=4, histo=5, tensor=8},
                    metadata=9 (SummaryMetadata)
    Summary.Image   height=1, width=2, colorspace=3 (int32), encoded_image_string=4 (bytes)
    HistogramProto  min=1, max=2, num=3, sum=4, sum_squares=5 (double),
                    bucket_limit=6, bucket=7 (packed repeated double)
    SummaryMetadata plugin_data=1 (PluginData: plugin_name=1, content=2 (bytes))
    TensorProto     dtype=1 (enum), tensor_shape=2, float_val=5, double_val=6 (packed),
                    string_val=8 (repeated bytes)
    TensorShapeProto dim=2 (repeated Dim: size=1 (int64))

The summaries are built from values the way ``torch.utils.tensorboard.summary`` builds them.
"""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor
from deepnum.utils.tensorboard._image import to_hwc, to_uint8
from deepnum.utils.tensorboard._png import encode_png
from deepnum.utils.tensorboard._proto import (
    bytes_field,
    double_field,
    float_field,
    implicit,
    int_field,
    message_field,
    optional,
    packed_doubles,
    packed_floats,
    string_field,
)

FILE_VERSION = "brain.Event:2"
SESSION_START = 1  # SessionLog.SessionStatus.START
DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7  # TensorFlow's DataType enum


# ---------------------------------------------------------------- values in, arrays out


def to_numpy(value) -> np.ndarray:
    """A NumPy array of a deepnum tensor, a NumPy array, a Python number or a (nested) list."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if isinstance(value, np.ndarray):
        return value
    return np.asarray(value)


def tensorflow_bucket_limits() -> tuple[float, ...]:
    """TensorFlow's default histogram bucket edges: 0 and +-1e-12 * 1.1**k up to 1e20.

    The edges grow by repeated multiplication (not ``1.1**k``), so that they equal PyTorch's to
    the last bit.
    """
    positive = []
    edge = 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    return tuple([-edge for edge in reversed(positive)] + [0.0] + positive)


# ---------------------------------------------------------------- messages


def event(wall_time: float, step: int = 0, *, file_version: str | None = None,
          summary: bytes | None = None, session_status: int | None = None,
          source_writer: str | None = None) -> bytes:
    """An encoded ``Event``: one of ``file_version``, ``summary`` or a session log status."""
    session_log = None if session_status is None else implicit(int_field, 1, session_status)
    source_metadata = None if source_writer is None else implicit(string_field, 1, source_writer)
    return b"".join([
        implicit(double_field, 1, float(wall_time)),
        implicit(int_field, 2, int(step)),
        optional(string_field, 3, file_version),
        optional(message_field, 5, summary),
        optional(message_field, 7, session_log),
        optional(message_field, 10, source_metadata),
    ])


def summary(*values: bytes) -> bytes:
    """An encoded ``Summary`` of encoded ``Summary.Value`` messages."""
    return b"".join(message_field(1, value) for value in values)


def summary_value(tag: str, *, simple_value: float | None = None, image: bytes | None = None,
                  histo: bytes | None = None, tensor: bytes | None = None,
                  metadata: bytes | None = None) -> bytes:
    """An encoded ``Summary.Value``: a tag and one kind of value, with optional plugin metadata."""
    return b"".join([
        implicit(string_field, 1, tag),
        optional(float_field, 2, simple_value),
        optional(message_field, 4, image),
        optional(message_field, 5, histo),
        optional(message_field, 8, tensor),
        optional(message_field, 9, metadata),
    ])


def plugin_metadata(plugin_name: str, content: bytes = b"") -> bytes:
    """An encoded ``SummaryMetadata`` naming the TensorBoard plugin that shows the value."""
    plugin_data = implicit(string_field, 1, plugin_name) + implicit(bytes_field, 2, content)
    return message_field(1, plugin_data)


def tensor_shape(dims) -> bytes:
    """An encoded ``TensorShapeProto`` with the given dimension sizes."""
    return b"".join(message_field(2, implicit(int_field, 1, int(size))) for size in dims)


def tensor_proto(dtype: int, *, shape: bytes | None = None, float_val=(), double_val=(),
                 string_val=()) -> bytes:
    """An encoded ``TensorProto`` holding its values in one of the typed ``*_val`` fields."""
    return b"".join([
        implicit(int_field, 1, dtype),
        optional(message_field, 2, shape),
        packed_floats(5, float_val),
        packed_doubles(6, double_val),
        *(bytes_field(8, value) for value in string_val),
    ])


def histogram_proto(min: float, max: float, num: float, sum: float, sum_squares: float,
                    bucket_limit, bucket) -> bytes:
    """An encoded ``HistogramProto``: bucket ``i`` counts the values up to ``bucket_limit[i]``."""
    return b"".join([
        implicit(double_field, 1, float(min)),
        implicit(double_field, 2, float(max)),
        implicit(double_field, 3, float(num)),
        implicit(double_field, 4, float(sum)),
        implicit(double_field, 5, float(sum_squares)),
        packed_doubles(6, bucket_limit),
        packed_doubles(7, bucket),
    ])


def image_proto(height: int, width: int, colorspace: int, encoded_image: bytes) -> bytes:
    """An encoded ``Summary.Image``; ``colorspace`` is the number of channels."""
    return b"".join([
        implicit(int_field, 1, height),
        implicit(int_field, 2, width),
        implicit(int_field, 3, colorspace),
        implicit(bytes_field, 4, encoded_image),
    ])


# ---------------------------------------------------------------- summaries of values


def scalar_summary(tag: str, value, new_style: bool = False,
                   double_precision: bool = False) -> bytes:
    """A ``Summary`` of one number: ``simple_value``, or (``new_style``) a scalar tensor for the
    scalars plugin, in single or (``double_precision``) double precision."""
    array = to_numpy(value).squeeze()
    if array.ndim != 0:
        raise ValueError(
            f"a scalar summary needs a single value, "
            f"got {array.size} values of shape {array.shape}"
        )
    number = float(array)
    if not new_style:
        return summary(summary_value(tag, simple_value=number))
    if double_precision:
        tensor = tensor_proto(DT_DOUBLE, double_val=[number])
    else:
        tensor = tensor_proto(DT_FLOAT, float_val=[number])
    return summary(summary_value(tag, tensor=tensor, metadata=plugin_metadata("scalars")))


def _merge_buckets(counts: np.ndarray, limits: np.ndarray, max_bins: int):
    """Every ``len(counts) // max_bins`` neighbouring buckets merged into one (as PyTorch)."""
    group = len(counts) // max_bins
    starts = np.arange(0, len(counts), group)
    return np.add.reduceat(counts, starts), np.append(limits[starts], limits[-1])


def make_histogram(values: np.ndarray, bins, max_bins: int | None = None) -> bytes:
    """An encoded ``HistogramProto`` of ``values`` (float64) over ``bins`` (edges, a count or a
    NumPy rule such as ``'auto'``), trimmed to the buckets that hold values.

    TensorBoard reads only the right edge of each bucket, so the bucket just left of the first
    non-empty one is kept (empty) to carry the left edge.
    """
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        counts, limits = _merge_buckets(counts, limits, max_bins)
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError("The histogram is empty: no value falls inside the bins.")
    first, last = int(nonzero[0]), int(nonzero[-1])
    if first > 0:
        counts = counts[first - 1:last + 1]
    else:
        counts = np.concatenate([[0], counts[:last + 1]])
    limits = limits[first:last + 2]
    return histogram_proto(
        min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
        sum_squares=values.dot(values), bucket_limit=limits, bucket=counts,
    )


def histogram_summary(tag: str, values, bins, max_bins: int | None = None) -> bytes:
    """A ``Summary`` with the histogram of ``values`` (any shape)."""
    histogram = make_histogram(to_numpy(values).astype(float), bins, max_bins)
    return summary(summary_value(tag, histo=histogram))


def image_summary(tag: str, image, dataformats: str = "CHW") -> bytes:
    """A ``Summary`` with ``image`` (or a batch, laid out as a grid) encoded as PNG."""
    pixels = to_uint8(to_hwc(to_numpy(image), dataformats))
    height, width, channels = pixels.shape
    encoded = image_proto(height, width, channels, encode_png(pixels))
    return summary(summary_value(tag, image=encoded))


def text_summary(tag: str, text: str) -> bytes:
    """A ``Summary`` for TensorBoard's text plugin: a one-element string tensor under the tag
    ``tag + '/text_summary'``."""
    tensor = tensor_proto(DT_STRING, shape=tensor_shape([1]), string_val=[text.encode("utf-8")])
    value = summary_value(tag + "/text_summary", tensor=tensor, metadata=plugin_metadata("text"))
    return summary(value)
