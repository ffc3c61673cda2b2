"""UnitNormalization: each sample scaled to unit L2 norm along ``axis``
(``keras/src/layers/normalization/unit_normalization.py``)."""

from minikeras import ops
from minikeras.layers.layer import Layer


class UnitNormalization(Layer):
    """y = x / max(||x||₂, 1e-12) along ``axis`` (an int or a list of ints), so that
    Σ y² = 1. Keras writes it x · min(rsqrt(Σx²), 1e12); ``ops.normalize`` computes the same
    value and TensorFlow's gradient:
        d y / d x = (I - y yᵀ) / ||x||   (for ||x|| > 1e-12)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if isinstance(axis, list | tuple):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(f"Invalid value for `axis` argument: expected an int or a "
                            f"list/tuple of ints. Received: axis={axis}")
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return ops.normalize(inputs, axis=axis, order=2, epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                                 f"{input_shape}.")
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
