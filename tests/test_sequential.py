"""Sequential: building, calling, weights, names, training flags and errors."""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check

import minikeras
from minikeras import layers, ops


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _tutorial_model():
    """The seed's 2-3-1 network: two inputs, three hidden sigmoid units, one sigmoid output."""
    return minikeras.Sequential([minikeras.Input((2,)), layers.Dense(3, activation="sigmoid"),
                                 layers.Dense(1, activation="sigmoid")])


# --- building ------------------------------------------------------------------------------------
def test_input_first_builds_at_once():
    model = _tutorial_model()
    assert model.built and model.input_shape == (None, 2)
    assert [w.shape for w in model.get_weights()] == [(2, 3), (3,), (3, 1), (1,)]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]  # no InputLayer
    assert [w.path for w in model.weights] == ["sequential/dense/kernel", "sequential/dense/bias",
                                               "sequential/dense_1/kernel",
                                               "sequential/dense_1/bias"]
    assert model.count_params() == 13


@pytest.mark.parametrize("first", [lambda: layers.Dense(3, input_shape=(2,)),
                                   lambda: layers.Dense(3, input_dim=2),
                                   lambda: layers.Dense(3, batch_input_shape=(None, 2))],
                         ids=["input_shape", "input_dim", "batch_input_shape"])
def test_tf_keras_2_input_idioms(first):
    model = minikeras.Sequential([first(), layers.Dense(1)])
    assert model.built and model.input_shape == (None, 2)
    assert [w.shape for w in model.weights] == [(2, 3), (3,), (3, 1), (1,)]


def test_unbuilt_model_builds_on_build_or_first_call():
    model = minikeras.Sequential([layers.Dense(3), layers.Dense(1)])
    assert not model.built and model.weights == []
    with pytest.raises(AttributeError, match="no defined input shape yet"):
        model.input_shape  # noqa: B018  (as in Keras: an unbuilt model has no input shape)
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    model.build((None, 5))
    assert model.built and model.count_params() == 5 * 3 + 3 + 3 + 1
    other = minikeras.Sequential([layers.Dense(3), layers.Dense(1)])
    assert other(_x(4, 7)).shape == (4, 1)
    assert other.input_shape == (4, 7)  # Keras keeps the first call's batch size
    assert other(_x(2, 7)).shape == (2, 1)


def test_add_and_pop():
    model = minikeras.Sequential()
    model.add(minikeras.Input((4,)))
    model.add(layers.Dense(3))
    assert model.built and len(model.weights) == 2
    model.add(layers.Dense(2))
    assert model(_x(1, 4)).shape == (1, 2)
    popped = model.pop()
    assert popped.name == "dense_1" and model(_x(1, 4)).shape == (1, 3)


def test_add_errors():
    model = minikeras.Sequential([layers.Dense(2, name="same")])
    with pytest.raises(ValueError, match="unique names.*'same'"):
        model.add(layers.Dense(2, name="same"))
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        model.add("dense")
    with pytest.raises(ValueError, match="no layers"):
        minikeras.Sequential().build((None, 2))


# --- calling -------------------------------------------------------------------------------------
def test_forward_equals_the_numpy_formula():
    model = _tutorial_model()
    w1, b1, w2, b2 = model.get_weights()
    x = _x(8, 2)
    expected = _sigmoid(_sigmoid(x @ w1 + b1) @ w2 + b2)
    out = model(x)
    assert isinstance(out, minikeras.Tensor) and out.dtype == "float32"
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_model_gradients_match_finite_differences():
    with floatx("float64"):
        model = minikeras.Sequential([
            minikeras.Input((2, 3)), layers.Dense(4, activation="tanh"), layers.Dropout(0.5),
            layers.Flatten(), layers.Dense(3, activation="elu"), layers.Activation("softmax"),
            layers.Dense(2, use_bias=False, activation="softplus")])
        layer_gradient_check(model, _x(3, 2, 3))  # Dropout is inactive: no training flag


def test_set_weights_and_get_weights_on_a_model():
    model = _tutorial_model()
    values = [np.full(w.shape, i, dtype="float32") for i, w in enumerate(model.weights)]
    model.set_weights(values)
    for got, want in zip(model.get_weights(), values, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(model.layers[1].bias.numpy(), [3.0])


def test_training_flag_reaches_dropout():
    model = minikeras.Sequential([minikeras.Input((50,)), layers.Dropout(0.5, seed=1)])
    x = np.ones((20, 50), dtype="float32")
    np.testing.assert_array_equal(model(x), x)
    np.testing.assert_array_equal(model(x, training=False), x)
    dropped = np.asarray(model(x, training=True))
    assert set(np.unique(dropped)) == {0.0, 2.0}


def test_rank_3_inputs_through_dense_and_flatten():
    model = minikeras.Sequential([minikeras.Input((5, 3)), layers.Dense(4), layers.Flatten(),
                                  layers.Dense(2)])
    assert model.compute_output_shape((None, 5, 3)) == (None, 2)
    assert [layer.output.shape for layer in model.layers] == [(None, 5, 4), (None, 20),
                                                              (None, 2)]
    x = _x(6, 5, 3)
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(model(x), (x @ k1 + b1).reshape(6, -1) @ k2 + b2, rtol=1e-5,
                               atol=1e-6)


def test_model_losses_collect_every_layer():
    model = minikeras.Sequential([
        minikeras.Input((3,)), layers.Dense(4, kernel_regularizer="l2", activity_regularizer="l1"),
        layers.Dense(1, bias_regularizer="l2", bias_initializer="ones")])
    x = _x(5, 3)
    hidden = np.asarray(model.layers[0](x))
    model(x)
    kernel = model.layers[0].kernel.numpy()
    expected = 0.01 * np.abs(hidden).sum() / 5 + 0.01 * np.sum(kernel**2) + 0.01 * 1.0
    np.testing.assert_allclose(float(sum(float(loss) for loss in model.losses)), expected,
                               rtol=1e-5)
    assert len(model.losses) == 3


def test_freezing_a_layer_inside_a_model():
    model = _tutorial_model()
    model.layers[0].trainable = False
    assert [w.path for w in model.trainable_weights] == ["sequential/dense_1/kernel",
                                                         "sequential/dense_1/bias"]
    assert len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


# --- names ---------------------------------------------------------------------------------------
def test_names_are_shared_across_models_until_clear_session():
    first, second = _tutorial_model(), _tutorial_model()
    assert (first.name, second.name) == ("sequential", "sequential_1")
    assert [layer.name for layer in second.layers] == ["dense_2", "dense_3"]
    assert second.weights[0].path == "sequential_1/dense_2/kernel"
    minikeras.backend.clear_session()
    assert _tutorial_model().layers[0].name == "dense"


# --- bad inputs: clear errors, model unchanged ---------------------------------------------------
def _assert_same(model, before):
    for got, want in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad, error, message", [
    (np.ones((4, 3)), ValueError, r"'dense'.*value 2, but received input with shape \(4, 3\)"),
    (np.ones(2), ValueError, r"'dense'.*expected min_ndim=2, found ndim=1"),
    (np.array([["a", "b"]]), TypeError, r"'dense'.*numeric"),  # the model passes strings on
    ([["1", "2"]], TypeError, r"'dense'.*numeric"),
])
def test_bad_inputs_leave_a_built_model_unchanged(bad, error, message):
    model = _tutorial_model()
    x = _x(4, 2)
    before, expected = model.get_weights(), np.asarray(model(x))
    with pytest.raises(error, match=message):
        model(bad)
    _assert_same(model, before)
    np.testing.assert_array_equal(model(x), expected)


def test_a_bad_first_call_does_not_fix_an_unbuilt_models_input_shape():
    model = minikeras.Sequential([layers.Dense(3), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"'dense'.*min_ndim=2"):
        model(np.ones(4))
    assert not model.built and model.weights == []
    assert model(_x(2, 4)).shape == (2, 1) and model.input_shape == (2, 4)


def test_set_weights_errors_leave_the_model_unchanged():
    model = _tutorial_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"'sequential'.*length 3, but the layer was expecting 4"):
        model.set_weights(before[:3])
    wrong = [before[0], before[1], np.ones((1, 3)), before[3] + 1]
    with pytest.raises(ValueError, match=r"\(3, 1\) is not compatible with provided weight "
                                         r"shape \(1, 3\)"):
        model.set_weights(wrong)
    _assert_same(model, before)


def test_build_with_a_different_shape_than_the_input():
    model = _tutorial_model()
    with pytest.raises(ValueError, match=r"input shape \(None, 2\).*\(None, 5\)"):
        model.build((None, 5))
    assert model.built and model.input_shape == (None, 2)


def test_gradient_descent_on_the_tutorial_network():
    """The seed's network learns XOR-like data by plain gradient descent with a tape."""
    minikeras.utils.set_random_seed(0)
    model = minikeras.Sequential([minikeras.Input((2,)), layers.Dense(8, activation="tanh"),
                                  layers.Dense(1, activation="sigmoid")])
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [1], [1], [0]], dtype="float32")
    losses = []
    for _ in range(500):
        with minikeras.GradientTape() as tape:
            loss = ops.mean(ops.binary_crossentropy(y, model(x)))
        grads = tape.gradient(loss, model.trainable_weights)
        for w, g in zip(model.trainable_weights, grads, strict=True):
            w.assign_sub(1.0 * g)
        losses.append(float(loss))
    assert losses[-1] < 0.1 * losses[0]
    assert np.array_equal(np.asarray(model(x)) > 0.5, y > 0.5)


# --- the graph behind a built model: inputs, outputs, layer.output ---------------------------


def test_hidden_activations_through_a_feature_extractor():
    """The tutorial idiom: a Model from the Sequential's input to every layer's output gives the
    hidden activations, equal to the formula on the trained weights."""
    model = _tutorial_model()
    extractor = minikeras.Model(inputs=model.inputs,
                                outputs=[layer.output for layer in model.layers])
    x = _x(4, 2)
    hidden, out = extractor.predict(x, verbose=0)
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(hidden, _sigmoid(x @ k1 + b1), rtol=1e-5)
    np.testing.assert_allclose(out, _sigmoid(hidden @ k2 + b2), rtol=1e-5)
    assert extractor.layers[1] is model.layers[0]  # the same layer: its weights are shared
    one = minikeras.Model(model.input, model.get_layer(model.layers[0].name).output)
    np.testing.assert_allclose(one(x), hidden, rtol=1e-6)


def test_inputs_outputs_appear_when_built_and_follow_add_and_pop():
    model = minikeras.Sequential([layers.Dense(3, name="a")])
    for name, message in [("inputs", "has no defined inputs yet"),
                          ("outputs", "has no defined outputs yet"),
                          ("input", "has never been called and thus has no defined input"),
                          ("output", "has never been called and thus has no defined output")]:
        with pytest.raises(AttributeError, match=message):
            getattr(model, name)
    with pytest.raises(AttributeError, match="The layer a has never been called"):
        _ = model.layers[0].output
    model.build((None, 5))
    assert model.inputs[0].shape == (None, 5) and model.outputs[0].shape == (None, 3)
    assert model.input is model.inputs[0] and model.output is model.outputs[0]
    first_output = model.layers[0].output
    model.add(layers.Dense(2, name="b"))
    assert model.outputs[0].shape == (None, 2)
    assert model.layers[0].output is first_output  # a layer's output is that of its first call
    model.pop()
    assert model.outputs[0].shape == (None, 3)


def test_a_model_nested_in_a_sequential_builds_and_trains():
    """A Sequential (or a functional base model) used as the first layer of another one."""
    base = minikeras.Sequential([layers.Dense(4, activation="relu")])
    model = minikeras.Sequential([minikeras.Input((3,)), base, layers.Dense(1)])
    assert base.output_shape == (None, 4) and model.output_shape == (None, 1)
    assert len(model.weights) == 4
    model.compile("sgd", "mse")
    history = model.fit(_x(8, 3), _x(8, 1, seed=1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    functional = minikeras.Model(model.inputs, model.outputs)
    np.testing.assert_allclose(functional(_x(2, 3)), model(_x(2, 3)), rtol=1e-6)


def test_get_layer_by_name_and_index():
    model = _tutorial_model()
    assert model.get_layer(index=1) is model.layers[1]
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    with pytest.raises(ValueError, match="No such layer: nope. Existing layers are"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="retrieve layer at index 5 but model only has 2"):
        model.get_layer(index=5)


def test_a_built_model_first_builds_the_sequential_at_once():
    """``Sequential([base_model, Dense(2)])`` (transfer learning) is built at once from the base
    model's input shape, as in Keras; a base with two inputs leaves it unbuilt."""
    base = minikeras.Sequential([minikeras.Input((5,)), layers.Dense(4)])
    model = minikeras.Sequential([base, layers.Dense(2)])
    assert model.built and model.input_shape == (None, 5) and model.output_shape == (None, 2)
    a, b = minikeras.Input((2,)), minikeras.Input((3,))
    two = minikeras.Model([a, b], layers.Concatenate()([a, b]))
    assert not minikeras.Sequential([two, layers.Dense(1)]).built
