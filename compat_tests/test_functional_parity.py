"""The functional API against Keras 3: the same graph built in both libraries, with Keras's
initial weights copied into minikeras, must give the same layers, outputs, gradients, training
trajectories, summary text, configs and files (rtol 1e-5, atol 1e-6).
"""

import json
import warnings

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import minikeras

RTOL, ATOL = 1e-5, 1e-6


# --- graphs, written once for any library L (keras, minikeras or tf_keras) ------------------------
def _two_inputs(L):
    """Two inputs, an Add, a Concatenate and a tensor used twice."""
    a, b = L.Input((3,), name="a"), L.Input((2,), name="b")
    h1 = L.layers.Dense(4, activation="relu")(a)
    h2 = L.layers.Dense(4, activation="tanh")(b)
    merged = L.layers.concatenate([L.layers.add([h1, h2]), h1])
    return L.Model([a, b], L.layers.Dense(1, activation="sigmoid", name="out")(merged),
                   name="two_inputs")


def _shared(L):
    """One Dense applied to two inputs and to its own output (three nodes, one kernel)."""
    a, b = L.Input((4,)), L.Input((4,))
    shared = L.layers.Dense(4, activation="tanh", name="shared")
    x = L.layers.subtract([shared(a), shared(b)])
    x = L.layers.multiply([shared(x), x])
    return L.Model(inputs=[a, b], outputs=L.layers.Dense(2)(x))


def _every_merge(L):
    """Every merging layer, broadcasting and a Concatenate on axis 1."""
    a, b = L.Input((3, 4)), L.Input((4,))
    x = L.layers.Dense(4)(a)
    parts = [L.layers.add([x, b]), L.layers.average([x, a]), L.layers.maximum([x, a, b]),
             L.layers.minimum([x, b]), L.layers.Multiply()([x, a])]
    x = L.layers.Concatenate(axis=1)(parts)
    x = L.layers.Dropout(0.3)(L.layers.Flatten()(x))
    return L.Model([a, b], L.layers.Dense(3, activation="softmax")(x), name="merges")


def _chain(L):
    """A plain chain: Keras prints it without the "Connected to" column."""
    x = L.Input((5,), name="features")
    y = L.layers.Dense(3, activation="relu")(x)
    y = L.layers.BatchNormalization()(y)
    return L.Model(x, L.layers.Dense(1)(y))


def _dict_inputs(L):
    """Inputs given as a dict (flattened in sorted key order)."""
    inputs = {"z": L.Input((2,), name="z"), "y": L.Input((3,), name="y")}
    x = L.layers.concatenate([inputs["z"], inputs["y"]])
    return L.Model(inputs, L.layers.Dense(2)(x))


GRAPHS = {"two_inputs": _two_inputs, "shared": _shared, "every_merge": _every_merge,
          "chain": _chain, "dict_inputs": _dict_inputs}


def _data(model, rng, n=6):
    """One array per input, as a list (a dict for a dict-input model, the array itself for a
    single input)."""
    arrays = {x.name: rng.normal(size=(n, *x.shape[1:])).astype("float32")
              for x in model.inputs}
    if isinstance(model.input, dict):
        return arrays
    listed = [arrays[x.name] for x in model.inputs]
    return listed[0] if len(listed) == 1 else listed


def _twins(make):
    """The same graph in Keras and minikeras, with Keras's initial weights in both."""
    keras.backend.clear_session(free_memory=False)
    k_model = make(keras)
    minikeras.backend.clear_session()
    m_model = make(minikeras)
    m_model.set_weights(k_model.get_weights())
    return k_model, m_model


# --- structure and outputs ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_layers_weights_and_shapes(name):
    k_model, m_model = _twins(GRAPHS[name])
    assert [layer.name for layer in m_model.layers] == [layer.name for layer in k_model.layers]
    assert [type(layer).__name__ for layer in m_model.layers] == [
        type(layer).__name__ for layer in k_model.layers]
    assert [w.path for w in m_model.weights] == [w.path for w in k_model.weights]
    assert m_model.input_shape == k_model.input_shape
    assert m_model.output_shape == k_model.output_shape
    assert [x.name for x in m_model.inputs] == [x.name for x in k_model.inputs]
    assert m_model.count_params() == k_model.count_params()


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_outputs_loss_and_gradients(name, rng):
    k_model, m_model = _twins(GRAPHS[name])
    x = _data(k_model, rng)
    y = rng.random(size=(6, *k_model.output_shape[1:])).astype("float32")
    np.testing.assert_allclose(m_model.predict(x, verbose=0), k_model.predict(x, verbose=0),
                               rtol=RTOL, atol=ATOL)
    with tf.GradientTape() as tape:
        k_loss = keras.losses.MeanSquaredError()(y, k_model(x, training=False))
    k_grads = tape.gradient(k_loss, k_model.trainable_weights)
    with minikeras.GradientTape() as tape:
        m_loss = minikeras.losses.MeanSquaredError()(y, m_model(x, training=False))
    m_grads = tape.gradient(m_loss, m_model.trainable_weights)
    np.testing.assert_allclose(float(m_loss), float(k_loss), rtol=RTOL, atol=ATOL)
    for w, m_g, k_g in zip(m_model.trainable_weights, m_grads, k_grads, strict=True):
        np.testing.assert_allclose(m_g, k_g.numpy(), rtol=RTOL, atol=ATOL, err_msg=w.path)


def test_a_few_epochs_of_fit_on_two_inputs(rng):
    """SGD without shuffling: same per-epoch losses, metrics and final weights."""
    k_model, m_model = _twins(_two_inputs)
    x = _data(k_model, rng, n=40)
    y = (x[0][:, :1] + x[1][:, :1] > 0).astype("float32")
    histories = []
    for model in (k_model, m_model):
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                                   validation_data=(x, y)).history)
    assert sorted(histories[1]) == sorted(histories[0])
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=RTOL, atol=ATOL,
                                   err_msg=key)
    for m_w, k_w in zip(m_model.get_weights(), k_model.get_weights(), strict=True):
        np.testing.assert_allclose(m_w, k_w, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(m_model.evaluate({"a": x[0], "b": x[1]}, y, verbose=0),
                               k_model.evaluate({"a": x[0], "b": x[1]}, y, verbose=0),
                               rtol=RTOL, atol=ATOL)


def test_several_outputs_predict_as_a_list(rng):
    outputs = []
    for L in (keras, minikeras):
        L.backend.clear_session()
        x = L.Input((3,))
        outputs.append(L.Model(x, [L.layers.Dense(1)(x), L.layers.Dense(2)(x)]))
    k_model, m_model = outputs
    m_model.set_weights(k_model.get_weights())
    data = rng.normal(size=(5, 3)).astype("float32")
    k_out, m_out = k_model.predict(data, verbose=0), m_model.predict(data, verbose=0)
    assert isinstance(m_out, list) and len(m_out) == len(k_out) == 2
    for m, k in zip(m_out, k_out, strict=True):
        np.testing.assert_allclose(m, k, rtol=RTOL, atol=ATOL)


# --- summary --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, dict(show_trainable=True), dict(line_length=130)],
                         ids=str)
@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_summary_text(name, columns, kwargs, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    texts = []
    for lib in (keras, minikeras):
        lib.backend.clear_session()
        GRAPHS[name](lib).summary(**kwargs)
        texts.append(capsys.readouterr().out)
    assert texts[1] == texts[0], f"\n--- keras ---\n{texts[0]}\n--- minikeras ---\n{texts[1]}"


# --- configs and files ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_to_json_equals_keras3(name):
    k_model, m_model = _twins(GRAPHS[name])
    assert json.loads(m_model.to_json()) == json.loads(k_model.to_json())


def _h5_layout(path):
    items = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda key, obj: items.append((key, getattr(obj, "shape", None))))
    return items


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_weights_h5_layout_equals_keras3(name, tmp_path):
    k_model, m_model = _twins(GRAPHS[name])
    k_model.save_weights(tmp_path / "k.weights.h5")
    m_model.save_weights(tmp_path / "m.weights.h5")
    assert _h5_layout(tmp_path / "m.weights.h5") == _h5_layout(tmp_path / "k.weights.h5")


def _randomized(model, rng):
    """Weights in [0.5, 1.5): non-zero, and valid as BatchNormalization's moving variance.
    Kernels are divided by sqrt(fan_in): with all-positive weights the activations otherwise grow
    layer after layer, and a softmax over logits near 100 turns the last-bit rounding differences
    of the two libraries' matrix products (float32 ulp 8e-6 there) into relative differences
    above 1e-5 in its outputs, depending on the Dropout masks of the training step."""
    model.set_weights([(rng.uniform(0.5, 1.5, size=w.shape) / np.sqrt(
        w.shape[0] if w.ndim == 2 else 1)).astype("float32") for w in model.get_weights()])
    return model


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_models_move_both_ways(name, suffix, tmp_path, rng):
    """Saved by one library (compiled, trained one step), loaded by the other: same
    predictions, and the same optimizer state from the .keras archive."""
    k_model, m_model = _twins(GRAPHS[name])
    _randomized(k_model, rng)
    m_model.set_weights(k_model.get_weights())
    x = _data(k_model, rng)
    y = rng.random(size=(6, *k_model.output_shape[1:])).astype("float32")
    for model in (k_model, m_model):
        model.compile(optimizer="adam", loss="mean_squared_error")
        model.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy .h5 warning
        m_model.save(tmp_path / f"m{suffix}")
        k_model.save(tmp_path / f"k{suffix}")
        k_loaded = keras.models.load_model(tmp_path / f"m{suffix}")
        m_loaded = minikeras.models.load_model(tmp_path / f"k{suffix}")
    for ours, theirs in ((m_model, k_loaded), (m_loaded, k_model)):
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   rtol=RTOL, atol=ATOL)
        if suffix == ".keras":
            for m_v, k_v in zip(ours.optimizer.variables, theirs.optimizer.variables,
                                strict=True):
                np.testing.assert_allclose(np.asarray(m_v.value), k_v.numpy(), rtol=RTOL,
                                           atol=ATOL)


@pytest.mark.parametrize("suffix, source", [(".weights.h5", "keras"), (".h5", "tf_keras")])
def test_weights_move_both_ways_with_tf_keras_too(suffix, source, tmp_path, rng):
    """Weights from Keras 3 (``.weights.h5``; Keras 3 refuses to write ``.h5`` weights) or
    tf.keras (Keras 2's ``.h5``) load in minikeras, and minikeras's file loads in tf.keras."""
    models = {}
    for L in (keras, minikeras, tf_keras):
        L.backend.clear_session()
        models[L.__name__] = _shared(L)
    original = _randomized(models[source], rng)
    x = _data(original, rng)
    original.save_weights(tmp_path / f"source{suffix}")
    models["minikeras"].load_weights(tmp_path / f"source{suffix}")
    models["minikeras"].save_weights(tmp_path / f"m{suffix}")
    target = models["tf_keras"] if source == "keras" else _shared(tf_keras)  # a fresh one
    target.load_weights(tmp_path / f"m{suffix}")
    expected = original.predict(x, verbose=0)
    for model in (models["minikeras"], target):
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=RTOL, atol=ATOL)


def test_tf_keras_h5_model_loads_in_minikeras(tmp_path, rng):
    """tf.keras 2 writes inbound nodes in its older list form: ``[["a", 0, 0, {}], ...]``."""
    tf_keras.backend.clear_session()
    t_model = _randomized(_two_inputs(tf_keras), rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_model.save(tmp_path / "t.h5")
        m_model = minikeras.models.load_model(tmp_path / "t.h5", compile=False)
    x = _data(t_model, rng)
    assert [layer.name for layer in m_model.layers] == [layer.name for layer in t_model.layers]
    np.testing.assert_allclose(m_model.predict(x, verbose=0), t_model.predict(x, verbose=0),
                               rtol=RTOL, atol=ATOL)
