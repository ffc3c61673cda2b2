"""Conv1D: a kernel slid along a sequence, ``output = activation(conv(inputs, kernel) + bias)``.

A sequence (batch, steps, channels) is an image one pixel high: Conv1D adds that unit axis
(``expand_dims``), runs the 2-D ``minikeras.ops.conv`` with a (1, k, channels, filters) kernel,
and removes the axis again (``squeeze``). Both are recorded ops, so the gradients are conv's.
Arguments, configs and messages follow ``keras/src/layers/convolutional/conv1d.py`` and
``base_conv.py``.
"""

from minikeras import activations, constraints, initializers, ops, regularizers
from minikeras.layers.convolutional import (
    conv_output_shape,
    standardize_data_format,
    standardize_tuple,
)
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class Conv1D(Layer):
    """``filters`` kernels of ``kernel_size`` steps slide along (batch, steps, channels) inputs:
        out[n, t, f] = activation(Σ_{i, c} in[n, t·s + i·d, c] · kernel[i, c, f] + bias[f])
    The kernel has shape (k, in_channels, filters), as in Keras. ``padding="causal"`` pads
    d·(k - 1) zeros on the left only, so out[t] never sees inputs after step t (WaveNet).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = 1
        self.filters = filters
        self.groups = groups
        self.kernel_size = standardize_tuple(kernel_size, 1, "kernel_size")
        self.strides = standardize_tuple(strides, 1, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, 1, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=True)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=3)
        if filters is not None and filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        if groups <= 0:
            raise ValueError("The number of groups must be a positive integer. "
                             f"Received: groups={groups}.")
        if filters is not None and filters % groups != 0:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={filters}.")
        if groups != 1:
            raise NotImplementedError(f"Conv1D with groups={groups} (grouped convolution) is "
                                      f"not implemented in minikeras; use groups=1.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > "
                             f"1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")

    def build(self, input_shape):
        channel_axis = -1 if self.data_format == "channels_last" else 1
        input_channel = input_shape[channel_axis]
        self.input_spec = InputSpec(min_ndim=3, axes={channel_axis: input_channel})
        self.compute_output_shape(input_shape)  # checks that the kernel fits the sequence
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, input_channel, self.filters), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,), name="bias", initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        steps_axis = 1 if self.data_format == "channels_last" else 2
        padding = self.padding
        if padding == "causal":  # d·(k - 1) zeros before the first step, none after
            pads = [[0, 0], [0, 0], [0, 0]]
            pads[steps_axis] = [self.dilation_rate[0] * (self.kernel_size[0] - 1), 0]
            inputs = ops.pad(inputs, pads)
            padding = "valid"
        # the sequence as an image of height 1: (n, 1, steps, c) or (n, c, 1, steps)
        image = ops.expand_dims(inputs, steps_axis)
        kernel = ops.expand_dims(self.kernel, 0)  # (1, k, c, f)
        try:
            outputs = ops.conv(image, kernel, strides=(1, self.strides[0]), padding=padding,
                               data_format=self.data_format,
                               dilation_rate=(1, self.dilation_rate[0]))
        except ValueError as error:
            raise ValueError(f"Layer '{self.name}' (Conv1D, kernel shape {self.kernel.shape}) "
                             f"cannot convolve input of shape {tuple(inputs.shape)}: "
                             f"{error}") from None
        outputs = ops.squeeze(outputs, steps_axis)
        if self.bias is not None:  # one bias per filter, added at every step
            bias = self.bias
            if self.data_format == "channels_first":
                bias = ops.reshape(bias, (1, self.filters, 1))
            outputs = ops.add(outputs, bias)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        # "causal" has "same"'s rule: the left pad makes ceil(steps / stride) positions
        return conv_output_shape(input_shape, self.filters, self.kernel_size, self.strides,
                                 self.padding, self.data_format, self.dilation_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


Convolution1D = Conv1D


def standardize_padding(value, allow_causal=False):
    """Keras's check, with "causal" allowed for 1-D convolutions."""
    if isinstance(value, list | tuple):
        return value
    padding = value.lower()
    # printed as a set, in this process's order, as Keras prints it
    allowed_values = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    if padding not in allowed_values:
        raise ValueError("The `padding` argument must be a list/tuple or one of "
                         f"{allowed_values}. Received: {padding}")
    return padding
