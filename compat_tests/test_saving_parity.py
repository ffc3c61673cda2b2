"""Files cross between minikeras, Keras 3 and tf_keras (Keras 2) as keras-facts 9.4 says.

The same architecture is built in each library with the same (random) weights; a file written by
one library is loaded by another, and both then predict the same numbers. Files written by Keras
3 and tf_keras are made here, in ``tmp_path``. Compiled models go further: training continued
after the round trip equals training continued in the library that wrote the file.
"""

import json
import zipfile

import h5py
import keras
import numpy as np
import pytest
import tf_keras

import minikeras

pytestmark = pytest.mark.filterwarnings(
    "ignore:You are saving your model as an HDF5 file", "ignore:Skipping variable loading",
    "ignore:No training configuration")
RTOL, ATOL = 1e-5, 1e-6
D = 4  # input features


# --- the models: the same layers in each library -------------------------------------------------
def _activations(L):
    return [L.layers.Dense(5, activation=name) for name in
            ("relu", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "swish", "gelu",
             "exponential", "linear")] + [L.layers.Dense(3, activation="softmax")]


def _regularized(L):
    return [L.layers.Flatten(),
            L.layers.Dense(6, activation="relu", kernel_regularizer=L.regularizers.L2(0.01),
                           bias_regularizer=L.regularizers.L1(0.02),
                           activity_regularizer=L.regularizers.L1L2(0.01, 0.03)),
            L.layers.Dropout(0.3),
            L.layers.Dense(1, activation="sigmoid", kernel_regularizer="l1")]


def _batchnorm(L):
    return [L.layers.Dense(5), L.layers.BatchNormalization(), L.layers.Activation("relu"),
            L.layers.Dense(2, activation="softmax")]


def _normalization(L):
    return [L.layers.Normalization(), L.layers.Dense(3, activation="tanh"), L.layers.Dense(1)]


BODIES = {"activations": _activations, "regularized": _regularized, "batchnorm": _batchnorm,
          "normalization": _normalization}


def _mlp(L):  # for the training tests
    return [L.layers.Dense(6, activation="tanh"), L.layers.Dense(2, activation="softmax")]


def build(L, body):
    if L is tf_keras:
        tf_keras.backend.clear_session()  # the same automatic layer names in every library
    return L.Sequential([L.Input((D,)), *{**BODIES, "mlp": _mlp}[body](L)])


def randomize(model, rng):
    """Random weights; positive ones for variances, integers (Normalization's count) kept."""
    weights = []
    for w in model.weights:
        value = np.asarray(w.numpy())
        if not np.issubdtype(value.dtype, np.floating):
            weights.append(value)
        elif "variance" in w.name:
            weights.append(rng.uniform(0.5, 2.0, value.shape).astype(value.dtype))
        else:
            weights.append(rng.normal(0, 0.7, value.shape).astype(value.dtype))
    model.set_weights(weights)
    for layer in model.layers:  # Keras's Normalization reads its statistics only from here
        if hasattr(layer, "finalize_state") and layer.weights:
            layer.finalize_state()
    return model


def predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


def assert_same_predictions(a, b, x):
    np.testing.assert_allclose(predict(a, x), predict(b, x), rtol=RTOL, atol=ATOL)


@pytest.fixture
def x(rng):
    return rng.normal(size=(16, D)).astype("float32")


@pytest.fixture(params=sorted(BODIES))
def body(request):
    return request.param


# --- minikeras writes, Keras 3 and tf_keras read -------------------------------------------------
@pytest.mark.parametrize("suffix", [".weights.h5", ".h5", ".keras"])
def test_minikeras_weights_load_in_keras3_and_tf_keras(tmp_path, rng, x, body, suffix):
    source = randomize(build(minikeras, body), rng)
    path = str(tmp_path / f"m{suffix}")
    if suffix == ".keras":
        source.save(path)
    else:
        source.save_weights(path)
    for L in (keras, tf_keras):
        target = build(L, body)
        target.load_weights(path)
        assert_same_predictions(source, target, x)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_minikeras_models_load_in_keras3(tmp_path, rng, x, body, suffix):
    source = randomize(build(minikeras, body), rng)
    path = str(tmp_path / f"m{suffix}")
    source.save(path)
    assert_same_predictions(source, keras.models.load_model(path), x)


def test_minikeras_h5_model_weights_load_in_tf_keras(tmp_path, rng, x, body):
    source = randomize(build(minikeras, body), rng)
    source.save(str(tmp_path / "m.h5"))
    target = build(tf_keras, body)
    target.load_weights(str(tmp_path / "m.h5"))
    assert_same_predictions(source, target, x)


# --- Keras 3 and tf_keras write, minikeras reads -------------------------------------------------
@pytest.mark.parametrize("library, suffix", [  # Keras 3 refuses save_weights("x.h5")
    ("keras", ".weights.h5"), ("keras", ".keras"),
    ("tf_keras", ".weights.h5"), ("tf_keras", ".h5"), ("tf_keras", ".keras")])
def test_other_libraries_weights_load_in_minikeras(tmp_path, rng, x, body, library, suffix):
    L = keras if library == "keras" else tf_keras
    source = randomize(build(L, body), rng)
    path = str(tmp_path / f"k{suffix}")
    source.save(path) if suffix == ".keras" else source.save_weights(path)
    target = build(minikeras, body)
    target.load_weights(path)
    assert_same_predictions(source, target, x)


@pytest.mark.parametrize("library", ["keras", "tf_keras"])
def test_other_libraries_h5_models_load_in_minikeras(tmp_path, rng, x, body, library):
    L = keras if library == "keras" else tf_keras
    source = randomize(build(L, body), rng)
    source.save(str(tmp_path / "k.h5"))
    loaded = minikeras.saving.load_model(str(tmp_path / "k.h5"))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in source.layers]
    assert_same_predictions(source, loaded, x)


def test_keras3_archives_load_in_minikeras(tmp_path, rng, x, body):
    source = randomize(build(keras, body), rng)
    source.save(str(tmp_path / "k.keras"))
    loaded = minikeras.saving.load_model(str(tmp_path / "k.keras"))
    assert_same_config(loaded.get_config(), source.get_config())
    assert_same_predictions(source, loaded, x)


def test_tf_keras_legacy_weights_by_name(tmp_path, rng, x):
    source = randomize(build(tf_keras, "regularized"), rng)
    source.save_weights(str(tmp_path / "k.h5"))
    target = build(minikeras, "regularized")
    target.load_weights(str(tmp_path / "k.h5"), by_name=True)
    assert_same_predictions(source, target, x)


# --- the files themselves: the same layout, the same config --------------------------------------
def _h5_items(path):
    """``{path: (kind, attrs, shape, dtype, values)}`` for every object in an HDF5 file."""
    items = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            attrs = {k: str(v) for k, v in obj.attrs.items()}
            if isinstance(obj, h5py.Dataset):
                items[name] = ("dataset", attrs, obj.shape, obj.dtype.str, obj[()].tolist())
            else:
                items[name] = ("group", attrs)
        f.visititems(visit)
    return items


def test_weights_h5_layout_equals_keras3(tmp_path, rng, body):
    ours = randomize(build(minikeras, body), rng)
    theirs = build(keras, body)
    theirs.set_weights(ours.get_weights())
    ours.save_weights(str(tmp_path / "m.weights.h5"))
    theirs.save_weights(str(tmp_path / "k.weights.h5"))
    assert _h5_items(tmp_path / "m.weights.h5") == _h5_items(tmp_path / "k.weights.h5")


def _without_shared_ids(config):
    if isinstance(config, dict):
        return {k: _without_shared_ids(v) for k, v in config.items() if k != "shared_object_id"}
    if isinstance(config, list | tuple):
        return [_without_shared_ids(v) for v in config]
    return config


def assert_same_config(ours, theirs):
    """Equal JSON configs (Keras's ``shared_object_id`` aside); a failure lists the paths."""
    ours, theirs = json.loads(json.dumps(ours)), _without_shared_ids(json.loads(json.dumps(theirs)))
    differences = list(_differences(ours, theirs, "config"))
    assert not differences, "minikeras vs Keras:\n" + "\n".join(differences)


def _differences(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{path}[{key!r}]: {a.get(key, '<missing>')!r} vs {b.get(key, '<missing>')!r}"
            else:
                yield from _differences(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {a!r} vs {b!r}"


def _archive(path):
    with zipfile.ZipFile(path) as archive:
        entries = [(i.filename, i.compress_type) for i in archive.infolist()]
        return entries, json.loads(archive.read("config.json")), json.loads(
            archive.read("metadata.json"))


def _compile_with_names(L, model):
    model.compile(optimizer=L.optimizers.Adam(0.01), loss="mse", metrics=["mae"])


def _compile_with_objects(L, model):
    model.compile(
        optimizer=L.optimizers.SGD(L.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9),
                                   momentum=0.9),
        loss=L.losses.BinaryCrossentropy(label_smoothing=0.1),
        metrics=[L.metrics.BinaryAccuracy(), "mae", L.metrics.AUC()], weighted_metrics=["mse"])


def _compile_with_functions(L, model):
    model.compile(optimizer="rmsprop", loss=L.losses.mean_squared_error,
                  metrics=[L.metrics.binary_accuracy])


@pytest.mark.parametrize("compile_model", [None, _compile_with_names, _compile_with_objects,
                                           _compile_with_functions])
def test_keras_archive_equals_keras3(tmp_path, compile_model, body):
    models = {L: build(L, body) for L in (minikeras, keras)}
    for L, model in models.items():
        if compile_model:
            compile_model(L, model)
        model.save(str(tmp_path / f"{L.__name__}.keras"))
    ours = _archive(tmp_path / "minikeras.keras")
    theirs = _archive(tmp_path / "keras.keras")
    assert ours[0] == theirs[0]  # entry names, order, ZIP_STORED
    assert_same_config(ours[1], theirs[1])
    assert set(ours[2]) == set(theirs[2]) and ours[2]["keras_version"] == keras.__version__
    loaded = keras.models.load_model(str(tmp_path / "minikeras.keras"))
    assert loaded.compiled == (compile_model is not None)


def test_to_json_equals_keras3(body):
    assert_same_config(json.loads(build(minikeras, body).to_json()),
                       json.loads(build(keras, body).to_json()))


# --- compiled models: the optimizer state crosses too --------------------------------------------
def _compiled(L, rng, body="mlp"):
    """No BatchNormalization here: the bias before it has a zero gradient, on which Adam
    amplifies float noise (5e-4 apart after 12 steps, without any file involved)."""
    model = randomize(build(L, body), rng)
    model.compile(optimizer=L.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(rng):
    x = rng.normal(size=(32, D)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
    return x, y


def _assert_close_weights(a, b):
    """Adam trajectories of a few steps: atol 5e-5 (keras-facts section 10)."""
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, atol=5e-5)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras3_trained_model_continues_in_minikeras(tmp_path, rng, suffix):
    x, y = _data(rng)
    source = _compiled(keras, rng)
    source.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    source.save(str(tmp_path / f"k{suffix}"))
    loaded = minikeras.saving.load_model(str(tmp_path / f"k{suffix}"))
    assert int(loaded.optimizer.iterations.numpy()) == 4
    for ours, theirs in zip(loaded.optimizer.variables, source.optimizer.variables, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    source.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_close_weights(loaded, source)


def test_keras3_weights_h5_restore_a_built_optimizer(tmp_path, rng):
    x, y = _data(rng)
    source = _compiled(keras, rng)
    source.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    source.save_weights(str(tmp_path / "k.weights.h5"))
    target = _compiled(minikeras, rng)
    target.optimizer.build(target.trainable_variables)
    target.load_weights(str(tmp_path / "k.weights.h5"))
    source.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    target.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_close_weights(target, source)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_minikeras_trained_model_continues_in_keras3(tmp_path, rng, suffix):
    x, y = _data(rng)
    source = _compiled(minikeras, rng)
    source.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    source.save(str(tmp_path / f"m{suffix}"))
    loaded = keras.models.load_model(str(tmp_path / f"m{suffix}"))
    assert type(loaded.optimizer).__name__ == "Adam"
    assert int(loaded.optimizer.iterations.numpy()) == 4
    assert_same_predictions(source, loaded, x)
    if suffix == ".h5":
        return  # Keras 3 builds the optimizer of a loaded .h5 model for no variables: even its
        # own .h5 files fail to fit after loading ("Unknown variable")
    source.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_close_weights(source, loaded)


def test_tf_keras_trained_h5_model_restores_its_optimizer(tmp_path, rng):
    """A tutorial-era file: tf.keras's Adam (no learning_rate variable, "Custom>Adam")."""
    x, y = _data(rng)
    source = _compiled(tf_keras, rng)
    source.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    source.save(str(tmp_path / "k2.h5"))
    loaded = minikeras.saving.load_model(str(tmp_path / "k2.h5"))
    assert type(loaded.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate), 0.01, rtol=1e-6)
    theirs = [v.numpy() for v in source.optimizer.variables]
    ours = [v.numpy() for v in loaded.optimizer.variables]
    assert len(ours) == len(theirs) + 1  # Keras 3 keeps the learning rate as a variable
    for a, b in zip([ours[0], *ours[2:]], theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert_same_predictions(source, loaded, x)


def assert_files_move_both_ways(make, x, tmp_path, suffix, rng, ours_from):
    """``make(keras)`` and ``make(minikeras)`` models, Keras's with random weights and ours
    with ``ours_from(those)`` (different, so a load that keeps the old weights shows), save
    ``suffix`` files that the other library loads to the same predictions on ``x``. A
    ``.keras`` archive has Keras's entries and config; a ``.weights.h5`` file Keras's HDF5
    layout, byte for byte."""
    k, m = make(keras), make(minikeras)
    theirs = [rng.normal(0, 0.3, w.shape).astype("float32") for w in k.get_weights()]
    k.set_weights(theirs)
    m.set_weights(ours_from(theirs))
    m_path, k_path = str(tmp_path / f"m{suffix}"), str(tmp_path / f"k{suffix}")
    if suffix == ".keras":
        m.save(m_path)
        k.save(k_path)
        assert_same_predictions(m, keras.models.load_model(m_path), x)
        assert_same_predictions(k, minikeras.saving.load_model(k_path), x)
        mine, keras_archive = _archive(m_path), _archive(k_path)
        assert mine[0] == keras_archive[0]
        assert_same_config(mine[1], keras_archive[1])
        return
    m.save_weights(m_path)
    k.save_weights(k_path)
    k_target, m_target = make(keras), make(minikeras)
    k_target.load_weights(m_path)
    m_target.load_weights(k_path)
    assert_same_predictions(m, k_target, x)
    assert_same_predictions(k, m_target, x)
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    k_same, m_same = make(keras), make(minikeras)  # the same weights: byte-equal HDF5 files
    m_same.set_weights(k_same.get_weights())
    m_same.save_weights(str(tmp_path / "m2.weights.h5"))
    k_same.save_weights(str(tmp_path / "k2.weights.h5"))
    assert _h5_items(tmp_path / "m2.weights.h5") == _h5_items(tmp_path / "k2.weights.h5")
