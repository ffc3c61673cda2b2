"""dot_product_attention, depth_to_space / space_to_depth, adaptive pooling (ops and layers):
shapes, errors, values against plain NumPy definitions, and float64 gradient checks. NumPy only;
the Keras parity tests are in compat_tests/test_ops_attention_pooling_parity.py."""

import warnings

import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check

import minikeras
from minikeras import layers, ops
from minikeras.ops.adaptive_pooling import adaptive_bins

RNG = np.random.default_rng(11)


def _x(*shape):
    return RNG.normal(size=shape).astype("float32")


# --- dot_product_attention ----------------------------------------------------------------------


def _reference_attention(q, k, v, bias=None, mask=None, scale=None, causal=False):
    """softmax(scale · Q Kᵀ + bias) V, head by head, in float64 loops."""
    b, t, n, h = q.shape
    s, kv = k.shape[1], k.shape[2]
    scale = 1 / np.sqrt(h) if scale is None else scale
    logits = np.zeros((b, n, t, s))
    for head in range(n):
        kh = head // (n // kv)
        logits[:, head] = np.einsum("bth,bsh->bts", q[:, :, head], k[:, :, kh]) * scale
    if bias is not None:
        logits = logits + bias
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed &= mask
    if causal:
        allowed &= np.tril(np.ones((t, s), bool))
    logits = np.where(allowed, logits, -1e30)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = np.zeros((b, t, n, v.shape[-1]))
    for head in range(n):
        out[:, :, head] = np.einsum("bts,bsh->bth", p[:, head], v[:, :, head // (n // kv)])
    return out


@pytest.mark.parametrize("heads, kv_heads", [(2, 2), (4, 2), (3, 1)])
@pytest.mark.parametrize("options", [{}, {"scale": 0.7}, {"causal": True}, {"mask": True},
                                     {"bias": True}, {"mask": True, "bias": True, "causal": True}])
def test_attention_values(heads, kv_heads, options):
    q, k, v = _x(2, 3, heads, 4), _x(2, 5, kv_heads, 4), _x(2, 5, kv_heads, 6)
    mask = RNG.random((2, 1, 3, 5)) > 0.4 if options.get("mask") else None
    bias = _x(3, 5) if options.get("bias") else None
    out = ops.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=options.get("scale"),
                                    is_causal=options.get("causal", False))
    assert out.shape == (2, 3, heads, 6) and out.dtype == "float32"
    expected = _reference_attention(q, k, v, bias, mask, options.get("scale"),
                                    options.get("causal", False))
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-6)


def test_attention_fully_masked_rows_average_all_values():
    """A query that may see nothing gets the mean of the values (every logit equally large
    and negative), as Keras; no NaN."""
    q, k, v = _x(1, 2, 1, 3), _x(1, 4, 1, 3), _x(1, 4, 1, 3)
    out = ops.dot_product_attention(q, k, v, mask=np.zeros((1, 1, 2, 4), bool))
    np.testing.assert_allclose(np.asarray(out), np.broadcast_to(v.mean(1, keepdims=True),
                                                                 (1, 2, 1, 3)), rtol=1e-6)


def test_attention_dtypes_and_integer_masks():
    q = _x(1, 2, 2, 4)
    out64 = ops.dot_product_attention(q.astype("float64"), q, q)
    assert out64.dtype == "float64"
    int_mask = ops.dot_product_attention(q, q, q, mask=np.array([[1, 0], [1, 1]]))
    bool_mask = ops.dot_product_attention(q, q, q, mask=np.array([[True, False], [True, True]]))
    np.testing.assert_array_equal(np.asarray(int_mask), np.asarray(bool_mask))
    assert ops.dot_product_attention(q.astype("float16"), q.astype("float16"),
                                     q.astype("float16")).dtype == "float16"


@pytest.mark.parametrize("call, message", [
    (lambda q: ops.dot_product_attention(q[0], q[0], q[0]), "only supports 4D inputs"),
    (lambda q: ops.dot_product_attention(q, q[:, :, :3], q[:, :, :3]), "multiple of the key"),
    (lambda q: ops.dot_product_attention(q, q[..., :3], q), "same head size"),
    (lambda q: ops.dot_product_attention(q, q, q[:, :2]), "`value` the same"),
    (lambda q: ops.dot_product_attention(q, q, q, flash_attention=True), "Flash attention"),
    (lambda q: ops.dot_product_attention(q, q, q, attn_logits_soft_cap=20.0), "JAX on TPU"),
])
def test_attention_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(_x(2, 3, 4, 5))


def test_attention_gradients():
    q, k, v, bias = _x(1, 3, 4, 2), _x(1, 4, 2, 2), _x(1, 4, 2, 3), _x(1, 1, 3, 4)
    mask = RNG.random((3, 4)) > 0.3

    def attention(q, k, v, bias):
        return ops.dot_product_attention(q, k, v, bias=bias, mask=mask, is_causal=True,
                                         scale=0.8)

    gradient_check(attention, q, k, v, bias)
    gradient_check(lambda q, k, v: ops.dot_product_attention(q, k, v), q, k, v)


def test_attention_quiet_on_extreme_inputs():
    q = np.array([1e38, -1e38, np.inf, -np.inf, np.nan, 0, 1e-45, 3], "float32").reshape(
        1, 2, 1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ops.dot_product_attention(q, q, q, is_causal=True)
        ops.dot_product_attention(q, q, q, bias=q[0, :, :, :2])


# --- depth_to_space / space_to_depth --------------------------------------------------------------


def test_depth_to_space_element_order():
    """out[n, h·b + i, w·b + j, c] = in[n, h, w, (i·b + j)·C + c] (TensorFlow's order)."""
    x = np.arange(2 * 2 * 3 * 8, dtype="float32").reshape(2, 2, 3, 8)
    out = np.asarray(ops.depth_to_space(x, 2))
    assert out.shape == (2, 4, 6, 2)
    for n, h, w, i, j, c in np.ndindex(2, 2, 3, 2, 2, 2):
        assert out[n, h * 2 + i, w * 2 + j, c] == x[n, h, w, (i * 2 + j) * 2 + c]
    np.testing.assert_array_equal(np.asarray(ops.space_to_depth(out, 2)), x)


def test_channels_first_is_channels_last_transposed():
    x = _x(2, 18, 2, 3)
    last = ops.depth_to_space(np.transpose(x, (0, 2, 3, 1)), 3)
    first = ops.depth_to_space(x, 3, data_format="channels_first")
    assert first.shape == (2, 2, 6, 9)
    np.testing.assert_array_equal(np.asarray(first), np.transpose(np.asarray(last), (0, 3, 1, 2)))
    back = ops.space_to_depth(first, 3, data_format="channels_first")
    np.testing.assert_array_equal(np.asarray(back), x)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.depth_to_space(_x(1, 2, 2, 6), 2), "divisible by block_size"),
    (lambda: ops.depth_to_space(_x(1, 2, 2, 8), 1), "at least 2"),
    (lambda: ops.depth_to_space(_x(2, 2, 8), 2), "4D input"),
    (lambda: ops.space_to_depth(_x(1, 3, 4, 1), 2), "Height"),
    (lambda: ops.space_to_depth(_x(1, 4, 3, 1), 2), "Width"),
    (lambda: ops.space_to_depth(_x(1, 4, 4, 1), 2, data_format="nhwc"), "data_format"),
])
def test_space_depth_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_space_depth_gradients(data_format):
    gradient_check(lambda x: ops.depth_to_space(x, 2, data_format=data_format), _x(1, 8, 2, 8))
    gradient_check(lambda x: ops.space_to_depth(x, 2, data_format=data_format), _x(1, 4, 4, 4))


# --- adaptive pooling -----------------------------------------------------------------------------


@pytest.mark.parametrize("length, size", [(7, 3), (10, 4), (5, 5), (3, 5), (8, 1), (1, 3)])
def test_bins_cover_the_axis(length, size):
    start, end = adaptive_bins(length, size)
    assert start[0] == 0 and end[-1] == length
    assert np.all(start[1:] <= end[:-1])  # no gaps between neighbouring bins
    big = -(-length // size)
    assert set((end - start).tolist()) <= {big, big + 1}


def _reference_pool(x, sizes, reduce):
    """Box by box, in channels_last: the mean or max over every bin's product of ranges."""
    spatial = x.shape[1:-1]
    bins = [adaptive_bins(length, size) for length, size in zip(spatial, sizes, strict=True)]
    out = np.zeros((x.shape[0], *sizes, x.shape[-1]))
    for index in np.ndindex(*sizes):
        box = tuple(slice(bins[a][0][i], bins[a][1][i]) for a, i in enumerate(index))
        out[(slice(None), *index)] = reduce(x[(slice(None), *box)],
                                            axis=tuple(range(1, len(sizes) + 1)))
    return out


@pytest.mark.parametrize("shape, sizes", [((2, 7, 3), (3,)), ((2, 3, 2), (5,)),
                                          ((2, 5, 7, 3), (2, 3)), ((1, 6, 4, 2), (4, 4)),
                                          ((1, 5, 4, 6, 2), (2, 3, 4))])
@pytest.mark.parametrize("op, reduce", [(ops.adaptive_average_pool, np.mean),
                                        (ops.adaptive_max_pool, np.max)])
def test_adaptive_pool_values(shape, sizes, op, reduce):
    x = _x(*shape)
    expected = _reference_pool(x, sizes, reduce)
    np.testing.assert_allclose(np.asarray(op(x, sizes)), expected, rtol=1e-6, atol=1e-6)
    first = op(np.moveaxis(x, -1, 1), sizes, data_format="channels_first")
    np.testing.assert_allclose(np.asarray(first), np.moveaxis(expected, -1, 1), rtol=1e-6,
                               atol=1e-6)


def test_adaptive_pool_int_output_size_and_config_default():
    x = _x(2, 9, 9, 1)
    assert ops.adaptive_max_pool(x, 4).shape == (2, 4, 4, 1)
    minikeras.backend.set_image_data_format("channels_first")
    try:
        assert ops.adaptive_average_pool(x, 4).shape == (2, 9, 4, 4)
    finally:
        minikeras.backend.set_image_data_format("channels_last")


@pytest.mark.parametrize("call, message", [
    (lambda: ops.adaptive_average_pool(_x(2, 3), 1), "1D, 2D, or 3D"),
    (lambda: ops.adaptive_max_pool(_x(1, 2, 2, 2, 2, 2), 1), "1D, 2D, or 3D"),
    (lambda: ops.adaptive_average_pool(_x(1, 4, 4, 1), (2,)), "tuple of 2"),
    (lambda: ops.adaptive_average_pool(_x(1, 4, 4, 1), 0), "positive"),
    (lambda: ops.adaptive_max_pool(_x(1, 4, 1), 2, data_format="nwc"), "data_format"),
])
def test_adaptive_pool_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("shape, sizes", [((2, 7, 2), (3,)), ((1, 5, 4, 2), (3, 3)),
                                          ((1, 3, 4, 5, 1), (2, 3, 2)), ((1, 2, 3, 1), (3, 5))])
@pytest.mark.parametrize("op", [ops.adaptive_average_pool, ops.adaptive_max_pool])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_adaptive_pool_gradients(shape, sizes, op, data_format):
    x = _x(*shape)  # distinct values: no tied maxima, so the max is differentiable
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    gradient_check(lambda x: op(x, sizes, data_format=data_format), x)


def test_tied_maxima_send_the_gradient_to_the_first():
    x = minikeras.Tensor(np.array([[[1.0], [3.0], [3.0], [2.0]]], "float32"))
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.adaptive_max_pool(x, 1))
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, x)).ravel(), [0, 1, 0, 0])


def test_tied_maxima_in_3d_all_get_the_gradient():
    """3D: each tied maximum gets the bin's gradient, as TensorFlow's MaxPool3D gradient."""
    x = np.zeros((1, 2, 2, 2, 1), "float32")
    x[0, 0, 0, 1, 0] = x[0, 1, 1, 0, 0] = 5.0
    x = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.adaptive_max_pool(x, 1))
    grad = np.asarray(tape.gradient(y, x))
    assert grad[0, 0, 0, 1, 0] == grad[0, 1, 1, 0, 0] == 1 and grad.sum() == 2


LAYERS = [(layers.AdaptiveAveragePooling1D, 1), (layers.AdaptiveAveragePooling2D, 2),
          (layers.AdaptiveAveragePooling3D, 3), (layers.AdaptiveMaxPooling1D, 1),
          (layers.AdaptiveMaxPooling2D, 2), (layers.AdaptiveMaxPooling3D, 3)]


@pytest.mark.parametrize("cls, rank", LAYERS)
def test_adaptive_layers(cls, rank):
    layer = cls(3)
    assert layer.output_size == (3,) * rank and layer.data_format == "channels_last"
    x = _x(2, *(5,) * rank, 4)
    out = layer(x)
    assert out.shape == (2, *(3,) * rank, 4) == layer.compute_output_shape(x.shape)
    config = layer.get_config()
    assert config["output_size"] == (3,) * rank and config["data_format"] == "channels_last"
    again = cls.from_config(config)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(out))
    first = cls(list(range(2, 2 + rank)), data_format="channels_first")
    assert first(np.moveaxis(x, -1, 1)).shape == (2, 4, *range(2, 2 + rank))


@pytest.mark.parametrize("cls, rank", LAYERS)
def test_adaptive_layer_argument_errors(cls, rank):
    with pytest.raises(ValueError if rank == 1 else TypeError, match="output_size"):
        cls((2,) * (rank + 1))
    with pytest.raises(TypeError, match="output_size"):
        cls("3")
    with pytest.raises(ValueError, match="Invalid data_format"):
        cls(2, data_format="nhwc")


def test_adaptive_layer_gradients():
    with floatx("float64"):  # float64 layers, so central differences are exact enough
        layer_gradient_check(layers.AdaptiveAveragePooling2D((2, 3)), _x(1, 5, 4, 2))
        layer_gradient_check(layers.AdaptiveMaxPooling1D(3), _x(2, 7, 2))


def test_adaptive_layer_in_a_model_saves_and_loads(tmp_path):
    model = minikeras.Sequential([minikeras.Input((7, 6, 2)), layers.AdaptiveMaxPooling2D((3, 4)),
                                  layers.Flatten(), layers.Dense(2)])
    x = _x(3, 7, 6, 2)
    path = str(tmp_path / "adaptive.keras")
    model.save(path)
    loaded = minikeras.models.load_model(path)
    assert isinstance(loaded.layers[0], layers.AdaptiveMaxPooling2D)
    assert loaded.layers[0].output_size == (3, 4)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


def test_pooling_and_space_ops_quiet_on_extreme_inputs():
    """Means of inf and -inf are NaN, maxima of NaN are NaN: Keras's values, no warnings."""
    x = np.array([0, -1, 3, 1e38, -1e38, 1e-45, np.inf, -np.inf, np.nan, 1e38, 1e38, 2, 5, 6, 7,
                  8], "float32").reshape(1, 4, 4, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for size in (1, 3, (2, 3), 6):
            ops.adaptive_average_pool(x, size)
            ops.adaptive_max_pool(x, size)
        ops.depth_to_space(ops.space_to_depth(x, 2), 2)
        ops.adaptive_average_pool(x.reshape(1, 16, 1), 5)
        ops.adaptive_max_pool(x.reshape(1, 2, 2, 4, 1), (1, 2, 3))


def test_infinite_values_pool_to_inf_not_nan():
    """A bin shorter than the longest one must not multiply its padding copies by 0: a mean
    with an inf in it is inf (5 pooled to 3: bins [0, 2), [1, 4), [3, 5))."""
    x = np.array([1, np.inf, 2, 3, -np.inf], "float32").reshape(1, 5, 1)
    np.testing.assert_array_equal(np.asarray(ops.adaptive_average_pool(x, 3)).ravel(),
                                  [np.inf, np.inf, -np.inf])
    np.testing.assert_array_equal(np.asarray(ops.adaptive_max_pool(x, 3)).ravel(),
                                  [np.inf, np.inf, 3])
