"""The Layer API, Dense, Dropout, Flatten, Activation: behaviour, configs, and clear errors."""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check

import minikeras
from minikeras import activations, initializers, layers, ops, regularizers


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _snapshot(layer):
    return [w.copy() for w in layer.get_weights()]


def _assert_unchanged(layer, before):
    after = layer.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before, strict=True):
        np.testing.assert_array_equal(a, b)


class Custom(layers.Layer):
    def build(self, input_shape):
        self.a = self.add_weight(shape=(input_shape[-1],), name="a")
        self.frozen = self.add_weight(shape=(2,), trainable=False, name="frozen")
        self.b = self.add_weight(name="b")
        self.inner = layers.Dense(2)

    def call(self, inputs):
        return self.inner(inputs * self.a + self.b)


# --- add_weight, weights, trainable --------------------------------------------------------------
def test_add_weight_defaults():
    layer = layers.Layer(name="holder")
    w = layer.add_weight(shape=(40, 60))
    assert w.dtype == "float32" and w.trainable and w.shape == (40, 60)
    assert w.name == "variable" and w.path == "holder/variable"
    limit = np.sqrt(6 / (40 + 60))  # glorot_uniform, the default for float weights
    assert np.abs(w.numpy()).max() <= limit and np.abs(w.numpy()).max() > 0.9 * limit
    assert layer.add_weight().shape == ()  # shape=None -> a scalar
    counter = layer.add_weight(shape=(2,), dtype="int32", trainable=False)
    assert counter.dtype == "int32" and not counter.trainable
    np.testing.assert_array_equal(counter.numpy(), [0, 0])  # "zeros" for non-float dtypes
    ones = layer.add_weight(shape=(3,), initializer="ones", regularizer="l2", constraint="non_neg")
    np.testing.assert_array_equal(ones.numpy(), np.ones(3))
    assert isinstance(ones.regularizer, regularizers.L2) and ones.constraint is not None


def test_weights_order_trainable_then_non_trainable_then_sublayers():
    layer = Custom()
    layer(_x(4, 3))
    assert [w.name for w in layer.weights] == ["a", "b", "frozen", "kernel", "bias"]
    assert [w.name for w in layer.trainable_weights] == ["a", "b", "kernel", "bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["frozen"]
    assert layer.variables == layer.weights
    assert layer.trainable_variables == layer.trainable_weights
    assert layer.count_params() == 3 + 2 + 1 + 3 * 2 + 2


def test_freezing_a_layer_freezes_its_weights_and_sublayers():
    layer = Custom()
    layer(_x(4, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 5
    assert not layer.inner.trainable and not layer.inner.kernel.trainable
    with minikeras.GradientTape() as tape:  # frozen weights are not watched any more
        loss = ops.sum(layer(_x(4, 3)))
    assert tape.gradient(loss, layer.inner.kernel) is None
    layer.trainable = True
    assert [w.name for w in layer.trainable_weights] == ["a", "b", "kernel", "bias"]
    assert not layer.frozen.trainable  # a weight created non-trainable stays so
    dense = layers.Dense(3, trainable=False)
    dense.build((None, 2))
    assert dense.trainable_weights == [] and not dense.kernel.trainable
    with pytest.raises(ValueError, match="trainable"):
        layers.Dense(3, trainable="yes")


def test_get_and_set_weights():
    dense = layers.Dense(3)
    dense.build((None, 2))
    new = [np.arange(6, dtype="float32").reshape(2, 3), np.array([1.0, 2.0, 3.0])]
    dense.set_weights(new)
    got = dense.get_weights()
    np.testing.assert_array_equal(got[0], new[0])
    assert got[1].dtype == "float32"  # values are cast to the weight's dtype
    new[0][0, 0] = 100.0
    got[1][0] = 100.0  # neither the source nor the returned copies alias the weights
    assert dense.kernel.numpy()[0, 0] == 0 and dense.bias.numpy()[0] == 1.0
    x = _x(4, 2)
    np.testing.assert_allclose(dense(x), x @ dense.kernel.numpy() + dense.bias.numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("bad, message", [
    ([np.ones((2, 3))], r"length 1, but the layer was expecting 2 weights"),
    ([np.ones((2, 3)), np.ones(3), np.ones(1)], r"length 3, but the layer was expecting 2"),
    ([np.ones((3, 3)), np.ones(3)], r"weight shape \(2, 3\) is not compatible with provided "
                                    r"weight shape \(3, 3\)"),
    ([np.ones((2, 3)), np.ones(4)], r"weight shape \(3,\) is not compatible with provided "
                                    r"weight shape \(4,\)"),
])
def test_set_weights_errors_leave_weights_unchanged(bad, message):
    dense = layers.Dense(3)
    dense.build((None, 2))
    before = _snapshot(dense)
    with pytest.raises(ValueError, match=message) as info:
        dense.set_weights(bad)
    assert "dense" in str(info.value)
    _assert_unchanged(dense, before)


def test_count_params_needs_a_built_layer():
    dense = layers.Dense(3)
    with pytest.raises(ValueError, match="'dense'.*isn't built"):
        dense.count_params()
    dense.build((None, 5))
    assert dense.count_params() == 5 * 3 + 3
    assert layers.Dense(3, use_bias=False)(np.ones((1, 5))).shape == (1, 3)


# --- losses from regularizers --------------------------------------------------------------------
def test_regularization_losses():
    dense = layers.Dense(3, kernel_regularizer=regularizers.L2(0.1), bias_regularizer="l1",
                         activity_regularizer="l2", bias_initializer="ones")
    x = _x(5, 4)
    y = np.asarray(dense(x))
    kernel, bias = dense.kernel.numpy(), dense.bias.numpy()
    losses = [float(loss) for loss in dense.losses]
    # Keras's order: activity losses of the last call, then one per regularized weight.
    expected = [0.01 * np.sum(y.astype("float64") ** 2) / 5, 0.1 * np.sum(kernel**2),
                0.01 * np.sum(np.abs(bias))]
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    with minikeras.GradientTape() as tape:
        dense(x)
        penalty = ops.add(dense.losses[1], dense.losses[2])  # read inside the tape
    np.testing.assert_allclose(tape.gradient(penalty, dense.kernel), 0.2 * kernel, rtol=1e-6)
    dense(x[:2])
    assert len(dense.losses) == 3  # the activity loss is replaced at each call, not appended
    dense.trainable = False
    assert len(dense.losses) == 1  # frozen weights are not regularized


# --- configs -------------------------------------------------------------------------------------
DENSE_CONFIG_KEYS = ["name", "trainable", "dtype", "units", "activation", "use_bias",
                     "kernel_initializer", "bias_initializer", "kernel_regularizer",
                     "bias_regularizer", "kernel_constraint", "bias_constraint",
                     "quantization_config"]  # the order Keras 3.15 writes


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3, activation="relu", kernel_regularizer="l2", use_bias=False,
                         kernel_initializer=initializers.RandomNormal(stddev=0.3, seed=1),
                         activity_regularizer=regularizers.L1(0.5), name="d"),
    lambda: layers.Dense(1, activation="swish"),
    lambda: layers.Dropout(0.3, noise_shape=(None, 1), seed=2),
    lambda: layers.Flatten(),
    lambda: layers.Activation("hard_swish"),
    lambda: layers.InputLayer(shape=(3,)),
], ids=["dense", "dense-swish", "dropout", "flatten", "activation", "input_layer"])
def test_get_config_from_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config and clone.name == layer.name
    assert type(clone) is type(layer)


def test_config_contents():
    config = layers.Dense(3, activation="swish").get_config()
    assert list(config) == DENSE_CONFIG_KEYS
    assert config["activation"] == "silu" and config["dtype"]["config"]["name"] == "float32"
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["bias_initializer"] == {"module": "keras.initializers", "class_name": "Zeros",
                                          "config": {}, "registered_name": None}
    with_activity = layers.Dense(3, activity_regularizer="l2").get_config()
    assert list(with_activity)[:4] == ["name", "trainable", "dtype", "activity_regularizer"]
    assert layers.Dropout(0.5).get_config()["rate"] == 0.5
    assert layers.Activation("relu").get_config()["activation"] == "relu"


# --- shapes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, input_shape, expected", [
    (lambda: layers.Dense(4), (None, 3), (None, 4)),
    (lambda: layers.Dense(4), (None, 5, 3), (None, 5, 4)),
    (lambda: layers.Flatten(), (None, 2, 3), (None, 6)),
    (lambda: layers.Flatten(), (None,), (None, 1)),
    (lambda: layers.Flatten(), (None, None, 3), (None, None)),
    (lambda: layers.Dropout(0.5), (None, 3), (None, 3)),
    (lambda: layers.Activation("softmax"), (7, 3), (7, 3)),
    (lambda: MyLinear(), (None, 5, 3), (None, 5, 2)),  # the probing default
])
def test_compute_output_shape(layer, input_shape, expected):
    layer = layer()
    assert tuple(layer.compute_output_shape(input_shape)) == expected
    concrete = tuple(2 if d is None else d for d in input_shape)
    if None not in input_shape[1:]:
        out = layer(np.zeros(concrete, dtype="float32"))
        assert out.shape == tuple(concrete[i] if e is None else e for i, e in enumerate(expected))


class MyLinear(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2))

    def call(self, inputs):
        return ops.matmul(inputs, self.w)


# --- names ---------------------------------------------------------------------------------------
def test_naming_counters_and_clear_session():
    names = [layers.Dense(1).name, layers.Dense(1).name, layers.Dropout(0.1).name,
             layers.Dense(1, name="custom").name, layers.Dense(1).name, MyLinear().name,
             MyLinear().name, layers.Flatten().name]
    assert names == ["dense", "dense_1", "dropout", "custom", "dense_2", "my_linear",
                     "my_linear_1", "flatten"]
    minikeras.backend.clear_session()
    assert layers.Dense(1).name == "dense"


# --- Dense ---------------------------------------------------------------------------------------
def test_dense_on_rank_3_inputs_contracts_the_last_axis():
    dense = layers.Dense(4, activation="tanh")
    x = _x(2, 5, 3)
    out = np.asarray(dense(x))
    assert out.shape == (2, 5, 4) and out.dtype == "float32"
    kernel, bias = dense.get_weights()
    for t in range(5):
        np.testing.assert_allclose(out[:, t], np.tanh(x[:, t] @ kernel + bias), rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "tanh", "relu", "softmax",
                                        "gelu", "elu", "softplus"])
@pytest.mark.parametrize("rank", [2, 3])
def test_dense_gradients(activation, rank):
    with floatx("float64"):
        dense = layers.Dense(3, activation=activation, bias_initializer="random_normal")
        x = _x(4, 2, 3) if rank == 3 else _x(4, 3)  # relu kinks have probability 0
        layer_gradient_check(dense, x)


def test_dense_autocasts_float64_and_integer_inputs():
    dense = layers.Dense(2)
    assert dense(np.ones((3, 4))).dtype == "float32"
    assert dense(np.ones((3, 4), dtype="int64")).dtype == "float32"
    assert dense([[1, 2, 3, 4]]).dtype == "float32"


# --- Dropout -------------------------------------------------------------------------------------
def test_dropout_inverted_scaling_statistics():
    rate = 0.3
    out = np.asarray(layers.Dropout(rate, seed=0)(np.ones((400, 250)), training=True))
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - rate), rtol=1e-6)
    n = out.size  # the kept fraction is Binomial(n, 0.7)/n: 6 standard deviations of slack
    assert abs(kept.mean() - (1 - rate)) < 6 * np.sqrt(rate * (1 - rate) / n)
    assert abs(out.mean() - 1.0) < 6 * np.sqrt(rate / (1 - rate) / n)


def test_dropout_noise_shape_drops_whole_rows_or_columns():
    x = np.ones((200, 6), dtype="float32")
    rows = np.asarray(layers.Dropout(0.5, noise_shape=(None, 1), seed=1)(x, training=True))
    assert all(len(set(row)) == 1 for row in rows) and set(np.unique(rows)) == {0.0, 2.0}
    columns = np.asarray(layers.Dropout(0.5, noise_shape=(1, 6), seed=1)(x, training=True))
    assert all(len(set(col)) == 1 for col in columns.T)


def test_dropout_seed_determinism():
    x = np.ones((20, 20), dtype="float32")
    a, b = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    first = np.asarray(a(x, training=True))
    np.testing.assert_array_equal(first, b(x, training=True))  # same seed, same masks
    assert not np.array_equal(first, a(x, training=True))  # a new mask at every call


def test_dropout_is_inactive_at_inference_and_for_extreme_rates():
    x = _x(5, 4)
    dropout = layers.Dropout(0.5)
    for out in [dropout(x), dropout(x, training=False), dropout(x, training=None)]:
        np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(layers.Dropout(0.0)(x, training=True), x)
    np.testing.assert_array_equal(layers.Dropout(1.0)(x, training=True), np.zeros_like(x))


def test_dropout_gradient_is_the_scaled_mask():
    x = minikeras.Variable(np.ones((50, 4), dtype="float32"))
    with minikeras.GradientTape() as tape:
        out = layers.Dropout(0.25, seed=3)(x, training=True)
        loss = ops.sum(out)
    np.testing.assert_array_equal(tape.gradient(loss, x), np.asarray(out))


# --- Flatten and Activation ----------------------------------------------------------------------
def test_flatten():
    x = _x(2, 3, 4)
    np.testing.assert_array_equal(layers.Flatten()(x), x.reshape(2, -1))
    np.testing.assert_array_equal(layers.Flatten(data_format="channels_first")(x),
                                  np.transpose(x, (0, 2, 1)).reshape(2, -1))
    with floatx("float64"):
        layer_gradient_check(layers.Flatten(), x)
        layer_gradient_check(layers.Flatten(data_format="channels_first"), x)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "swish", "gelu"])
def test_activation_layer(name):
    x = _x(3, 4)
    np.testing.assert_array_equal(layers.Activation(name)(x), activations.get(name)(x))
    with floatx("float64"):
        layer_gradient_check(layers.Activation(name), x)


# --- bad arguments and inputs: clear errors, nothing changed -------------------------------------
@pytest.mark.parametrize("units", [0, -3, 2.5, "3", None, True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match=rf"`units`.*Received: units={units}"):
        layers.Dense(units)


@pytest.mark.parametrize("rate", [1.5, -0.1, "0.5"])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match=rf"`rate`.*between 0 and 1.*Received: rate={rate}"):
        layers.Dropout(rate)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="'relux'") as info:
        layers.Dense(3, activation="relux")
    assert "'sigmoid'" in str(info.value) and "'relu'" in str(info.value)
    with pytest.raises(ValueError, match="'reluu'"):
        layers.Activation("reluu")


def test_unknown_initializer_and_regularizer_list_the_valid_names():
    with pytest.raises(ValueError, match="'glorot_uniformx'") as info:
        layers.Dense(3, kernel_initializer="glorot_uniformx")
    assert "'glorot_uniform'" in str(info.value)
    with pytest.raises(ValueError, match="'l3'") as info:
        layers.Dense(3, kernel_regularizer="l3")
    assert "'l2'" in str(info.value)


def test_unknown_keyword_argument():
    with pytest.raises(ValueError, match="Dense.*unit"):
        layers.Dense(3, unit=4)


def test_wrong_last_dimension_names_the_layer_and_shapes():
    dense = layers.Dense(3)
    dense(np.ones((2, 4)))
    before = _snapshot(dense)
    with pytest.raises(ValueError, match=r"'dense'.*expected axis -1 of input shape to have "
                                         r"value 4, but received input with shape \(2, 5\)"):
        dense(np.ones((2, 5)))
    _assert_unchanged(dense, before)
    assert dense(np.ones((2, 4))).shape == (2, 3)


def test_rank_1_input_to_dense_names_the_layer():
    dense = layers.Dense(3)
    with pytest.raises(ValueError, match=r"'dense'.*expected min_ndim=2, found ndim=1. "
                                         r"Full shape received: \(4,\)"):
        dense(np.ones(4))
    assert not dense.built and dense.weights == []
    assert dense(np.ones((1, 4))).shape == (1, 3)


@pytest.mark.parametrize("bad", [np.array([["a", "b"]]), [["1.0", "2.0"]],
                                 np.array([[None, 1.0]]), "x"])
def test_non_numeric_input_is_a_type_error(bad):
    dense = layers.Dense(3)
    dense.build((None, 2))
    before = _snapshot(dense)
    with pytest.raises(TypeError, match=r"'dense'.*numeric"):
        dense(bad)
    _assert_unchanged(dense, before)
