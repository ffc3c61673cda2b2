"""dot_product_attention, depth_to_space / space_to_depth, adaptive pooling and the adaptive
pooling layers against Keras 3.15 (TensorFlow backend).

Forward values agree to rtol 1e-5, atol 1e-6, and gradients of ``sum(f(x) * r)`` (``r`` a fixed
random array) agree with ``tf.GradientTape``'s to the same tolerance, unless a comment says why
not. Layers: the same ``get_config``, and ``.keras`` files that load in the other library.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from minikeras import ops as mk

RTOL, ATOL = 1e-5, 1e-6
RNG = np.random.default_rng(2026)


def _f32(*shape, dtype="float32"):
    return RNG.normal(size=shape).astype(dtype)


def _minikeras_run(fn, args, wrt, r):
    args = [minikeras.Tensor(a) if i in wrt else a for i, a in enumerate(args)]
    with minikeras.GradientTape() as tape:
        tape.watch([args[i] for i in wrt])
        out = fn(*args)
        loss = mk.sum(mk.multiply(mk.cast(out, "float32"), r))
    return np.asarray(out), [np.asarray(g) for g in tape.gradient(loss, [args[i] for i in wrt])]


def _keras_run(fn, args, wrt, r):
    args = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args]
    with tf.GradientTape() as tape:
        for i in wrt:
            tape.watch(args[i])
        out = fn(*args)
        loss = tf.reduce_sum(tf.cast(out, "float32") * r)
    grads = tape.gradient(loss, [args[i] for i in wrt])
    return np.asarray(out), [np.asarray(g) for g in grads]


def assert_parity(mk_fn, k_fn, *args, wrt=None, rtol=RTOL, atol=ATOL):
    """Same shapes, dtypes, values and gradients w.r.t. ``args[i]`` for i in ``wrt`` (default:
    every float array argument)."""
    if wrt is None:
        wrt = [i for i, a in enumerate(args)
               if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    expected = np.asarray(k_fn(*[tf.constant(a) if isinstance(a, np.ndarray) else a
                                 for a in args]))
    r = np.random.default_rng(0).standard_normal(expected.shape).astype("float32")
    out, grads = _minikeras_run(mk_fn, args, wrt, r)
    k_out, k_grads = _keras_run(k_fn, args, wrt, r)
    assert out.shape == k_out.shape and out.dtype == k_out.dtype, (out.shape, k_out.shape,
                                                                   out.dtype, k_out.dtype)
    np.testing.assert_allclose(out.astype("float64"), k_out.astype("float64"), rtol=rtol,
                               atol=atol, err_msg="forward")
    for i, g, k_g in zip(wrt, grads, k_grads, strict=True):
        assert g.dtype == k_g.dtype, (i, g.dtype, k_g.dtype)
        np.testing.assert_allclose(g.astype("float64"), k_g.astype("float64"), rtol=rtol,
                                   atol=atol,
                                   err_msg=f"gradient w.r.t. argument {i}")
    return float(np.max(np.abs(out.astype("float64") - k_out.astype("float64"))))


# --- dot_product_attention --------------------------------------------------------------------

# (batch, query length, key length, query heads, key/value heads, head dim, value dim)
ATTENTION_SHAPES = [
    (1, 1, 1, 1, 1, 1, 1), (2, 3, 5, 2, 2, 4, 4), (2, 4, 4, 4, 2, 8, 8), (1, 6, 3, 6, 3, 5, 7),
    (3, 5, 7, 8, 4, 2, 3), (2, 7, 7, 3, 3, 16, 16),
]
OPTIONS = [{}, {"scale": 0.25}, {"scale": 3}, {"is_causal": True}, {"mask": "bnts"},
           {"mask": "ts"}, {"bias": "bnts"}, {"bias": "ts"}, {"bias": "1n11"},
           {"mask": "b1ts", "bias": "ts", "is_causal": True, "scale": 0.5}]


def _attention_args(shape, options):
    b, t, s, n, kv, h, hv = shape
    q, k, v = _f32(b, t, n, h), _f32(b, s, kv, h), _f32(b, s, kv, hv)
    shapes = {"bnts": (b, n, t, s), "ts": (t, s), "b1ts": (b, 1, t, s), "1n11": (1, n, 1, 1)}
    mask = None if "mask" not in options else RNG.random(shapes[options["mask"]]) > 0.3
    bias = None if "bias" not in options else _f32(*shapes[options["bias"]])
    return q, k, v, bias, mask


@pytest.mark.parametrize("shape", ATTENTION_SHAPES, ids=str)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_dot_product_attention(shape, options):
    q, k, v, bias, mask = _attention_args(shape, options)
    extra = {key: options[key] for key in ("scale", "is_causal") if key in options}

    def run(lib):
        return lambda q, k, v, bias=None: lib.ops.dot_product_attention(
            q, k, v, bias=bias, mask=mask, **extra)

    args = (q, k, v) if bias is None else (q, k, v, bias)
    # A float32 logit z carries a rounding error of up to |z|·2^-24 in each library (their
    # einsums sum in different orders), which moves its probability by that relative amount;
    # the outputs and the gradients (sums of S·H such terms, which largely cancel in softmax's
    # backward) then differ by up to about 1e-6·max|z| (scale=3 with 16-dim heads: |z| ~ 40);
    # for |z| <= 1 this is the usual atol 1e-6.
    groups = shape[3] // shape[4]
    logits = np.einsum("btnh,bsnh->bnts", q, np.repeat(k, groups, 2)) * extra.get(
        "scale", 1 / np.sqrt(shape[5]))
    atol = ATOL * max(1.0, float(np.max(np.abs(logits))))
    assert_parity(run(minikeras), run(keras), *args, atol=atol)


def test_multi_query_attention_one_kv_head():
    """One key/value head for all query heads (K = 1). Keras's TensorFlow backend only repeats
    the key/value heads when K > 1, so its einsum refuses K = 1 (a Keras bug; its docstring and
    its JAX backend support multi-query attention): compared with Keras on the repeated heads."""
    q, k, v = _f32(2, 3, 4, 5), _f32(2, 6, 1, 5), _f32(2, 6, 1, 5)
    ours = mk.dot_product_attention(q, k, v, is_causal=True)
    theirs = keras.ops.dot_product_attention(q, np.repeat(k, 4, 2), np.repeat(v, 4, 2),
                                             is_causal=True)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_dot_product_attention_dtypes(dtype):
    # float16: the einsums run in float16 in both libraries, in different summation orders;
    # the outputs (|x| < 3) differ by a float16 rounding step or two (2^-10 relative).
    tolerance = dict(rtol=4e-3, atol=4e-3) if dtype == "float16" else {}
    q, k, v = _f32(2, 4, 2, 8, dtype=dtype), _f32(2, 5, 2, 8, dtype=dtype), _f32(2, 5, 2, 8,
                                                                                  dtype=dtype)
    mask = RNG.random((2, 1, 4, 5)) > 0.3
    assert_parity(lambda *a: mk.dot_product_attention(*a, mask=mask),
                  lambda *a: keras.ops.dot_product_attention(*a, mask=mask), q, k, v,
                  **tolerance)


def test_mixed_dtypes_and_fully_masked_rows():
    q, k, v = _f32(1, 3, 2, 4, dtype="float64"), _f32(1, 4, 2, 4), _f32(1, 4, 2, 4)
    mask = np.zeros((3, 4), bool)
    mask[0, :2] = True  # rows 1 and 2 may see nothing: every logit equally negative
    for m in (mask, mask.astype("int32")):
        assert_parity(lambda *a, m=m: mk.dot_product_attention(*a, mask=m),
                      lambda *a, m=m: keras.ops.dot_product_attention(*a, mask=m), q, k, v,
                      _f32(3, 4), wrt=[0, 1, 2])  # the 4th argument: a bias


@pytest.mark.parametrize("kwargs", [dict(attn_logits_soft_cap=30.0), dict(flash_attention=True)],
                         ids=str)
def test_attention_refusals_match(kwargs):
    """The soft cap is JAX-on-TPU only and flash attention is not available on Keras's
    TensorFlow or NumPy backends: both libraries refuse with a ValueError."""
    q = _f32(1, 2, 1, 4)
    with pytest.raises(ValueError) as ours:
        mk.dot_product_attention(q, q, q, **kwargs)
    with pytest.raises(ValueError) as theirs:
        keras.ops.dot_product_attention(q, q, q, **kwargs)
    if "attn_logits_soft_cap" in kwargs:
        assert str(ours.value) == str(theirs.value)


def test_attention_rank_error_matches():
    q = _f32(2, 3, 4)
    with pytest.raises(ValueError) as ours:
        mk.dot_product_attention(q, q, q)
    with pytest.raises(ValueError) as theirs:
        keras.ops.dot_product_attention(q, q, q)
    assert str(ours.value) == str(theirs.value)


# --- depth_to_space / space_to_depth --------------------------------------------------------------


@pytest.mark.parametrize("block", [2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("channels", [1, 2, 5])
def test_depth_to_space_and_back(block, data_format, channels):
    depth = channels * block * block
    shape = (2, 3, 4, depth) if data_format == "channels_last" else (2, depth, 3, 4)
    for name, x in (("depth_to_space", _f32(*shape)),
                    ("space_to_depth", np.asarray(mk.depth_to_space(_f32(*shape), block,
                                                                    data_format=data_format)))):
        assert parity_exact(name, x, block, data_format)


def parity_exact(name, x, block, data_format):
    """Pure data movement: exactly equal values and gradients."""
    diff = assert_parity(lambda x: getattr(mk, name)(x, block, data_format=data_format),
                         lambda x: getattr(keras.ops, name)(x, block, data_format=data_format),
                         x, rtol=0, atol=0)
    return diff == 0


def test_space_depth_errors_match():
    for call in (lambda lib: lib.ops.depth_to_space(np.zeros((1, 2, 2, 6), "float32"), 2),
                 lambda lib: lib.ops.space_to_depth(np.zeros((1, 2, 2, 1), "float32"), 1)):
        with pytest.raises(ValueError):
            call(minikeras)
        with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
            call(keras)


# --- adaptive pooling -----------------------------------------------------------------------------
# TensorFlow crashes the process (SIGFPE) in Keras's adaptive_max_pool when a bin would hold
# more than the whole axis (output size 1, or an axis of length 1: Keras's "big" window of
# ceil(L/O) + 1 elements is wider than the input). Those sizes are tested in tests/ only.

POOL_CASES = [  # (spatial input shape, output size): divisible, non-divisible, upsampling
    ((8,), 4), ((7,), 3), ((10,), (4,)), ((5,), 5), ((3,), 5), ((11,), 7),
    ((6, 8), 2), ((7, 9), (3, 4)), ((5, 5), (4, 2)), ((3, 4), (5, 7)), ((10, 13), (3, 5)),
    ((4, 6, 8), 2), ((5, 7, 6), (2, 3, 4)), ((3, 4, 5), (5, 3, 4)),
]


@pytest.mark.parametrize("spatial, size", POOL_CASES, ids=str)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", ["adaptive_average_pool", "adaptive_max_pool"])
def test_adaptive_pool(spatial, size, data_format, name):
    shape = (2, *spatial, 3) if data_format == "channels_last" else (2, 3, *spatial)
    assert_parity(lambda x: getattr(mk, name)(x, size, data_format=data_format),
                  lambda x: getattr(keras.ops, name)(x, size, data_format=data_format),
                  _f32(*shape))


@pytest.mark.parametrize("spatial, size", [((7,), 3), ((6, 7), (4, 3)), ((4, 5, 3), (3, 2, 2))],
                         ids=str)
def test_adaptive_max_pool_tied_maxima(spatial, size):
    """Many equal values: the gradient goes where TensorFlow sends it (axis by axis, the first
    maximum of each bin)."""
    x = RNG.integers(0, 2, size=(2, *spatial, 2)).astype("float32")
    assert_parity(lambda x: mk.adaptive_max_pool(x, size), lambda x: keras.ops.adaptive_max_pool(
        x, size), x)


def test_adaptive_average_pool_whole_axis_and_other_dtypes():
    x = _f32(2, 7, 3)
    assert_parity(lambda x: mk.adaptive_average_pool(x, 1),
                  lambda x: keras.ops.adaptive_average_pool(x, 1), x)
    for dtype in ("float64", "float16"):
        # float16: the same values rounded to float16 in both; sums in different orders
        tolerance = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else {}
        x = _f32(2, 7, 6, 2, dtype=dtype)
        for name in ("adaptive_average_pool", "adaptive_max_pool"):
            assert_parity(lambda x, name=name: getattr(mk, name)(x, (3, 4)),
                          lambda x, name=name: getattr(keras.ops, name)(x, (3, 4)), x,
                          **tolerance)


# --- the layers -----------------------------------------------------------------------------------

LAYER_CASES = [("AdaptiveAveragePooling1D", 3, (9, 2)), ("AdaptiveMaxPooling1D", [4], (9, 2)),
               ("AdaptiveAveragePooling2D", (3, 2), (7, 5, 2)), ("AdaptiveMaxPooling2D", 3,
                                                                 (7, 5, 2)),
               ("AdaptiveAveragePooling3D", 2, (5, 4, 3, 2)),
               ("AdaptiveMaxPooling3D", (2, 3, 2), (5, 4, 3, 2))]


@pytest.mark.parametrize("name, size, input_shape", LAYER_CASES, ids=str)
@pytest.mark.parametrize("data_format", [None, "channels_first"])
def test_adaptive_layers_match(name, size, input_shape, data_format):
    ours = getattr(minikeras.layers, name)(size, data_format=data_format, name="pool")
    theirs = getattr(keras.layers, name)(size, data_format=data_format, name="pool")
    assert ours.get_config() == theirs.get_config()
    assert minikeras.layers.serialize(ours) == keras.layers.serialize(theirs)
    from_keras = minikeras.layers.deserialize(keras.layers.serialize(theirs))
    assert from_keras.get_config() == ours.get_config()
    shape = (2, *input_shape)
    if data_format == "channels_first":
        shape = (2, input_shape[-1], *input_shape[:-1])
    assert ours.compute_output_shape(shape) == theirs.compute_output_shape(shape)
    x = _f32(*shape)
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(tf.constant(x))),
                               rtol=RTOL, atol=ATOL)


def _models(lib):
    return lib.Sequential([lib.Input((9, 7, 3)), lib.layers.AdaptiveAveragePooling2D((4, 3)),
                           lib.layers.AdaptiveMaxPooling2D(2), lib.layers.Flatten(),
                           lib.layers.Dense(2)])


def test_keras_file_from_minikeras_loads_in_keras(tmp_path):
    model = _models(minikeras)
    path = str(tmp_path / "from_minikeras.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = _f32(4, 9, 7, 3)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers]
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_allclose(np.asarray(loaded(tf.constant(x))), np.asarray(model(x)),
                               rtol=RTOL, atol=ATOL)


def test_keras_file_from_keras_loads_in_minikeras(tmp_path):
    model = _models(keras)
    path = str(tmp_path / "from_keras.keras")
    model.save(path)
    loaded = minikeras.models.load_model(path)
    x = _f32(4, 9, 7, 3)
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(tf.constant(x))),
                               rtol=RTOL, atol=ATOL)
