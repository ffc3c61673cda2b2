"""Wrapper, Pipeline, SpectralNormalization and ConvLSTM1D/2D/3D with NumPy only: shapes, the
ConvLSTM step equations against a plain NumPy loop, SpectralNormalization's power iteration
against the SVD, float64 finite-difference gradient checks w.r.t. the input and every weight,
configs that round-trip, weights in Keras's order, and errors."""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check
from test_layers_extra import _close, _fresh_session, _round_trip, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers
from minikeras.layers.rnn.conv_lstm import ConvLSTMCell


def _randomized(layer, shape, seed=11, scale=0.5):
    layer.build(shape)
    layer.set_weights([_x(*w.shape, seed=seed + i, scale=scale) for i, w in
                       enumerate(layer.get_weights())])
    return layer


# --- Wrapper ------------------------------------------------------------------------------------

def test_wrapper_tracks_builds_and_serializes_the_layer():
    wrapper = layers.Wrapper(layers.Dense(3, name="inner"), name="wrap")
    wrapper.build((2, 4))
    assert wrapper.layer.built
    assert [w.path for w in wrapper.weights] == ["wrap/inner/kernel", "wrap/inner/bias"]
    config = wrapper.get_config()
    assert config["layer"]["class_name"] == "Dense"
    clone = _round_trip(wrapper)
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 3


def test_wrapper_refuses_a_non_layer_and_has_no_call():
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        layers.Wrapper(lambda x: x)
    with pytest.raises(NotImplementedError):
        layers.Wrapper(layers.Dense(2))(np.zeros((1, 3), "float32"))


# --- Pipeline -----------------------------------------------------------------------------------

def test_pipeline_applies_the_layers_in_order():
    first, second = layers.Dense(4, activation="relu"), layers.Dense(2)
    pipeline = layers.Pipeline([first, second], name="pipe")
    x = _x(5, 3)
    y = pipeline(x)
    _close(y, second(first(x)))
    assert pipeline.compute_output_shape((None, 3)) == (None, 2)
    assert pipeline.layers == [first, second]
    assert [w.path for w in pipeline.weights] == [
        f"pipe/{first.name}/kernel", f"pipe/{first.name}/bias",
        f"pipe/{second.name}/kernel", f"pipe/{second.name}/bias"]
    config = pipeline.get_config()
    assert list(config) == ["layers", "name"]
    clone = _round_trip(pipeline)
    assert [type(layer) for layer in clone.layers] == [layers.Dense, layers.Dense]


def test_pipeline_defaults_to_training_and_follows_the_given_flag():
    pipeline = layers.Pipeline([layers.Dropout(0.5, seed=1)])
    x = np.ones((100, 40), "float32")
    assert (np.asarray(pipeline(x)) == 0).mean() > 0.3  # training=True unless told otherwise
    _close(pipeline(x, training=False), x)


def test_pipeline_in_a_model_and_its_gradient():
    model = minikeras.Sequential([minikeras.Input((3,)),
                                  layers.Pipeline([layers.Dense(4, activation="tanh"),
                                                   layers.Dense(2)]),
                                  layers.Dense(1)])
    assert model.output_shape == (None, 1)
    assert len(model.weights) == 6
    with floatx("float64"):
        pipeline = layers.Pipeline([layers.Dense(3, activation="tanh"), layers.Dense(2)])
        _randomized(pipeline, (2, 3))
        layer_gradient_check(pipeline, _x(2, 3, seed=2))


def test_pipeline_config_errors():
    with pytest.raises(ValueError, match="must contain a `layers` key"):
        layers.Pipeline.from_config({"name": "p"})
    with pytest.raises(TypeError):
        layers.Pipeline([], trainable=False)


# --- SpectralNormalization ----------------------------------------------------------------------

def test_spectral_normalization_weights_and_inference():
    sn = layers.SpectralNormalization(layers.Dense(3, name="d"), name="sn")
    x = _x(4, 5)
    y = sn(x)
    assert y.shape == (4, 3)
    assert [(w.path, w.shape, w.trainable) for w in sn.weights] == [
        ("sn/d/kernel", (5, 3), True), ("sn/vector_u", (1, 3), False), ("sn/d/bias", (3,), True)]
    before = sn.get_weights()
    _close(y, sn.layer(x))  # inference: the layer as it is
    for a, b in zip(before, sn.get_weights(), strict=True):
        _close(a, b)


@pytest.mark.parametrize("inner,shape", [(lambda: layers.Dense(4), (3, 6)),
                                         (lambda: layers.Conv2D(3, 2), (2, 5, 5, 2))])
def test_spectral_normalization_converges_to_the_largest_singular_value(inner, shape):
    """Training calls divide W by σ, the power-iteration estimate of its top singular value:
    after enough iterations W's spectral norm is 1, and u is W's top right singular vector."""
    sn = layers.SpectralNormalization(inner(), power_iterations=300)
    sn.build(shape)
    kernel = sn.kernel.numpy().reshape(-1, sn.kernel.shape[-1]).astype(np.float64)
    top = np.linalg.svd(kernel, compute_uv=False)[0]
    sn(_x(*shape), training=True)
    normalized = sn.kernel.numpy().reshape(kernel.shape)
    _close(normalized, kernel / top, rtol=1e-4, atol=1e-6)
    assert abs(np.linalg.svd(normalized, compute_uv=False)[0] - 1) < 1e-4
    right = np.linalg.svd(kernel)[2][0]
    _close(np.abs(sn.vector_u.numpy()[0]), np.abs(right), rtol=1e-3, atol=1e-4)


def test_spectral_normalization_one_step_by_numpy():
    sn = layers.SpectralNormalization(layers.Dense(3), power_iterations=2)
    sn.build((2, 4))
    w, u = sn.kernel.numpy().astype(np.float64), sn.vector_u.numpy().astype(np.float64)
    for _ in range(2):
        v = u @ w.T
        v = v / np.linalg.norm(v)
        u = v @ w
        u = u / np.linalg.norm(u)
    sigma = (v @ w @ u.T).item()
    sn(_x(2, 4), training=True)
    _close(sn.kernel.numpy(), w / sigma, rtol=1e-5)
    _close(sn.vector_u.numpy(), u, rtol=1e-5)


def test_spectral_normalization_gradients():
    """At inference the wrapper is the wrapped layer: gradients w.r.t. the input, the kernel and
    the bias (vector_u is not trainable)."""
    with floatx("float64"):
        sn = layers.SpectralNormalization(layers.Dense(3, activation="tanh"))
        _randomized(sn, (2, 4))
        assert len(sn.trainable_weights) == 2
        layer_gradient_check(sn, _x(2, 4, seed=3))


def test_spectral_normalization_errors_and_config():
    with pytest.raises(ValueError, match="`power_iterations` should be greater than zero"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="Flatten object has no attribute 'kernel' nor"):
        layers.SpectralNormalization(layers.Flatten()).build((2, 3))
    with pytest.raises(ValueError, match="supplied to Wrapper"):
        layers.SpectralNormalization("dense")
    sn = layers.SpectralNormalization(layers.Conv2D(2, 3), power_iterations=3)
    assert sn.get_config()["power_iterations"] == 3
    assert _round_trip(sn).power_iterations == 3


def test_spectral_normalization_of_an_embedding():
    sn = layers.SpectralNormalization(layers.Embedding(10, 4))
    sn.build((2, 3))
    assert sn.kernel is sn.layer.embeddings
    assert sn.vector_u.shape == (1, 4)


# --- ConvLSTM -----------------------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _conv1d_same(x, w):
    """(batch, steps, in) * (k, in, out), stride 1, TensorFlow's "same" padding."""
    k = w.shape[0]
    left = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (left, k - 1 - left), (0, 0)))
    return np.stack([np.einsum("bki,kio->bo", padded[:, s:s + k], w)
                     for s in range(x.shape[1])], axis=1)


def conv_lstm_1d_by_numpy(x, kernel, recurrent_kernel, bias):
    """Keras's ConvLSTM1D (padding "same") written out: gates i, f, c, o side by side."""
    f = recurrent_kernel.shape[1]
    h = c = np.zeros((x.shape[0], x.shape[2], f))
    for t in range(x.shape[1]):
        z = _conv1d_same(x[:, t], kernel) + _conv1d_same(h, recurrent_kernel) + bias
        i, fg, g, o = (z[..., k * f:(k + 1) * f] for k in range(4))
        c = _sigmoid(fg) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
    return h, c


def test_conv_lstm_1d_equals_the_step_equations():
    x = _x(2, 4, 6, 3, seed=1)
    layer = _randomized(layers.ConvLSTM1D(2, 3, padding="same", return_state=True), x.shape)
    y, h, c = layer(x)
    ref_h, ref_c = conv_lstm_1d_by_numpy(x.astype(np.float64), *layer.get_weights())
    _close(y, ref_h, rtol=1e-5, atol=1e-6)
    _close(h, ref_h, rtol=1e-5, atol=1e-6)
    _close(c, ref_c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs,shape,expected", [
    ("ConvLSTM1D", dict(filters=2, kernel_size=3), (2, 4, 7, 3), (2, 5, 2)),
    ("ConvLSTM1D", dict(filters=2, kernel_size=3, strides=2, padding="same",
                        return_sequences=True), (2, 4, 7, 3), (2, 4, 4, 2)),
    ("ConvLSTM2D", dict(filters=3, kernel_size=(3, 2)), (2, 3, 5, 4, 1), (2, 3, 3, 3)),
    ("ConvLSTM2D", dict(filters=3, kernel_size=2, data_format="channels_first",
                        return_sequences=True), (2, 3, 1, 5, 4), (2, 3, 3, 4, 3)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=2, padding="same"), (1, 2, 3, 3, 3, 2),
     (1, 3, 3, 3, 2)),
], ids=str)
def test_conv_lstm_shapes(name, kwargs, shape, expected):
    layer = getattr(layers, name)(**kwargs)
    y = layer(_x(*shape))
    assert y.shape == expected == layer.compute_output_shape(shape)
    unknown = (None, None) if layer.return_sequences else (None,)
    assert layer.compute_output_shape((None, None, *shape[2:])) == (
        *unknown, *expected[len(unknown):])
    rank = int(name[-2])
    names = [(w.path.split("/", 1)[1], w.shape) for w in layer.weights]
    kernel = layer.cell.kernel_size
    channels = shape[-1] if layer.data_format == "channels_last" else shape[2]
    assert names == [("conv_lstm_cell/kernel", (*kernel, channels, 4 * kwargs["filters"])),
                     ("conv_lstm_cell/recurrent_kernel",
                      (*kernel, kwargs["filters"], 4 * kwargs["filters"])),
                     ("conv_lstm_cell/bias", (4 * kwargs["filters"],))]
    assert len(kernel) == rank


def test_conv_lstm_return_state_go_backwards_and_initial_state():
    x = _x(2, 4, 5, 5, 2, seed=2)
    layer = _randomized(layers.ConvLSTM2D(3, 3, padding="same", return_state=True,
                                          return_sequences=True), x.shape)
    y, h, c = layer(x)
    assert y.shape == (2, 4, 5, 5, 3) and h.shape == c.shape == (2, 5, 5, 3)
    _close(y[:, -1], h)
    backwards = layers.ConvLSTM2D(3, 3, padding="same", go_backwards=True)
    backwards.build(x.shape)
    backwards.set_weights(layer.get_weights())
    _close(backwards(x), layer(x[:, ::-1])[0][:, -1])
    y2 = layer(x[:, 2:], initial_state=[layer(x[:, :2])[1], layer(x[:, :2])[2]])[0]
    _close(y2, y[:, 2:], rtol=1e-5, atol=1e-6)  # two calls chained = one call
    with pytest.raises(ValueError, match="expects 2 initial states"):
        layer(x, initial_state=[h])
    with pytest.raises(ValueError, match="expects initial states of shapes"):
        layer(x, initial_state=[h[:, :2], c])


def test_conv_lstm_mask_keeps_the_previous_step():
    x = _x(2, 3, 4, 4, 1, seed=5)
    layer = _randomized(layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True),
                        x.shape)
    mask = np.array([[True, False, True], [True, True, False]])
    y = np.asarray(layer(x, mask=mask))
    _close(y[0, 1], y[0, 0])
    _close(y[1, 2], y[1, 1])
    kept = np.asarray(layer(x[:1, [0, 2]]))
    _close(y[0, 2], kept[0, 1])


def test_conv_lstm_stateful_carries_the_states():
    x = _x(2, 4, 4, 4, 1, seed=6)
    layer = _randomized(layers.ConvLSTM2D(2, 2, stateful=True), x.shape)
    whole = _randomized(layers.ConvLSTM2D(2, 2), x.shape)
    whole.set_weights(layer.get_weights())
    layer(x[:, :2])
    _close(layer(x[:, 2:]), whole(x))
    assert len(layer.weights) == 3  # the states are not weights
    layer.reset_state()
    _close(layer(x), whole(x))


def test_conv_lstm_dropout_only_while_training():
    x = _x(2, 3, 4, 4, 2, seed=7)
    layer = _randomized(layers.ConvLSTM2D(2, 2, dropout=0.5, recurrent_dropout=0.5, seed=1),
                        x.shape)
    _close(layer(x), layer(x, training=False))
    assert not np.allclose(layer(x, training=True), layer(x))


def test_conv_lstm_dropout_masks_per_gate():
    """Four masks per call (one per gate) for the input and four for the state, reused at every
    step; with a tiny rate every mask is ones, and the per-gate path equals the fused one."""
    x = _x(2, 3, 4, 4, 2, seed=8)
    layer = _randomized(layers.ConvLSTM2D(2, 2, padding="same", dropout=1e-9,
                                          recurrent_dropout=1e-9, return_sequences=True),
                        x.shape)
    _close(layer(x, training=True), layer(x), rtol=1e-5, atol=1e-6)
    cell = layer.cell
    masks = cell._gate_masks(_x(2, 4, 4, 2), True, "_dropout_mask")
    assert len(masks) == 4 and masks is cell._gate_masks(x[:, 1], True, "_dropout_mask")
    cell.reset_dropout_masks()
    cell.dropout = 0.5
    masks = cell._gate_masks(np.ones((64, 4, 4, 2), "float32"), True, "_dropout_mask")
    assert all(set(np.unique(m)) == {0.0, 2.0} for m in masks)
    assert not np.array_equal(masks[0], masks[1])
    assert abs(np.mean([m == 0 for m in masks]) - 0.5) < 0.03
    cell.reset_dropout_masks()


@pytest.mark.parametrize("name,kwargs,shape", [
    ("ConvLSTM1D", dict(filters=2, kernel_size=2, return_sequences=True), (2, 3, 4, 2)),
    ("ConvLSTM1D", dict(filters=2, kernel_size=3, padding="same", strides=2,
                        go_backwards=True), (2, 3, 5, 1)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=2, padding="same"), (1, 3, 3, 3, 2)),
    ("ConvLSTM2D", dict(filters=1, kernel_size=2, data_format="channels_first",
                        use_bias=False), (2, 2, 2, 3, 3)),
    ("ConvLSTM3D", dict(filters=1, kernel_size=2), (1, 2, 3, 2, 2, 1)),
], ids=str)
def test_conv_lstm_gradients_wrt_input_and_every_weight(name, kwargs, shape):
    """d sum(y * r) / d(input, kernel, recurrent_kernel, bias) against central differences:
    backpropagation through time and through every convolution is the tape's chain rule."""
    x = _x(*shape, seed=3)
    with floatx("float64"):
        layer = _randomized(getattr(layers, name)(**kwargs), shape)
        layer_gradient_check(layer, x)


def test_conv_lstm_cell_gradients_through_the_dropout_path():
    """Training with dropout takes the per-gate path (four masked copies, four convolutions);
    with its masks drawn once and kept, one step is differentiable like any other."""
    with floatx("float64"):
        cell = ConvLSTMCell(2, filters=2, kernel_size=2, padding="same", dropout=0.3,
                            recurrent_dropout=0.4, seed=2)
        cell.build((2, 3, 3, 2))
        cell.set_weights([_x(*w.shape, seed=20 + i, scale=0.5)
                          for i, w in enumerate(cell.get_weights())])
        states = [_x(2, 3, 3, 2, seed=30).astype(np.float64),
                  _x(2, 3, 3, 2, seed=31).astype(np.float64)]

        class Step(layers.Layer):
            def call(self, x):
                return cell(x, states, training=True)[0]

        step = Step()
        step._layers.append(cell)
        layer_gradient_check(step, _x(2, 3, 3, 2, seed=4))
        assert len(cell._dropout_mask) == len(cell._recurrent_dropout_mask) == 4


def test_conv_lstm_config_round_trip_and_attributes():
    layer = layers.ConvLSTM2D(4, (3, 2), strides=(2, 1), padding="same", dropout=0.2,
                              activation="relu", return_sequences=True, seed=3,
                              kernel_regularizer="l2", bias_initializer="ones",
                              unit_forget_bias=False, name="clstm")
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 1)
    assert "cell" not in config
    clone = _round_trip(layer)
    assert clone.filters == 4 and clone.dropout == 0.2 and clone.cell.seed == 3
    assert clone.return_sequences and clone.padding == "same"
    clone.build((2, 3, 6, 5, 2))
    _close(clone.cell.bias.numpy(), np.ones(16))


def test_conv_lstm_unit_forget_bias():
    layer = layers.ConvLSTM1D(3, 2)
    layer.build((1, 2, 4, 2))
    _close(layer.cell.bias.numpy(), np.r_[np.zeros(3), np.ones(3), np.zeros(6)])


@pytest.mark.parametrize("kwargs,message", [
    (dict(filters=2, kernel_size=2, strides=2, dilation_rate=2), "not compatible with"),
    (dict(filters=2, kernel_size=(2, 2, 2)), "must be a tuple of 2 integers"),
    (dict(filters=2, kernel_size=2, padding="causal"), "The `padding` argument"),
    (dict(filters=2, kernel_size=2, data_format="channels_middle"), "`data_format`"),
], ids=str)
def test_conv_lstm_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.ConvLSTM2D(**kwargs)


def test_conv_lstm_bad_inputs():
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        layers.ConvLSTM2D(2, 2)(_x(2, 3, 4, 4))
    with pytest.raises(ValueError, match="only support static input shapes"):
        layers.ConvLSTM2D(2, 2).build((2, 3, None, 4, 1))


def test_conv_lstm_in_a_model_trains():
    rng = np.random.default_rng(0)
    model = minikeras.Sequential([minikeras.Input((3, 4, 4, 1)),
                                  layers.ConvLSTM2D(2, 2, padding="same"),
                                  layers.Flatten(), layers.Dense(1)])
    x = rng.normal(size=(16, 3, 4, 4, 1)).astype("float32")
    y = x.sum(axis=(1, 2, 3, 4))[:, None].astype("float32") * 0.1
    model.compile(optimizer=minikeras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
