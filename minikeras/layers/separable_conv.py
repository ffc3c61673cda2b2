"""SeparableConv2D and SeparableConv1D: a depthwise convolution, then a 1x1 convolution.

``output = activation(conv(depthwise_conv(inputs, depthwise_kernel), pointwise_kernel) + bias)``:
the spatial filtering (per channel) and the mixing of channels (per pixel) are done in two
cheap steps instead of one Conv2D (Xception, MobileNet). The op is ``ops.separable_conv``
(``minikeras/ops/convolution.py``). Arguments, checks, weights and configs follow
``keras/src/layers/convolutional/base_separable_conv.py``.
"""

from minikeras import activations, constraints, initializers, ops, regularizers
from minikeras.layers.convolutional import BaseConv, check_positive, standardize_data_format
from minikeras.layers.layer import Layer


class BaseSeparableConv(BaseConv):
    """What the separable convolutions share (Keras's ``BaseSeparableConv``): the weights
    ``depthwise_kernel`` (*kernel_size, in_channels, depth_multiplier), ``pointwise_kernel``
    (1, ..., 1, in_channels·depth_multiplier, filters) and ``bias`` (filters,), in that order;
    the output shape (Conv's rule) and the config. ``call`` (BaseConv's) adds the bias and
    applies the activation."""

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1,
                 padding="valid", data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        Layer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.filters = filters
        self._set_window(rank, kernel_size, strides, dilation_rate, padding)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        check_positive("depth_multiplier", depth_multiplier)
        check_positive("filters", filters)

    def build(self, input_shape):
        input_channel = self._build_input_spec(input_shape)
        self.compute_output_shape(input_shape)  # checks that the kernel fits the input
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, input_channel, self.depth_multiplier),
            name="depthwise_kernel", initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self.rank + (self.depth_multiplier * input_channel, self.filters),
            name="pointwise_kernel", initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self._add_bias(self.filters)
        self.built = True

    def convolve(self, inputs):
        return ops.separable_conv(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                  strides=self.strides, padding=self.padding,
                                  data_format=self.data_format,
                                  dilation_rate=self.dilation_rate)

    def _kernel_description(self):
        return (f"depthwise kernel shape {self.depthwise_kernel.shape}, pointwise kernel shape "
                f"{self.pointwise_kernel.shape}")

    def get_config(self):
        return {
            **Layer.get_config(self),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class SeparableConv2D(BaseSeparableConv):
    """A depthwise convolution of (batch, height, width, channels) images (each channel with
    its own ``depth_multiplier`` kernels), then a 1x1 convolution mixing the channels into
    ``filters`` outputs, then the bias and activation:
        d[n, y, x, c·M + m] = Σ_{i, j} in[n, y·sh + i·dh, x·sw + j·dw, c] · depthwise[i, j, c, m]
        out[n, y, x, f] = activation(Σ_k d[n, y, x, k] · pointwise[0, 0, k, f] + bias[f])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, depth_multiplier, filters, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)


class SeparableConv1D(BaseSeparableConv):
    """A depthwise convolution of (batch, steps, channels) sequences, then a pointwise (k=1)
    convolution mixing the channels, then the bias and activation:
        d[n, t, c·M + m] = Σ_i in[n, t·s + i·d, c] · depthwise[i, c, m]
        out[n, t, f] = activation(Σ_k d[n, t, k] · pointwise[0, k, f] + bias[f])
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, depth_multiplier, filters, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)


SeparableConvolution2D = SeparableConv2D
SeparableConvolution1D = SeparableConv1D
