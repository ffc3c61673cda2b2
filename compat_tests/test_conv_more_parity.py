"""Parity of Conv2DTranspose, Conv1DTranspose, DepthwiseConv2D, DepthwiseConv1D,
SeparableConv2D, SeparableConv1D, Conv3D, Conv3DTranspose and the 3-D poolings (and the ops
conv_transpose / depthwise_conv / separable_conv, and conv / max_pool / average_pool on volumes)
with Keras 3:
the same weights and inputs give the same outputs and gradients (w.r.t. the inputs and every
weight); weight names, shapes and order, configs, output shapes,
errors, summaries, 2-epoch SGD runs and .keras / .weights.h5 files in both directions agree."""

import json

import keras
import numpy as np
import pytest
import test_layers_extra_parity
from test_conv_pooling_parity import (
    assert_config_round_trips,
    assert_raises_the_same_error,
    assert_same_aliases_and_default_config,
    assert_same_layer,
    assert_same_op,
    assert_same_pooling,
    assert_same_symbolic_output_shape,
)
from test_layers_extra_parity import assert_same_run, make_pair
from test_saving_parity import assert_files_move_both_ways
from test_saving_parity import assert_same_config as assert_same_json_config
from test_summary_parity import _assert_same, _summaries
from test_training_parity import assert_trains_like_keras

import minikeras as mk

# A pixel's gradient sums up to (filters·kh·kw) products, which TensorFlow's backprop kernels add
# in another order than minikeras's im2col / col2im: where terms of size ~3 cancel, float32
# results differ by ~1.5e-6, so gradients use atol 5e-6 here, as the Conv2D parity tests do.
GRAD_ATOL = 5e-6

LAYER_CASES = [
    # the autoencoder's decoder: strides 2, "same", doubling the image
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 5, 6, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3), (2, 5, 4, 2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 3), strides=(3, 2), activation="relu"),
     (2, 4, 5, 3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same",
                             output_padding=0), (2, 4, 4, 2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(3, 2), strides=(3, 2), padding="valid",
                             output_padding=(2, 1), use_bias=False), (1, 3, 4, 2)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, padding="same", dilation_rate=2,
                             activation="tanh"), (2, 6, 5, 2)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same",
                             data_format="channels_first"), (2, 3, 4, 5)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=5, strides=4), (1, 2, 3, 1)),  # s > k
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 7, 4)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=3, output_padding=2), (2, 5, 3)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
     (2, 6, 3)),
    ("Conv1DTranspose", dict(filters=4, kernel_size=3, strides=2, data_format="channels_first",
                             activation="sigmoid"), (2, 3, 6)),
    ("DepthwiseConv2D", dict(kernel_size=3), (2, 7, 8, 3)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), strides=2, padding="same", depth_multiplier=2),
     (2, 7, 8, 3)),
    ("DepthwiseConv2D", dict(kernel_size=3, padding="same", dilation_rate=2, activation="relu"),
     (2, 8, 7, 2)),
    ("DepthwiseConv2D", dict(kernel_size=3, strides=2, dilation_rate=2, depth_multiplier=3),
     (2, 9, 9, 2)),  # strides and dilation together: Keras allows it here, unlike Conv2D
    ("DepthwiseConv2D", dict(kernel_size=2, depth_multiplier=2, data_format="channels_first",
                             use_bias=False), (2, 3, 5, 6)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), (2, 9, 3)),
    ("DepthwiseConv1D", dict(kernel_size=4, strides=2, padding="same", dilation_rate=1),
     (2, 9, 3)),
    ("DepthwiseConv1D", dict(kernel_size=3, dilation_rate=2, data_format="channels_first"),
     (2, 3, 10)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3), (2, 7, 8, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=(3, 2), strides=2, padding="same",
                             depth_multiplier=2, activation="relu"), (2, 7, 8, 3)),
    ("SeparableConv2D", dict(filters=3, kernel_size=3, padding="same", dilation_rate=2,
                             use_bias=False), (2, 8, 7, 2)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, data_format="channels_first"),
     (2, 3, 6, 7)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2), (2, 9, 3)),
    ("SeparableConv1D", dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 9, 3)),
    ("SeparableConv1D", dict(filters=3, kernel_size=2, dilation_rate=3,
                             data_format="channels_first"), (2, 3, 10)),
    ("Conv3D", dict(filters=4, kernel_size=3), (2, 5, 6, 7, 3)),
    ("Conv3D", dict(filters=3, kernel_size=(3, 2, 1), strides=(2, 1, 2), padding="same",
                    activation="relu"), (2, 5, 6, 7, 2)),
    ("Conv3D", dict(filters=2, kernel_size=2, dilation_rate=(2, 1, 2), use_bias=False),
     (1, 5, 4, 6, 2)),
    ("Conv3D", dict(filters=3, kernel_size=2, strides=2, padding="same",
                    data_format="channels_first"), (2, 2, 5, 4, 3)),
    ("Conv3DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"),
     (2, 3, 4, 5, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(2, 3, 1), strides=(1, 2, 3),
                             output_padding=(0, 1, 2), activation="relu"), (2, 3, 4, 2, 3)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, dilation_rate=2, use_bias=False),
     (1, 3, 3, 4, 2)),
    ("Conv3DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same",
                             data_format="channels_first"), (2, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("name,kwargs,shape", LAYER_CASES, ids=str)
def test_layer_outputs_gradients_weights_and_configs(name, kwargs, shape, rng, monkeypatch):
    monkeypatch.setattr(test_layers_extra_parity, "GRAD_ATOL", GRAD_ATOL)
    assert_same_layer(name, kwargs, shape, rng)


@pytest.mark.parametrize("op,x_shape,kernel_shapes,kwargs", [
    ("conv_transpose", (2, 5, 6, 3), [(3, 3, 4, 3)], dict(strides=2, padding="same")),
    ("conv_transpose", (2, 5, 6, 3), [(2, 3, 4, 3)],
     dict(strides=(2, 3), padding="valid", output_padding=(1, 2))),
    ("conv_transpose", (2, 5, 6, 3), [(3, 3, 2, 3)], dict(padding="same", dilation_rate=2)),
    ("conv_transpose", (2, 3, 5, 6), [(3, 2, 4, 3)],
     dict(strides=2, padding="same", output_padding=1, data_format="channels_first")),
    ("conv_transpose", (2, 7, 3), [(3, 2, 3)], dict(strides=2, padding="same")),
    ("conv_transpose", (2, 7, 3), [(4, 2, 3)], dict(strides=3, output_padding=1)),
    ("conv_transpose", (2, 3, 4, 5, 3), [(3, 3, 3, 2, 3)],
     dict(strides=(2, 1, 2), padding="same", output_padding=(1, 0, 1))),
    ("depthwise_conv", (2, 7, 9, 3), [(3, 2, 3, 2)], dict(strides=(1, 2), padding="same")),
    ("depthwise_conv", (2, 7, 9, 3), [(3, 3, 3, 1)], dict(dilation_rate=(2, 1))),
    ("depthwise_conv", (2, 3, 7, 9), [(3, 3, 3, 2)],
     dict(strides=2, data_format="channels_first")),
    ("depthwise_conv", (2, 9, 3), [(3, 3, 2)], dict(strides=2, padding="same")),
    ("separable_conv", (2, 7, 9, 3), [(3, 2, 3, 2), (1, 1, 6, 4)],
     dict(strides=2, padding="same")),
    ("separable_conv", (2, 7, 9, 3), [(3, 3, 3, 1), (1, 1, 3, 5)], dict(dilation_rate=2)),
    ("separable_conv", (2, 9, 3), [(3, 3, 2), (1, 6, 4)], dict(padding="same")),
    ("separable_conv", (2, 3, 9), [(3, 3, 2), (1, 6, 4)],
     dict(strides=2, data_format="channels_first")),
], ids=str)
def test_ops_against_keras_ops(op, x_shape, kernel_shapes, kwargs, rng):
    arrays = [rng.normal(size=s).astype("float32") for s in (x_shape, *kernel_shapes)]
    assert_same_op(op, arrays, kwargs, rng)


POOL3D_CASES = [
    (dict(), (2, 4, 6, 8, 3)),
    (dict(pool_size=3, strides=2, padding="same"), (2, 5, 7, 6, 2)),
    (dict(pool_size=(2, 3, 1), strides=1, padding="same"), (1, 4, 5, 3, 2)),
    (dict(pool_size=(3, 2, 2), strides=(1, 2, 1)), (2, 5, 5, 4, 1)),
    (dict(pool_size=2, padding="same", data_format="channels_first"), (2, 3, 3, 5, 4)),
]


@pytest.mark.parametrize("name", ["MaxPooling3D", "AveragePooling3D"])
@pytest.mark.parametrize("kwargs,shape", POOL3D_CASES, ids=str)
def test_pooling3d_outputs_and_gradients(name, kwargs, shape, rng):
    assert_same_pooling(name, kwargs, shape, rng)


@pytest.mark.parametrize("name", ["GlobalAveragePooling3D", "GlobalMaxPooling3D"])
@pytest.mark.parametrize("kwargs", [dict(), dict(keepdims=True),
                                    dict(data_format="channels_first")], ids=str)
def test_global_pooling3d(name, kwargs, rng):
    assert_same_pooling(name, kwargs, (2, 3, 4, 5, 6), rng)


def test_max_pooling3d_gives_every_tied_maximum_the_gradient(rng):
    """After a ReLU many voxels are 0 and maxima tie: TensorFlow's 3-D max pooling gives the
    whole gradient to each of them (its 2-D one to the first only)."""
    x = np.maximum(rng.integers(-3, 3, size=(2, 4, 4, 4, 2)), 0).astype("float32")
    k_layer, m_layer = make_pair("MaxPooling3D", pool_size=2, strides=1, padding="same")
    assert_same_run(k_layer, m_layer, x)


@pytest.mark.parametrize("op,kwargs", [
    ("conv", dict(strides=(1, 2, 1), padding="same")),
    ("conv", dict(padding="valid", dilation_rate=(2, 1, 2))),
    ("conv", dict(strides=2, padding="same", data_format="channels_first")),
    ("max_pool", dict(pool_size=(3, 2, 2), strides=(2, 1, 2), padding="same")),
    ("average_pool", dict(pool_size=3, strides=2, padding="same")),
    ("average_pool", dict(pool_size=2, data_format="channels_first")),
], ids=str)
def test_3d_ops_against_keras_ops(op, kwargs, rng):
    x = rng.normal(size=(2, 5, 6, 7, 3)).astype("float32")
    if kwargs.get("data_format") == "channels_first":
        x = x.transpose(0, 4, 1, 2, 3).copy()
    args = (rng.normal(size=(3, 2, 3, 3, 4)).astype("float32"),) if op == "conv" else ()
    assert_same_op(op, (x, *args), kwargs, rng)


# --- configs, shapes, errors ---------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs,prefixes", [
    ("Conv2DTranspose", dict(filters=6, kernel_size=(3, 5), strides=2, padding="same",
                             output_padding=(1, 0), activation="swish"), ["kernel"]),
    ("Conv1DTranspose", dict(filters=2, kernel_size=4, dilation_rate=2,
                             data_format="channels_first"), ["kernel"]),
    ("DepthwiseConv2D", dict(kernel_size=(3, 5), depth_multiplier=3, padding="same",
                             activation="relu"), ["depthwise"]),
    ("DepthwiseConv1D", dict(kernel_size=3, strides=2, use_bias=False), ["depthwise"]),
    ("SeparableConv2D", dict(filters=6, kernel_size=3, depth_multiplier=2, dilation_rate=2),
     ["depthwise", "pointwise"]),
    ("SeparableConv1D", dict(filters=6, kernel_size=3, strides=2, padding="same"),
     ["depthwise", "pointwise"]),
    ("Conv3D", dict(filters=6, kernel_size=(3, 1, 2), strides=(1, 2, 1), padding="same",
                    activation="elu"), ["kernel"]),
    ("Conv3DTranspose", dict(filters=6, kernel_size=(3, 1, 2), strides=2, padding="same",
                             output_padding=1, data_format="channels_first"), ["kernel"]),
], ids=str)
def test_configs_with_initializers_regularizers_and_constraints(name, kwargs, prefixes):
    assert_config_round_trips(name, dict(kwargs, name="layer_x"), prefixes)


@pytest.mark.parametrize("name,aliases,args", [
    ("Conv2DTranspose", ["Convolution2DTranspose"], (3, 2)),
    ("Conv1DTranspose", ["Convolution1DTranspose"], (3, 2)),
    ("DepthwiseConv2D", [], (3,)),
    ("DepthwiseConv1D", [], (3,)),
    ("SeparableConv2D", ["SeparableConvolution2D"], (3, 2)),
    ("SeparableConv1D", ["SeparableConvolution1D"], (3, 2)),
    ("Conv3D", ["Convolution3D"], (3, 2)),
    ("Conv3DTranspose", ["Convolution3DTranspose"], (3, 2)),
    ("MaxPooling3D", ["MaxPool3D"], ()),
    ("AveragePooling3D", ["AvgPool3D"], (2,)),
    ("GlobalAveragePooling3D", ["GlobalAvgPool3D"], ()),
    ("GlobalMaxPooling3D", ["GlobalMaxPool3D"], ()),
])
def test_aliases_default_configs_and_names(name, aliases, args):
    assert_same_aliases_and_default_config(name, aliases, args)


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv2DTranspose", (4, 3), dict(strides=2, padding="same"), (None, 7, 7, 8)),
    ("Conv2DTranspose", (4, (3, 2)), dict(strides=(2, 3)), (None, None, 5, 2)),
    ("Conv2DTranspose", (4, 3), dict(strides=2, output_padding=1, padding="same"),
     (None, 5, 6, 2)),
    ("Conv2DTranspose", (4, 3), dict(data_format="channels_first"), (None, 2, 9, None)),
    ("Conv1DTranspose", (3, 5), dict(strides=2), (None, 10, 4)),
    ("Conv1DTranspose", (3, 2), dict(strides=3, padding="same"), (None, None, 4)),
    ("DepthwiseConv2D", (3,), dict(depth_multiplier=2, strides=2), (None, 9, None, 3)),
    ("DepthwiseConv1D", (3,), dict(padding="same"), (None, 7, 5)),
    ("SeparableConv2D", (4, 3), dict(strides=2, padding="same"), (None, 9, 8, 3)),
    ("SeparableConv1D", (4, 3), dict(data_format="channels_first"), (None, 3, 9)),
    ("Conv3D", (4, 3), dict(strides=2, padding="same"), (None, 9, None, 8, 3)),
    ("Conv3D", (4, (3, 2, 1)), dict(data_format="channels_first"), (None, 2, 6, 7, 8)),
    ("Conv3DTranspose", (4, 3), dict(strides=(2, 1, 3)), (None, 5, None, 4, 2)),
    ("MaxPooling3D", (), dict(padding="same"), (None, 5, 6, None, 2)),
    ("AveragePooling3D", ((3, 2, 1),), dict(strides=1), (None, 5, 6, 7, 2)),
    ("GlobalAveragePooling3D", (), dict(keepdims=True), (None, 5, 6, 7, 2)),
    ("GlobalMaxPooling3D", (), dict(data_format="channels_first"), (None, 5, 6, 7, 2)),
], ids=str)
def test_symbolic_output_shapes(name, args, kwargs, shape):
    assert_same_symbolic_output_shape(name, args, kwargs, shape)


@pytest.mark.parametrize("name,kwargs", [
    ("Conv2DTranspose", dict(filters=0, kernel_size=3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=0)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(3, 3, 3))),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, dilation_rate=2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, output_padding=-1)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, padding="full")),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, padding="causal")),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, data_format="nwc")),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=0)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 3, 3))),
    ("DepthwiseConv1D", dict(kernel_size=3, padding="causal")),
    ("SeparableConv2D", dict(filters=2, kernel_size=3, depth_multiplier=-1)),
    ("SeparableConv2D", dict(filters=0, kernel_size=3)),
    ("SeparableConv1D", dict(filters=2, kernel_size=3, strides=0)),
    ("Conv3D", dict(filters=2, kernel_size=(3, 3))),
    ("Conv3D", dict(filters=2, kernel_size=3, strides=2, dilation_rate=2)),
    ("Conv3D", dict(filters=3, kernel_size=3, groups=2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=3, strides=(2, 2, 1), output_padding=1)),
    ("MaxPooling3D", dict(pool_size=(2, 2))),
    ("AveragePooling3D", dict(pool_size=2, data_format="ndhwc")),
], ids=str)
def test_bad_arguments_raise_the_same_errors(name, kwargs):
    assert_raises_the_same_error(name, kwargs)


@pytest.mark.parametrize("name,args", [("DepthwiseConv2D", (5,)), ("SeparableConv2D", (2, 5))])
def test_too_small_inputs_are_rejected_with_the_same_message(name, args):
    messages = []
    for lib in (keras, mk):
        with pytest.raises(ValueError, match="Computed output size would be zero") as error:
            getattr(lib.layers, name)(*args, dilation_rate=2).build((None, 4, 4, 1))
        messages.append(str(error.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("op,x_shape,kernel_shape", [
    ("conv_transpose", (1, 5, 5, 2), (3, 3, 4, 3)),  # kernel's last axis: input channels
    ("depthwise_conv", (1, 5, 5, 2), (3, 3, 3, 1)),
    ("depthwise_conv", (1, 4, 5, 5, 2), (3, 3, 3, 2, 1)),
])
def test_op_errors_are_keras_messages(op, x_shape, kernel_shape):
    messages = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            getattr(lib.ops, op)(np.zeros(x_shape, "float32"), np.zeros(kernel_shape, "float32"))
        messages.append(str(error.value))
    assert messages[1] == messages[0]


# --- models: summary, training, files ------------------------------------------------------------

def autoencoder(lib):
    """The convolutional autoencoder of the Keras tutorials: Conv2D + pooling down to 7x7,
    Conv2DTranspose with strides 2 back up to 28x28."""
    return lib.Sequential([
        lib.Input((28, 28, 1)),
        lib.layers.Conv2D(8, 3, activation="relu", padding="same"),
        lib.layers.MaxPooling2D(2, padding="same"),
        lib.layers.Conv2D(4, 3, activation="relu", padding="same"),
        lib.layers.MaxPooling2D(2, padding="same"),
        lib.layers.Conv2DTranspose(4, 3, strides=2, activation="relu", padding="same"),
        lib.layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same"),
        lib.layers.Conv2D(1, 3, activation="sigmoid", padding="same"),
    ])


def separable_cnn(lib):
    """MobileNet/Xception-style blocks: depthwise and separable convolutions, then a
    classifier."""
    return lib.Sequential([
        lib.Input((16, 16, 3)),
        lib.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu"),
        lib.layers.SeparableConv2D(8, 3, strides=2, padding="same", activation="relu"),
        lib.layers.DepthwiseConv2D((2, 3), strides=2),
        lib.layers.SeparableConv2D(6, 2, depth_multiplier=2, activation="tanh"),
        lib.layers.Flatten(),
        lib.layers.Dense(4, activation="softmax"),
    ])


def sequence_model(lib):
    """The 1-D layers: a sequence encoded and decoded back to its length."""
    return lib.Sequential([
        lib.Input((12, 3)),
        lib.layers.SeparableConv1D(6, 3, strides=2, padding="same", activation="relu"),
        lib.layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", activation="tanh"),
        lib.layers.Conv1DTranspose(3, 4, strides=2, padding="same"),
    ])


def volume_cnn(lib):
    """A small 3-D CNN (video clips or scans): Conv3D and the 3-D poolings."""
    return lib.Sequential([
        lib.Input((6, 8, 8, 2)),
        lib.layers.Conv3D(4, 3, padding="same", activation="relu"),
        lib.layers.MaxPooling3D(2),
        lib.layers.Conv3D(6, (2, 3, 3), strides=(1, 2, 1), activation="tanh"),
        lib.layers.AveragePooling3D((1, 1, 2), padding="same"),
        lib.layers.GlobalMaxPooling3D(),
        lib.layers.Dense(3, activation="softmax"),
    ])


def volume_autoencoder(lib):
    """Volumes down with Conv3D + MaxPooling3D, back up with Conv3DTranspose."""
    return lib.Sequential([
        lib.Input((4, 8, 8, 1)),
        lib.layers.Conv3D(4, 3, padding="same", activation="relu"),
        lib.layers.MaxPooling3D(2),
        lib.layers.Conv3DTranspose(3, 3, strides=2, padding="same", activation="relu"),
        lib.layers.Conv3D(1, 3, padding="same", activation="sigmoid"),
    ])


def volume_cnn_average(lib):
    """channels_first volumes. (5 filters, not 4: Keras's TensorFlow ``ops.add`` treats a
    (1, filters, 1, 1, 1) bias as a ``bias_add`` on the *last* axis when that axis also has
    ``filters`` elements, so a channels_first Conv3D/Conv2D whose output width equals its
    filters adds the bias along the width. minikeras adds it per channel.)"""
    return lib.Sequential([
        lib.Input((2, 6, 8, 8)),
        lib.layers.Conv3D(5, 3, strides=2, padding="same", data_format="channels_first"),
        lib.layers.GlobalAveragePooling3D(data_format="channels_first"),
        lib.layers.Dense(3, activation="softmax"),
    ])


MODELS = [autoencoder, separable_cnn, sequence_model, volume_cnn, volume_autoencoder,
          volume_cnn_average]


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("columns", ["80", "200"])
def test_summary_text_and_param_counts(make, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    _assert_same(*_summaries(make, capsys))
    assert make(mk).count_params() == make(keras).count_params()


def test_autoencoder_trains_like_keras(rng):
    """2 epochs of SGD reconstructing 64 random images (binary cross-entropy), batches of 16.
    The loss starts flat (~0.693, every pixel ~0.5), so a large learning rate makes the weights
    move by ~5e-3: a 1% error in the Conv2DTranspose kernel's gradient then shows (checked by
    hand); smaller errors are the per-layer gradient tests' job."""
    x = rng.uniform(0, 1, size=(64, 28, 28, 1)).astype("float32")
    assert_trains_like_keras(autoencoder, x, x, "binary_crossentropy", 3.0)


def test_separable_cnn_trains_like_keras(rng):
    x = rng.uniform(0, 1, size=(64, 16, 16, 3)).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, size=64)]
    assert_trains_like_keras(separable_cnn, x, y, "categorical_crossentropy", 0.1,
                             metrics=["accuracy"])


def test_sequence_model_trains_like_keras(rng):
    x = rng.normal(size=(64, 12, 3)).astype("float32")
    assert_trains_like_keras(sequence_model, x, x, "mse", 0.05)


@pytest.mark.parametrize("make", [volume_cnn, volume_cnn_average], ids=lambda f: f.__name__)
def test_volume_cnn_trains_like_keras(make, rng):
    x = rng.uniform(0, 1, size=(32, 6, 8, 8, 2)).astype("float32")
    if make is volume_cnn_average:
        x = x.transpose(0, 4, 1, 2, 3).copy()
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=32)]
    assert_trains_like_keras(make, x, y, "categorical_crossentropy", 0.1, batch_size=8,
                             metrics=["accuracy"])


def test_volume_autoencoder_trains_like_keras(rng):
    x = rng.uniform(0, 1, size=(32, 4, 8, 8, 1)).astype("float32")
    assert_trains_like_keras(volume_autoencoder, x, x, "binary_crossentropy", 3.0, batch_size=8)


def _inputs(make, rng, n=4):
    shape = {autoencoder: (28, 28, 1), separable_cnn: (16, 16, 3), sequence_model: (12, 3),
             volume_cnn: (6, 8, 8, 2), volume_cnn_average: (2, 6, 8, 8),
             volume_autoencoder: (4, 8, 8, 1)}
    return rng.uniform(0, 1, size=(n, *shape[make])).astype("float32")


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_files_both_ways(make, suffix, tmp_path, rng):
    assert_files_move_both_ways(make, _inputs(make, rng), tmp_path, suffix, rng,
                                lambda theirs: [w[::-1].copy() * 0.5 for w in theirs])


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
def test_to_json_equals_keras(make):
    assert_same_json_config(json.loads(make(mk).to_json()), json.loads(make(keras).to_json()))
