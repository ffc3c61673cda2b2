"""Write TensorBoard event files with NumPy only: no TensorFlow, no protobuf package.

An event file is a sequence of TFRecords, each holding one serialized ``Event`` protobuf::

    record = uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)
    masked_crc32c(b) = rotate_right(crc32c(b), 15) + 0xa282ead8     (mod 2**32, little-endian)

The first record is ``Event{wall_time, file_version: "brain.Event:2"}``; every later one is
``Event{wall_time, step, summary: Summary{value: [Value{tag, tensor, metadata}]}}``: the
"tensor" summaries that ``tf.summary`` writes in TF 2 (not the old ``simple_value``/``histo``
fields). The plugin named in the metadata tells TensorBoard how to show the tensor:

=========================  ====================================  ==============================
plugin (``plugin_name``)   tensor                                written by
=========================  ====================================  ==============================
``scalars``                float32, shape ``[]``                 ``tf.summary.scalar``
``histograms``             float64, ``[buckets, 3]``: rows of    ``tf.summary.histogram``
                           ``(left edge, right edge, count)``
``images``                 strings ``[width, height, png, ...]``  ``tf.summary.image``
``graph_keras_model``      one string: the model's JSON          Keras's ``write_graph``
=========================  ====================================  ==============================

Only the few protobuf fields these need are encoded, by hand, below. A protobuf message is a
list of fields, each ``key = field_number << 3 | wire_type`` (a varint) then the value: wire
type 0 a varint, 1 eight little-endian bytes (a double), 2 a varint length then the bytes (a
string or a nested message).
"""

import itertools
import os
import struct
import time

import numpy as np

# --- CRC32C (Castagnoli), table-driven, as TFRecord framing uses it --------------------------
_CRC32C_POLY = 0x82F63B78  # 0x1EDC6F41 bit-reversed


def _make_crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC32C_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _make_crc_table()


def crc32c(data):
    """CRC-32C of ``data`` (bytes): ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC as TFRecord stores it: rotated right by 15 bits, plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data):
    """Frame one serialized message as a TFRecord."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


# --- protobuf wire format: just enough to write Event, Summary and TensorProto --------------
def _varint(value):
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, as in protobuf
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field_varint(number, value):
    return _varint(number << 3 | 0) + _varint(value)


def _field_double(number, value):
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def _field_bytes(number, value):
    """A string, bytes or an already encoded nested message (wire type 2)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _varint(number << 3 | 2) + _varint(len(value)) + value


# TensorFlow's DataType enum (tensorflow/core/framework/types.proto)
DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7
_DTYPES = {np.dtype("float32"): DT_FLOAT, np.dtype("float64"): DT_DOUBLE}


def encode_tensor(value):
    """``TensorProto{dtype: 1, tensor_shape: 2 {dim: 2 {size: 1}}, tensor_content: 4,
    string_val: 8}``. Numbers go in ``tensor_content`` (little-endian raw bytes), strings in
    ``string_val``, as TensorFlow writes them."""
    if isinstance(value, (str, bytes)) or (isinstance(value, (list, tuple)) and value
                                           and isinstance(value[0], (str, bytes))):
        strings = [value] if isinstance(value, (str, bytes)) else list(value)
        shape = () if isinstance(value, (str, bytes)) else (len(strings),)
        body = b"".join(_field_bytes(8, s) for s in strings)
        dtype = DT_STRING
    else:
        array = np.asarray(value)
        dtype = _DTYPES[array.dtype]
        shape = array.shape
        body = _field_bytes(4, array.astype(array.dtype.newbyteorder("<")).tobytes())
    dims = b"".join(_field_bytes(2, _field_varint(1, size)) for size in shape)
    return _field_varint(1, dtype) + _field_bytes(2, dims) + body


def encode_summary(tag, tensor, plugin_name, plugin_content=b""):
    """``Summary{value: 1 {tag: 1, tensor: 8, metadata: 9 {plugin_data: 1 {plugin_name: 1,
    content: 2}}}}``."""
    plugin_data = _field_bytes(1, plugin_name)
    if plugin_content:
        plugin_data += _field_bytes(2, plugin_content)
    value = (_field_bytes(1, tag) + _field_bytes(8, encode_tensor(tensor))
             + _field_bytes(9, _field_bytes(1, plugin_data)))
    return _field_bytes(1, value)


def encode_event(wall_time, step=0, summary=None, file_version=None, source_writer=None):
    """``Event{wall_time: 1 (double), step: 2 (int64), file_version: 3, summary: 5,
    source_metadata: 10 {writer: 1}}``; fields left at their defaults are not written."""
    out = _field_double(1, wall_time)
    if step:
        out += _field_varint(2, int(step))
    if file_version is not None:
        out += _field_bytes(3, file_version)
    if summary is not None:
        out += _field_bytes(5, summary)
    if source_writer is not None:
        out += _field_bytes(10, _field_bytes(1, source_writer))
    return out


# --- what tf.summary computes before writing ------------------------------------------------
def histogram_buckets(data, bucket_count=30):
    """``tf.summary.histogram``'s buckets (TensorBoard's ``summary_v2._buckets``): a float64
    ``[bucket_count, 3]`` array of ``(left_edge, right_edge, count)``. The range ``[min, max]``
    is cut into equal widths; bucket ``i`` counts ``floor((x - min) / width) == i`` (the last
    one also takes ``x == max``). All values equal: every edge is that value and the last
    bucket counts them all. No data: all zeros."""
    data = np.asarray(data, dtype=np.float64).reshape(-1)
    if data.size == 0 or bucket_count <= 0:
        return np.zeros((max(bucket_count, 0), 3))
    min_, max_ = data.min(), data.max()
    range_ = max_ - min_
    if range_ == 0:
        counts = np.zeros(bucket_count)
        counts[-1] = data.size
        edges = np.full(bucket_count, max_)
        return np.stack([edges, edges, counts], axis=1)
    width = range_ / bucket_count
    indices = np.minimum(np.floor((data - min_) / width).astype(np.int64), bucket_count - 1)
    counts = np.bincount(indices, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(min_, max_, bucket_count + 1)  # ends exactly at max_, as in TF
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def encode_png(image):
    """A PNG file of ``image``: uint8, ``(height, width)`` or ``(height, width, channels)``
    with 1 (gray), 3 (RGB) or 4 (RGBA) channels. Chunks are ``length | type | data |
    crc32(type + data)``; the pixels are zlib-compressed rows, each after a filter byte 0."""
    import zlib

    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    height, width, channels = image.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))


def image_tensor(images, max_outputs=3):
    """``tf.summary.image``'s tensor: ``[width, height, png_1, ...]`` as strings, from a
    ``(k, height, width, channels)`` batch. Floats are read as ``[0, 1]`` and converted as
    ``tf.image.convert_image_dtype(..., uint8, saturate=True)`` does: ``int(clip(x * 255.5,
    0, 255))`` in float32."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        scaled = images.astype(np.float32) * np.float32(255.5)
        images = np.clip(scaled, 0, 255).astype(np.uint8)
    _, height, width, _ = images.shape
    return [str(width), str(height)] + [encode_png(image) for image in images[:max_outputs]]


# --- the writer -----------------------------------------------------------------------------
_file_counter = itertools.count()  # TensorFlow numbers the files a process opens, too


class SummaryWriter:
    """Appends events to a new file ``<logdir>/events.out.tfevents.<time>.<host>.<pid>.<n>.v2``
    (TensorFlow's name). The file and ``logdir`` are created at once; every event is flushed
    to disk as it is written, so TensorBoard can show a run while it trains.

        writer = SummaryWriter("logs/train")
        writer.scalar("epoch_loss", 0.25, step=0)
        writer.close()
    """

    def __init__(self, logdir):
        import socket

        os.makedirs(logdir, exist_ok=True)
        now = int(time.time())
        name = (f"events.out.tfevents.{now:010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_file_counter)}.v2")
        self.logdir = logdir
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")  # closed by close()
        self._write(encode_event(float(now), file_version="brain.Event:2",
                                 source_writer="minikeras.utils.summary_writer"))

    @property
    def closed(self):
        return self._file.closed

    def _write(self, event):
        self._file.write(tfrecord(event))
        self._file.flush()

    def write(self, tag, tensor, step, plugin_name, plugin_content=b""):
        """One ``Summary`` value at ``step`` (``tf.summary.write``)."""
        if self._file.closed:
            raise ValueError(f"The summary writer for {self.logdir!r} is closed.")
        summary = encode_summary(tag, tensor, plugin_name, plugin_content)
        self._write(encode_event(time.time(), step=step, summary=summary))

    def scalar(self, tag, value, step):
        """``tf.summary.scalar``: the value as a float32 scalar tensor."""
        self.write(tag, np.asarray(value, dtype=np.float32).reshape(()), step, "scalars")

    def histogram(self, tag, data, step, buckets=30):
        """``tf.summary.histogram`` with 30 buckets by default (see ``histogram_buckets``)."""
        self.write(tag, histogram_buckets(data, buckets), step, "histograms")

    def image(self, tag, images, step, max_outputs=3):
        """``tf.summary.image``: a ``(k, height, width, channels)`` batch, at most
        ``max_outputs`` of them, as PNG."""
        self.write(tag, image_tensor(images, max_outputs), step, "images")

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        self._file.close()
