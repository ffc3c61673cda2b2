"""DepthwiseConv2D and DepthwiseConv1D: every channel convolved on its own.

``output = activation(depthwise_conv(inputs, kernel) + bias)``: a Conv2D mixes all input channels
into each filter; a depthwise convolution gives each input channel ``depth_multiplier`` kernels
of its own and never mixes channels (MobileNet's first half of a separable convolution). The op,
with its backward rules, is ``ops.depthwise_conv`` (``minikeras/ops/convolution.py``). Arguments,
checks, weights and configs follow ``keras/src/layers/convolutional/base_depthwise_conv.py``.
"""

from minikeras import activations, constraints, initializers, ops, regularizers
from minikeras.layers.convolutional import (
    BaseConv,
    check_positive,
    conv_output_shape,
    standardize_data_format,
)
from minikeras.layers.layer import Layer


class BaseDepthwiseConv(BaseConv):
    """What the depthwise convolutions share (Keras's ``BaseDepthwiseConv``): the ``kernel``
    (*kernel_size, in_channels, depth_multiplier) and ``bias`` (in_channels·depth_multiplier,)
    weights, the output shape (in_channels·depth_multiplier channels) and the config.
    ``call`` (BaseConv's) adds the bias and applies the activation."""

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        Layer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self._set_window(rank, kernel_size, strides, dilation_rate, padding)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        check_positive("depth_multiplier", depth_multiplier)

    def _input_channel(self, input_shape):
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def build(self, input_shape):
        input_channel = self._build_input_spec(input_shape)
        self.compute_output_shape(input_shape)  # checks that the kernel fits the input
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, input_channel, self.depth_multiplier), name="kernel",
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self._add_bias(self.depth_multiplier * input_channel)
        self.built = True

    def convolve(self, inputs):
        return ops.depthwise_conv(inputs, self.kernel, strides=self.strides,
                                  padding=self.padding, data_format=self.data_format,
                                  dilation_rate=self.dilation_rate)

    def compute_output_shape(self, input_shape):
        """Conv's rule per spatial axis; in_channels·depth_multiplier channels."""
        input_shape = tuple(input_shape)
        return conv_output_shape(input_shape,
                                 self.depth_multiplier * self._input_channel(input_shape),
                                 self.kernel_size, self.strides, self.padding, self.data_format,
                                 self.dilation_rate)

    def get_config(self):
        return {
            **Layer.get_config(self),
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class DepthwiseConv2D(BaseDepthwiseConv):
    """Each channel c of (batch, height, width, channels) images convolved with its own
    ``depth_multiplier`` kernels; output channel c·M + m comes from channel c and kernel m:
        out[n, y, x, c·M + m] = activation(Σ_{i, j} in[n, y·sh + i·dh, x·sw + j·dw, c]
                                           · kernel[i, j, c, m] + bias[c·M + m])
    The kernel has shape (kh, kw, in_channels, depth_multiplier), as in Keras.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv1D(BaseDepthwiseConv):
    """Each channel of (batch, steps, channels) sequences convolved with its own kernels:
        out[n, t, c·M + m] = activation(Σ_i in[n, t·s + i·d, c] · kernel[i, c, m]
                                        + bias[c·M + m])
    The kernel has shape (k, in_channels, depth_multiplier), as in Keras.
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
