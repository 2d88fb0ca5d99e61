"""deepnum.utils.tensorboard: the event-file format checked three ways.

* with nothing installed: CRC-32C against published check values and a bit-by-bit reference,
  the protobuf encoding against the examples of the protobuf documentation, the TFRecord framing
  and the events through a small reader written here, PNG images decoded with ``zlib``;
* with ``tensorboard`` installed: TensorBoard's own reader (``EventAccumulator``, which checks
  every CRC) reads scalars, histograms, images, text and hyperparameters back;
* with ``torch`` and ``tensorboard``: the records are byte-for-byte those of
  ``torch.utils.tensorboard.SummaryWriter`` (images: same pixels, PNG compressed differently).
"""

from __future__ import annotations

import os
import re
import socket
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

import deepnum
from deepnum.utils.tensorboard import SummaryWriter
from deepnum.utils.tensorboard._crc32c import crc32c, masked_crc32c
from deepnum.utils.tensorboard._event_file import _PeriodicFlush, frame_record
from deepnum.utils.tensorboard._image import make_grid, to_hwc, to_uint8
from deepnum.utils.tensorboard._png import encode_png
from deepnum.utils.tensorboard._proto import (
    double_field,
    float_field,
    implicit,
    int_field,
    optional,
    packed_doubles,
    string_field,
    varint,
)
from deepnum.utils.tensorboard._summary import make_histogram, tensorflow_bucket_limits


# ---------------------------------------------------------------- independent readers


def reference_crc32c(data: bytes) -> int:
    """CRC-32C one bit at a time, straight from the definition (no table)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def reference_masked_crc32c(data: bytes) -> int:
    crc = reference_crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path) -> list[bytes]:
    """The records of a TFRecord file; every length and CRC is checked, nothing may trail."""
    data = Path(path).read_bytes()
    records, offset = [], 0
    while offset < len(data):
        assert len(data) - offset >= 12, "truncated record header"
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        assert header_crc == reference_masked_crc32c(header)
        body = data[offset + 12:offset + 12 + length]
        assert len(body) == length, "truncated record"
        (body_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
        assert body_crc == reference_masked_crc32c(body)
        records.append(body)
        offset += 16 + length
    return records


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset += 1
        shift += 7
        if not byte & 0x80:
            return value, offset


def decode_message(data: bytes) -> dict[int, list]:
    """A protobuf message as {field number: [values]}: ints, or bytes for the other wire types."""
    fields: dict[int, list] = {}
    offset = 0
    while offset < len(data):
        key, offset = read_varint(data, offset)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, offset = read_varint(data, offset)
        elif wire_type == 1:
            value, offset = data[offset:offset + 8], offset + 8
        elif wire_type == 5:
            value, offset = data[offset:offset + 4], offset + 4
        elif wire_type == 2:
            length, offset = read_varint(data, offset)
            value, offset = data[offset:offset + length], offset + length
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        fields.setdefault(number, []).append(value)
    assert offset == len(data)
    return fields


def as_double(raw: bytes) -> float:
    return struct.unpack("<d", raw)[0]


def as_float(raw: bytes) -> float:
    return struct.unpack("<f", raw)[0]


def as_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_event(data: bytes) -> dict:
    """wall_time, step and, if present, file_version and the summary values of an Event."""
    fields = decode_message(data)
    decoded = {
        "wall_time": as_double(fields[1][0]) if 1 in fields else 0.0,
        "step": as_int64(fields[2][0]) if 2 in fields else 0,
        "fields": fields,
    }
    if 3 in fields:
        decoded["file_version"] = fields[3][0].decode()
    if 5 in fields:
        decoded["values"] = [decode_message(value) for value in decode_message(fields[5][0])[1]]
    return decoded


def decode_png(png: bytes) -> np.ndarray:
    """Pixels (H, W, C) of an 8-bit, non-interlaced PNG whose rows all use filter 0."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, []
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        chunk_type = png[offset + 4:offset + 8]
        data = png[offset + 8:offset + 8 + length]
        (checksum,) = struct.unpack(">I", png[offset + 8 + length:offset + 12 + length])
        assert checksum == zlib.crc32(chunk_type + data)
        chunks.append((chunk_type, data))
        offset += 12 + length
    assert [kind for kind, _ in chunks][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and interlace == 0
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * channels)
    assert not rows[:, 0].any(), "only filter type 0 is decoded here"
    return rows[:, 1:].reshape(height, width, channels)


def event_files(log_dir) -> list[Path]:
    return sorted(Path(log_dir).glob("events.out.tfevents.*"))


def only_event_file(log_dir) -> Path:
    files = event_files(log_dir)
    assert len(files) == 1, files
    return files[0]


def summary_events(log_dir) -> list[dict]:
    """The decoded events of the only event file in ``log_dir`` after its version event."""
    events = [decode_event(record) for record in read_records(only_event_file(log_dir))]
    assert events[0]["file_version"] == "brain.Event:2"
    return events[1:]


# ---------------------------------------------------------------- CRC-32C


@pytest.mark.parametrize("data, expected", [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),  # the standard check value
    (bytes(32), 0x8A9136AA),  # RFC 3720 B.4: 32 bytes of zeros
    (b"\xff" * 32, 0x62A8AB43),  # 32 bytes of ones
    (bytes(range(32)), 0x46DD794E),  # incrementing 00..1f
    (bytes(range(31, -1, -1)), 0x113FDB5C),  # decrementing 1f..00
])
def test_crc32c_check_values(data, expected):
    assert crc32c(data) == expected
    assert reference_crc32c(data) == expected


def test_crc32c_matches_the_bitwise_definition():
    rng = np.random.default_rng(1)
    for size in (1, 7, 8, 255, 1000):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert crc32c(data) == reference_crc32c(data)
        assert crc32c(data[size // 2:], crc32c(data[:size // 2])) == crc32c(data)


def test_masked_crc32c_is_the_rotated_crc_plus_the_constant():
    for data in (b"", b"a", b"123456789", bytes(range(256))):
        masked = masked_crc32c(data)
        assert masked == reference_masked_crc32c(data)
        rotated = (masked - 0xA282EAD8) & 0xFFFFFFFF
        assert ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF == crc32c(data)


# ---------------------------------------------------------------- protobuf encoding


def test_protobuf_encoding_matches_the_documented_examples():
    # https://protobuf.dev/programming-guides/encoding/
    assert int_field(1, 150).hex() == "089601"
    assert string_field(2, "testing").hex() == "120774657374696e67"
    assert varint(300).hex() == "ac02"
    assert varint(-2).hex() == "feffffffffffffffff01"  # int64 -2: ten bytes
    assert double_field(1, 1.0).hex() == "09000000000000f03f"
    assert float_field(2, 1.5).hex() == "150000c03f"
    assert float_field(2, 1e40)[1:] == struct.pack("<f", float("inf"))
    assert packed_doubles(6, [1.0, 2.0]) == b"\x32\x10" + struct.pack("<2d", 1.0, 2.0)
    assert packed_doubles(6, []) == b""


def test_protobuf_presence_rules():
    # without presence (proto3): defaults are left out, -0.0 is not a default
    assert implicit(double_field, 1, 0.0) == b""
    assert implicit(double_field, 1, -0.0) != b""
    assert implicit(string_field, 1, "") == b""
    assert implicit(int_field, 2, 0) == b""
    # with presence (oneof members, messages): written unless unset
    assert optional(float_field, 2, 0.0) == b"\x15\x00\x00\x00\x00"
    assert optional(string_field, 3, None) == b""


# ---------------------------------------------------------------- TFRecord framing


def test_record_framing():
    data = b"\x01\x02payload"
    record = frame_record(data)
    assert len(record) == 8 + 4 + len(data) + 4
    assert struct.unpack("<Q", record[:8]) == (len(data),)
    assert struct.unpack("<I", record[8:12]) == (reference_masked_crc32c(record[:8]),)
    assert record[12:-4] == data
    assert struct.unpack("<I", record[-4:]) == (reference_masked_crc32c(data),)


def test_event_file_name_and_version_event(tmp_path):
    with SummaryWriter(tmp_path, filename_suffix=".v1") as writer:
        pass
    path = only_event_file(tmp_path)
    host, pid = re.escape(socket.gethostname()), os.getpid()
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{host}\.{pid}\.\d+\.v1", path.name)
    (record,) = read_records(path)
    first = decode_event(record)
    assert first["file_version"] == "brain.Event:2"
    assert first["wall_time"] > 1e9 and first["step"] == 0
    assert decode_message(first["fields"][10][0]) == {1: [b"deepnum.utils.tensorboard"]}
    assert writer.get_logdir() == tmp_path


def test_default_log_dir_is_runs_datetime_hostname_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as writer:
        log_dir = writer.get_logdir()
    host = re.escape(socket.gethostname())
    date = r"[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d"
    assert re.fullmatch(rf"runs{re.escape(os.sep)}{date}_{host}_lr0\.1", log_dir)
    assert len(event_files(tmp_path / log_dir)) == 1


# ---------------------------------------------------------------- what each add_* writes


def test_scalars_through_the_framing_and_protobuf(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("loss/train", 0.1, 3, walltime=1234.5)
        writer.add_scalar("zero", 0, 0, walltime=1.0)
        writer.add_scalar("negative_step", -2.5, -7, walltime=1.0)
        writer.add_scalar("tensor", deepnum.tensor([[4.0]], requires_grad=True), 1)
        writer.add_scalar("numpy", np.float32(6.5), np.int64(2))
    events = summary_events(tmp_path)
    decoded = [(e["values"][0][1][0].decode(), as_float(e["values"][0][2][0]), e["step"])
               for e in events]
    assert decoded == [
        ("loss/train", np.float32(0.1), 3), ("zero", 0.0, 0), ("negative_step", -2.5, -7),
        ("tensor", 4.0, 1), ("numpy", 6.5, 2),
    ]
    assert events[0]["wall_time"] == 1234.5
    assert 2 not in events[1]["fields"]  # step 0 is left out
    assert events[1]["values"][0][2] == [b"\x00\x00\x00\x00"]  # simple_value 0 is kept


def test_scalar_needs_a_single_value(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError):
            writer.add_scalar("pair", np.array([1.0, 2.0]))


def test_new_style_scalar_is_a_tensor_for_the_scalars_plugin(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("single", 0.1, 1, new_style=True)
        writer.add_scalar("double", 0.1, 1, new_style=True, double_precision=True)
    single, double = (e["values"][0] for e in summary_events(tmp_path))
    single_tensor, double_tensor = decode_message(single[8][0]), decode_message(double[8][0])
    assert single_tensor[1] == [1] and as_float(single_tensor[5][0]) == np.float32(0.1)
    assert double_tensor[1] == [2] and as_double(double_tensor[6][0]) == 0.1
    plugin = decode_message(decode_message(single[9][0])[1][0])
    assert plugin == {1: [b"scalars"]}


def test_histogram_fields(tmp_path):
    values = np.random.default_rng(2).normal(size=500)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("weights", deepnum.tensor(values), 4)
    (event,) = summary_events(tmp_path)
    histo = decode_message(event["values"][0][5][0])
    assert as_double(histo[1][0]) == values.min() and as_double(histo[2][0]) == values.max()
    assert as_double(histo[3][0]) == 500
    assert as_double(histo[4][0]) == pytest.approx(values.sum())
    assert as_double(histo[5][0]) == pytest.approx((values ** 2).sum())
    limits = np.frombuffer(histo[6][0], dtype="<f8")
    counts = np.frombuffer(histo[7][0], dtype="<f8")
    assert counts.sum() == 500 and counts[0] == 0 and counts[-1] > 0
    assert np.all(np.diff(limits) > 0)
    assert limits[0] <= values.min() and limits[-1] >= values.max()
    # each count is the number of values in (previous limit, limit]
    edges = np.concatenate([[-np.inf], limits])
    assert np.array_equal(counts, np.histogram(values, bins=edges)[0])


def test_tensorflow_bucket_limits():
    limits = np.array(tensorflow_bucket_limits())
    assert limits[len(limits) // 2] == 0.0
    assert np.array_equal(limits, -limits[::-1])
    assert np.all(np.diff(limits) > 0)
    assert limits[-1] < 1e20 <= limits[-1] * 1.1
    assert limits[len(limits) // 2 + 1] == 1e-12


def test_histogram_bins_and_max_bins():
    values = np.arange(100.0)
    fields = decode_message(make_histogram(values, bins=10))
    assert list(np.frombuffer(fields[7][0])) == [0] + [10] * 10
    assert list(np.frombuffer(fields[6][0])) == [0.0] + [9.9 * k for k in range(1, 11)]
    merged = decode_message(make_histogram(values, bins=10, max_bins=5))
    assert list(np.frombuffer(merged[7][0])) == [0] + [20] * 5
    assert decode_message(make_histogram(np.zeros(3), bins="auto"))[3] != []
    with pytest.raises(ValueError):
        make_histogram(np.array([]), bins=10)


def test_text_is_a_string_tensor_for_the_text_plugin(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("notes", "héllo **world**", 5)
    (event,) = summary_events(tmp_path)
    value = event["values"][0]
    assert value[1] == [b"notes/text_summary"]
    tensor = decode_message(value[8][0])
    assert tensor[1] == [7]  # DT_STRING
    assert tensor[8] == ["héllo **world**".encode()]
    assert decode_message(decode_message(tensor[2][0])[2][0]) == {1: [1]}  # shape [1]
    assert decode_message(decode_message(value[9][0])[1][0]) == {1: [b"text"]}


def test_image_summary_holds_the_png_of_the_pixels(tmp_path):
    image = np.random.default_rng(3).random((3, 5, 7))
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("sample", image, 1)
    (event,) = summary_events(tmp_path)
    fields = decode_message(event["values"][0][4][0])
    assert (fields[1], fields[2], fields[3]) == ([5], [7], [3])  # height, width, colorspace
    expected = (image.transpose(1, 2, 0).astype(np.float32) * 255).astype(np.uint8)
    assert np.array_equal(decode_png(fields[4][0]), expected)


# ---------------------------------------------------------------- PNG and image layouts


@pytest.mark.parametrize("shape", [(4, 6), (4, 6, 1), (3, 5, 2), (5, 3, 3), (2, 9, 4), (1, 1, 3)])
def test_png_round_trip(shape):
    pixels = np.random.default_rng(4).integers(0, 256, shape, dtype=np.uint8)
    decoded = decode_png(encode_png(pixels))
    assert np.array_equal(decoded, pixels.reshape(shape[0], shape[1], -1))


def test_png_rejects_what_it_cannot_encode():
    with pytest.raises(TypeError):
        encode_png(np.zeros((2, 2, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        encode_png(np.zeros((2, 2, 5), dtype=np.uint8))
    with pytest.raises(ValueError):
        encode_png(np.zeros((0, 2, 3), dtype=np.uint8))


def test_png_opens_in_pillow():
    image_module = pytest.importorskip("PIL.Image")
    import io

    pixels = np.random.default_rng(5).integers(0, 256, (6, 4, 4), dtype=np.uint8)
    with image_module.open(io.BytesIO(encode_png(pixels))) as opened:
        assert opened.mode == "RGBA"
        assert np.array_equal(np.asarray(opened), pixels)


def test_float_images_are_scaled_by_255_and_clipped_uint8_kept():
    assert to_uint8(np.array([[0.0, 0.2, 1.0], [1.5, -0.3, np.nan]])).tolist() == [
        [0, 51, 255], [255, 0, 0]]
    pixels = np.array([[0, 7, 255]], dtype=np.uint8)
    assert np.array_equal(to_uint8(pixels), pixels)
    assert to_uint8(np.array([[1, 2]], dtype=np.int64)).tolist() == [[255, 255]]  # as PyTorch


def test_dataformats_all_give_the_same_hwc_image():
    chw = np.random.default_rng(6).random((3, 4, 5))
    hwc = chw.transpose(1, 2, 0)
    assert np.array_equal(to_hwc(chw, "CHW"), hwc)
    assert np.array_equal(to_hwc(hwc, "HWC"), hwc)
    assert np.array_equal(to_hwc(chw.transpose(2, 1, 0), "wHc"), hwc)
    gray = chw[0]
    assert np.array_equal(to_hwc(gray, "HW"), np.stack([gray] * 3, axis=2))
    assert np.array_equal(to_hwc(gray[None], "CHW"), np.stack([gray] * 3, axis=2))
    assert to_hwc(np.zeros((4, 2, 3)), "CHW").shape == (2, 3, 4)  # RGBA stays RGBA
    for bad_format, array in [("CHH", chw), ("HW", chw), ("CHX", chw), ("NCHW", chw)]:
        with pytest.raises(ValueError):
            to_hwc(array, bad_format)


def test_batches_are_laid_out_in_a_grid_of_eight_columns():
    batch = np.arange(1, 11, dtype=np.float64)[:, None, None, None] * np.ones((10, 1, 2, 3))
    grid = make_grid(batch)
    assert grid.shape == (3, 4, 24)
    for index in range(10):
        row, col = divmod(index, 8)
        assert np.all(grid[:, row * 2:row * 2 + 2, col * 3:col * 3 + 3] == index + 1)
    assert np.all(grid[:, 2:, 6:] == 0)  # the short last row is black
    assert make_grid(np.ones((3, 3, 2, 2))).shape == (3, 2, 6)
    with pytest.raises(ValueError):
        make_grid(np.ones((2, 4, 2, 2)))
    nhwc = batch.transpose(0, 2, 3, 1)
    assert np.array_equal(to_hwc(nhwc, "NHWC"), grid.transpose(1, 2, 0))


def test_add_images_writes_one_grid_image(tmp_path):
    batch = np.random.default_rng(7).integers(0, 256, (3, 3, 4, 5), dtype=np.uint8)
    with SummaryWriter(tmp_path) as writer:
        writer.add_images("batch", batch, 0)
    (event,) = summary_events(tmp_path)
    fields = decode_message(event["values"][0][4][0])
    assert (fields[1], fields[2]) == ([4], [15])
    expected = np.concatenate(list(batch.transpose(0, 2, 3, 1)), axis=1)
    assert np.array_equal(decode_png(fields[4][0]), expected)


# ---------------------------------------------------------------- files, flushing, closing


def records_on_disk(writer) -> int:
    return len(read_records(only_event_file(writer.get_logdir())))


def test_events_wait_for_flush_or_a_full_queue(tmp_path):
    writer = SummaryWriter(tmp_path / "a", max_queue=3, flush_secs=3600)
    try:
        assert records_on_disk(writer) == 1  # the version event is written at once
        writer.add_scalar("x", 1.0, 0)
        writer.add_scalar("x", 2.0, 1)
        assert records_on_disk(writer) == 1
        writer.add_scalar("x", 3.0, 2)  # the queue is full: written
        assert records_on_disk(writer) == 4
        writer.add_scalar("x", 4.0, 3)
        writer.flush()
        assert records_on_disk(writer) == 5
    finally:
        writer.close()
    assert records_on_disk(writer) == 5


def test_flush_secs_zero_writes_every_event(tmp_path):
    with SummaryWriter(tmp_path, flush_secs=0) as writer:
        writer.add_scalar("x", 1.0, 0)
        assert records_on_disk(writer) == 2


def test_periodic_flush_calls_flush_until_stopped():
    flushed = threading.Event()
    periodic = _PeriodicFlush(flushed.set, interval=0.01)
    periodic.start()
    try:
        assert flushed.wait(timeout=30)
    finally:
        periodic.stop()
    assert not periodic.is_alive()


def test_close_is_idempotent_and_a_later_add_opens_a_new_file(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.close()
    writer.flush()  # nothing to do
    assert len(event_files(tmp_path)) == 1
    writer.add_scalar("x", 2.0, 1)
    writer.close()
    files = event_files(tmp_path)
    assert len(files) == 2
    assert sorted(len(read_records(path)) for path in files) == [2, 2]


def flush_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "tensorboard-event-file-flush"}


def test_context_manager_closes_and_stops_the_flush_threads(tmp_path):
    threads_before = flush_threads()
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalars("loss", {"train": 1.0, "dev": 2.0}, 0)
        assert len(flush_threads() - threads_before) == 3  # one per event file
    assert writer.all_writers is None
    assert flush_threads() - threads_before == set()


def test_add_scalars_writes_one_run_folder_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalars("run/loss", {"train": 1.0, "dev": 2.0}, 7, walltime=5.0)
        writer.add_scalars("run/loss", {"train": 0.5, "dev": 1.5}, 8, walltime=6.0)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["run_loss_dev",
                                                                        "run_loss_train"]
    assert summary_events(tmp_path) == []
    train = summary_events(tmp_path / "run_loss_train")
    assert [(e["values"][0][1][0], as_float(e["values"][0][2][0]), e["step"], e["wall_time"])
            for e in train] == [(b"run/loss", 1.0, 7, 5.0), (b"run/loss", 0.5, 8, 6.0)]


def test_purge_step_writes_a_restart_marker(tmp_path):
    with SummaryWriter(tmp_path, purge_step=42) as writer:
        writer.add_scalar("x", 1.0, 42)
    version, restart, scalar = summary_events(tmp_path)
    assert version["step"] == 42 and version["file_version"] == "brain.Event:2"
    assert restart["step"] == 42 and decode_message(restart["fields"][7][0]) == {1: [1]}
    assert scalar["step"] == 42


def test_hparams_go_to_a_trial_folder(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "optimizer": "adam", "skipped": None},
                           {"hparam/accuracy": 0.75}, run_name="trial")
    events = summary_events(tmp_path / "trial")
    assert [e["values"][0][1][0] for e in events] == [
        b"_hparams_/experiment", b"_hparams_/session_start_info", b"_hparams_/session_end_info",
        b"hparam/accuracy",
    ]
    assert as_float(events[3]["values"][0][2][0]) == 0.75
    with pytest.raises(TypeError):
        writer.add_hparams([("lr", 0.1)], {})


# ---------------------------------------------------------------- TensorBoard reads the files


def load_with_tensorboard(log_dir):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    accumulator = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance=event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE
    )
    accumulator.Reload()
    return accumulator


def test_tensorboard_crc_agrees():
    pywrap = pytest.importorskip("tensorboard.compat.tensorflow_stub.pywrap_tensorflow")
    rng = np.random.default_rng(8)
    for size in (0, 1, 100, 4097):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert masked_crc32c(data) == pywrap.masked_crc32c(data)


def test_tensorboard_reads_scalars_histograms_images_and_text(tmp_path):
    rng = np.random.default_rng(9)
    values = rng.normal(size=(20, 30))
    image = rng.random((3, 6, 10)).astype(np.float32)
    with SummaryWriter(tmp_path) as writer:
        for step in range(5):
            writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=100.0 + step)
        writer.add_histogram("weights", values, 3, walltime=200.0)
        writer.add_histogram("weights_fd", values, 4, bins="fd")
        writer.add_image("image", image, 2)
        writer.add_images("batch", np.zeros((2, 1, 3, 3), dtype=np.uint8), 2)
        writer.add_text("notes", "# Title\nsome *text*", 6)
        writer.add_scalar("new_style", 2.5, 1, new_style=True)
    accumulator = load_with_tensorboard(tmp_path)
    assert accumulator.GetSourceWriter() == "deepnum.utils.tensorboard"

    loss = accumulator.Scalars("loss")
    assert [e.step for e in loss] == list(range(5))
    assert [e.wall_time for e in loss] == [100.0 + step for step in range(5)]
    assert [e.value for e in loss] == pytest.approx([1.0 / (s + 1) for s in range(5)], rel=1e-7)

    (histogram,) = accumulator.Histograms("weights")
    h = histogram.histogram_value
    assert histogram.step == 3 and histogram.wall_time == 200.0
    assert (h.min, h.max, h.num) == (values.min(), values.max(), values.size)
    assert h.sum == pytest.approx(values.sum())
    assert h.sum_squares == pytest.approx((values ** 2).sum())
    assert sum(h.bucket) == values.size and len(h.bucket) == len(h.bucket_limit)
    assert sum(accumulator.Histograms("weights_fd")[0].histogram_value.bucket) == values.size

    (image_event,) = accumulator.Images("image")
    assert (image_event.step, image_event.width, image_event.height) == (2, 10, 6)
    expected = (image.transpose(1, 2, 0) * 255).astype(np.uint8)
    assert np.array_equal(decode_png(image_event.encoded_image_string), expected)
    (batch_event,) = accumulator.Images("batch")
    assert (batch_event.width, batch_event.height) == (6, 3)

    from tensorboard.util import tensor_util

    (text_event,) = accumulator.Tensors("notes/text_summary")
    assert text_event.step == 6
    assert tensor_util.make_ndarray(text_event.tensor_proto).tolist() == [b"# Title\nsome *text*"]
    assert accumulator.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"
    (new_style,) = accumulator.Tensors("new_style")
    assert tensor_util.make_ndarray(new_style.tensor_proto) == np.float32(2.5)


def test_tensorboard_purges_the_events_of_a_crashed_run(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(10):
            writer.add_scalar("loss", float(step), step)
    with SummaryWriter(tmp_path, purge_step=5) as writer:
        for step in range(5, 8):
            writer.add_scalar("loss", 100.0 + step, step)
    loss = load_with_tensorboard(tmp_path).Scalars("loss")
    assert [(e.step, e.value) for e in loss] == [(s, float(s)) for s in range(5)] + [
        (s, 100.0 + s) for s in range(5, 8)]


def test_tensorboard_reads_the_hparams(tmp_path):
    plugin_data_pb2 = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2")
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "batch": 32, "optimizer": "adam"},
                           {"hparam/accuracy": 0.9}, hparam_domain_discrete={
                               "optimizer": ["adam", "sgd"]}, run_name="t1", global_step=2)
    accumulator = load_with_tensorboard(tmp_path / "t1")
    contents = accumulator.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        contents["_hparams_/session_start_info"]).session_start_info
    assert {k: v.WhichOneof("kind") for k, v in start.hparams.items()} == {
        "lr": "number_value", "batch": "number_value", "optimizer": "string_value"}
    assert (start.hparams["lr"].number_value, start.hparams["batch"].number_value,
            start.hparams["optimizer"].string_value) == (0.1, 32.0, "adam")
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        contents["_hparams_/experiment"]).experiment
    assert [info.name for info in experiment.hparam_infos] == ["lr", "batch", "optimizer"]
    assert [v.string_value for v in experiment.hparam_infos[2].domain_discrete.values] == [
        "adam", "sgd"]
    assert [m.name.tag for m in experiment.metric_infos] == ["hparam/accuracy"]
    end = plugin_data_pb2.HParamsPluginData.FromString(contents["_hparams_/session_end_info"])
    assert end.session_end_info.status == 1  # STATUS_SUCCESS
    (accuracy,) = accumulator.Scalars("hparam/accuracy")
    assert accuracy.step == 2 and accuracy.value == pytest.approx(0.9)


# ---------------------------------------------------------------- the same bytes as PyTorch


def write_everything(writer_class, log_dir, values, image, batch):
    with writer_class(log_dir) as writer:
        writer.add_scalar("loss", 0.3, 1, walltime=10.0)
        writer.add_scalar("zero", 0.0, 0, walltime=10.0)
        writer.add_scalar("negative", -1.25, -3, walltime=10.25)
        writer.add_scalar("new_style", 0.1, 2, walltime=11.0, new_style=True)
        writer.add_scalar("new_double", 0.1, 2, walltime=11.0, new_style=True,
                          double_precision=True)
        writer.add_scalars("group/pair", {"a": 1.0, "b": 2.0}, 3, walltime=12.0)
        writer.add_histogram("tensorflow_bins", values, 4, walltime=13.0)
        writer.add_histogram("auto_bins", values, 4, bins="auto", walltime=13.0)
        writer.add_histogram("max_bins", values, 4, bins=50, max_bins=7, walltime=13.0)
        writer.add_histogram("zeros", np.zeros(4), 4, walltime=13.0)
        writer.add_histogram_raw("raw", 0.0, 2.0, 3, 3.0, 5.0, [1.0, 2.0], [1, 2], 4,
                                 walltime=13.0)
        writer.add_text("text", "héllo *markdown*", 5, walltime=14.0)
        writer.add_image("float_image", image, 6, walltime=15.0)
        writer.add_image("hwc_uint8", (image * 255).astype(np.uint8).transpose(1, 2, 0), 6,
                         walltime=15.0, dataformats="HWC")
        writer.add_image("gray", image[0], 6, walltime=15.0, dataformats="HW")
        writer.add_images("batch", batch, 6, walltime=15.0)
        writer.add_hparams({"lr": 0.01, "name": "x"}, {"hparam/m": 1.0}, run_name="trial",
                           global_step=7)


def parsed_events(path):
    from tensorboard.compat.proto import event_pb2

    return [event_pb2.Event.FromString(record) for record in read_records(path)]


def test_records_are_byte_for_byte_those_of_pytorch(tmp_path):
    pytest.importorskip("tensorboard")
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    pytest.importorskip("PIL")
    rng = np.random.default_rng(10)
    values = rng.normal(size=300).astype(np.float32)
    image = rng.random((3, 5, 6))
    batch = rng.random((11, 1, 2, 3)).astype(np.float32)
    write_everything(SummaryWriter, tmp_path / "deepnum", values, image, batch)
    write_everything(torch_tensorboard.SummaryWriter, tmp_path / "torch", values, image, batch)

    ours_dirs, torch_dirs = (
        sorted(p.relative_to(root) for p in root.rglob("*") if p.is_dir())
        for root in (tmp_path / "deepnum", tmp_path / "torch")
    )
    assert ours_dirs == torch_dirs and len(ours_dirs) == 3  # group_pair_a, group_pair_b, trial

    for run in [Path("."), *ours_dirs]:
        ours_file = only_event_file(tmp_path / "deepnum" / run)
        torch_file = only_event_file(tmp_path / "torch" / run)
        ours, theirs = read_records(ours_file)[1:], read_records(torch_file)[1:]
        assert len(ours) == len(theirs)
        for our_record, their_record, our_event, their_event in zip(
                ours, theirs, parsed_events(ours_file)[1:], parsed_events(torch_file)[1:]):
            value = their_event.summary.value[0] if their_event.HasField("summary") else None
            if value is not None and value.HasField("image"):
                # PIL compresses the PNG its own way: compare the pixels, then the rest
                our_image = our_event.summary.value[0].image
                assert np.array_equal(decode_png(our_image.encoded_image_string),
                                      np.asarray(_pil_pixels(value.image.encoded_image_string)))
                our_image.encoded_image_string = value.image.encoded_image_string = b""
                assert our_event == their_event
            elif value is not None and value.tag == "_hparams_/session_start_info":
                assert our_event.wall_time > 0
                assert _hparams_start(our_event) == _hparams_start(their_event)
            elif run.name == "trial":  # its wall times are the current time
                our_event.wall_time = their_event.wall_time = 0
                assert our_event.SerializeToString() == their_event.SerializeToString()
            else:
                assert our_record == their_record, value.tag if value else our_event


def _pil_pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as opened:
        return np.asarray(opened)


def _hparams_start(event) -> dict:
    """The hyperparameters of a session-start event (a map: its order on disk is arbitrary)."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = event.summary.value[0].metadata.plugin_data.content
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {name: value.SerializeToString() for name, value in start.hparams.items()}
