"""The functional API: symbolic calls, graphs, shared layers, merging layers, errors, saving."""

import json

import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check

import minikeras
from minikeras import layers


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _two_inputs():
    """a ─► dense ─┐            ┌─────────────┐
                   add ─► concatenate ─► out
       b ─► dense_1┘   dense ─┘ (dense's output used twice)"""
    a = minikeras.Input((3,), name="a")
    b = minikeras.Input((2,), name="b")
    h1 = layers.Dense(4, activation="relu")(a)
    h2 = layers.Dense(4)(b)
    merged = layers.concatenate([layers.add([h1, h2]), h1])
    return minikeras.Model([a, b], layers.Dense(1, name="out")(merged), name="two")


# --- symbolic calls ------------------------------------------------------------------------------
def test_a_layer_on_a_keras_tensor_builds_and_computes_nothing():
    x = minikeras.Input((3,), name="x")
    dense = layers.Dense(5)
    y = dense(x)
    assert isinstance(y, minikeras.layers.KerasTensor)
    assert (y.shape, y.dtype, y.name) == ((None, 5), "float32", "keras_tensor")
    assert dense.built and dense.kernel.shape == (3, 5)
    operation, node_index, tensor_index = y._keras_history
    assert (operation, node_index, tensor_index) == (dense, 0, 0)
    assert dense._inbound_nodes[0].input_tensors == [x]
    assert dense(x)._keras_history.node_index == 1  # a second call: a second node


def test_symbolic_shapes_of_the_layers():
    x = minikeras.Input((4, 6))
    assert layers.Flatten()(x).shape == (None, 24)
    assert layers.Reshape((3, 8))(x).shape == (None, 3, 8)
    assert layers.Dense(2)(x).shape == (None, 4, 2)
    assert layers.Dropout(0.5)(x).shape == (None, 4, 6)
    assert layers.concatenate([x, x], axis=1).shape == (None, 8, 6)
    assert layers.add([x, minikeras.Input((6,))]).shape == (None, 4, 6)  # broadcast


def test_a_symbolic_call_checks_the_input_spec():
    dense = layers.Dense(2)
    dense(minikeras.Input((3,)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        dense(minikeras.Input((4,)))


# --- the model -----------------------------------------------------------------------------------
def test_model_inputs_outputs_layers_and_shapes():
    model = _two_inputs()
    assert type(model).__name__ == "Functional" and isinstance(model, minikeras.Model)
    assert [layer.name for layer in model.layers] == ["a", "b", "dense", "dense_1", "add",
                                                      "concatenate", "out"]
    assert [x.name for x in model.inputs] == ["a", "b"]
    assert model.input_shape == [(None, 3), (None, 2)] and model.output_shape == (None, 1)
    assert model.get_layer("add") is model.layers[4] and model.get_layer(index=6).name == "out"
    assert [w.path for w in model.weights] == ["dense/kernel", "dense/bias", "dense_1/kernel",
                                               "dense_1/bias", "out/kernel", "out/bias"]
    assert model.count_params() == 16 + 12 + 9


def test_the_graph_computes_what_the_layers_compute():
    model = _two_inputs()
    a, b = _x(5, 3), _x(5, 2, seed=1)
    dense, dense_1, out = (model.get_layer(n) for n in ("dense", "dense_1", "out"))
    h1 = np.maximum(a @ dense.kernel.numpy() + dense.bias.numpy(), 0)
    h2 = b @ dense_1.kernel.numpy() + dense_1.bias.numpy()
    expected = np.concatenate([h1 + h2, h1], axis=-1) @ out.kernel.numpy() + out.bias.numpy()
    np.testing.assert_allclose(model([a, b]), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict({"b": b, "a": a}, verbose=0), expected, rtol=1e-5,
                               atol=1e-6)


def test_a_shared_layer_has_one_set_of_weights_and_two_nodes():
    shared = layers.Dense(3, activation="tanh", name="shared")
    x = minikeras.Input((3,))
    model = minikeras.Model(x, shared(shared(x)))
    assert len(model.weights) == 2 and len(shared._inbound_nodes) == 2
    v = _x(4, 3)
    k, bias = shared.kernel.numpy(), shared.bias.numpy()
    np.testing.assert_allclose(model(v), np.tanh(np.tanh(v @ k + bias) @ k + bias), rtol=1e-5,
                               atol=1e-6)


def test_single_output_in_a_list_is_unpacked_and_several_are_a_list():
    x = minikeras.Input((2,))
    assert minikeras.Model(x, [layers.Dense(1)(x)]).predict(_x(3, 2), verbose=0).shape == (3, 1)
    model = minikeras.Model(x, [layers.Dense(1)(x), layers.Dense(2)(x)])
    outputs = model.predict(_x(5, 2), batch_size=2, verbose=0)
    assert isinstance(outputs, list) and [o.shape for o in outputs] == [(5, 1), (5, 2)]
    model.compile("sgd", "mse")  # several outputs train: see test_multi_output.py
    history = model.fit(_x(5, 2), [_x(5, 1), _x(5, 2)], verbose=0)
    assert sorted(history.history) == ["dense_1_loss", "dense_2_loss", "loss"]


def test_gradients_through_a_graph_with_two_inputs_and_a_shared_layer():
    with floatx("float64"):
        a, b = minikeras.Input((3,)), minikeras.Input((3,))
        shared = layers.Dense(3, activation="tanh")
        merged = layers.concatenate([layers.multiply([shared(a), shared(b)]),
                                     layers.subtract([a, b])])
        model = minikeras.Model([a, b], layers.Dense(2)(merged))
        gradient_check(lambda xa, xb: model([xa, xb]), _x(4, 3), _x(4, 3, seed=1))
        x = minikeras.Input((3,))
        chained = minikeras.Model(x, layers.average([shared(x), layers.Dense(3)(x)]))
        layer_gradient_check(chained, _x(4, 3))


def test_fit_on_two_inputs_lowers_the_loss():
    minikeras.utils.set_random_seed(0)
    model = _two_inputs()
    model.compile(optimizer=minikeras.optimizers.SGD(0.05), loss="mse")
    a, b = _x(64, 3), _x(64, 2, seed=1)
    y = a[:, :1] - b[:, 1:]
    history = model.fit([a, b], y, epochs=10, batch_size=16, validation_split=0.25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "val_loss" in history.history
    assert model.train_on_batch({"a": a, "b": b}, y) < history.history["loss"][0]


# --- merging layers ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, fn", [(layers.Add, np.add), (layers.Subtract, np.subtract),
                                     (layers.Multiply, np.multiply),
                                     (layers.Maximum, np.maximum), (layers.Minimum, np.minimum),
                                     (layers.Average, lambda p, q: (p + q) / 2)])
def test_merging_layers_on_arrays(cls, fn):
    p, q = _x(3, 4), _x(3, 4, seed=1)
    np.testing.assert_allclose(cls()([p, q]), fn(p, q), rtol=1e-6)


def test_merging_broadcasts_lower_rank_inputs_after_the_batch_axis():
    p, q = _x(2, 3, 4), _x(2, 4, seed=1)
    np.testing.assert_allclose(layers.Add()([p, q]), p + q[:, None, :], rtol=1e-6)
    np.testing.assert_allclose(layers.Concatenate(axis=1)([p, p]), np.concatenate([p, p], 1))


def test_merging_errors_name_the_shapes():
    a, b = minikeras.Input((3,)), minikeras.Input((2,))
    with pytest.raises(ValueError, match=r"incompatible shapes. Received shapes \(3,\) and"):
        layers.add([a, b])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.subtract([a, a, a])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.concatenate([minikeras.Input((2, 3)), minikeras.Input((4, 5))])
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        layers.Add()(a)


# --- bad graphs and bad inputs -------------------------------------------------------------------
def test_a_disconnected_graph_names_the_missing_input():
    a, b = minikeras.Input((3,), name="a"), minikeras.Input((3,), name="b")
    out = layers.add([a, b])
    with pytest.raises(ValueError, match=r"not connected to `inputs`.*\['b'\]"):
        minikeras.Model(a, out)


def test_inputs_must_be_keras_tensors_from_input():
    a = minikeras.Input((3,))
    with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
        minikeras.Model(a, np.ones(3))
    with pytest.raises(ValueError, match="must come from `keras.Input"):
        minikeras.Model(layers.Dense(2)(a), layers.Dense(1)(a))


def test_wrong_number_or_shape_of_inputs():
    model = _two_inputs()
    with pytest.raises(ValueError, match=r"expects 2 named input\(s\) with keys \['a', 'b'\], "
                                         r"but it received 1 input tensors"):
        model(_x(2, 3))
    with pytest.raises(ValueError, match=r"Input 1 with name 'b' of layer 'two' is incompatible "
                                         r"with the layer: expected shape=\(None, 2\), found "
                                         r"shape=\(2, 4\)"):
        model.predict([_x(2, 3), _x(2, 4)], verbose=0)
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.predict([_x(2, 3), _x(3, 2)], verbose=0)
    with pytest.raises(ValueError, match=r"without the input\(s\) \['b'\]"):
        model({"a": _x(2, 3)})


def test_get_layer_errors():
    model = _two_inputs()
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="at index 20 but model only has 7 layers"):
        model.get_layer(index=20)


# --- summary and saving --------------------------------------------------------------------------
def test_summary_has_the_connected_to_column_for_a_graph(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    _two_inputs().summary(line_length=108)
    text = capsys.readouterr().out
    assert "Connected to" in text and "a (InputLayer)" in text
    assert "│ dense[0][0], dense_1[0][0] │" in text
    x = minikeras.Input((2,))
    minikeras.Model(x, layers.Dense(1)(x)).summary()
    assert "Connected to" not in capsys.readouterr().out  # a plain chain


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
@pytest.mark.filterwarnings("ignore:No training configuration found")
def test_config_round_trip_and_saving(tmp_path):
    model = _two_inputs()
    config = json.loads(model.to_json())
    assert config["class_name"] == "Functional"
    assert config["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["config"]["output_layers"] == ["out", 0, 0]
    x = [_x(4, 3), _x(4, 2, seed=1)]
    clone = minikeras.models.clone_model(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    for name in ("m.keras", "m.h5"):
        model.save(tmp_path / name)
        loaded = minikeras.models.load_model(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for name in ("w.weights.h5", "w.h5"):
        model.save_weights(tmp_path / name)
        clone.set_weights([np.zeros_like(w) for w in clone.get_weights()])
        clone.load_weights(tmp_path / name)
        np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
