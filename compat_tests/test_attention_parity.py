"""Parity of EinsumDense, MultiHeadAttention, Attention and AdditiveAttention with Keras.

Each test builds the same layer in both libraries, copies Keras's weights into minikeras with
``set_weights`` (so the weight order and shapes must agree), and compares outputs (rtol 1e-5,
atol 1e-6), the gradients of ``sum(out * r)`` with respect to the inputs and every weight
(tf.GradientTape against minikeras's tape), configs, shapes, parameter counts, saved files and
two epochs of SGD.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_saving_parity import assert_files_move_both_ways
from test_training_parity import assert_trains_like_keras

import minikeras
import minikeras as mk

RTOL, ATOL = 1e-5, 1e-6
GRAD_ATOL = 1e-6
SCALAR_GRAD_ATOL = 1e-5  # a scalar weight's gradient (Attention's `scale`) sums the contributions
# of every score, B*Tq*Tv terms of size ~1 that largely cancel: float32 summation-order noise in
# either library reaches a few 1e-6 there
ZERO_GRAD_ATOL = 1e-5  # MultiHeadAttention's key bias adds q·b to a whole row of logits, which
# the softmax ignores: its gradient is exactly 0, and both libraries return float32 rounding noise


@pytest.fixture(autouse=True)
def _seeded_keras():
    """Keras's initial weights (copied into minikeras by the training tests) are the same on
    every run, so a tolerance failure reproduces."""
    keras.utils.set_random_seed(1234)


def _f32(rng, *shape, scale=1.0):
    return (rng.normal(size=shape) * scale).astype("float32")


def _call_both(k_layer, m_layer, args, kwargs, rng):
    """Outputs and gradients of sum(out * r) w.r.t. the float inputs and the trainable weights,
    in both libraries (minikeras gets Keras's weights first)."""
    if not m_layer.built:
        m_layer(*args, **kwargs)
    k_layer(*args, **kwargs)
    # the same seeded weights in both (Keras's own initial values are unseeded)
    k_layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                         for w in k_layer.get_weights()])
    m_layer.set_weights(k_layer.get_weights())
    k_args = [tf.constant(a) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a
              for a in args]
    k_list = [a for a in k_args if isinstance(a, tf.Tensor)]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(k_list)
        k_out = k_layer(*k_args, **kwargs)
        outs = k_out if isinstance(k_out, tuple) else (k_out,)
        weights = [rng.normal(size=o.shape).astype("float32") for o in outs]
        k_loss = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outs, weights, strict=True)])
    k_grads = tape.gradient(k_loss, k_list + list(k_layer.trainable_weights))
    names = [f"input {i}" for i in range(len(k_list))] + [w.path for w in
                                                          k_layer.trainable_weights]

    m_args = [mk.Tensor(a) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a
              for a in args]
    m_list = [a for a in m_args if isinstance(a, mk.Tensor)]
    with mk.GradientTape() as mtape:
        mtape.watch(m_list)
        m_out = m_layer(*m_args, **kwargs)
        m_outs = m_out if isinstance(m_out, tuple) else (m_out,)
        m_loss = None
        for o, w in zip(m_outs, weights, strict=True):
            term = mk.ops.sum(mk.ops.multiply(o, w))
            m_loss = term if m_loss is None else mk.ops.add(m_loss, term)
    m_grads = mtape.gradient(m_loss, m_list + list(m_layer.trainable_weights))
    return outs, m_outs, k_grads, m_grads, names


def _assert_parity(k_layer, m_layer, args, kwargs, rng, grad_atol=GRAD_ATOL):
    outs, m_outs, k_grads, m_grads, names = _call_both(k_layer, m_layer, args, kwargs, rng)
    assert len(outs) == len(m_outs)
    for k_o, m_o in zip(outs, m_outs, strict=True):
        assert tuple(k_o.shape) == tuple(m_o.shape)
        np.testing.assert_allclose(np.asarray(m_o), k_o.numpy(), rtol=RTOL, atol=ATOL)
    assert len(k_grads) == len(m_grads)
    for name, kg, mg in zip(names, k_grads, m_grads, strict=True):
        if kg is None:
            assert mg is None or not np.any(np.asarray(mg)), name
            continue
        atol = grad_atol
        if kg.shape.rank == 0:
            atol = SCALAR_GRAD_ATOL
        if name.endswith("key/bias"):
            atol = ZERO_GRAD_ATOL
            assert np.abs(np.asarray(mg)).max() < ZERO_GRAD_ATOL
        np.testing.assert_allclose(np.asarray(mg), kg.numpy(), rtol=RTOL, atol=atol,
                                   err_msg=name)


# --- EinsumDense -------------------------------------------------------------------------------
EINSUM_CASES = [  # equation, output_shape, bias_axes, input shape, activation
    ("ab,bc->ac", 7, "c", (3, 5), None),
    ("ab,bc->ac", 7, None, (3, 5), "tanh"),
    ("abc,cd->abd", (None, 7), "d", (2, 4, 5), None),
    ("...b,bc->...c", 4, "c", (2, 3, 5), "relu"),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 4, 5), None),
    ("abc,cde->abde", (None, 2, 3), "e", (2, 4, 5), None),
    ("abc,cde->abde", (None, 2, 3), "d", (2, 4, 5), None),
    ("abcd,cde->abe", (4, 6), "e", (2, 4, 2, 3), None),
    ("ab...,bc->ac...", (3, 4), "c", (2, 5, 4), "sigmoid"),
    ("abc,bcd->ad", 3, "d", (2, 4, 5), None),
]


@pytest.mark.parametrize("equation,output_shape,bias_axes,shape,activation", EINSUM_CASES)
def test_einsum_dense_outputs_gradients_and_weights(equation, output_shape, bias_axes, shape,
                                                    activation, rng):
    kwargs = dict(output_shape=output_shape, bias_axes=bias_axes, activation=activation,
                  bias_initializer="random_normal")
    k = keras.layers.EinsumDense(equation, **kwargs)
    m = mk.layers.EinsumDense(equation, **kwargs)
    x = _f32(rng, *shape)
    _assert_parity(k, m, [x], {}, rng)
    assert [w.shape for w in m.weights] == [tuple(w.shape) for w in k.weights]
    assert [w.path for w in m.weights] == [w.path for w in k.weights]
    assert m.compute_output_shape((None, *shape[1:])) == k.compute_output_shape(
        (None, *shape[1:]))
    assert m.count_params() == k.count_params()


def test_einsum_dense_config_round_trip(rng):
    kwargs = dict(output_shape=(None, 2, 3), bias_axes="de", activation="relu",
                  kernel_initializer=keras.initializers.HeNormal(seed=3),
                  kernel_regularizer=keras.regularizers.L2(0.01), bias_constraint="non_neg")
    k = keras.layers.EinsumDense("abc,cde->abde", **kwargs, name="ed")
    m = mk.layers.EinsumDense("abc,cde->abde", **{
        **kwargs, "kernel_initializer": mk.initializers.HeNormal(seed=3),
        "kernel_regularizer": mk.regularizers.L2(0.01)}, name="ed")
    assert m.get_config() == k.get_config()
    k.build((None, 4, 5))
    m.build((None, 4, 5))
    assert json.loads(json.dumps(m.get_config())) == json.loads(json.dumps(k.get_config()))
    again = mk.layers.EinsumDense.from_config(m.get_config())
    assert again.get_config() == m.get_config()
    assert (keras.layers.serialize(k) == mk.layers.serialize(m)
            or json.loads(json.dumps(keras.layers.serialize(k)))
            == json.loads(json.dumps(mk.layers.serialize(m))))


@pytest.mark.parametrize("equation,output_shape,shape,message", [
    ("abc,cd->abd", (5, 7), (2, 4, 5), "Input shape and output shape do not match"),
    ("abc,cd->abe", (None, 7), (2, 4, 5), "was specified in the output"),
    ("abc,cde->abd", (None, 7), (2, 4, 5), "did not have a match"),
    ("a+b,bc->ac", 7, (2, 5), "Invalid einsum equation"),
])
def test_einsum_dense_errors_like_keras(equation, output_shape, shape, message):
    for lib in (keras, mk):
        with pytest.raises(ValueError, match=message):
            lib.layers.EinsumDense(equation, output_shape=output_shape).build(shape)
    for lib in (keras, mk):
        with pytest.raises(ValueError, match="Bias dimension 'x' was requested"):
            lib.layers.EinsumDense("ab,bc->ac", 3, bias_axes="x").build((2, 5))


# --- MultiHeadAttention --------------------------------------------------------------------------
def _mha_pair(**kwargs):
    kwargs.setdefault("bias_initializer", "random_normal")  # nonzero biases, so they are tested
    return (keras.layers.MultiHeadAttention(**kwargs), mk.layers.MultiHeadAttention(**kwargs))


MHA_CASES = {  # id: (layer kwargs, query shape, value shape, key shape or None, call kwargs)
    "self": (dict(num_heads=2, key_dim=3), (2, 4, 6), (2, 4, 6), None, {}),
    "cross": (dict(num_heads=2, key_dim=3), (2, 4, 6), (2, 5, 3), None, {}),
    "key": (dict(num_heads=3, key_dim=2, value_dim=4), (2, 4, 6), (2, 5, 3), (2, 5, 7), {}),
    "no_bias": (dict(num_heads=2, key_dim=3, use_bias=False), (2, 4, 6), (2, 5, 3), None, {}),
    "output_shape_int": (dict(num_heads=2, key_dim=3, output_shape=5), (2, 4, 6), (2, 5, 3),
                         None, {}),
    "output_shape_2d": (dict(num_heads=2, key_dim=3, output_shape=(2, 3)), (2, 4, 6),
                        (2, 5, 3), None, {}),
    "scores": (dict(num_heads=2, key_dim=3), (2, 4, 6), (2, 5, 3), None,
               {"return_attention_scores": True}),
    "causal": (dict(num_heads=2, key_dim=3), (2, 5, 6), (2, 5, 6), None,
               {"use_causal_mask": True}),
    "causal_scores": (dict(num_heads=2, key_dim=3), (2, 5, 6), (2, 5, 6), None,
                      {"use_causal_mask": True, "return_attention_scores": True}),
    "causal_cross": (dict(num_heads=2, key_dim=3), (2, 4, 6), (2, 6, 6), None,
                     {"use_causal_mask": True}),
    "gate": (dict(num_heads=2, key_dim=3, use_gate=True), (2, 4, 6), (2, 5, 3), None, {}),
    "sliding_window": (dict(num_heads=2, key_dim=3, sliding_window=2), (2, 5, 6), (2, 5, 6),
                       None, {"use_causal_mask": True}),
    "dropout_inference": (dict(num_heads=2, key_dim=3, dropout=0.5), (2, 4, 6), (2, 5, 3),
                          None, {"training": False}),
    "axes_2d_default": (dict(num_heads=2, key_dim=3), (2, 3, 2, 4), (2, 3, 2, 4), None,
                        {"return_attention_scores": True}),
    "axes_2": (dict(num_heads=2, key_dim=3, attention_axes=2), (2, 3, 4, 5), (2, 3, 2, 5),
               None, {}),
    "axes_neg": (dict(num_heads=2, key_dim=2, attention_axes=(-2,)), (2, 3, 4, 5),
                 (2, 3, 2, 5), None, {"return_attention_scores": True}),
    "rank5": (dict(num_heads=2, key_dim=2, attention_axes=(2, 3)), (2, 2, 3, 2, 4),
              (2, 2, 2, 3, 4), None, {}),
    "axes_2d_mask": (dict(num_heads=2, key_dim=3), (2, 3, 2, 4), (2, 2, 2, 4), None,
                     {"attention_mask": np.random.default_rng(5).random((2, 3, 2, 2, 2)) > 0.3,
                      "return_attention_scores": True}),
    "axes_2_mask": (dict(num_heads=2, key_dim=3, attention_axes=2), (2, 3, 4, 5), (2, 3, 2, 5),
                    None, {"attention_mask": np.random.default_rng(6).random((2, 3, 4, 2)) > 0.3}),
}


@pytest.mark.parametrize("case", sorted(MHA_CASES))
def test_multi_head_attention_outputs_and_gradients(case, rng):
    kwargs, q_shape, v_shape, k_shape, call_kwargs = MHA_CASES[case]
    k_layer, m_layer = _mha_pair(**kwargs)
    args = [_f32(rng, *q_shape), _f32(rng, *v_shape)]
    if k_shape is not None:
        args.append(_f32(rng, *k_shape))
    _assert_parity(k_layer, m_layer, args, call_kwargs, rng)
    assert [w.path for w in m_layer.weights] == [w.path for w in k_layer.weights]
    assert m_layer.count_params() == k_layer.count_params()
    assert m_layer.get_config() == k_layer.get_config()


def _masks(rng, b, t, s):
    attention = rng.random((b, t, s)) > 0.4
    attention[0, 1, :] = False  # a query row that may attend to nothing
    value = np.ones((b, s), bool)
    value[:, -2:] = False
    value[1, :] = False  # a batch entry with every value masked
    return attention, value


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("masks", ["attention", "value", "key", "value_key_attention",
                                   "attention_causal", "int_attention", "attention_2d"])
def test_multi_head_attention_masks(masks, scores, rng):
    """Both of Keras's routes: with return_attention_scores (masked softmax, a fully masked row
    gives zeros) and without (TensorFlow's dot_product_attention, a fully masked row gives the
    mean of the values)."""
    attention, value = _masks(rng, 2, 4, 5)
    call = {"return_attention_scores": scores}
    if "attention" in masks:
        call["attention_mask"] = attention
    if masks.startswith("value"):
        call["value_mask"] = value
    if masks == "key" or "key" in masks:
        call["key_mask"] = value[::-1].copy()
    if masks == "attention_causal":
        attention = rng.random((2, 5, 5)) > 0.3
        call["attention_mask"] = attention
        call["use_causal_mask"] = True
    if masks == "int_attention":
        call["attention_mask"] = attention.astype("int32")
    if masks == "attention_2d":
        call["attention_mask"] = attention[0]  # (T, S), broadcast over the batch
    t = 5 if masks == "attention_causal" else 4
    k_layer, m_layer = _mha_pair(num_heads=2, key_dim=3)
    args = [_f32(rng, 2, t, 6), _f32(rng, 2, 5, 3)]
    if "key" in masks:
        args.append(_f32(rng, 2, 5, 4))
    _assert_parity(k_layer, m_layer, args, call, rng)


def test_multi_head_attention_query_mask_is_ignored_as_in_keras(rng):
    k_layer, m_layer = _mha_pair(num_heads=2, key_dim=3)
    q, v = _f32(rng, 2, 4, 6), _f32(rng, 2, 5, 3)
    query_mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
    _assert_parity(k_layer, m_layer, [q, v], {"query_mask": query_mask}, rng)
    np.testing.assert_allclose(np.asarray(m_layer(q, v, query_mask=query_mask)),
                               np.asarray(m_layer(q, v)))


def test_multi_head_attention_config_regularizers_constraints_and_losses(rng):
    kwargs = dict(num_heads=2, key_dim=3, value_dim=4, dropout=0.25, use_bias=False,
                  output_shape=(5,), attention_axes=(1,), seed=7)
    k_layer = keras.layers.MultiHeadAttention(
        **kwargs, kernel_initializer=keras.initializers.RandomNormal(seed=1),
        kernel_regularizer=keras.regularizers.L2(0.1), bias_regularizer="l1",
        activity_regularizer=keras.regularizers.L1(0.01), kernel_constraint="max_norm",
        bias_constraint="non_neg", name="mha")
    m_layer = mk.layers.MultiHeadAttention(
        **kwargs, kernel_initializer=mk.initializers.RandomNormal(seed=1),
        kernel_regularizer=mk.regularizers.L2(0.1), bias_regularizer="l1",
        activity_regularizer=mk.regularizers.L1(0.01), kernel_constraint="max_norm",
        bias_constraint="non_neg", name="mha")
    assert m_layer.get_config() == k_layer.get_config()
    restored = mk.layers.MultiHeadAttention.from_config(m_layer.get_config())
    assert restored.get_config() == m_layer.get_config()
    q, v = _f32(rng, 3, 4, 6), _f32(rng, 3, 2, 3)
    k_layer(q, v)
    m_layer(q, v)
    m_layer.set_weights(k_layer.get_weights())
    k_layer(q, v)
    m_layer(q, v)
    k_losses = [float(x) for x in k_layer.losses]
    m_losses = [float(np.asarray(x)) for x in m_layer.losses]
    np.testing.assert_allclose(sorted(m_losses), sorted(k_losses), rtol=1e-5)
    np.testing.assert_allclose(sum(m_losses), sum(k_losses), rtol=1e-5)
    assert json.loads(json.dumps(m_layer.get_config())) == json.loads(
        json.dumps(k_layer.get_config()))
    k_ser, m_ser = keras.layers.serialize(k_layer), mk.layers.serialize(m_layer)
    assert json.loads(json.dumps(m_ser, default=list)) == json.loads(
        json.dumps(k_ser, default=list))


@pytest.mark.parametrize("kwargs,message", [
    (dict(num_heads=0, key_dim=2), "num_heads"),
    (dict(num_heads=2, key_dim=-1), "key_dim"),
    (dict(num_heads=2, key_dim=2, value_dim=0), "value_dim"),
    (dict(num_heads=2, key_dim=2, attention_axes="x"), "attention_axes"),
    (dict(num_heads=2, key_dim=2, sliding_window=0), "sliding_window"),
])
def test_multi_head_attention_argument_errors_like_keras(kwargs, message):
    for lib in (keras, mk):
        with pytest.raises(ValueError, match=message):
            lib.layers.MultiHeadAttention(**kwargs)


def test_multi_head_attention_shape_errors_and_output_shape():
    k_layer, m_layer = _mha_pair(num_heads=2, key_dim=3, output_shape=(2, 4))
    for layer in (k_layer, m_layer):
        assert layer.compute_output_shape((None, 4, 6), (None, 5, 3)) == (None, 4, 2, 4)
        with pytest.raises(ValueError, match="All dimensions of `value` and `key`"):
            layer.build((None, 4, 6), (None, 5, 3), (None, 6, 3))


@pytest.mark.parametrize("scores", [False, True])
def test_multi_head_attention_in_a_functional_model_and_summary(scores, rng):
    """query, value and key as three Inputs. The value length equals the query length here:
    for the scores Keras declares the symbolic shape (B, heads, T, T) whatever S is, where
    minikeras declares the true (B, heads, T, S) (see the test below)."""
    def make(lib):
        q = lib.Input((4, 6), name="q")
        v = lib.Input((4, 3), name="v")
        k = lib.Input((4, 2), name="k")
        out = lib.layers.MultiHeadAttention(2, 3, name="mha")(
            q, v, k, return_attention_scores=scores, use_causal_mask=True)
        if scores:
            out = lib.layers.Concatenate()([lib.layers.Flatten()(out[0]),
                                            lib.layers.Flatten()(out[1])])
        return lib.Model([q, v, k], out)

    k_model, m_model = make(keras), make(mk)
    m_model.set_weights(k_model.get_weights())
    x = [_f32(rng, 3, 4, 6), _f32(rng, 3, 4, 3), _f32(rng, 3, 4, 2)]
    np.testing.assert_allclose(m_model.predict(x, verbose=0), k_model.predict(x, verbose=0),
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.asarray(m_model(x)), k_model(x).numpy(), rtol=RTOL, atol=ATOL)
    assert m_model.count_params() == k_model.count_params() == 126
    assert [w.shape for w in m_model.weights] == [tuple(w.shape) for w in k_model.weights]
    assert m_model.output_shape == k_model.output_shape
    m_lines, k_lines = [], []
    m_model.summary(print_fn=m_lines.append, line_length=100)
    k_model.summary(print_fn=k_lines.append, line_length=100)
    assert m_lines == k_lines


def test_multi_head_attention_symbolic_scores_have_the_true_shape(rng):
    q, v = mk.Input((4, 6)), mk.Input((5, 3))
    out, scores = mk.layers.MultiHeadAttention(2, 3)(q, v, return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 2, 4, 5)
    model = mk.Model([q, v], [out, scores])
    real = model([_f32(rng, 2, 4, 6), _f32(rng, 2, 5, 3)])
    assert [tuple(t.shape) for t in real] == [(2, 4, 6), (2, 2, 4, 5)]
    k_scores = keras.layers.MultiHeadAttention(2, 3)(
        keras.Input((4, 6)), keras.Input((5, 3)), return_attention_scores=True)[1]
    assert tuple(k_scores.shape) == (None, 2, 4, 4)  # Keras's symbolic shape: T where S belongs


def test_multi_head_attention_trains_like_keras(rng):
    def make(lib):
        q = lib.Input((4, 6))
        v = lib.Input((3, 5))
        h = lib.layers.MultiHeadAttention(2, 3, value_dim=2)(q, v)
        h = lib.layers.LayerNormalization()(lib.layers.Add()([q, h]))
        out = lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(h))
        return lib.Model([q, v], out)

    x = [_f32(rng, 32, 4, 6), _f32(rng, 32, 3, 5)]
    y = _f32(rng, 32, 1)
    assert_trains_like_keras(make, x, y, "mse", learning_rate=0.05, batch_size=8)


def test_multi_head_attention_regularizers_and_constraints_train_like_keras(rng):
    """The penalties join the loss and the constraints run after each update, per projection."""
    def make(lib):
        q = lib.Input((3, 4))
        h = lib.layers.MultiHeadAttention(
            2, 3, kernel_regularizer=lib.regularizers.L2(0.01), bias_regularizer="l1",
            activity_regularizer=lib.regularizers.L2(0.001),
            kernel_constraint=lib.constraints.MaxNorm(0.5), bias_constraint="non_neg",
            bias_initializer="ones")(q, q)
        return lib.Model(q, lib.layers.Dense(1)(lib.layers.Flatten()(h)))

    x = _f32(rng, 16, 3, 4)
    y = _f32(rng, 16, 1)
    assert_trains_like_keras(make, x, y, "mse", learning_rate=0.01, batch_size=8)


def test_self_attention_encoder_trains_like_keras(rng):
    def make(lib):
        x = lib.Input((5, 4))
        h = lib.layers.MultiHeadAttention(2, 4, dropout=0.0)(x, x, use_causal_mask=True)
        h = lib.layers.EinsumDense("abc,cd->abd", output_shape=(5, 3), bias_axes="d",
                                   activation="tanh")(h)
        return lib.Model(x, lib.layers.Dense(2, activation="softmax")(lib.layers.Flatten()(h)))

    x = _f32(rng, 24, 5, 4)
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 24)]
    assert_trains_like_keras(make, x, y, "categorical_crossentropy", learning_rate=0.1,
                             batch_size=8)


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
@pytest.mark.parametrize("variant", ["cross", "self_scores_gate"])
def test_attention_models_files_move_both_ways(variant, suffix, tmp_path, rng):
    """Weight files have Keras's layout (``multi_head_attention/query_dense/vars``, empty
    ``_softmax`` and ``_dropout_layer`` groups...), and archives Keras's config, call kwargs
    included."""
    def make(lib):
        q = lib.Input((4, 6))
        if variant == "cross":
            v = lib.Input((5, 3))
            h = lib.layers.MultiHeadAttention(2, 3)(q, v)
        else:
            v = lib.Input((4, 6))
            h, s = lib.layers.MultiHeadAttention(2, 3, use_gate=True, value_dim=2)(
                q, q, v, use_causal_mask=True, return_attention_scores=True)
            h = lib.layers.Concatenate()([h, lib.layers.Reshape((4, 8))(s)])
        a = lib.layers.Attention(use_scale=True, score_mode="concat")([h, h])
        b = lib.layers.AdditiveAttention()([a, h])
        e = lib.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3),
                                   bias_axes="de")(b)
        return lib.Model([q, v], lib.layers.Flatten()(e))

    x = [_f32(rng, 3, 4, 6), _f32(rng, 3, 5 if variant == "cross" else 4,
                                  3 if variant == "cross" else 6)]
    assert_files_move_both_ways(make, x, tmp_path, suffix, rng, ours_from=lambda w: [
        np.asarray(a) * 0.5 for a in w])


def test_attention_layers_summary_like_keras():
    def make(lib):
        q, v = lib.Input((3, 4)), lib.Input((3, 4))
        a, s = lib.layers.Attention(use_scale=True)([q, v], return_attention_scores=True)
        b = lib.layers.AdditiveAttention()([q, v, v])
        e = lib.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3),
                                   bias_axes="de")(b)
        return lib.Model([q, v], [a, s, e])

    lines = {}
    for lib in (keras, mk):
        model = make(lib)
        lines[lib.__name__] = []
        model.summary(print_fn=lines[lib.__name__].append, line_length=100)
        assert model.output_shape == [(None, 3, 4), (None, 3, 3), (None, None, 2, 3)]
    assert lines["minikeras"] == lines["keras"]


# --- Attention and AdditiveAttention -------------------------------------------------------------
ATTENTION_CASES = {  # id: (class, layer kwargs, shapes [q, v, (k)], call kwargs)
    "dot": ("Attention", {}, [(2, 3, 4), (2, 5, 4)], {}),
    "dot_key": ("Attention", {}, [(2, 3, 4), (2, 5, 6), (2, 5, 4)], {}),
    "dot_scale": ("Attention", {"use_scale": True}, [(2, 3, 4), (2, 5, 4)], {}),
    "concat": ("Attention", {"score_mode": "concat"}, [(2, 3, 4), (2, 5, 4)], {}),
    "concat_scale": ("Attention", {"score_mode": "concat", "use_scale": True},
                     [(2, 3, 4), (2, 5, 4), (2, 5, 4)], {}),
    "scores": ("Attention", {"use_scale": True}, [(2, 3, 4), (2, 5, 4)],
               {"return_attention_scores": True}),
    "causal": ("Attention", {}, [(2, 4, 3), (2, 4, 3)], {"use_causal_mask": True}),
    "causal_cross": ("Attention", {}, [(2, 3, 3), (2, 5, 3)],
                     {"use_causal_mask": True, "return_attention_scores": True}),
    "dropout_inference": ("Attention", {"dropout": 0.5}, [(2, 3, 4), (2, 5, 4)],
                          {"training": False}),
    "rank4": ("Attention", {}, [(2, 2, 3, 4), (2, 2, 5, 4)], {}),
    "additive": ("AdditiveAttention", {}, [(2, 3, 4), (2, 5, 4)], {}),
    "additive_no_scale": ("AdditiveAttention", {"use_scale": False},
                          [(2, 3, 4), (2, 5, 6), (2, 5, 4)], {"return_attention_scores": True}),
    "additive_causal": ("AdditiveAttention", {}, [(2, 4, 3), (2, 4, 3)],
                        {"use_causal_mask": True, "return_attention_scores": True}),
}


def _attention_pair(cls, kwargs):
    return getattr(keras.layers, cls)(**kwargs), getattr(mk.layers, cls)(**kwargs)


def _list_parity(k_layer, m_layer, inputs, call, rng):
    """_assert_parity for layers called on a list: wrap them as one-argument callables."""
    class Wrap:
        def __init__(self, layer):
            self.layer = layer
            self.built = True

        def __call__(self, *xs, **kwargs):
            return self.layer(list(xs), **kwargs)

        def __getattr__(self, name):
            return getattr(self.layer, name)

    m_layer(list(inputs), **call)
    _assert_parity(Wrap(k_layer), Wrap(m_layer), inputs, call, rng)


@pytest.mark.parametrize("case", sorted(ATTENTION_CASES))
def test_attention_layers_outputs_and_gradients(case, rng):
    cls, kwargs, shapes, call = ATTENTION_CASES[case]
    k_layer, m_layer = _attention_pair(cls, kwargs)
    inputs = [_f32(rng, *s) for s in shapes]
    _list_parity(k_layer, m_layer, inputs, call, rng)
    assert [w.path for w in m_layer.weights] == [w.path for w in k_layer.weights]
    assert m_layer.get_config() == k_layer.get_config()
    assert m_layer.compute_output_shape(shapes) == k_layer.compute_output_shape(shapes)


@pytest.mark.parametrize("cls", ["Attention", "AdditiveAttention"])
@pytest.mark.parametrize("masks", ["value", "query", "both", "both_causal", "int"])
def test_attention_layers_masks(cls, masks, rng):
    q_mask = np.array([[1, 1, 0], [1, 0, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], bool)  # batch 1: every value masked
    mask = [q_mask if masks != "value" else None, v_mask if masks != "query" else None]
    if masks == "int":
        mask = [q_mask.astype("int32"), v_mask.astype("float32")]
    call = {"mask": mask, "return_attention_scores": True,
            "use_causal_mask": masks == "both_causal"}
    k_layer, m_layer = _attention_pair(cls, {"use_scale": True})
    inputs = [_f32(rng, 2, 3, 4), _f32(rng, 2, 5, 4)]
    _list_parity(k_layer, m_layer, inputs, call, rng)


def test_attention_layers_in_a_functional_model_train_like_keras(rng):
    def make(lib):
        q = lib.Input((3, 4))
        v = lib.Input((5, 4))
        a, s = lib.layers.Attention(use_scale=True)([q, v], return_attention_scores=True)
        b = lib.layers.AdditiveAttention()([q, v, v])
        c = lib.layers.Attention(score_mode="concat")([q, v], use_causal_mask=True)
        h = lib.layers.Concatenate()([lib.layers.Flatten()(t) for t in (a, s, b, c)])
        return lib.Model([q, v], lib.layers.Dense(1)(h))

    x = [_f32(rng, 24, 3, 4), _f32(rng, 24, 5, 4)]
    y = _f32(rng, 24, 1)
    assert_trains_like_keras(make, x, y, "mse", learning_rate=0.05, batch_size=8)
    k_model, m_model = make(keras), make(mk)
    assert [t.shape for t in m_model.layers[2]._inbound_nodes[0].outputs] == [
        tuple(t.shape) for t in k_model.layers[2]._inbound_nodes[0].output_tensors]


def test_attention_layer_errors_like_keras(rng):
    for lib in (keras, mk):
        with pytest.raises(ValueError, match="score_mode"):
            lib.layers.Attention(score_mode="add")
        layer = lib.layers.Attention()
        with pytest.raises(ValueError, match="must be called on a list of inputs"):
            layer(_f32(rng, 2, 3, 4))
        with pytest.raises(ValueError, match="inputs list of length 2 or 3"):
            layer([_f32(rng, 2, 3, 4)])
        with pytest.raises(ValueError, match="mask must be a list"):
            layer([_f32(rng, 2, 3, 4), _f32(rng, 2, 3, 4)], mask=np.ones((2, 3), bool))
    assert minikeras.layers.AdditiveAttention().get_config() == \
        keras.layers.AdditiveAttention().get_config()


def _transformer_block(lib):
    """The Keras tutorial's TransformerBlock, written once against the ``keras`` API."""
    class TransformerBlock(lib.layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, **kwargs):
            super().__init__(**kwargs)
            self.att = lib.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = lib.Sequential([lib.layers.Dense(ff_dim, activation="relu"),
                                       lib.layers.Dense(embed_dim)])
            self.layernorm1 = lib.layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = lib.layers.LayerNormalization(epsilon=1e-6)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            out1 = self.layernorm1(inputs + attn_output)
            return self.layernorm2(out1 + self.ffn(out1))

    return TransformerBlock


def test_tutorial_transformer_block_trains_like_keras(rng):
    def make(lib):
        inputs = lib.Input((6, 4))
        x = _transformer_block(lib)(4, 2, 8)(inputs)
        x = lib.layers.GlobalAveragePooling1D()(x)
        return lib.Model(inputs, lib.layers.Dense(2, activation="softmax")(x))

    x = _f32(rng, 16, 6, 4)
    y = rng.integers(0, 2, 16)
    k = make(keras)
    m = make(mk)
    assert [tuple(w.shape) for w in k.weights] == [w.shape for w in m.weights]
    assert_trains_like_keras(make, x, y, "sparse_categorical_crossentropy", learning_rate=0.1,
                             batch_size=8, metrics=["accuracy"])
