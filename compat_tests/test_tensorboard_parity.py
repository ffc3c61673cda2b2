"""TensorBoard parity: the same model, weights and data trained in Keras and in minikeras, each with
its TensorBoard callback; both log folders are read with TensorBoard's own reader
(``EventAccumulator``) and TensorFlow's record reader (which checks the CRCs), and must show the
same runs, files, tags, plugins, steps and values.

Keras's callback needs the ``tensorboard`` package to write (``tf.summary.scalar`` is
TensorBoard's); without it these tests are skipped.
"""

import json
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras

# Keras's own conversion of its variables warns under NumPy 2; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="Keras's TensorBoard callback needs the tensorboard package")


# --- reading a log folder -------------------------------------------------------------------
def read_runs(log_dir):
    """``{run: {tag: [(step, value), ...]}}`` as TensorBoard loads them."""
    runs = {}
    for run in sorted(os.listdir(log_dir)):
        folder = os.path.join(log_dir, run)
        if not os.path.isdir(folder):
            continue
        acc = event_accumulator.EventAccumulator(
            folder, size_guidance={event_accumulator.TENSORS: 0})
        acc.Reload()
        runs[run] = {tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
                     for tag in acc.Tags()["tensors"]}
    return runs


def read_files(log_dir):
    """``{run: [[(step, tag, plugin, content), ...] per file in name order]}``, every record read
    by TensorFlow's reader; the first record of each file must be the version record."""
    files = {}
    for run in sorted(os.listdir(log_dir)):
        folder = os.path.join(log_dir, run)
        if not os.path.isdir(folder):
            continue
        files[run] = []
        names = [n for n in os.listdir(folder) if "tfevents" in n]
        # events.out.tfevents.<time>.<host>.<pid>.<n>.v2: in order of time, then of n
        for name in sorted(names, key=lambda n: (int(n.split(".")[3]), int(n.split(".")[-2]))):
            events = list(tf.compat.v1.train.summary_iterator(os.path.join(folder, name)))
            assert events[0].file_version == "brain.Event:2"
            files[run].append([
                (e.step, v.tag, v.metadata.plugin_data.plugin_name,
                 v.metadata.plugin_data.content) for e in events[1:] for v in e.summary.value])
    return files


def assert_same_values(tag, expected, actual, run="train"):
    """Scalars and histogram edges to rtol 1e-5, histogram counts exactly, images by their
    decoded pixels, the model's JSON as parsed JSON."""
    assert [s for s, _ in actual] == [s for s, _ in expected], f"{run}/{tag}"
    for (step, want), (_, got) in zip(expected, actual, strict=True):
        where = f"{run}/{tag} at step {step}"
        if tag == "keras":
            assert json.loads(got.item()) == json.loads(want.item()), where
        elif tag.endswith("/image"):
            assert list(got[:2]) == list(want[:2]) and len(got) == len(want), where
            for png_want, png_got in zip(want[2:], got[2:], strict=True):
                np.testing.assert_array_equal(tf.io.decode_png(png_got).numpy(),
                                              tf.io.decode_png(png_want).numpy(), err_msg=where)
        elif tag.endswith("/histogram"):
            assert got.shape == want.shape and got.dtype == want.dtype, where
            np.testing.assert_allclose(got[:, :2], want[:, :2], rtol=1e-5, atol=1e-7,
                                       err_msg=where)
            np.testing.assert_array_equal(got[:, 2], want[:, 2], err_msg=where)
        else:
            assert got.dtype == want.dtype == np.float32 and got.shape == (), where
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=where)


def assert_same_logs(keras_dir, mini_dir, compare_values=True):
    keras_files, mini_files = read_files(keras_dir), read_files(mini_dir)
    assert mini_files == keras_files  # runs, files, and in each the (step, tag, plugin) order
    keras_runs, mini_runs = read_runs(keras_dir), read_runs(mini_dir)
    assert {run: sorted(tags) for run, tags in mini_runs.items()} == {
        run: sorted(tags) for run, tags in keras_runs.items()}
    if compare_values:
        for run, tags in keras_runs.items():
            for tag, expected in tags.items():
                assert_same_values(tag, expected, mini_runs[run][tag], run)
    return keras_runs


# --- the models -----------------------------------------------------------------------------
def sequential(lib):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="relu"),
                           lib.layers.Dense(1)])


def functional(lib):
    inputs = lib.Input((3,))
    hidden = lib.layers.Dense(4, activation="tanh")(inputs)
    return lib.Model(inputs, lib.layers.Dense(1)(hidden))


def data(n=10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def fit_both(tmp_path, build=sequential, optimizer=lambda lib: lib.optimizers.SGD(0.05),
             epochs=3, validation=True, evaluate_after=False, **tb_kwargs):
    """Fit the twins (Keras's initial weights copied into minikeras) with a TensorBoard callback
    each; returns the two log folders."""
    x, y = data()
    dirs = {}
    weights = None
    for name, lib in (("keras", keras), ("minikeras", minikeras)):
        model = build(lib)
        if weights is None:
            weights = model.get_weights()
        else:
            model.set_weights(weights)
        model.compile(optimizer(lib), "mse", metrics=["mae"])
        dirs[name] = str(tmp_path / name)
        callback = lib.callbacks.TensorBoard(dirs[name], **tb_kwargs)
        model.fit(x, y, batch_size=4, epochs=epochs, shuffle=False, verbose=0,
                  validation_data=(x[:5], y[:5]) if validation else None, callbacks=[callback])
        if evaluate_after:
            model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[callback])
    return dirs["keras"], dirs["minikeras"]


# --- the tests ------------------------------------------------------------------------------
@pytest.mark.parametrize("update_freq", ["epoch", "batch", 2, 3])
def test_fit_with_validation_and_histograms_parity(tmp_path, update_freq):
    keras_dir, mini_dir = fit_both(tmp_path, update_freq=update_freq, histogram_freq=1,
                                   write_images=True)
    runs = assert_same_logs(keras_dir, mini_dir)
    # what was compared is not empty: the tags Keras writes are all there
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate", "keras",
            "sequential/dense/kernel/histogram", "sequential/dense/kernel/image"} <= set(
                runs["train"])
    assert {"epoch_loss", "epoch_mae"} <= set(runs["validation"])
    assert any(tag.startswith("batch_") for tag in runs["train"]) == (update_freq != "epoch")


def test_histogram_freq_2_and_no_graph_parity(tmp_path):
    keras_dir, mini_dir = fit_both(tmp_path, epochs=4, histogram_freq=2, write_graph=False,
                                   validation=False)
    runs = assert_same_logs(keras_dir, mini_dir)
    assert "keras" not in runs["train"] and list(runs) == ["train"]
    assert [s for s, _ in runs["train"]["sequential/dense/bias/histogram"]] == [0, 2]


def test_functional_model_and_evaluate_after_fit_parity(tmp_path):
    keras_dir, mini_dir = fit_both(tmp_path, build=functional, evaluate_after=True,
                                   update_freq=2)
    runs = assert_same_logs(keras_dir, mini_dir)
    assert len(read_files(keras_dir)["train"]) == 2  # evaluate() wrote the JSON again
    assert json.loads(runs["train"]["keras"][0][1].item())["class_name"] == "Functional"


def test_learning_rate_schedule_and_steps_per_second_parity(tmp_path):
    def schedule(lib):
        return lib.optimizers.SGD(lib.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5))

    keras_dir, mini_dir = fit_both(tmp_path, optimizer=schedule, write_steps_per_second=True,
                                   update_freq="batch")
    # timings differ; the tags, steps and order must not, nor the learning rates
    runs = assert_same_logs(keras_dir, mini_dir, compare_values=False)
    mini_runs = read_runs(mini_dir)
    assert_same_values("epoch_learning_rate", runs["train"]["epoch_learning_rate"],
                       mini_runs["train"]["epoch_learning_rate"])
    assert {"epoch_steps_per_second", "batch_steps_per_second"} <= set(mini_runs["train"])


def test_subclassed_model_parity(tmp_path):
    def build(lib):
        class Tiny(lib.Model):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(1)

            def call(self, x):
                return self.dense(x)

        return Tiny()

    keras_dir, mini_dir = fit_both(tmp_path, build=build, epochs=2, validation=False)
    files = read_files(mini_dir)
    assert files == read_files(keras_dir)
    assert "keras" not in {tag for _, tag, _, _ in files["train"][0]}


def test_embeddings_parity(tmp_path):
    x = np.random.default_rng(0).integers(0, 10, (8, 4))
    y = np.zeros((8, 1), "float32")
    out = {}
    for name, lib in (("keras", keras), ("minikeras", minikeras)):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Embedding(10, 3, name="emb"),
                                lib.layers.Flatten(), lib.layers.Dense(1)])
        model.compile("sgd", "mse")
        log_dir = tmp_path / name
        log_dir.mkdir()  # Keras's callback fails on a missing folder here
        model.fit(x, y, epochs=2, verbose=0, callbacks=[lib.callbacks.TensorBoard(
            log_dir, embeddings_freq=1, embeddings_metadata={"emb": "meta.tsv"})])
        out[name] = ((log_dir / "projector_config.pbtxt").read_text(),
                     sorted(n for n in os.listdir(log_dir / "train") if n.endswith(".h5")))
        with pytest.raises(ValueError) as error:
            lib.callbacks.TensorBoard(log_dir, embeddings_freq=1,
                                      embeddings_metadata={"nope": "a.tsv"}).set_model(model)
        out[name] += (str(error.value),)
    assert out["minikeras"] == out["keras"]
    assert "metadata_path" in out["keras"][0] and len(out["keras"][1]) == 2


@pytest.mark.parametrize("profile_batch", ["5", "1,0", -1, (3, 2), (1, 2, 3), 1.5])
def test_profile_batch_error_parity(profile_batch):
    messages = []
    for lib in (keras, minikeras):
        with pytest.raises(ValueError) as error:
            lib.callbacks.TensorBoard(profile_batch=profile_batch)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_constructor_defaults_parity():
    def state(callback):
        return {key: getattr(callback, key) for key in (
            "log_dir", "histogram_freq", "write_graph", "write_images", "write_steps_per_second",
            "update_freq", "embeddings_freq", "embeddings_metadata")}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert state(minikeras.callbacks.TensorBoard()) == state(keras.callbacks.TensorBoard())
        assert state(minikeras.callbacks.TensorBoard("x", update_freq="batch")) == state(
            keras.callbacks.TensorBoard("x", update_freq="batch"))
