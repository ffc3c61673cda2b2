"""Unit tests of minikeras.callbacks.TensorBoard and its event writer, NumPy only.

The event files are read back with the small reader below (TFRecord framing with its CRCs, then
the protobuf fields); compat_tests/test_tensorboard_parity.py compares them with what Keras
writes, read by TensorBoard itself.
"""

import json
import os
import struct
import warnings
import zlib

import numpy as np
import pytest

import minikeras as keras
from minikeras.utils import summary_writer as sw


# --- a minimal reader: TFRecords, then protobuf fields ------------------------------------------
def bitwise_crc32c(data):
    """CRC-32C bit by bit (no table), to check the writer's table-driven one independently."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = bitwise_crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path):
    """The payloads of a TFRecord file, checking both CRCs of every record."""
    data = open(path, "rb").read()
    records, i = [], 0
    while i < len(data):
        header = data[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[i + 8:i + 12])
        assert length_crc == masked(header), f"bad length CRC in {path} at {i}"
        payload = data[i + 12:i + 12 + length]
        (data_crc,) = struct.unpack("<I", data[i + 12 + length:i + 16 + length])
        assert data_crc == masked(payload), f"bad data CRC in {path} at {i}"
        records.append(payload)
        i += 16 + length
    assert i == len(data)
    return records


def _varint(buf, i):
    result = shift = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def fields(buf):
    """``{field_number: [values]}``: ints for varints, 8 bytes for doubles, bytes for
    length-delimited fields."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = buf[i:i + length], i + length
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def decode_tensor(buf):
    f = fields(buf)
    shape = tuple(fields(dim)[1][0] if 1 in fields(dim) else 0
                  for dim in fields(f[2][0]).get(2, [])) if 2 in f else ()
    dtype = f[1][0]
    if dtype == sw.DT_STRING:
        return f.get(8, [])
    np_dtype = {sw.DT_FLOAT: "<f4", sw.DT_DOUBLE: "<f8"}[dtype]
    return np.frombuffer(f[4][0], dtype=np_dtype).reshape(shape)


def decode_event(buf):
    """``{'wall_time', 'step', 'file_version'?, 'values': [(tag, value, plugin, content)]}``."""
    f = fields(buf)
    event = {"wall_time": struct.unpack("<d", f[1][0])[0], "step": f.get(2, [0])[0]}
    if 3 in f:
        event["file_version"] = f[3][0].decode()
    if 10 in f:
        event["writer"] = fields(f[10][0])[1][0].decode()
    values = []
    for summary in f.get(5, []):
        for value in fields(summary).get(1, []):
            v = fields(value)
            plugin = fields(fields(v[9][0])[1][0])
            values.append((v[1][0].decode(), decode_tensor(v[8][0]), plugin[1][0].decode(),
                           plugin.get(2, [b""])[0]))
    event["values"] = values
    return event


def read_run(folder):
    """Every event of the run's files (sorted by name), in order."""
    events = []
    for name in sorted(os.listdir(folder)):
        if "tfevents" in name:
            events += [decode_event(r) for r in read_records(os.path.join(folder, name))]
    return events


def scalars(folder):
    """``{tag: [(step, value), ...]}`` of the run's scalar summaries."""
    out = {}
    for event in read_run(folder):
        for tag, value, plugin, _ in event["values"]:
            if plugin == "scalars":
                assert value.dtype == np.float32 and value.shape == ()
                out.setdefault(tag, []).append((event["step"], float(value)))
    return out


def tags_in_order(folder):
    return [(e["step"], v[0]) for e in read_run(folder) for v in e["values"]]


# --- the writer -----------------------------------------------------------------------------
def test_crc32c_known_values():
    assert sw.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert sw.crc32c(b"") == 0
    assert sw.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    assert sw.crc32c(b"\xff" * 32) == 0x62A8AB43


def test_table_crc_equals_bitwise_crc():
    rng = np.random.default_rng(0)
    for size in (1, 7, 64, 1000):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert sw.crc32c(data) == bitwise_crc32c(data)


def test_masked_crc_and_record_framing():
    crc = sw.crc32c(b"abc")
    assert sw.masked_crc32c(b"abc") == ((crc >> 15 | crc << 17) + 0xA282EAD8) & 0xFFFFFFFF
    record = sw.tfrecord(b"abc")
    assert len(record) == 8 + 4 + 3 + 4
    assert record[:8] == struct.pack("<Q", 3) and record[12:15] == b"abc"


def test_varint_encoding_including_negative_int64():
    assert sw._varint(0) == b"\x00"
    assert sw._varint(1) == b"\x01"
    assert sw._varint(300) == b"\xac\x02"
    assert sw._varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes
    assert fields(sw._field_varint(2, 300)) == {2: [300]}


def test_scalar_event_bytes_match_tensorflow():
    # bytes of an event TensorFlow 2.21 wrote for tf.summary.scalar("batch_loss", ..., step=2),
    # with the wall time replaced by 0.0
    expected = bytes.fromhex(
        "0900000000000000001002" "2a27" "0a25" "0a0a" + b"batch_loss".hex()
        + "420a" "0801" "1200" "2204" "cc4fe43e" "4a0b0a090a07" + b"scalars".hex())
    value = np.frombuffer(bytes.fromhex("cc4fe43e"), "<f4")[0]
    summary = sw.encode_summary("batch_loss", np.float32(value).reshape(()), "scalars")
    assert sw.encode_event(0.0, step=2, summary=summary) == expected


def test_writer_file_name_version_record_and_scalars(tmp_path):
    writer = sw.SummaryWriter(str(tmp_path / "run"))
    writer.scalar("loss", 0.5, step=3)
    writer.scalar("loss", np.float64(0.1), step=-2)
    writer.close()
    assert writer.closed
    (name,) = os.listdir(tmp_path / "run")
    parts = name.split(".")
    assert parts[:3] == ["events", "out", "tfevents"] and parts[-1] == "v2"
    assert parts[-3] == str(os.getpid())
    first, *rest = read_run(tmp_path / "run")
    assert first["file_version"] == "brain.Event:2" and first["values"] == []
    assert first["wall_time"] == int(parts[3])  # whole seconds, the time in the name
    assert [e["step"] for e in rest] == [3, 2**64 - 2]  # int64 -2 as protobuf sends it
    assert [float(e["values"][0][1]) for e in rest] == [0.5, float(np.float32(0.1))]
    with pytest.raises(ValueError, match="closed"):
        writer.scalar("loss", 1.0, step=4)


def test_two_writers_in_one_folder_get_distinct_files(tmp_path):
    a, b = sw.SummaryWriter(str(tmp_path)), sw.SummaryWriter(str(tmp_path))
    a.close()
    b.close()
    assert a.path != b.path and len(os.listdir(tmp_path)) == 2


def test_histogram_buckets():
    data = np.array([0.0, 1.0, 1.0, 2.5, 3.0])
    buckets = sw.histogram_buckets(data, bucket_count=3)
    np.testing.assert_array_equal(buckets[:, 0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(buckets[:, 1], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(buckets[:, 2], [1, 2, 2])  # max goes to the last bucket
    assert sw.histogram_buckets(np.arange(100.0)).shape == (30, 3)
    assert sw.histogram_buckets(np.arange(100.0))[:, 2].sum() == 100
    same = sw.histogram_buckets(np.full(4, 2.5), bucket_count=3)
    np.testing.assert_array_equal(same, [[2.5, 2.5, 0], [2.5, 2.5, 0], [2.5, 2.5, 4]])
    np.testing.assert_array_equal(sw.histogram_buckets([], bucket_count=2), np.zeros((2, 3)))


def _decode_png(png):
    """(width, height, color_type, pixels) of an 8-bit, unfiltered PNG (as encode_png makes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    i, chunks = 8, {}
    while i < len(png):
        (length,) = struct.unpack(">I", png[i:i + 4])
        kind, data = png[i + 4:i + 8], png[i + 8:i + 8 + length]
        (crc,) = struct.unpack(">I", png[i + 8 + length:i + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        i += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert (rows[:, 0] == 0).all()  # filter type 0 on every row
    return width, height, color_type, rows[:, 1:]


def test_image_tensor_png_and_float_conversion():
    image = np.array([[0.0, 0.5, 1.0], [-1.0, 2.0, 0.2]], np.float32).reshape(1, 2, 3, 1)
    width, height, png = sw.image_tensor(image)
    assert (width, height) == ("3", "2")
    w, h, color, pixels = _decode_png(png)
    assert (w, h, color) == (3, 2, 0)
    # int(clip(x * 255.5, 0, 255)): 0.5 -> 127, 1.0 -> 255, 0.2 -> 51, out of range saturates
    np.testing.assert_array_equal(pixels, [[0, 127, 255], [0, 255, 51]])
    assert len(sw.image_tensor(np.zeros((5, 2, 2, 1), np.float32))) == 2 + 3  # max_outputs=3


# --- the callback ---------------------------------------------------------------------------
def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


def _data(n=10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def test_defaults_match_keras():
    tb = keras.callbacks.TensorBoard()
    assert (tb.log_dir, tb.histogram_freq, tb.write_graph, tb.write_images,
            tb.write_steps_per_second, tb.update_freq, tb.embeddings_freq,
            tb.embeddings_metadata) == ("logs", 0, True, False, False, "epoch", 0, None)
    assert keras.callbacks.TensorBoard(update_freq="batch").update_freq == 1
    assert "TensorBoard" in keras.callbacks.__all__


def test_epoch_logging_runs_tags_steps_and_values(tmp_path):
    x, y = _data()
    model = _model()
    log_dir = tmp_path / "logs"
    history = model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:5], y[:5]),
                        verbose=0, callbacks=[keras.callbacks.TensorBoard(log_dir)])
    assert sorted(os.listdir(log_dir)) == ["train", "validation"]
    train, val = scalars(log_dir / "train"), scalars(log_dir / "validation")
    assert sorted(train) == ["epoch_learning_rate", "epoch_loss", "epoch_mae"]
    assert sorted(val) == ["epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations",
                           "evaluation_mae_vs_iterations"]
    for key in ("loss", "mae"):
        assert train[f"epoch_{key}"] == [
            (epoch, float(np.float32(v))) for epoch, v in enumerate(history.history[key])]
        assert val[f"epoch_{key}"] == [
            (epoch, float(np.float32(v))) for epoch, v in enumerate(history.history[f"val_{key}"])]
        # the step is optimizer.iterations: 3 batches of 4, 4, 2 samples per epoch
        assert [s for s, _ in val[f"evaluation_{key}_vs_iterations"]] == [3, 6]
    assert train["epoch_learning_rate"] == [(0, float(np.float32(0.05))),
                                            (1, float(np.float32(0.05)))]
    assert not any(tag.startswith("batch_") for tag in train)


def test_model_json_is_written_at_step_0(tmp_path):
    model = _model()
    keras.callbacks.TensorBoard(tmp_path).set_model(model)
    (event,) = [e for e in read_run(tmp_path / "train") if e["values"]]
    ((tag, value, plugin, content),) = event["values"]
    assert (event["step"], tag, plugin, content) == (0, "keras", "graph_keras_model", b"1")
    assert json.loads(value[0]) == json.loads(model.to_json())
    tb = keras.callbacks.TensorBoard(tmp_path / "nograph", write_graph=False)
    tb.set_model(model)
    assert not os.path.exists(tmp_path / "nograph")  # no writer used yet: no file


@pytest.mark.parametrize("update_freq, batch_steps, epoch_steps, eval_steps", [
    ("batch", [1, 2, 3, 4, 5, 6], [0, 1], [3, 6]),
    (1, [1, 2, 3, 4, 5, 6], [0, 1], [3, 6]),
    # Keras's record-if rule: only while the last batch counter is a multiple of N. Epoch 0
    # ends at batch 3 (not written), epoch 1 at batch 6; validation runs 2 batches per epoch
    # (counted 1, 2 then 3, 4) so its evaluation scalars go out when 2 or 4 was last.
    (2, [2, 4, 6], [1], [3, 6]),
    (3, [3, 6], [0, 1], []),
])
def test_batch_level_logging(tmp_path, update_freq, batch_steps, epoch_steps, eval_steps):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:5], y[:5]), verbose=0,
              shuffle=False, callbacks=[keras.callbacks.TensorBoard(
                  tmp_path, update_freq=update_freq, histogram_freq=1)])
    train, val = scalars(tmp_path / "train"), scalars(tmp_path / "validation")
    assert [s for s, _ in train["batch_loss"]] == batch_steps
    assert [s for s, _ in train["batch_mae"]] == batch_steps
    assert [s for s, _ in train["epoch_loss"]] == epoch_steps
    assert [s for s, _ in val["epoch_loss"]] == epoch_steps
    assert [s for s, _ in val.get("evaluation_loss_vs_iterations", [])] == eval_steps
    hist_steps = sorted({e["step"] for e in read_run(tmp_path / "train")
                         for v in e["values"] if v[2] == "histograms"})
    assert hist_steps == epoch_steps


def test_batch_values_are_the_running_logs(tmp_path):
    x, y = _data(8)
    model = _model()
    seen = []
    recorder = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq="batch"), recorder])
    batch_loss = scalars(tmp_path / "train")["batch_loss"]
    assert batch_loss == [(i + 1, float(np.float32(v))) for i, v in enumerate(seen)]


def test_histograms_of_every_weight(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=5, epochs=3, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=2)])
    hists = {}
    for event in read_run(tmp_path / "train"):
        for tag, value, plugin, _ in event["values"]:
            if plugin == "histograms":
                hists.setdefault(tag, []).append((event["step"], value))
    assert sorted(hists) == sorted(f"{w.path}/histogram" for w in model.weights)
    for weight in model.weights:
        steps = [s for s, _ in hists[f"{weight.path}/histogram"]]
        assert steps == [0, 2]
        last = hists[f"{weight.path}/histogram"][-1][1]  # epoch 2 is the last: final weights
        assert last.shape == (30, 3) and last.dtype == np.float64
        np.testing.assert_array_equal(last, sw.histogram_buckets(np.asarray(weight)))
        assert last[:, 2].sum() == np.asarray(weight).size


def test_write_images(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    images = {v[0]: v[1] for e in read_run(tmp_path / "train") for v in e["values"]
              if v[2] == "images"}
    # the last bias has shape (1,): squeezed to a scalar, it is not an image (as in Keras)
    assert sorted(images) == sorted(f"{w.path}/image" for w in model.weights[:3])
    kernel = np.asarray(model.weights[0])  # (3, 2): taller than wide, so transposed
    width, height, png = images[f"{model.weights[0].path}/image"]
    assert (width, height) == (b"3", b"2")
    expected = np.clip(kernel.T * np.float32(255.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_decode_png(png)[3], expected)


def test_steps_per_second_and_learning_rate_schedule(tmp_path):
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = _model()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    model.compile(keras.optimizers.SGD(schedule), "mse")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[keras.callbacks.TensorBoard(
        tmp_path, write_steps_per_second=True, update_freq="batch")])
    train = scalars(tmp_path / "train")
    # the schedule at the epoch's end: iterations 3, then 6
    assert train["epoch_learning_rate"] == [(0, float(np.float32(0.1 * 0.5 ** 1.5))),
                                            (1, float(np.float32(0.1 * 0.5 ** 3)))]
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert [s for s, _ in train["batch_steps_per_second"]] == [1, 2, 3, 4, 5, 6]
    assert all(v > 0 for _, v in train["epoch_steps_per_second"])


def test_evaluate_alone_and_after_fit_start_new_files(tmp_path):
    x, y = _data()
    model = _model()
    tb = keras.callbacks.TensorBoard(tmp_path)
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[tb])
    model.evaluate(x, y, batch_size=5, verbose=0, callbacks=[tb])
    assert len(os.listdir(tmp_path / "train")) == 2  # the model's JSON again, as in Keras
    (val_file,) = os.listdir(tmp_path / "validation")
    val = scalars(tmp_path / "validation")
    assert sorted(val) == ["evaluation_loss_vs_iterations", "evaluation_mae_vs_iterations"]
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [2]


def test_subclassed_model_has_no_model_json(tmp_path):
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    x, y = _data()
    model = Tiny()
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    tags = [tag for _, tag in tags_in_order(tmp_path / "train")]
    assert "keras" not in tags and "epoch_loss" in tags


@pytest.mark.parametrize("profile_batch", ["5", "1,0", -1, (3, 2), (1, 2, 3), 1.5])
def test_profile_batch_errors(profile_batch):
    with pytest.raises(ValueError, match="profile_batch must be a non-negative integer"):
        keras.callbacks.TensorBoard(profile_batch=profile_batch)


def test_profile_batch_accepted_with_a_warning():
    with pytest.warns(UserWarning, match="no profiler"):
        keras.callbacks.TensorBoard(profile_batch=(2, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras.callbacks.TensorBoard(profile_batch=0)


def _embedding_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Embedding(10, 3, name="emb"),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_embeddings_projector_config_and_checkpoints(tmp_path):
    x = np.random.default_rng(0).integers(0, 10, (8, 4))
    y = np.zeros((8, 1), "float32")
    metadata = {"emb": "meta.tsv"}
    model = _embedding_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.TensorBoard(
        tmp_path, embeddings_freq=1, embeddings_metadata=metadata, write_graph=False)])
    assert (tmp_path / "projector_config.pbtxt").read_text() == (
        'embeddings {\n  tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/'
        'VARIABLE_VALUE"\n  metadata_path: "meta.tsv"\n}\n')
    assert metadata == {"emb": "meta.tsv"}  # not emptied
    names = sorted(n for n in os.listdir(tmp_path / "train") if n.endswith(".h5"))
    assert names == ["keras_embedding.ckpt-0.weights.h5", "keras_embedding.ckpt-1.weights.h5"]
    with pytest.raises(ValueError, match="Unrecognized `Embedding` layer names"):
        keras.callbacks.TensorBoard(tmp_path / "x", embeddings_freq=1, embeddings_metadata={
            "nope": "a.tsv"}).set_model(model)
