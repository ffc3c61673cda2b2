"""Conv3D: a small kernel slid through a volume (video frames, medical scans),
``output = activation(conv(inputs, kernel) + bias)``.

BaseConv (``minikeras/layers/convolutional.py``) holds the arguments, weights, shape rule and
config, and convolves with ``ops.conv``: on rank-5 inputs, the 3-D im2col convolution of
``minikeras/ops/convolution.py``, with its col2im backward. Arguments, configs and messages follow
``keras/src/layers/convolutional/conv3d.py`` and ``base_conv.py``.
"""

from minikeras.layers.convolutional import BaseConv


class Conv3D(BaseConv):
    """``filters`` kernels of shape ``kernel_size`` slide through (batch, depth, height, width,
    channels) volumes:
        out[n, z, y, x, f] = activation(Σ_{a, b, e, c} in[n, z·sd + a·dd, y·sh + b·dh,
                                                         x·sw + e·dw, c]
                                        · kernel[a, b, e, c, f] + bias[f])
    The kernel has shape (kd, kh, kw, in_channels, filters), as in Keras.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution3D = Conv3D
