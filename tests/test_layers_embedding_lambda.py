"""Embedding, the global poolings, LayerNormalization and Lambda: shapes, formulas against
NumPy, float64 finite-difference gradient checks, config round trips, clear errors, and the
refusal to run a Lambda's bytecode from a file unless ``safe_mode=False``."""

import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check
from test_layers_extra import _close, _round_trip, _x

import minikeras
from minikeras import layers, ops, saving
from minikeras.layers.embedding import embedding_lookup


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


# --- Embedding ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4)])
def test_embedding_looks_up_rows_for_inputs_of_any_rank(shape):
    emb = layers.Embedding(7, 3)
    idx = np.random.default_rng(0).integers(0, 7, size=shape)
    y = emb(idx)
    assert y.shape == (*shape, 3) and y.dtype == "float32"
    np.testing.assert_array_equal(y.numpy(), emb.embeddings.numpy()[idx])
    assert emb.compute_output_shape((None, *shape[1:])) == (None, *shape[1:], 3)
    assert [w.path for w in emb.weights] == ["embedding/embeddings"]
    assert emb.embeddings.shape == (7, 3) and emb.count_params() == 21


def test_embedding_default_initializer_is_uniform_005():
    emb = layers.Embedding(300, 40)
    emb.build()
    w = emb.embeddings.numpy()
    assert -0.05 <= w.min() < -0.04 and 0.04 < w.max() <= 0.05


def test_embedding_inputs_are_not_autocast_and_floats_are_truncated():
    emb = layers.Embedding(5, 2)
    assert emb.autocast is False
    assert emb._convert_input(np.array([1, 2], "int64"))._value.dtype == np.int64
    emb.build()
    table = emb.embeddings.numpy()
    # float indices are cast to int32 as TensorFlow casts: toward zero
    np.testing.assert_array_equal(emb(np.array([[0.9, 3.7]], "float32")).numpy(), table[[[0, 3]]])
    np.testing.assert_array_equal(emb(np.array([True, False])).numpy(), table[[1, 0]])


def test_embedding_gradient_is_a_scatter_add_of_the_output_gradient():
    """Repeated indices add their gradients into the same row; untouched rows get zero."""
    idx = np.array([[1, 3, 1], [0, 1, 4]])
    gradient_check(lambda table: embedding_lookup(table, idx), _x(6, 2), wrt=[0])
    emb = layers.Embedding(6, 2)
    g = _x(2, 3, 2, seed=1)
    with minikeras.GradientTape() as tape:
        loss = ops.sum(ops.multiply(emb(idx), g))
    (grad,) = tape.gradient(loss, emb.trainable_weights)
    expected = np.zeros((6, 2), "float32")
    for p in np.ndindex(idx.shape):
        expected[idx[p]] += g[p]
    _close(grad, expected)
    assert not np.any(grad.numpy()[[2, 5]])


def test_embedding_gradient_check_in_float64_through_the_layer():
    """d sum(layer(idx) * r) / d embeddings by central differences on the layer's own weight."""
    with floatx("float64"):
        emb = layers.Embedding(5, 3)
        idx = np.array([[4, 0], [4, 2]])
        assert emb(idx).dtype == "float64"
        r = np.random.default_rng(0).normal(size=(2, 2, 3))
        with minikeras.GradientTape() as tape:
            loss = ops.sum(ops.multiply(emb(idx), r))
        (grad,) = tape.gradient(loss, emb.trainable_weights)
        table = emb.embeddings._value
        numeric = np.zeros(table.shape)
        for i in np.ndindex(table.shape):
            original = table[i]
            table[i] = original + 1e-6
            up = float(np.sum(emb(idx).numpy() * r))
            table[i] = original - 1e-6
            down = float(np.sum(emb(idx).numpy() * r))
            table[i] = original
            numeric[i] = (up - down) / 2e-6
        _close(grad, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("bad,where", [(np.array([[1, 10]]), "index 10 at position (0, 1)"),
                                       (np.array([-1, 2]), "index -1 at position (0,)")])
def test_embedding_out_of_range_index_is_a_clear_error(bad, where):
    emb = layers.Embedding(10, 2, name="words")
    with pytest.raises(ValueError, match=r"Layer 'words' \(Embedding\) received ") as info:
        emb(bad)
    assert where in str(info.value) and "input_dim=10" in str(info.value)
    assert "[0, 10)" in str(info.value)


@pytest.mark.parametrize("kwargs,message", [
    ({"input_dim": 0, "output_dim": 2}, "`input_dim` must be a positive integer"),
    ({"input_dim": 3.0, "output_dim": 2}, "of type float"),
    ({"input_dim": 3, "output_dim": True}, "`output_dim` must be a positive integer"),
])
def test_embedding_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Embedding(**kwargs)


def test_embedding_lora_is_refused_clearly_and_input_length_warns():
    with pytest.raises(NotImplementedError, match="LoRA"):
        layers.Embedding(4, 2, lora_rank=2)
    with pytest.warns(UserWarning, match="input_length"):
        layers.Embedding(4, 2, input_length=3)


def test_embedding_mask_zero_and_given_weights():
    table = _x(4, 2)
    plain = layers.Embedding(4, 2, weights=table)
    masked = layers.Embedding(4, 2, mask_zero=True, weights=[table])
    idx = np.array([[0, 2, 0], [3, 1, 0]])
    _close(masked(idx), plain(idx))  # the mask does not change the outputs
    _close(masked(idx), table[idx])
    assert plain.compute_mask(idx) is None
    np.testing.assert_array_equal(masked.compute_mask(idx).numpy(), idx != 0)
    with pytest.raises(ValueError, match="not compatible with provided weight shape"):
        layers.Embedding(4, 2, weights=[table, table])


def test_embedding_config_round_trip():
    emb = layers.Embedding(9, 4, embeddings_initializer="glorot_normal", mask_zero=True,
                           embeddings_regularizer="l2", embeddings_constraint="non_neg")
    config = _round_trip(emb).get_config()
    assert config["input_dim"] == 9 and config["mask_zero"] is True
    assert config["activity_regularizer"] is None and config["quantization_config"] is None
    assert "lora_rank" not in config


# --- global pooling ----------------------------------------------------------------------------

POOLINGS = [("GlobalAveragePooling1D", (2, 5, 3), np.mean, (1,)),
            ("GlobalMaxPooling1D", (2, 5, 3), np.max, (1,)),
            ("GlobalAveragePooling2D", (2, 3, 4, 3), np.mean, (1, 2)),
            ("GlobalMaxPooling2D", (2, 3, 4, 3), np.max, (1, 2))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name,shape,reduce,axes", POOLINGS)
def test_global_pooling_formula_shapes_and_gradients(name, shape, reduce, axes, data_format,
                                                     keepdims):
    layer = getattr(layers, name)(data_format=data_format, keepdims=keepdims)
    if data_format == "channels_first":
        axes = tuple(a + 1 for a in axes)
    x = _x(*shape)
    y = layer(x)
    _close(y, reduce(x, axis=axes, keepdims=keepdims))
    assert layer.compute_output_shape(shape) == y.shape
    assert layer.compute_output_shape((None, *shape[1:]))[0] is None
    with floatx("float64"):
        layer = getattr(layers, name)(data_format=data_format, keepdims=keepdims)
        layer_gradient_check(layer, _x(*shape, seed=2))
    assert _round_trip(layer).get_config()["data_format"] == data_format


def test_global_pooling_aliases_and_defaults():
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D
    layer = layers.GlobalAveragePooling1D()
    assert (layer.data_format, layer.keepdims, layer.weights) == ("channels_last", False, [])


def test_global_pooling_data_format_defaults_to_image_data_format():
    previous = minikeras.backend.image_data_format()
    minikeras.backend.set_image_data_format("channels_first")
    try:
        assert layers.GlobalMaxPooling2D().data_format == "channels_first"
    finally:
        minikeras.backend.set_image_data_format(previous)


def test_global_average_pooling_1d_with_a_mask_averages_the_real_steps():
    x = _x(3, 4, 2)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]], bool)
    y = layers.GlobalAveragePooling1D()(x, mask=mask)
    expected = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    _close(y, expected)
    yf = layers.GlobalAveragePooling1D(data_format="channels_first")(
        np.transpose(x, (0, 2, 1)), mask=mask)
    _close(yf, expected)


def test_global_pooling_errors():
    with pytest.raises(ValueError, match="data_format"):
        layers.GlobalMaxPooling1D(data_format="channels_middle")
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.GlobalAveragePooling1D()(np.zeros((2, 3, 4, 5), "float32"))
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.GlobalMaxPooling2D()(np.zeros((2, 3), "float32"))


# --- LayerNormalization ------------------------------------------------------------------------

def _ln_numpy(x, axes, gamma, beta, epsilon):
    mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


@pytest.mark.parametrize("kwargs,shape", [({}, (4, 5)), ({"axis": 1}, (3, 4, 2)),
                                          ({"axis": [1, 2], "epsilon": 1e-2}, (2, 3, 4)),
                                          ({"axis": (-1, 1), "center": False}, (2, 3, 2)),
                                          ({"scale": False}, (3, 2, 5))])
def test_layer_normalization_formula_and_gradients(kwargs, shape):
    ln = layers.LayerNormalization(**kwargs)
    x = _x(*shape, scale=3.0, shift=1.0)
    ln.build(shape)
    rng = np.random.default_rng(4)
    ln.set_weights([rng.normal(size=w.shape).astype("float32") for w in ln.weights])
    axes = tuple(ln.axis)
    broadcast = [shape[i] if i in {a % len(shape) for a in axes} else 1
                 for i in range(len(shape))]
    gamma = ln.gamma.numpy().reshape(broadcast) if ln.gamma is not None else 1.0
    beta = ln.beta.numpy().reshape(broadcast) if ln.beta is not None else 0.0
    _close(ln(x), _ln_numpy(x, axes, gamma, beta, ln.epsilon), atol=1e-5)
    _close(ln(x, training=True), ln(x, training=False))  # no batch statistics
    with floatx("float64"):
        ln64 = layers.LayerNormalization(**kwargs)
        ln64.build(shape)
        ln64.set_weights([rng.normal(size=w.shape) for w in ln64.weights])
        layer_gradient_check(ln64, _x(*shape, seed=5, scale=2.0))


def test_layer_normalization_rms_scaling_is_kerass_deprecated_variance_scaling():
    with pytest.warns(UserWarning, match="rms_scaling=True"):
        ln = layers.LayerNormalization(rms_scaling=True)
    x = _x(3, 6, shift=2.0)
    _close(ln(x), x / np.sqrt(x.var(-1, keepdims=True) + 1e-3), atol=1e-5)
    assert [w.name for w in ln.weights] == ["gamma"]
    with floatx("float64"), pytest.warns(UserWarning):
        layer_gradient_check(layers.LayerNormalization(rms_scaling=True), _x(3, 4, seed=1))


def test_layer_normalization_weights_config_and_dtypes():
    ln = layers.LayerNormalization()
    assert ln.get_config()["axis"] == -1
    y = ln(_x(2, 3).astype("float64"))  # not autocast: normalized in float64, returned float32
    assert y.dtype == "float32"
    assert [w.path for w in ln.weights] == ["layer_normalization/gamma",
                                            "layer_normalization/beta"]
    assert ln.get_config()["axis"] == [-1]  # Keras keeps the axes as a list once built
    _round_trip(ln)
    none = layers.LayerNormalization(center=False, scale=False)
    none.build((None, 3))
    assert none.weights == []


def test_layer_normalization_errors():
    with pytest.raises(TypeError, match="'axis'"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="Axis 3 is out of bounds for input shape"):
        layers.LayerNormalization(axis=3)(_x(2, 3))


# --- Lambda ------------------------------------------------------------------------------------

@saving.register_keras_serializable(package="embedding_lambda_test")
def double_plus(x, offset=0.0):
    return ops.add(ops.multiply(x, 2.0), offset)


def test_lambda_calls_the_function_with_arguments_and_training():
    x = _x(3, 2)
    _close(layers.Lambda(double_plus, arguments={"offset": 1.5})(x), 2 * x + 1.5)
    seen = []

    def record_training(x, training=None):
        seen.append(training)
        return x
    layer = layers.Lambda(record_training)
    layer(x, training=True)
    layer(x)
    assert seen == [True, None]
    assert layers.Lambda(lambda t: t[:, :1]).compute_output_shape((None, 2)) == (None, 1)
    assert layers.Lambda(double_plus, output_shape=(7,)).compute_output_shape((None, 2)) == (
        None, 7)
    assert layers.Lambda(double_plus, output_shape=lambda s: s[:1]).compute_output_shape(
        (5, 2)) == (5,)


def test_new_layers_in_a_functional_model_with_integer_inputs():
    inputs = minikeras.Input((6,), dtype="int32")
    h = layers.Embedding(20, 4)(inputs)
    h = layers.LayerNormalization()(h)
    outputs = layers.Lambda(lambda t: ops.sum(t, axis=1))(layers.GlobalMaxPooling1D(
        keepdims=True)(h))
    model = minikeras.Model(inputs, outputs)
    assert model.output_shape == (None, 4)
    x = np.random.default_rng(0).integers(0, 20, (3, 6))
    emb, ln = model.layers[1], model.layers[2]
    expected = ln(emb(x)).numpy().max(1)
    _close(model.predict(x, verbose=0), expected)


def test_lambda_gradient_flows_through_its_ops():
    with floatx("float64"):
        layer_gradient_check(layers.Lambda(lambda t: ops.tanh(ops.multiply(t, t))), _x(3, 2))


def test_lambda_with_a_registered_function_serializes_by_name():
    config = layers.Lambda(double_plus, arguments={"offset": 2.0}).get_config()
    assert config["function"] == {"module": "builtins", "class_name": "function",
                                  "config": "embedding_lambda_test>double_plus",
                                  "registered_name": "function"}
    restored = layers.Lambda.from_config(config)
    assert restored.function is double_plus
    _close(restored(np.ones((1, 2), "float32")), [[4.0, 4.0]])


def test_lambda_bytecode_is_refused_unless_safe_mode_is_false():
    config = layers.Lambda(lambda t, k=3.0: t * k, output_shape=lambda s: s).get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    with pytest.raises(ValueError, match="potential risk of arbitrary code execution"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="`safe_mode=False`"):
        layers.Lambda.from_config(config, safe_mode=True)
    restored = layers.Lambda.from_config(config, safe_mode=False)
    _close(restored(np.ones(2, "float32")), [3.0, 3.0])
    with saving.serialization.SafeModeScope(False):
        assert layers.Lambda.from_config(config).compute_output_shape((1, 2)) == (1, 2)


def test_lambda_in_a_saved_model(tmp_path):
    model = minikeras.Sequential([minikeras.Input((3,)), layers.Dense(2),
                                  layers.Lambda(lambda t: t * 10.0)])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        minikeras.models.load_model(path)
    loaded = minikeras.models.load_model(path, safe_mode=False)
    x = _x(4, 3)
    _close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make", [lambda: layers.Embedding(10, 4, mask_zero=True, name="words"),
                                  lambda: layers.Masking(name="pad")])
def test_layers_making_masks_attach_them_to_their_output_without_warning(make, recwarn):
    """They used to warn that masks do not propagate; now the mask travels on the output."""
    layer = make()
    assert layer.name in ("words", "pad")
    assert not [w for w in recwarn if "mask" in str(w.message)]
    x = np.array([[3, 1, 0], [2, 0, 0]])
    if layer.name == "pad":
        x = np.repeat(x[:, :, None], 2, axis=-1).astype("float32")
    np.testing.assert_array_equal(np.asarray(layer(x)._keras_mask),
                                  [[True, True, False], [True, False, False]])


def test_an_embedding_without_mask_zero_does_not_warn(recwarn):
    layers.Embedding(10, 4)
    assert not [w for w in recwarn if "masks" in str(w.message)]
