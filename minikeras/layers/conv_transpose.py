"""Conv1DTranspose, Conv2DTranspose and Conv3DTranspose: the convolution run backwards, to
upsample.

``output = activation(conv_transpose(inputs, kernel) + bias)``, where ``ops.conv_transpose`` is
the gradient of ``ops.conv`` with respect to its input (every input pixel paints a kernel-sized
patch onto a larger output; see ``minikeras/ops/convolution.py``). Where a Conv2D with
``strides=2`` halves an image, a Conv2DTranspose with ``strides=2`` doubles it: the decoder of a
convolutional autoencoder. Arguments, checks, messages, weights and configs follow
``keras/src/layers/convolutional/base_conv_transpose.py``.
"""

from minikeras import ops
from minikeras.layers.convolutional import (
    BaseConv,
    _spatial_axes,
    _with_spatial,
    check_positive,
    standardize_data_format,
    standardize_tuple,
)
from minikeras.layers.layer import Layer
from minikeras.ops.convolution import conv_transpose_output_size


class BaseConvTranspose(BaseConv):
    """What the transposed convolutions share (Keras's ``BaseConvTranspose``): the arguments
    and their checks, the ``kernel`` (*kernel_size, filters, in_channels) -- output channels
    before input channels, the reverse of Conv2D's -- and ``bias`` (filters,) weights, the
    output shape and the config. ``call`` (BaseConv's) adds one bias per filter and applies the
    activation."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        Layer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.filters = filters
        self._set_window(rank, kernel_size, strides, dilation_rate, padding)
        self.output_padding = None if output_padding is None else standardize_tuple(
            output_padding, rank, "output_padding", allow_zero=True)
        self.data_format = standardize_data_format(data_format)
        self._set_kernel_and_bias(activation, use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        check_positive("filters", filters)
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides, strict=True)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but "
                        f"`strides` is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}")
        self._check_strides_and_dilation()

    def build(self, input_shape):
        input_channel = self._build_input_spec(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, input_channel), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.built = True

    def convolve(self, inputs):
        return ops.conv_transpose(inputs, self.kernel, strides=self.strides,
                                  padding=self.padding, output_padding=self.output_padding,
                                  data_format=self.data_format,
                                  dilation_rate=self.dilation_rate)

    def compute_output_shape(self, input_shape):
        """Per spatial axis, with k' = d·(k - 1) + 1: "valid" gives (size - 1)·s + k' +
        output_padding (default max(k', s) - k'); "same" gives size·s, or (size - 1)·s + k' % 2
        + output_padding when output_padding is given."""
        input_shape = tuple(input_shape)
        output_padding = self.output_padding or (None,) * self.rank
        spatial = [conv_transpose_output_size(size, k, s, self.padding, op, d)
                   for size, k, s, op, d in zip(_spatial_axes(input_shape, self.data_format),
                                                self.kernel_size, self.strides, output_padding,
                                                self.dilation_rate, strict=True)]
        return _with_spatial(input_shape, spatial, self.filters, self.data_format)

    def get_config(self):
        return {
            **Layer.get_config(self),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            **self._kernel_and_bias_config(),
        }


class Conv2DTranspose(BaseConvTranspose):
    """The transposed 2-D convolution of (batch, height, width, channels) images: each input
    pixel adds a copy of the kernel, scaled by its value, onto the output, copies ``strides``
    apart, then the bias and activation:
        out[n, y·sh + i·dh, x·sw + j·dw, f] += Σ_c in[n, y, x, c] · kernel[i, j, f, c]
        (minus the "same" padding's crop), out = activation(out + bias)
    The kernel has shape (kh, kw, filters, in_channels), as in Keras. With ``padding="same"``
    the output is (height·sh, width·sw); ``output_padding`` (< strides) picks among the sizes
    a strided Conv2D could have come from.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv1DTranspose(BaseConvTranspose):
    """The transposed 1-D convolution of (batch, steps, channels) sequences:
        out[n, t·s + i·d, f] += Σ_c in[n, t, c] · kernel[i, f, c],  out = activation(out + bias)
    The kernel has shape (k, filters, in_channels), as in Keras.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """The transposed 3-D convolution of (batch, depth, height, width, channels) volumes:
        out[n, z·sd + a·dd, y·sh + b·dh, x·sw + e·dw, f] += Σ_c in[n, z, y, x, c]
                                                              · kernel[a, b, e, f, c]
        (minus the "same" padding's crop), out = activation(out + bias)
    The kernel has shape (kd, kh, kw, filters, in_channels), as in Keras. (Keras puts
    ``data_format`` before ``output_padding`` here, unlike in the 1-D and 2-D layers.)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, output_padding=None, dilation_rate=(1, 1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


Convolution3DTranspose = Conv3DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution1DTranspose = Conv1DTranspose
