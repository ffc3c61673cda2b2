"""EinsumDense, MultiHeadAttention, Attention and AdditiveAttention: formulas against plain NumPy,
masks, float64 gradient checks (inputs and weights), weight names and order, configs, functional
models, saving, and errors."""

import math

import h5py
import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check

import minikeras
from minikeras import layers


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def _x(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype("float32")


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class _Bound(layers.Layer):
    """``layer(x, *others)`` (or ``layer([x, *others])``) as a one-input layer, so that
    ``layer_gradient_check`` perturbs x and every weight of ``layer``."""

    def __init__(self, layer, others, as_list=False, **call_kwargs):
        super().__init__()
        self.inner = layer
        self.others = others
        self.as_list = as_list
        self.call_kwargs = call_kwargs

    def call(self, x):
        if self.as_list:
            return self.inner([x, *self.others], **self.call_kwargs)
        return self.inner(x, *self.others, **self.call_kwargs)


# --- EinsumDense ---------------------------------------------------------------------------------
@pytest.mark.parametrize("equation,output_shape,bias_axes,shape,kernel,bias", [
    ("ab,bc->ac", 4, "c", (3, 5), (5, 4), (4,)),
    ("abc,cd->abd", (None, 4), "d", (2, 3, 5), (5, 4), (4,)),
    ("...b,bc->...c", 4, "c", (2, 3, 5), (5, 4), (4,)),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 3, 5), (5, 2, 3), (2, 3)),
    ("abc,cde->abde", (None, 2, 3), "e", (2, 3, 5), (5, 2, 3), (3,)),
    ("abc,cde->abde", (None, 2, 3), "d", (2, 3, 5), (5, 2, 3), (2, 1)),
    ("abcd,cde->abe", (3, 4), "e", (2, 3, 2, 5), (2, 5, 4), (4,)),
    ("ab...,bc->ac...", 4, "c", (2, 5, 3), (5, 4), (4, 1)),
    ("abc,bcd->ad", 4, None, (2, 3, 5), (3, 5, 4), None),
])
def test_einsum_dense_is_an_einsum_plus_a_broadcast_bias(equation, output_shape, bias_axes, shape,
                                                         kernel, bias):
    layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                               bias_initializer="random_normal")
    x = _x(*shape)
    y = layer(x)
    assert layer.kernel.shape == kernel
    assert (None if layer.bias is None else layer.bias.shape) == bias
    expected = np.einsum(equation, x, layer.kernel.numpy())
    if bias is not None:
        expected = expected + layer.bias.numpy()
    _close(y, expected)
    assert [w.name for w in layer.weights] == ["kernel", "bias"][:1 + (bias is not None)]
    full = layer.compute_output_shape((None, *shape[1:]))
    assert all(f is None or f == n for f, n in zip(full, y.shape, strict=True))
    assert layer.count_params() == math.prod(kernel) + (math.prod(bias) if bias else 0)


def test_einsum_dense_activation_and_output_shape_with_unknown_sizes():
    layer = layers.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d",
                               activation="relu")
    y = layer(_x(2, 3, 5))
    assert np.all(np.asarray(y) >= 0) and y.shape == (2, 3, 4)
    assert layer.compute_output_shape((None, 7, 5)) == (None, None, 4)  # as Keras: not 7
    assert layer.compute_output_shape((None, 7, 5)) == (None, None, 4)
    kt = layers.EinsumDense("abc,cd->abd", output_shape=(7, 4))(minikeras.Input((7, 5)))
    assert kt.shape == (None, 7, 4)


def test_einsum_dense_glorot_fans_come_from_the_equation():
    """An (in, heads, dim) kernel: fan_in = in, fan_out = heads * dim, so the GlorotUniform limit
    is sqrt(6 / (in + heads*dim)), not what the shape alone gives (a 'conv' reading)."""
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16),
                               kernel_initializer=minikeras.initializers.GlorotUniform(seed=1))
    layer.build((None, 3, 64))
    kernel = layer.kernel.numpy()
    limit = math.sqrt(6.0 / (64 + 8 * 16))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit
    assert layer.get_config()["kernel_initializer"]["config"]["input_axes"] is None


@pytest.mark.parametrize("equation,output_shape,bias_axes,shape", [
    ("abc,cd->abd", (None, 3), "d", (2, 3, 4)),
    ("...b,bc->...c", 3, "c", (2, 2, 4)),
    ("abc,cde->abde", (None, 2, 2), "de", (2, 3, 2)),
    ("abc,cde->abde", (None, 2, 2), "d", (2, 3, 2)),
    ("abcd,cde->abe", (3, 2), "e", (2, 3, 2, 2)),
    ("ab...,bc->ac...", (2, 3), "c", (2, 2, 3)),
])
def test_einsum_dense_gradients(equation, output_shape, bias_axes, shape):
    with floatx("float64"):
        layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                                   activation="tanh", bias_initializer="random_normal")
        layer_gradient_check(layer, _x(*shape))


def test_einsum_dense_config_round_trip_and_errors():
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de",
                               activation="relu", kernel_regularizer="l2", name="proj")
    config = layer.get_config()
    assert config["output_shape"] == (None, 2, 3) and config["equation"] == "abc,cde->abde"
    assert config["activity_regularizer"] is None and config["quantization_config"] is None
    clone = layers.EinsumDense.from_config(config)
    assert clone.get_config() == config
    with pytest.raises(ValueError, match="Invalid einsum equation 'ab-c'"):
        layers.EinsumDense("ab-c", 3).build((2, 3))
    with pytest.raises(ValueError, match="Bias dimension 'q' was requested"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="q").build((2, 3))
    with pytest.raises(ValueError, match="do not match at shared dimension 'b'"):
        layers.EinsumDense("abc,cd->abd", (4, 3)).build((2, 5, 3))
    with pytest.raises(NotImplementedError, match="LoRA"):
        layers.EinsumDense("ab,bc->ac", 3, lora_rank=2)
    layer = layers.EinsumDense("abc,cd->abd", (None, 3))
    layer(_x(2, 3, 4))
    with pytest.raises(ValueError, match="einsum_dense"):
        layer(_x(3, 4))  # built for rank 3


# --- MultiHeadAttention: a NumPy reference -----------------------------------------------------
def _mha_numpy(layer, q, v, k=None, mask=None, fully_masked="zeros"):
    """Per-head attention with plain NumPy, from the layer's weights (rank-3 inputs)."""
    k = v if k is None else k
    w = {x.path.split("/")[-2] + "/" + x.name: x.numpy() for x in layer.weights}
    bias = layer.use_bias

    def project(x, name):
        y = np.einsum("btd,dnh->btnh", x, w[name + "/kernel"])
        return y + w[name + "/bias"] if bias else y

    qh, kh, vh = project(q, "query"), project(k, "key"), project(v, "value")
    logits = np.einsum("btnh,bsnh->bnts", qh, kh) / math.sqrt(layer.key_dim)
    if mask is not None:
        m = np.broadcast_to(mask[:, None], logits.shape)
        logits = np.where(m, logits, -1e9)
    probs = _softmax(logits)
    if mask is not None and fully_masked == "zeros":
        probs = np.where(m, probs, 0.0)
    context = np.einsum("bnts,bsnh->btnh", probs, vh)
    out = np.einsum("btnh,nhe->bte", context, w["attention_output/kernel"])
    return (out + w["attention_output/bias"] if bias else out), probs


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("scores", [True, False])
def test_multi_head_attention_matches_numpy_per_head_attention(use_bias, scores):
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, use_bias=use_bias,
                                      bias_initializer="random_normal")
    q, v, k = _x(2, 4, 6, seed=1), _x(2, 5, 3, seed=2), _x(2, 5, 7, seed=3)
    result = layer(q, v, k, return_attention_scores=scores)
    expected, probs = _mha_numpy(layer, q, v, k)
    if scores:
        _close(result[0], expected)
        _close(result[1], probs)
        _close(np.asarray(result[1]).sum(-1), np.ones((2, 3, 4)))
    else:
        _close(result, expected)


def test_multi_head_attention_weights_names_shapes_and_order():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_shape=(4,),
                                      name="mha")
    layer(_x(2, 4, 6), _x(2, 5, 3), _x(2, 5, 7))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("mha/query/kernel", (6, 2, 3)), ("mha/query/bias", (2, 3)),
        ("mha/key/kernel", (7, 2, 3)), ("mha/key/bias", (2, 3)),
        ("mha/value/kernel", (3, 2, 5)), ("mha/value/bias", (2, 5)),
        ("mha/attention_output/kernel", (2, 5, 4)), ("mha/attention_output/bias", (4,))]
    assert layer.count_params() == 36 + 6 + 42 + 6 + 30 + 10 + 40 + 4
    assert layer.query_dense is layer._query_dense and layer.output_dense.name == "attention_output"
    assert layer.attention_axes == (1,)
    gated = layers.MultiHeadAttention(2, 3, use_gate=True, use_bias=False)
    gated(_x(2, 4, 6), _x(2, 5, 3))
    assert [w.path.split("/", 1)[1] for w in gated.weights] == [
        "query/kernel", "key/kernel", "gate/kernel", "value/kernel", "attention_output/kernel"]


def test_multi_head_attention_masks_and_causal():
    layer = layers.MultiHeadAttention(2, 3)
    q, v = _x(2, 4, 6, seed=4), _x(2, 4, 3, seed=5)
    mask = np.random.default_rng(0).random((2, 4, 4)) > 0.3
    mask[0, 2] = False  # nothing to attend to
    value_mask = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
    out, probs = layer(q, v, attention_mask=mask, value_mask=value_mask,
                       return_attention_scores=True)
    combined = mask & value_mask[:, None, :]
    expected, expected_probs = _mha_numpy(layer, q, v, mask=combined)
    _close(out, expected)
    _close(probs, expected_probs)
    assert np.all(np.asarray(probs)[0, :, 2] == 0)  # scores path: a fully masked row is zeros
    # the fused route (no scores requested) gives that row uniform weights instead, as Keras
    expected_uniform, _ = _mha_numpy(layer, q, v, mask=combined, fully_masked="uniform")
    _close(layer(q, v, attention_mask=mask, value_mask=value_mask), expected_uniform)
    causal = np.tril(np.ones((4, 4), bool))[None]
    _, causal_probs = layer(q, v, use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.asarray(causal_probs)[:, :, ~causal[0]] == 0)
    _close(layer(q, v, use_causal_mask=True), _mha_numpy(layer, q, v, mask=causal)[0])
    _close(layer(q, v, attention_mask=np.broadcast_to(causal, (2, 4, 4)).astype("float32")),
           layer(q, v, use_causal_mask=True))
    # query_mask is ignored, as in Keras (it reads the query's mask from the tensor)
    _close(layer(q, v, query_mask=np.zeros((2, 4), bool)), layer(q, v))


def test_multi_head_attention_sliding_window():
    layer = layers.MultiHeadAttention(2, 3, sliding_window=2)
    q = _x(1, 5, 4)
    _, probs = layer(q, q, return_attention_scores=True)
    band = np.abs(np.arange(5)[:, None] - np.arange(5)[None, :]) < 2
    assert np.all(np.asarray(probs)[0][:, ~band] == 0)
    assert np.all(np.asarray(probs)[0][:, band] > 0)


def test_multi_head_attention_over_two_axes_softmaxes_over_both():
    layer = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    q, v = _x(2, 3, 2, 4), _x(2, 2, 3, 4)
    out, probs = layer(q, v, return_attention_scores=True)
    assert out.shape == (2, 3, 2, 4) and probs.shape == (2, 2, 3, 2, 2, 3)
    _close(np.asarray(probs).sum(axis=(-2, -1)), np.ones((2, 2, 3, 2)))
    assert layer.compute_output_shape((None, 3, 2, 4), (None, 2, 3, 4)) == (None, 3, 2, 4)
    default = layers.MultiHeadAttention(2, 3)
    default(q, v)
    assert default.attention_axes == (1, 2)


@pytest.mark.parametrize("kwargs,call", [
    (dict(num_heads=2, key_dim=2), {}),
    (dict(num_heads=2, key_dim=2), {"return_attention_scores": True, "use_causal_mask": True}),
    (dict(num_heads=2, key_dim=2, value_dim=3, use_gate=True), {}),
    (dict(num_heads=1, key_dim=2, output_shape=(2, 2)), {"attention_mask": np.array(
        [[[1, 0, 1], [0, 0, 0], [1, 1, 1]]], bool)}),
    (dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), {}),
])
def test_multi_head_attention_gradients(kwargs, call):
    rank4 = kwargs.get("attention_axes") == (1, 2)
    q_shape, v_shape = ((1, 2, 2, 3), (1, 2, 1, 2)) if rank4 else ((1, 3, 3), (1, 3, 2))
    with floatx("float64"):
        layer = layers.MultiHeadAttention(**kwargs, bias_initializer="random_normal")
        q, v = _x(*q_shape, seed=1), _x(*v_shape, seed=2)
        v64 = minikeras.Tensor(v.astype("float64"))
        first = (lambda out: out[0]) if call.get("return_attention_scores") else (lambda o: o)

        class Wrapped(_Bound):
            def call(self, x):
                return first(self.inner(x, *self.others, **self.call_kwargs))

        layer_gradient_check(Wrapped(layer, [v64], **call), q)
        gradient_check(lambda value: first(layer(q.astype("float64"), value, **call)), v)
        if call.get("return_attention_scores"):
            gradient_check(lambda value: layer(q.astype("float64"), value, **call)[1], v)


def test_multi_head_attention_dropout_only_when_training():
    layer = layers.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    q, v = _x(2, 4, 6), _x(2, 5, 3)
    out, probs = layer(q, v, return_attention_scores=True)
    _close(layer(q, v, training=False), out)
    trained = np.asarray(layer(q, v, training=True))
    assert not np.allclose(trained, np.asarray(out))
    _, kept = layer(q, v, return_attention_scores=True, training=True)
    _close(kept, probs)  # the scores returned are those before dropout, as in Keras


def test_multi_head_attention_config_round_trip_and_build_config():
    layer = layers.MultiHeadAttention(
        num_heads=2, key_dim=3, value_dim=4, dropout=0.1, use_bias=False, output_shape=5,
        attention_axes=-2, kernel_regularizer="l2", activity_regularizer="l1",
        bias_constraint="non_neg", seed=3, name="att")
    config = layer.get_config()
    assert config["output_shape"] == (5,) and config["attention_axes"] == (-2,)
    assert config["value_dim"] == 4 and config["use_gate"] is False and config["seed"] == 3
    clone = layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    layer(_x(2, 4, 6), _x(2, 5, 3))
    assert layer.get_config()["attention_axes"] == (1,)  # resolved when built, as in Keras
    assert layer.get_build_config() == {
        "shapes_dict": {"query_shape": (2, 4, 6), "value_shape": (2, 5, 3)}}
    rebuilt = layers.MultiHeadAttention.from_config(layer.get_config())
    rebuilt.build_from_config({"shapes_dict": {"query_shape": [None, 4, 6],
                                               "value_shape": [None, 5, 3]}})
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in layer.weights]
    # each projection's activity regularizer, and the L2 penalty of each of the four kernels
    assert len(layer.losses) == 8


def test_multi_head_attention_errors():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, 2.5)
    with pytest.raises(ValueError, match="Flash attention"):
        layers.MultiHeadAttention(2, 2, flash_attention=True)
    layer = layers.MultiHeadAttention(2, 3, name="mha")
    with pytest.raises(TypeError, match="value` is missing"):
        layer(_x(2, 4, 6))
    with pytest.raises(ValueError, match="All dimensions of `value` and `key`"):
        layer(_x(2, 4, 6), _x(2, 5, 3), _x(2, 6, 3))
    layer(_x(2, 4, 6), _x(2, 5, 3))
    with pytest.raises(ValueError, match=r"Input `query` of layer 'mha'.*\(2, 4, 6\).*"
                                         r"\(2, 4, 5\)"):
        layer(_x(2, 4, 5), _x(2, 5, 3))
    with pytest.raises(ValueError, match="rank 3 or more"):
        layers.MultiHeadAttention(2, 3).build((4, 6), (4, 6))


def test_multi_head_attention_in_a_functional_model_trains_and_saves(tmp_path):
    q_in, v_in = minikeras.Input((4, 6)), minikeras.Input((5, 3))
    out, scores = layers.MultiHeadAttention(2, 3, name="mha")(q_in, v_in,
                                                               return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 2, 4, 5)
    pooled = layers.Dense(1)(layers.Flatten()(out))
    model = minikeras.Model([q_in, v_in], pooled)
    q, v = _x(16, 4, 6, seed=1), _x(16, 5, 3, seed=2)
    y = _x(16, 1, seed=3)
    model.compile(optimizer=minikeras.optimizers.SGD(0.05), loss="mse")
    history = model.fit([q, v], y, epochs=5, batch_size=8, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path) as f:
        names = []
        f.visit(names.append)
    for sub in ("query_dense", "key_dense", "value_dense", "output_dense"):
        assert f"layers/multi_head_attention/{sub}/vars/0" in names
        assert f"layers/multi_head_attention/{sub}/vars/1" in names
    assert "layers/multi_head_attention/_softmax/vars" in names
    assert "layers/multi_head_attention/_dropout_layer/vars" in names
    twin = minikeras.Model.from_config(model.get_config())
    twin.load_weights(path)
    _close(twin.predict([q, v], verbose=0), model.predict([q, v], verbose=0))


# --- Attention and AdditiveAttention -------------------------------------------------------------
def _attention_numpy(q, v, k, scores, mask=None, q_mask=None):
    if mask is not None:
        scores = np.where(mask, scores, scores - 1e9)
    weights = _softmax(scores)
    out = weights @ v
    if q_mask is not None:
        out = np.where(q_mask[..., None], out, 0.0)
    return out, weights


@pytest.mark.parametrize("kind", ["dot", "dot_scale", "concat", "concat_scale", "additive",
                                  "additive_no_scale"])
def test_attention_scores_formulas(kind):
    q, v, k = _x(2, 3, 4, seed=1), _x(2, 5, 6, seed=2), _x(2, 5, 4, seed=3)
    if kind.startswith("additive"):
        layer = layers.AdditiveAttention(use_scale=kind == "additive")
    else:
        layer = layers.Attention(use_scale=kind.endswith("scale"),
                                 score_mode="concat" if "concat" in kind else "dot")
    layer.build([q.shape, v.shape, k.shape])
    for w in layer.weights:  # non-trivial weights, so the formula shows them
        w.assign(np.full(w.shape, 0.7, "float32") if w.name == "scale" else
                 np.full(w.shape, 1.3, "float32"))
    out, weights = layer([q, v, k], return_attention_scores=True)
    tanh_sum = q[:, :, None, :] + k[:, None, :, :]
    if kind == "dot":
        scores = q @ k.transpose(0, 2, 1)
    elif kind == "dot_scale":
        scores = 0.7 * (q @ k.transpose(0, 2, 1))
    elif kind == "concat":
        scores = 1.3 * np.tanh(tanh_sum).sum(-1)
    elif kind == "concat_scale":
        scores = 1.3 * np.tanh(0.7 * tanh_sum).sum(-1)
    elif kind == "additive":
        scores = (0.7 * np.tanh(tanh_sum)).sum(-1)
    else:
        scores = np.tanh(tanh_sum).sum(-1)
    expected, expected_weights = _attention_numpy(q, v, k, scores)
    _close(out, expected)
    _close(weights, expected_weights)
    names = {"dot": [], "dot_scale": ["scale"], "concat": ["concat_score_weight"],
             "concat_scale": ["scale", "concat_score_weight"], "additive": ["scale"],
             "additive_no_scale": []}[kind]
    assert [w.name for w in layer.weights] == names
    if kind == "additive":
        assert layer.scale.shape == (4,)


def test_attention_masks_and_causal():
    q, v = _x(2, 3, 4, seed=1), _x(2, 5, 4, seed=2)
    q_mask = np.array([[1, 0, 1], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0]], bool)
    layer = layers.Attention()
    out, weights = layer([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
    expected, expected_weights = _attention_numpy(q, v, v, q @ v.transpose(0, 2, 1),
                                                  mask=v_mask[:, None, :], q_mask=q_mask)
    _close(out, expected)
    _close(weights, expected_weights)
    assert np.all(np.asarray(out)[0, 1] == 0)  # a masked query position gives zeros
    _close(np.asarray(weights)[1], np.full((3, 5), 0.2))  # nothing to attend to: uniform
    causal = np.tril(np.ones((3, 5), bool))
    _, causal_weights = layer([q, v], return_attention_scores=True, use_causal_mask=True)
    assert np.all(np.asarray(causal_weights)[:, ~causal] == 0)
    _, both = layer([q, v], mask=[None, v_mask], use_causal_mask=True,
                    return_attention_scores=True)
    assert np.all(np.asarray(both)[0][~(causal & v_mask[0])] == 0)
    _close(layer([q, v], mask=[q_mask.astype("float32"), v_mask.astype("int32")]),
           layer([q, v], mask=[q_mask, v_mask]))


@pytest.mark.parametrize("cls,kwargs,call", [
    ("Attention", {}, {}),
    ("Attention", {"use_scale": True}, {"mask": [None, np.array([[1, 0, 1]], bool)]}),
    ("Attention", {"score_mode": "concat", "use_scale": True}, {"use_causal_mask": True}),
    ("AdditiveAttention", {}, {"mask": [np.array([[1, 0]], bool), None]}),
    ("AdditiveAttention", {"use_scale": False}, {}),
])
def test_attention_layers_gradients(cls, kwargs, call):
    with floatx("float64"):
        layer = getattr(layers, cls)(**kwargs)
        q, v = _x(1, 2, 3, seed=1), _x(1, 3, 3, seed=2)
        layer([q, v])  # build, then give the scalar weights non-trivial values
        for w in layer.weights:
            w.assign(np.full(w.shape, 0.8))
        v64 = minikeras.Tensor(v.astype("float64"))
        layer_gradient_check(_Bound(layer, [v64], as_list=True, **call), q)
        gradient_check(lambda value: layer([q.astype("float64"), value], **call), v)
        gradient_check(lambda key: layer([q.astype("float64"), v.astype("float64"), key],
                                         **call), _x(1, 3, 3, seed=5))


def test_attention_dropout_only_when_training():
    layer = layers.Attention(dropout=0.5, seed=2)
    q, v = _x(2, 3, 4), _x(2, 6, 4)
    out = layer([q, v])
    _close(layer([q, v], training=False), out)
    _, weights = layer([q, v], training=True, return_attention_scores=True)
    weights = np.asarray(weights)
    assert np.any(weights == 0) and np.any(weights > 0)
    kept = weights[weights > 0]
    full = np.asarray(layer([q, v], return_attention_scores=True)[1])
    _close(kept, 2.0 * full[weights > 0])  # survivors are scaled by 1 / (1 - rate)


def test_attention_in_a_functional_model_with_scores():
    q_in, v_in = minikeras.Input((3, 4)), minikeras.Input((5, 4))
    out, scores = layers.Attention()([q_in, v_in], return_attention_scores=True)
    assert out.shape == (None, 3, 4) and scores.shape == (None, 3, 5)
    add = layers.AdditiveAttention()([q_in, v_in, v_in])
    model = minikeras.Model([q_in, v_in], [out, scores, add])
    q, v = _x(2, 3, 4), _x(2, 5, 4, seed=1)
    results = model([q, v])
    assert [r.shape for r in results] == [(2, 3, 4), (2, 3, 5), (2, 3, 4)]
    _close(results[1], _softmax(q @ v.transpose(0, 2, 1)))
    assert model.count_params() == 4


def test_attention_config_and_errors():
    layer = layers.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=4)
    config = layer.get_config()
    assert {k: config[k] for k in ("use_scale", "score_mode", "dropout", "seed")} == {
        "use_scale": True, "score_mode": "concat", "dropout": 0.2, "seed": 4}
    assert layers.Attention.from_config(config).get_config() == config
    additive = layers.AdditiveAttention(dropout=0.1)
    assert "score_mode" not in additive.get_config()
    assert layers.AdditiveAttention.from_config(additive.get_config()).get_config() == \
        additive.get_config()
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="sum")
    with pytest.raises(ValueError, match="called on a list of inputs"):
        layers.Attention()(_x(2, 3, 4))
    with pytest.raises(ValueError, match="called on a list of inputs"):
        layers.Attention()((_x(2, 3, 4), _x(2, 3, 4)))
    with pytest.raises(ValueError, match="length 2 or 3"):
        layers.Attention()([_x(2, 3, 4)] * 4)
    with pytest.raises(ValueError, match=r"'attention_\d+' \(Attention\).*same last dimension"):
        layers.Attention(name="attention_7")([_x(2, 3, 4), _x(2, 5, 3)])
    with pytest.raises(ValueError, match="same length"):
        layers.Attention()([_x(2, 3, 4), _x(2, 5, 4), _x(2, 6, 4)])
    assert layers.Attention().compute_output_shape([(None, 3, 4), (None, 5, 7)]) == (None, 3, 7)
