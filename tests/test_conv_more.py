"""Conv2DTranspose, Conv1DTranspose, DepthwiseConv2D/1D, SeparableConv2D/1D and the ops
conv_transpose / depthwise_conv / separable_conv, with NumPy only: each op against its definition
written as loops, the transposed convolution as the adjoint of ``conv``, float64
finite-difference gradient checks of the ops and the layers, output shapes, weights, configs,
errors, and a small autoencoder that trains and saves."""

import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check
from test_conv_pooling import conv_by_loops
from test_layers_extra import _close, _fresh_session, _round_trip, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers, ops

# --- the definitions, as loops -------------------------------------------------------------------


def conv_transpose_by_loops(x, kernel, out_size, strides, pads, dilation=(1, 1)):
    """The definition: every input pixel adds kernel[:, :, f, c] · in[n, y, x, c] onto the output
    at rows y·sh + i·dh, columns x·sw + j·dw of an image padded by ``pads``, which is cropped."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    (sh, sw), (dh, dw), ((top, bottom), (left, right)) = strides, dilation, pads
    out = np.zeros((n, out_size[0] + top + bottom, out_size[1] + left + right, f))
    for y in range(h):
        for xx in range(w):
            for i in range(kh):
                for j in range(kw):
                    out[:, y * sh + i * dh, xx * sw + j * dw, :] += x[:, y, xx, :] @ kernel[i, j].T
    return out[:, top:top + out_size[0], left:left + out_size[1], :]


def depthwise_by_loops(x, kernel, strides=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1)):
    """out[n, y, x, c·M + m] = Σ_{i, j} in[n, y·sh + i·dh, x·sw + j·dw, c] · K[i, j, c, m]."""
    kh, kw, c, m = kernel.shape
    outs = [conv_by_loops(x[..., ch:ch + 1], kernel[:, :, ch:ch + 1, :], strides, pads, dilation)
            for ch in range(c)]  # each channel convolved alone with its M kernels
    return np.concatenate(outs, axis=-1)


# (input shape, kernel (kh, kw, filters, in), strides, padding, output_padding, dilation,
#  expected output size, the pads the transposed convolution crops)
TRANSPOSE_CASES = [
    ((2, 3, 4, 2), (3, 3, 3, 2), 1, "valid", None, 1, (5, 6), ((0, 0), (0, 0))),
    ((2, 3, 4, 2), (3, 3, 3, 2), 2, "same", None, 1, (6, 8), ((0, 1), (0, 1))),  # TF: extra last
    ((1, 3, 3, 2), (3, 3, 2, 2), 2, "same", 1, 1, (6, 6), ((0, 1), (0, 1))),
    ((1, 3, 3, 2), (3, 3, 2, 2), 2, "same", 0, 1, (5, 5), ((1, 1), (1, 1))),
    ((2, 3, 2, 1), (2, 3, 2, 1), (3, 2), "valid", (2, 1), 1, (10, 6), ((0, 0), (0, 0))),
    ((1, 2, 3, 1), (2, 2, 1, 1), 4, "valid", None, 1, (8, 12), ((0, 0), (0, 0))),  # stride > k
    ((1, 4, 3, 2), (3, 2, 2, 2), 1, "same", None, 2, (4, 3), ((2, 2), (1, 1))),
    ((1, 4, 3, 2), (3, 2, 2, 2), 1, "valid", None, 2, (8, 5), ((0, 0), (0, 0))),
]


@pytest.mark.parametrize("shape,kshape,stride,padding,out_pad,dilation,size,pads",
                         TRANSPOSE_CASES, ids=str)
def test_conv_transpose_equals_its_definition(shape, kshape, stride, padding, out_pad, dilation,
                                              size, pads):
    x, k = _x(*shape, seed=1).astype("float64"), _x(*kshape, seed=2).astype("float64")
    y = ops.conv_transpose(x, k, strides=stride, padding=padding, output_padding=out_pad,
                           dilation_rate=dilation)
    assert y.shape == (shape[0], *size, kshape[2])
    strides = stride if isinstance(stride, tuple) else (stride, stride)
    _close(y, conv_transpose_by_loops(x, k, size, strides, pads, (dilation,) * 2), atol=1e-12)


@pytest.mark.parametrize("shape,kshape,stride,padding,out_pad,dilation,size,pads",
                         TRANSPOSE_CASES, ids=str)
def test_conv_transpose_is_the_adjoint_of_conv(shape, kshape, stride, padding, out_pad,
                                               dilation, size, pads):
    """<conv(z, K), x> = <z, conv_transpose(x, K)> for every z of the output's shape: the
    transposed convolution is conv's input gradient."""
    x, k = _x(*shape, seed=3).astype("float64"), _x(*kshape, seed=4).astype("float64")
    y = ops.conv_transpose(x, k, strides=stride, padding=padding, output_padding=out_pad,
                           dilation_rate=dilation).numpy()
    z = _x(*y.shape, seed=5).astype("float64")
    forward = ops.conv(z, k, strides=stride, padding=padding, dilation_rate=dilation).numpy()
    assert forward.shape == x.shape
    np.testing.assert_allclose(np.sum(forward * x), np.sum(z * y), rtol=1e-12)


@pytest.mark.parametrize("shape,kshape,stride,padding,out_pad,dilation,size,pads",
                         TRANSPOSE_CASES, ids=str)
def test_conv_transpose_gradients_wrt_input_and_kernel(shape, kshape, stride, padding, out_pad,
                                                       dilation, size, pads):
    def conv_transpose(x, kernel):
        return ops.conv_transpose(x, kernel, strides=stride, padding=padding,
                                  output_padding=out_pad, dilation_rate=dilation)

    gradient_check(conv_transpose, _x(*shape, seed=6), _x(*kshape, seed=7))


DEPTHWISE_CASES = [
    ((2, 5, 6, 3), (3, 3, 3, 1), 1, "valid", 1, ((0, 0), (0, 0))),
    ((2, 5, 6, 2), (3, 2, 2, 2), 2, "same", 1, ((1, 1), (0, 0))),
    ((1, 7, 7, 2), (2, 3, 2, 3), 1, "same", 2, ((1, 1), (2, 2))),
    ((1, 9, 8, 1), (3, 3, 1, 2), 2, "valid", 2, ((0, 0), (0, 0))),  # strides with dilation
]


@pytest.mark.parametrize("shape,kshape,stride,padding,dilation,pads", DEPTHWISE_CASES, ids=str)
def test_depthwise_conv_equals_its_definition(shape, kshape, stride, padding, dilation, pads):
    x, k = _x(*shape, seed=1).astype("float64"), _x(*kshape, seed=2).astype("float64")
    y = ops.depthwise_conv(x, k, strides=stride, padding=padding, dilation_rate=dilation)
    _close(y, depthwise_by_loops(x, k, (stride,) * 2, pads, (dilation,) * 2), atol=1e-12)


@pytest.mark.parametrize("shape,kshape,stride,padding,dilation,pads", DEPTHWISE_CASES, ids=str)
def test_separable_conv_is_depthwise_then_pointwise(shape, kshape, stride, padding, dilation,
                                                   pads):
    x, k = _x(*shape, seed=1).astype("float64"), _x(*kshape, seed=2).astype("float64")
    pointwise = _x(1, 1, kshape[2] * kshape[3], 4, seed=3).astype("float64")
    y = ops.separable_conv(x, k, pointwise, strides=stride, padding=padding,
                           dilation_rate=dilation)
    d = depthwise_by_loops(x, k, (stride,) * 2, pads, (dilation,) * 2)
    _close(y, d @ pointwise[0, 0], atol=1e-12)


@pytest.mark.parametrize("shape,kshape,stride,padding,dilation,pads", DEPTHWISE_CASES, ids=str)
def test_depthwise_and_separable_gradients(shape, kshape, stride, padding, dilation, pads):
    def depthwise(x, kernel):
        return ops.depthwise_conv(x, kernel, strides=stride, padding=padding,
                                  dilation_rate=dilation)

    def separable(x, kernel, pointwise):
        return ops.separable_conv(x, kernel, pointwise, strides=stride, padding=padding,
                                  dilation_rate=dilation)

    x, k = _x(*shape, seed=8), _x(*kshape, seed=9)
    gradient_check(depthwise, x, k)
    gradient_check(separable, x, k, _x(1, 1, kshape[2] * kshape[3], 3, seed=10))


@pytest.mark.parametrize("op,kernels", [
    ("conv_transpose", [(3, 4, 2)]),
    ("depthwise_conv", [(3, 2, 2)]),
    ("separable_conv", [(3, 2, 2), (1, 4, 3)]),
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_1d_ops_are_the_2d_ops_on_images_one_pixel_high(op, kernels, data_format):
    x = _x(2, 7, 2, seed=11)
    ks = [_x(*s, seed=12 + i) for i, s in enumerate(kernels)]
    kwargs = dict(strides=2, padding="same")
    if data_format == "channels_first":
        y = getattr(ops, op)(np.swapaxes(x, 1, 2), *ks, data_format=data_format, **kwargs)
        y = np.swapaxes(y.numpy(), 1, 2)
    else:
        y = getattr(ops, op)(x, *ks, **kwargs).numpy()
    expected = getattr(ops, op)(x[:, None], *[k[None] for k in ks], **kwargs).numpy()[:, 0]
    _close(y, expected, atol=1e-6)

    def f(x, *ks):
        return getattr(ops, op)(x, *ks, **kwargs)

    gradient_check(f, x, *ks)


@pytest.mark.parametrize("op,kernels", [
    ("conv_transpose", [(3, 2, 4, 3)]),
    ("depthwise_conv", [(3, 2, 3, 2)]),
    ("separable_conv", [(3, 2, 3, 2), (1, 1, 6, 4)]),
])
def test_channels_first_is_channels_last_transposed(op, kernels):
    x = _x(2, 5, 6, 3, seed=13)
    ks = [_x(*s, seed=14 + i) for i, s in enumerate(kernels)]
    last = getattr(ops, op)(x, *ks, strides=2, padding="same").numpy()
    first = getattr(ops, op)(x.transpose(0, 3, 1, 2), *ks, strides=2, padding="same",
                             data_format="channels_first").numpy()
    _close(first, last.transpose(0, 3, 1, 2), atol=1e-6)


def test_op_errors():
    with pytest.raises(ValueError, match=r"input channels=2, kernel input channels=3"):
        ops.conv_transpose(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 3)))
    with pytest.raises(ValueError, match=r"input channels=2, kernel input channels=3"):
        ops.depthwise_conv(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"input channels=4, kernel input channels=2.*"
                                         r"channels_first"):
        ops.separable_conv(np.zeros((1, 4, 5, 5)), np.zeros((3, 3, 2, 1)),
                           np.zeros((1, 1, 2, 2)), data_format="channels_first")
    with pytest.raises(ValueError, match="rank must be 3 .* or 4 .*Received: 5"):
        ops.depthwise_conv(np.zeros((1, 4, 5, 5, 2)), np.zeros((3, 3, 3, 2, 1)))
    with pytest.raises(ValueError, match="`num_spatial_dims` must be 1 or 2"):
        ops.separable_conv(np.zeros((1, 4, 5, 5, 2)), np.zeros((3, 3, 3, 2, 1)),
                           np.zeros((1, 1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"rank 3 \(1D\) or 4 \(2D\) or 5 \(3D\)"):
        ops.conv_transpose(np.zeros((1, 4, 5, 5, 5, 2)), np.zeros((3, 3, 3, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"kernel of rank 5.*\(3, 3, 2, 2\)"):
        ops.conv_transpose(np.zeros((1, 4, 5, 5, 2)), np.zeros((3, 3, 2, 2)))
    with pytest.raises(ValueError, match="padding.*'valid', 'same'"):
        ops.conv_transpose(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 2)), padding="full")
    with pytest.raises(ValueError, match="output_padding"):  # output_padding >= strides
        ops.conv_transpose(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 2)), strides=2,
                           output_padding=3)


# --- the layers ----------------------------------------------------------------------------------

LAYER_CASES = [
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 3, 4, 2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 3), strides=(2, 1), output_padding=(1, 0),
                             activation="tanh"), (1, 3, 3, 2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=2, data_format="channels_first",
                             use_bias=False), (2, 3, 3, 2)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 4, 3)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=2, dilation_rate=2,
                             data_format="channels_first"), (2, 2, 4)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, padding="same"), (2, 4, 4, 2)),
    ("DepthwiseConv2D", dict(kernel_size=2, strides=2, activation="sigmoid",
                             data_format="channels_first"), (2, 2, 5, 4)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, dilation_rate=2), (2, 7, 2)),
    ("SeparableConv2D", dict(filters=3, kernel_size=3, depth_multiplier=2, padding="same"),
     (2, 4, 4, 2)),
    ("SeparableConv2D", dict(filters=2, kernel_size=2, strides=2, data_format="channels_first",
                             activation="tanh"), (2, 2, 5, 4)),
    ("SeparableConv1D", dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 7, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", LAYER_CASES, ids=str)
def test_layer_gradients_wrt_input_and_every_weight(name, kwargs, shape):
    with floatx("float64"):
        layer = getattr(layers, name)(**kwargs)
        layer.build(shape)
        if layer.bias is not None:  # a non-zero bias, so its gradient is checked in earnest
            layer.bias.assign(_x(*layer.bias.shape, seed=5))
        layer_gradient_check(layer, _x(*shape, seed=6))


@pytest.mark.parametrize("name,kwargs,shape,weights,out_shape", [
    ("Conv2DTranspose", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"),
     (None, 5, 6, 3), [("kernel", (3, 2, 4, 3)), ("bias", (4,))], (None, 10, 12, 4)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, data_format="channels_first"),
     (None, 3, 5, 6), [("kernel", (3, 3, 4, 3)), ("bias", (4,))], (None, 4, 7, 8)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=3, output_padding=1,
                             use_bias=False), (None, 5, 3), [("kernel", (4, 2, 3))],
     (None, 17, 2)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2), (None, 6, 7, 3),
     [("kernel", (3, 3, 3, 2)), ("bias", (6,))], (None, 4, 5, 6)),
    ("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same"), (None, 9, 4),
     [("kernel", (3, 4, 1)), ("bias", (4,))], (None, 5, 4)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2), (None, 6, 7, 3),
     [("depthwise_kernel", (3, 3, 3, 2)), ("pointwise_kernel", (1, 1, 6, 5)), ("bias", (5,))],
     (None, 4, 5, 5)),
    ("SeparableConv1D", dict(filters=5, kernel_size=3, data_format="channels_first"),
     (None, 3, 9), [("depthwise_kernel", (3, 3, 1)), ("pointwise_kernel", (1, 3, 5)),
                    ("bias", (5,))], (None, 5, 7)),
], ids=str)
def test_weights_names_shapes_order_and_output_shape(name, kwargs, shape, weights, out_shape):
    layer = getattr(layers, name)(**kwargs)
    out = layer(minikeras.Input(batch_shape=shape))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == weights
    assert tuple(out.shape) == out_shape == tuple(layer.compute_output_shape(shape))
    assert layer.count_params() == sum(int(np.prod(s)) for _, s in weights)
    x = _x(2, *shape[1:])
    assert layer(x).shape == (2, *out_shape[1:])


@pytest.mark.parametrize("name,kwargs", [(name, kwargs) for name, kwargs, _ in LAYER_CASES],
                         ids=str)
def test_config_round_trip(name, kwargs):
    layer = getattr(layers, name)(**kwargs, name="x")
    clone = _round_trip(layer)
    assert type(clone) is type(layer)
    config = layer.get_config()
    assert "groups" not in config  # none of these layers has Conv2D's groups
    assert ("output_padding" in config) == ("Transpose" in name)
    assert ("depth_multiplier" in config) == ("Transpose" not in name)


def test_config_records_every_argument():
    config = layers.SeparableConv2D(
        4, (3, 2), strides=2, padding="SAME", depth_multiplier=3, activation="relu",
        depthwise_regularizer="l2", pointwise_constraint="non_neg").get_config()
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 2)
    assert config["padding"] == "same" and config["depth_multiplier"] == 3
    assert config["activation"] == "relu"
    assert config["depthwise_regularizer"]["class_name"] == "L2"
    assert config["pointwise_constraint"]["class_name"] == "NonNeg"
    config = layers.Conv2DTranspose(3, 3, strides=2, output_padding=1).get_config()
    assert config["output_padding"] == (1, 1) and config["dilation_rate"] == (1, 1)


@pytest.mark.parametrize("name,kwargs,message", [
    ("Conv2DTranspose", dict(filters=0, kernel_size=3), "Expected a strictly positive value"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=2),
     "`output_padding` must be strictly less than `strides`"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, dilation_rate=2),
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, padding="causal"),
     "The `padding` argument must be"),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=0),
     "Invalid value for argument `depth_multiplier`"),
    ("DepthwiseConv1D", dict(kernel_size=(3, 3)), "must be a tuple of 1 integers"),
    ("SeparableConv2D", dict(filters=-1, kernel_size=3), "Received filters=-1"),
], ids=str)
def test_bad_arguments(name, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(layers, name)(**kwargs)


def test_bad_inputs_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="Computed output size would be zero"):
        layers.DepthwiseConv2D(5).build((None, 4, 4, 2))
    layer = layers.SeparableConv2D(2, 3, name="sep")
    layer.build((None, 6, 6, 2))
    with pytest.raises(ValueError, match=r"Layer 'sep' \(SeparableConv2D, depthwise kernel shape "
                                         r"\(3, 3, 2, 1\), pointwise kernel shape \(1, 1, 2, 2\)"
                                         r"\) cannot convolve input of shape \(1, 2, 2, 2\)"):
        layer.call(minikeras.Tensor(np.zeros((1, 2, 2, 2), "float32")))


def test_autoencoder_trains_and_saves(tmp_path):
    """The tutorial's convolutional autoencoder: Conv2D + MaxPooling2D down, Conv2DTranspose
    with strides 2 up; it learns to reconstruct, and its weights survive a .weights.h5 file."""
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(32, 8, 8, 1)) > 0.5).astype("float32")

    def make():
        return minikeras.Sequential([
            minikeras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2, padding="same"),
            layers.SeparableConv2D(8, 3, activation="relu", padding="same"),
            layers.DepthwiseConv2D(3, padding="same"),
            layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2D(1, 3, activation="sigmoid", padding="same"),
        ])

    minikeras.utils.set_random_seed(0)
    model = make()
    model.compile(optimizer=minikeras.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(x, x, epochs=20, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]
    path = str(tmp_path / "ae.weights.h5")
    model.save_weights(path)
    other = make()
    other.load_weights(path)
    _close(other.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


# --- 3-D: Conv3D and the 3-D poolings ------------------------------------------------------------

def conv3d_by_loops(x, kernel, strides, pads, dilation):
    """out[n, z, y, x, f] = Σ_{a, b, e, c} in[n, z·sd + a·dd, y·sh + b·dh, x·sw + e·dw, c]
    · K[a, b, e, c, f] on the zero-padded input, one output voxel at a time."""
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    window, f = kernel.shape[:3], kernel.shape[-1]
    out = [(x.shape[1 + i] - (window[i] - 1) * dilation[i] - 1) // strides[i] + 1
           for i in range(3)]
    result = np.zeros((x.shape[0], *out, f))
    for z, y, xx in np.ndindex(*out):
        for a, b, e in np.ndindex(*window):
            voxel = x[:, z * strides[0] + a * dilation[0], y * strides[1] + b * dilation[1],
                      xx * strides[2] + e * dilation[2], :]
            result[:, z, y, xx, :] += voxel @ kernel[a, b, e]
    return result


def pool3d_by_loops(x, pool, strides, pads, reduce):
    """Each window's max (padding -inf) or mean over its real voxels."""
    fill = -np.inf if reduce == "max" else np.nan
    x = np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=fill)
    out = [(x.shape[1 + i] - pool[i]) // strides[i] + 1 for i in range(3)]
    result = np.zeros((x.shape[0], *out, x.shape[-1]))
    for z, y, xx in np.ndindex(*out):
        window = x[:, z * strides[0]:z * strides[0] + pool[0],
                   y * strides[1]:y * strides[1] + pool[1],
                   xx * strides[2]:xx * strides[2] + pool[2], :]
        result[:, z, y, xx, :] = (window.max(axis=(1, 2, 3)) if reduce == "max"
                                  else np.nanmean(window, axis=(1, 2, 3)))
    return result


CONV3D_CASES = [
    ((2, 4, 5, 6, 2), (3, 3, 3, 2, 3), 1, "valid", 1, ((0, 0),) * 3),
    ((2, 4, 5, 6, 2), (3, 2, 3, 2, 3), 1, "same", 1, ((1, 1), (0, 1), (1, 1))),
    ((1, 5, 6, 7, 2), (2, 3, 2, 2, 2), (2, 1, 3), "same", 1, ((0, 1), (1, 1), (0, 1))),
    ((1, 5, 5, 6, 1), (2, 2, 3, 1, 2), 1, "valid", (2, 1, 2), ((0, 0),) * 3),
]


@pytest.mark.parametrize("shape,kshape,stride,padding,dilation,pads", CONV3D_CASES, ids=str)
def test_conv3d_equals_its_definition_and_its_gradients_check(shape, kshape, stride, padding,
                                                              dilation, pads):
    strides = stride if isinstance(stride, tuple) else (stride,) * 3
    dilations = dilation if isinstance(dilation, tuple) else (dilation,) * 3
    x, k = _x(*shape, seed=1).astype("float64"), _x(*kshape, seed=2).astype("float64")
    y = ops.conv(x, k, strides=stride, padding=padding, dilation_rate=dilation)
    _close(y, conv3d_by_loops(x, k, strides, pads, dilations), atol=1e-12)

    def conv(x, kernel):
        return ops.conv(x, kernel, strides=stride, padding=padding, dilation_rate=dilation)

    gradient_check(conv, _x(*shape, seed=3), _x(*kshape, seed=4))


@pytest.mark.parametrize("op,reduce", [("max_pool", "max"), ("average_pool", "mean")])
@pytest.mark.parametrize("pool,stride,padding,pads", [
    (2, None, "valid", ((0, 0),) * 3),
    (3, 2, "same", ((1, 1), (0, 1), (1, 1))),
    ((2, 3, 1), 1, "same", ((0, 1), (1, 1), (0, 0))),
    ((3, 2, 2), (1, 2, 1), "valid", ((0, 0),) * 3),
], ids=str)
def test_pool3d_equals_its_definition_and_its_gradients_check(op, reduce, pool, stride, padding,
                                                              pads):
    pools = pool if isinstance(pool, tuple) else (pool,) * 3
    strides = pools if stride is None else stride if isinstance(stride, tuple) else (stride,) * 3
    x = _x(2, 5, 6, 7, 2, seed=5).astype("float64")  # distinct values: no tied maxima
    y = getattr(ops, op)(x, pool, strides=stride, padding=padding)
    _close(y, pool3d_by_loops(x, pools, strides, pads, reduce), atol=1e-12)

    def pool_op(x):
        return getattr(ops, op)(x, pool, strides=stride, padding=padding)

    gradient_check(pool_op, _x(2, 5, 6, 7, 2, seed=5))


def test_max_pool3d_gives_every_tied_maximum_the_gradient():
    """TensorFlow's 3-D rule (the 2-D max_pool gives it to the first maximum only)."""
    x = np.array([1, 3, 3, 0, 2, 3, 0, 0], "float32").reshape(1, 2, 2, 2, 1)
    t = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        y = ops.max_pool(t, 2)
    assert float(y.numpy().ravel()[0]) == 3
    np.testing.assert_array_equal(tape.gradient(y, t).numpy().ravel(), [0, 1, 1, 0, 0, 1, 0, 0])


def conv3d_transpose_by_loops(x, kernel, out_size, strides, pads):
    """Every input voxel adds kernel[a, b, e, :, c] · in[n, z, y, x, c] onto the output at
    (z·sd + a, y·sh + b, x·sw + e) of a padded volume, which is then cropped."""
    window, f = kernel.shape[:3], kernel.shape[3]
    out = np.zeros((x.shape[0], *[o + sum(p) for o, p in zip(out_size, pads, strict=True)], f))
    for z, y, xx in np.ndindex(*x.shape[1:4]):
        for a, b, e in np.ndindex(*window):
            out[:, z * strides[0] + a, y * strides[1] + b, xx * strides[2] + e, :] += (
                x[:, z, y, xx, :] @ kernel[a, b, e].T)
    return out[:, pads[0][0]:pads[0][0] + out_size[0], pads[1][0]:pads[1][0] + out_size[1],
               pads[2][0]:pads[2][0] + out_size[2], :]


@pytest.mark.parametrize("stride,padding,out_pad,size,pads", [
    ((1, 1, 1), "valid", None, (4, 5, 2), ((0, 0),) * 3),
    ((2, 1, 3), "same", None, (4, 3, 6), ((0, 1), (1, 1), (0, 0))),
    ((2, 2, 3), "same", (1, 0, 2), (4, 5, 6), ((0, 1), (1, 1), (0, 0))),
    ((2, 3, 2), "valid", (1, 2, 0), (6, 11, 3), ((0, 0),) * 3),
], ids=str)
def test_conv3d_transpose_equals_its_definition_is_convs_adjoint_and_checks(stride, padding,
                                                                          out_pad, size, pads):
    x, k = _x(2, 2, 3, 2, 2, seed=1).astype("float64"), _x(3, 3, 1, 3, 2, seed=2)
    k = k.astype("float64")
    y = ops.conv_transpose(x, k, strides=stride, padding=padding, output_padding=out_pad)
    assert y.shape == (2, *size, 3)
    _close(y, conv3d_transpose_by_loops(x, k, size, stride, pads), atol=1e-12)
    z = _x(*y.shape, seed=3).astype("float64")
    forward = ops.conv(z, k, strides=stride, padding=padding).numpy()
    np.testing.assert_allclose(np.sum(forward * x), np.sum(z * y.numpy()), rtol=1e-12)

    def conv_transpose(x, kernel):
        return ops.conv_transpose(x, kernel, strides=stride, padding=padding,
                                  output_padding=out_pad)

    gradient_check(conv_transpose, x, k)


def test_3d_channels_first_is_channels_last_transposed():
    x = _x(2, 4, 5, 6, 3, seed=6)
    k = _x(3, 2, 2, 3, 4, seed=7)
    first = x.transpose(0, 4, 1, 2, 3)
    for op, args in (("conv", (k,)), ("max_pool", (2,)), ("average_pool", (3,))):
        last = getattr(ops, op)(x, *args, strides=2, padding="same").numpy()
        y = getattr(ops, op)(first, *args, strides=2, padding="same",
                             data_format="channels_first").numpy()
        _close(y, last.transpose(0, 4, 1, 2, 3), atol=1e-6)


def test_3d_op_errors():
    with pytest.raises(ValueError, match=r"kernel of rank 5.*\(3, 3, 2, 4\)"):
        ops.conv(np.zeros((1, 4, 5, 5, 2)), np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"input channels \(3.*\(1, 4, 5, 5, 2\)"):
        ops.conv(np.zeros((1, 4, 5, 5, 2)), np.zeros((3, 3, 3, 3, 4)))
    with pytest.raises(ValueError, match="Computed output size would be zero"):
        ops.max_pool(np.zeros((1, 2, 5, 5, 2)), 3)
    with pytest.raises(ValueError, match="`padding` must be either 'valid' or 'same'"):
        ops.average_pool(np.zeros((1, 4, 4, 4, 1)), 2, padding="full")


@pytest.mark.parametrize("layer,shape", [
    (lambda: layers.Conv3D(2, 2, padding="same", activation="tanh"), (2, 3, 4, 3, 2)),
    (lambda: layers.Conv3D(2, (2, 1, 2), strides=(1, 2, 1), data_format="channels_first"),
     (2, 2, 3, 4, 3)),
    (lambda: layers.MaxPooling3D(2, padding="same"), (2, 3, 4, 3, 2)),
    (lambda: layers.AveragePooling3D((2, 1, 2), strides=1, data_format="channels_first"),
     (2, 2, 3, 4, 3)),
    (lambda: layers.GlobalAveragePooling3D(), (2, 3, 4, 3, 2)),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2, padding="same",
                                    data_format="channels_first"), (2, 2, 2, 3, 2)),
    (lambda: layers.GlobalMaxPooling3D(keepdims=True, data_format="channels_first"),
     (2, 2, 3, 4, 3)),
], ids=["conv3d", "conv3d_cf", "max3d", "avg3d_cf", "gap3d", "conv3d_transpose_cf",
        "gmp3d_cf"])
def test_3d_layer_gradients(layer, shape):
    with floatx("float64"):
        layer = layer()
        layer.build(shape)
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(_x(*layer.bias.shape, seed=5))
        layer_gradient_check(layer, _x(*shape, seed=6))


@pytest.mark.parametrize("layer,shape,out_shape,weights", [
    (layers.Conv3D(4, 3, strides=2, padding="same"), (None, 5, 6, 7, 2), (None, 3, 3, 4, 4),
     [("kernel", (3, 3, 3, 2, 4)), ("bias", (4,))]),
    (layers.Conv3D(4, (3, 1, 2), data_format="channels_first", use_bias=False),
     (None, 2, 5, 6, 7), (None, 4, 3, 6, 6), [("kernel", (3, 1, 2, 2, 4))]),
    (layers.Conv3DTranspose(4, 3, strides=(2, 1, 2), output_padding=(1, 0, 0)),
     (None, 5, 6, 7, 2), (None, 12, 8, 15, 4), [("kernel", (3, 3, 3, 4, 2)), ("bias", (4,))]),
    (layers.MaxPooling3D(), (None, 5, 6, 7, 2), (None, 2, 3, 3, 2), []),
    (layers.AveragePooling3D(3, strides=2, padding="same"), (None, 5, 6, 7, 2),
     (None, 3, 3, 4, 2), []),
    (layers.GlobalMaxPooling3D(), (None, 5, 6, 7, 2), (None, 2), []),
    (layers.GlobalAveragePooling3D(keepdims=True), (None, 5, 6, 7, 2), (None, 1, 1, 1, 2), []),
], ids=str)
def test_3d_layers_weights_and_shapes(layer, shape, out_shape, weights):
    out = layer(minikeras.Input(batch_shape=shape))
    assert tuple(out.shape) == out_shape == tuple(layer.compute_output_shape(shape))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == weights
    assert layer(_x(2, *shape[1:])).shape == (2, *out_shape[1:])
    _round_trip(layer)


def test_3d_layer_errors():
    with pytest.raises(ValueError, match="must be a tuple of 3 integers"):
        layers.Conv3D(2, (3, 3))
    with pytest.raises(ValueError, match="must be a tuple of 3 integers"):
        layers.MaxPooling3D((2, 2))
    with pytest.raises(ValueError, match="expected ndim=5"):
        layers.MaxPooling3D()(np.zeros((2, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="Computed output size would be zero"):
        layers.Conv3D(2, 3).build((None, 2, 5, 5, 1))
