"""Against Keras 3: the gradients of ``ops.einsum`` with ``...`` (tf.GradientTape over
``keras.ops.einsum``), broadcast batch axes included; and ``model.compute_output_shape`` for
functional models whose layers take several inputs or give several outputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras as mk

# (equation, operand shapes) TensorFlow's einsum accepts: ``...`` of rank 0 to 2, at the start,
# in the middle and at the end, batch axes broadcast (missing ones and size-1 ones)
EINSUM_CASES = [
    ("...b,bc->...c", [(2, 3, 4), (4, 5)]),
    ("...b,bc->...c", [(4,), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(3, 2, 3), (1, 3, 4)]),
    ("b...,b...->b...", [(2, 3, 4), (2, 1, 4)]),
    ("a...c,c->a...", [(2, 3, 4, 5), (5,)]),
    ("ab...cd,d->ab...c", [(2, 3, 4, 2, 3), (3,)]),
    ("ij...,jk->ik...", [(2, 3, 4), (3, 5)]),
    ("...ii->...i", [(3, 4, 4)]),
    ("...ij->...", [(2, 3, 4)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("...j,j", [(2, 3), (3,)]),
    ("bt...d,d...->bt...", [(2, 3, 4, 5), (5, 1)]),
    ("...nh,hd->...nd", [(2, 3, 2, 4), (4, 6)]),  # MultiHeadAttention's output projection form
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES,
                         ids=[f"{e}{s}" for e, s in EINSUM_CASES])
def test_einsum_ellipsis_gradients_match_tensorflow(equation, shapes):
    rng = np.random.default_rng(7)
    operands = [rng.standard_normal(s).astype("float32") for s in shapes]
    k_vars = [tf.Variable(a) for a in operands]
    with tf.GradientTape() as tape:
        k_out = keras.ops.einsum(equation, *k_vars)
        weights = rng.standard_normal(tuple(k_out.shape)).astype("float32")
        k_loss = tf.reduce_sum(k_out * weights)
    k_grads = tape.gradient(k_loss, k_vars)
    m_vars = [mk.Variable(a) for a in operands]
    with mk.GradientTape() as tape:
        m_out = mk.ops.einsum(equation, *m_vars)
        m_loss = mk.ops.sum(m_out * weights)
    m_grads = tape.gradient(m_loss, m_vars)
    assert m_out.shape == tuple(k_out.shape) and m_out.dtype == k_out.dtype.name
    np.testing.assert_allclose(m_out, k_out.numpy(), rtol=1e-5, atol=1e-5)
    for i, (mg, kg) in enumerate(zip(m_grads, k_grads, strict=True)):
        assert mg.shape == tuple(kg.shape) == shapes[i]
        np.testing.assert_allclose(mg, kg.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=f"{equation}: operand {i}")


def test_einsum_dense_with_ellipsis_trains_like_keras():
    x = np.random.default_rng(3).standard_normal((8, 3, 5)).astype("float32")
    y = np.random.default_rng(4).standard_normal((8, 3, 4)).astype("float32")

    def make(lib):
        return lib.Sequential([lib.Input((3, 5)), lib.layers.EinsumDense(
            "...b,bc->...c", output_shape=(4,), bias_axes="c", activation="tanh")])

    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    for lib, model in ((keras, k), (mk, m)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    hk = k.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    hm = m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(hm.history["loss"], hk.history["loss"], rtol=1e-5)
    for a, b in zip(k.get_weights(), m.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, atol=1e-5)


# --- Functional.compute_output_shape ---------------------------------------------------------
def _models(lib):
    """{name: (model, [input shapes to ask about])}: layers with several inputs or outputs."""
    L = lib.layers
    q, v, k = lib.Input((None, 8)), lib.Input((None, 6)), lib.Input((None, 5))
    mha = lib.Model([q, v, k], L.MultiHeadAttention(2, 4)(q, v, key=k))
    t = lib.Input((5, 8))
    out, scores = L.MultiHeadAttention(2, 4, output_shape=3)(t, t, return_attention_scores=True)
    mha_scores = lib.Model(t, [out, scores])
    a, b = lib.Input((4, 3)), lib.Input((6, 3))
    out, scores = L.Attention()([a, b], return_attention_scores=True)
    attention = lib.Model([a, b], {"out": out, "scores": scores})
    x1, x2, x3 = lib.Input((3,)), lib.Input((3,)), lib.Input((2,))
    added = L.Add()([x1, x2])
    merging = lib.Model([x1, x2, x3], [L.Dense(4)(L.Concatenate()([added, x3])),
                                       L.Multiply()([added, x2]), added])
    s = lib.Input((5, 3))
    lstm = lib.Model(s, L.LSTM(4, return_state=True)(s))
    seq = lib.Input((None, 6))
    h = L.MultiHeadAttention(2, 3, output_shape=5)(seq, seq, seq, use_causal_mask=True)
    h = L.LayerNormalization()(L.Add()([h, L.Dense(5)(seq)]))
    encoder = lib.Model(seq, [L.Dense(2)(L.GlobalAveragePooling1D()(h)), h])
    named_a, named_b = lib.Input((3,), name="a"), lib.Input((4,), name="b")
    by_name = lib.Model({"a": named_a, "b": named_b}, L.Concatenate()([named_a, named_b]))
    return {
        "mha": (mha, [[(None, 5, 8), (None, 7, 6), (None, 7, 5)],
                      [(2, 1, 8), (2, 3, 6), (2, 3, 5)], ((4, 9, 8), (4, 2, 6), (4, 2, 5))]),
        "mha_scores": (mha_scores, [(None, 5, 8), (3, 5, 8)]),
        "attention": (attention, [[(None, 4, 3), (None, 6, 3)], [(2, 4, 3), (2, 6, 3)]]),
        "merging": (merging, [[(None, 3), (None, 3), (None, 2)], [(7, 3), (7, 3), (7, 2)]]),
        "lstm": (lstm, [(None, 5, 3), (2, 5, 3)]),
        "encoder": (encoder, [(None, None, 6), (4, 10, 6)]),
        "by_name": (by_name, [{"a": (None, 3), "b": (None, 4)}, {"b": (2, 4), "a": (2, 3)}]),
    }


@pytest.mark.parametrize("name", list(_models(mk)))
def test_functional_compute_output_shape_matches_keras(name):
    k_model, shapes = _models(keras)[name]
    m_model, _ = _models(mk)[name]
    for shape in shapes:
        expected = k_model.compute_output_shape(shape)
        got = m_model.compute_output_shape(shape)
        assert got == expected, f"{name} {shape}: minikeras {got}, Keras {expected}"
        assert type(got) is type(expected)


@pytest.mark.parametrize("lib", [keras, mk], ids=["keras", "minikeras"])
def test_functional_compute_output_shape_checks_the_inputs(lib):
    model, _ = _models(lib)["merging"]
    with pytest.raises(ValueError, match="incompatible"):
        model.compute_output_shape([(None, 3), (None, 4), (None, 2)])
