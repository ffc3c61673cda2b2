"""Random Sequential models, built the same way in Keras and minikeras, agree.

Each seed draws an architecture (helpers.random_spec: depth 1-4, widths 1-16, every activation,
bias on/off, L1/L2/L1L2 kernel, bias and activity regularizers, rank-2 or rank-3 inputs, Dropout
at inference, Activation and Flatten layers) and a loss that fits its output. Both models get
Keras's initial weights; then the outputs (rtol 1e-5, atol 1e-6), the loss, ``model.losses`` and
the gradients of loss + sum(model.losses) with respect to every weight and to the input
(atol 1e-6, rtol 1e-5) must agree.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_inputs, random_spec, twins

import minikeras

RTOL, ATOL = 1e-5, 1e-6
N_ARCHITECTURES = 200


def _ends_in_sigmoid(spec):
    """True when the model's output tensor comes straight from a sigmoid (Dropout at inference
    passes the same tensor on), so BCE switches to the logits in both libraries."""
    for layer in reversed(spec["layers"]):
        if layer["kind"] != "dropout":
            return layer["kind"] in ("dense", "activation") and layer["activation"] == "sigmoid"
    return False


def choose_loss(spec, out, rng):
    """A (name, factory(lib), targets) that makes sense for the output values ``out``.

    Losses are only drawn where they are well conditioned in float32 for these outputs, since a
    1-ulp difference between TF's and NumPy's kernels is otherwise magnified past the tolerance:
    BCE on probabilities within 1e-2 of 0 or 1 (1/(p(1-p)) blows up), cosine similarity or the
    renormalizing CCE on rows with a tiny norm or sum.
    """
    out_shape, units = out.shape, out.shape[-1]
    options = ["mse", "mae", "huber", "log_cosh", "bce_logits"]
    if np.all(np.linalg.norm(out, axis=-1) > 0.1):
        options.append("cosine")
    inside = (out > 1e-2) & (out < 1 - 1e-2)
    outside = (out < -1e-2) | (out > 1 + 1e-2)  # clipped: a constant, with zero gradient
    if _ends_in_sigmoid(spec) or np.all(inside | outside):
        options.append("bce")
    if units > 1:
        options += ["cce_logits"] + ["scce_logits"] * (len(out_shape) == 2)
        if np.all(out >= 0) and np.all(out.sum(-1) > 0.1):
            options.append("cce")  # positive outputs: the probability path renormalizes
    name = str(rng.choice(options))
    factories = {
        "mse": lambda lib: lib.losses.MeanSquaredError(),
        "mae": lambda lib: lib.losses.MeanAbsoluteError(),
        "huber": lambda lib: lib.losses.Huber(delta=0.5),
        "log_cosh": lambda lib: lib.losses.LogCosh(),
        "cosine": lambda lib: lib.losses.CosineSimilarity(),
        "bce": lambda lib: lib.losses.BinaryCrossentropy(),
        "bce_logits": lambda lib: lib.losses.BinaryCrossentropy(from_logits=True),
        "cce": lambda lib: lib.losses.CategoricalCrossentropy(),
        "cce_logits": lambda lib: lib.losses.CategoricalCrossentropy(from_logits=True),
        "scce_logits": lambda lib: lib.losses.SparseCategoricalCrossentropy(from_logits=True),
    }
    if name.startswith("bce"):
        y = (rng.random(out_shape) < 0.5).astype("float32")
    elif name.startswith("cce"):
        y = np.eye(units, dtype="float32")[rng.integers(0, units, out_shape[:-1])]
    elif name == "scce_logits":
        y = rng.integers(0, units, out_shape[:-1])
    else:
        y = rng.normal(size=out_shape).astype("float32")
    return name, factories[name], y


def keras_loss_and_grads(model, loss_fn, x, y):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=False)
        loss = loss_fn(y, out)
        penalties = [float(p) for p in model.losses]
        total = loss + tf.add_n(model.losses) if model.losses else loss
    grads = tape.gradient(total, [x, *model.trainable_weights])
    return out.numpy(), float(loss), penalties, [np.asarray(g) for g in grads]


def minikeras_loss_and_grads(model, loss_fn, x, y):
    x = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=False)
        loss = loss_fn(y, out)
        penalties = [float(p) for p in model.losses]
        total = loss + sum(model.losses) if model.losses else loss
    grads = tape.gradient(total, [x, *model.trainable_weights])
    return np.asarray(out), float(loss), penalties, [None if g is None else np.asarray(g)
                                                     for g in grads]


def assert_twins_agree(k, m, x, loss_name, loss_factory, y, context=""):
    assert [w.path for w in m.weights] == [w.path for w in k.weights], context
    k_out, k_loss, k_pen, k_grads = keras_loss_and_grads(k, loss_factory(keras), x, y)
    m_out, m_loss, m_pen, m_grads = minikeras_loss_and_grads(m, loss_factory(minikeras), x, y)
    assert m_out.dtype == k_out.dtype == np.float32, context
    np.testing.assert_allclose(m_out, k_out, rtol=RTOL, atol=ATOL, err_msg=f"output {context}")
    np.testing.assert_allclose(m_loss, k_loss, rtol=RTOL, atol=ATOL,
                               err_msg=f"{loss_name} loss {context}")
    np.testing.assert_allclose(m_pen, k_pen, rtol=RTOL, atol=ATOL,
                               err_msg=f"model.losses {context}")
    names = ["input"] + [w.path for w in k.trainable_weights]
    for name, m_g, k_g in zip(names, m_grads, k_grads, strict=True):
        assert m_g is not None, f"no gradient for {name} {context}"
        np.testing.assert_allclose(m_g, k_g, rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient of {loss_name} w.r.t. {name} {context}")


@pytest.mark.parametrize("seed", range(N_ARCHITECTURES))
def test_random_architecture(seed):
    rng = np.random.default_rng(seed)
    spec = random_spec(rng)
    k, m = twins(spec, with_input=seed % 5 != 0)  # every fifth model is built by model.build()
    x = random_inputs(spec, rng)
    loss_name, loss_factory, y = choose_loss(spec, np.asarray(k(x)), rng)
    assert_twins_agree(k, m, x, loss_name, loss_factory, y, context=f"spec={spec}")


# --- the tutorial's custom layer, defined in both libraries -----------------------------------
def my_dense_layer_class(lib):
    class MyDenseLayer(lib.layers.Layer):
        def __init__(self, input_dim, output_dim):
            super().__init__()
            self.W = self.add_weight(shape=[input_dim, output_dim])
            self.b = self.add_weight(shape=[1, output_dim])

        def call(self, inputs):
            return lib.ops.sigmoid(lib.ops.matmul(inputs, self.W) + self.b)

    return MyDenseLayer


@pytest.mark.parametrize("in_sequential", [False, True])
def test_tutorial_custom_layer(in_sequential):
    keras.utils.set_random_seed(7)  # Keras draws the initial weights that both models share
    k_layer = my_dense_layer_class(keras)(3, 2)
    m_layer = my_dense_layer_class(minikeras)(3, 2)
    assert [w.shape for w in m_layer.weights] == [tuple(w.shape) for w in k_layer.weights]
    m_layer.set_weights(k_layer.get_weights())
    if in_sequential:
        k_layer = keras.Sequential([keras.Input((3,)), k_layer, keras.layers.Dense(1)])
        m_layer = minikeras.Sequential([minikeras.Input((3,)), m_layer, minikeras.layers.Dense(1)])
        m_layer.set_weights(k_layer.get_weights())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype("float32")
    y = rng.random((5, k_layer(x).shape[-1])).astype("float32")
    k_out, k_loss, _, k_grads = keras_loss_and_grads(
        k_layer, keras.losses.BinaryCrossentropy(), x, y)
    m_out, m_loss, _, m_grads = minikeras_loss_and_grads(
        m_layer, minikeras.losses.BinaryCrossentropy(), x, y)
    np.testing.assert_allclose(m_out, k_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(m_loss, k_loss, rtol=RTOL, atol=ATOL)
    for m_g, k_g in zip(m_grads, k_grads, strict=True):
        np.testing.assert_allclose(m_g, k_g, rtol=RTOL, atol=ATOL)


def test_saturated_sigmoid_output_uses_the_logits():
    """A sigmoid output far in saturation: BCE follows the logits (50.0, not 15.94) in both."""
    spec = {"input_shape": (1,), "batch": 1, "layers": [
        {"kind": "dense", "units": 1, "activation": "sigmoid", "use_bias": False}]}
    k, m = twins(spec)
    k.set_weights([np.array([[50.0]], dtype="float32")])
    m.set_weights(k.get_weights())
    x, y = np.ones((1, 1), dtype="float32"), np.zeros((1, 1), dtype="float32")
    assert_twins_agree(k, m, x, "bce", lambda lib: lib.losses.BinaryCrossentropy(), y)
    assert float(minikeras.losses.BinaryCrossentropy()(y, m(x))) == pytest.approx(50.0)


SHAPE_MODELS = {
    "input_layer": lambda k: k.Sequential([k.Input((2,)), k.layers.Dense(3), k.layers.Dense(1)]),
    "image": lambda k: k.Sequential([k.Input((8, 8, 1)), k.layers.Conv2D(4, 3),
                                     k.layers.MaxPooling2D(), k.layers.Flatten(),
                                     k.layers.Dense(5)]),
    "built_later": lambda k: k.Sequential([k.layers.Dense(3), k.layers.Dense(2)]),
}


@pytest.mark.parametrize("kind", list(SHAPE_MODELS))
def test_sequential_input_and_output_shapes(kind):
    ours, theirs = SHAPE_MODELS[kind](minikeras), SHAPE_MODELS[kind](keras)
    if kind == "built_later":  # unbuilt: both raise Keras's AttributeError, then build
        for model in (ours, theirs):
            for attribute, what in (("input_shape", "input"), ("output_shape", "output")):
                with pytest.raises(AttributeError, match=f"no defined {what} shape yet"):
                    getattr(model, attribute)
            model.build((None, 5))
    assert ours.input_shape == theirs.input_shape
    assert ours.output_shape == theirs.output_shape


@pytest.mark.parametrize("kind", list(SHAPE_MODELS))
def test_feature_extractor_from_a_sequential(kind):
    """``keras.Model(model.inputs, [layer.output for layer in model.layers])``: the hidden
    activations equal Keras's, and so do the extractor's name, summary and config."""
    models = {}
    for lib in (keras, minikeras):
        lib.utils.clear_session()  # the same automatic names in both
        model = SHAPE_MODELS[kind](lib)
        if kind == "built_later":
            model.build((None, 5))
        extractor = lib.Model(inputs=model.inputs,
                              outputs=[layer.output for layer in model.layers])
        models[lib] = model, extractor
    (ours, ours_x), (theirs, theirs_x) = models[minikeras], models[keras]
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).normal(size=(4, *theirs.input_shape[1:])).astype("float32")
    for mine, reference in zip(ours_x.predict(x, verbose=0), theirs_x.predict(x, verbose=0),
                               strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)
    assert ours_x.name == theirs_x.name
    assert [o.shape for o in ours.outputs] == [tuple(o.shape) for o in theirs.outputs]
    assert ours_x.get_config()["output_layers"] == [
        list(history) for history in theirs_x.get_config()["output_layers"]]
