"""Global pooling: the mean or the max over every step (1-D) or every pixel (2-D) of each
channel (``keras.layers.GlobalAveragePooling1D`` and friends).

They are written with ``ops.mean`` / ``ops.max``, so their gradients come from those ops:
the mean spreads ``g / n`` over the ``n`` positions; the max sends ``g`` to the position that
held it.
"""

from minikeras import backend, ops
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class _GlobalPooling(Layer):
    """Shared by the four layers: arguments, input rank, output shape and config."""

    pool_dimensions = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.pool_dimensions + 2)
        self.built = True  # no weights: built from the start, as Keras's _build_at_init

    def _spatial_axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.pool_dimensions))

    def compute_output_shape(self, input_shape):
        ones = (1,) * (len(input_shape) - 2)
        if self.data_format == "channels_last":
            return (input_shape[0], *(ones if self.keepdims else ()), input_shape[-1])
        return (input_shape[0], input_shape[1], *(ones if self.keepdims else ()))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    """``(batch, steps, features) -> (batch, features)``: the mean over the steps
    (``channels_first``: ``(batch, features, steps)``).

    ``mask`` (``(batch, steps)``, true where a step is real) averages only over the real steps,
    ``Σ x·mask / Σ mask``, as Keras does; the mask an ``Embedding(mask_zero=True)`` or
    ``Masking`` layer attached to the input is used when none is given. The output has no mask.
    """

    pool_dimensions = 1

    def call(self, inputs, mask=None):
        steps_axis = self._spatial_axes()[0]
        if mask is None:
            return ops.mean(inputs, axis=steps_axis, keepdims=self.keepdims)
        feature_axis = 2 if self.data_format == "channels_last" else 1
        keep = ops.expand_dims(ops.cast(mask, "bool"), feature_axis)
        inputs = ops.where(keep, inputs, 0)
        count = ops.cast(keep, inputs.dtype)
        return ops.divide(ops.sum(inputs, axis=steps_axis, keepdims=self.keepdims),
                          ops.sum(count, axis=steps_axis, keepdims=self.keepdims))

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling1D(_GlobalPooling):
    """``(batch, steps, features) -> (batch, features)``: the largest value over the steps."""

    pool_dimensions = 1

    def call(self, inputs):
        return ops.max(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling):
    """``(batch, rows, cols, channels) -> (batch, channels)``: the mean over the pixels
    (``channels_first``: ``(batch, channels, rows, cols)``)."""

    pool_dimensions = 2

    def call(self, inputs):
        return ops.mean(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
    """``(batch, rows, cols, channels) -> (batch, channels)``: the largest value over the
    pixels."""

    pool_dimensions = 2

    def call(self, inputs):
        return ops.max(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D


def _standardize_data_format(data_format):
    """None -> ``backend.image_data_format()`` ("channels_last" unless set otherwise)."""
    if data_format is None:
        return backend.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format
