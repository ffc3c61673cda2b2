"""RMSNormalization: scale each sample by the inverse of its root mean square
(``keras/src/layers/normalization/rms_normalization.py``; Zhang & Sennrich, 2019,
https://arxiv.org/abs/1910.07467)."""

from minikeras import ops
from minikeras.layers.layer import Layer


class RMSNormalization(Layer):
    """y = x · r · scale,   r = rsqrt(mean(x²) + epsilon), the mean over ``axis`` (n values).

    Unlike LayerNormalization there is no centring (no mean subtracted, no beta): only the
    learned ``scale`` (initialized to ones, one value per position of ``axis``). The layer
    calls ``ops.rms_normalization``, built from recorded ops, so the tape gives, for an
    incoming gradient g,
        d L / d x = r · g · scale - x · r³ · Σ(g · scale · x) / n   (the sum over ``axis``),
        d L / d scale = Σ g · x · r                                  (over the other axes).

    As in Keras 3.15, ``build`` turns ``axis`` into a sorted list (so a built layer's config
    says [-1]), and ``scale`` multiplies the normalized values by broadcasting against the
    trailing axes: an ``axis`` other than the last ones fails at call time (Keras's behaviour,
    kept so that the two libraries agree)."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        self._check_axes(input_shape, IndexError)  # Keras: "tuple index out of range"
        if isinstance(self.axis, list | tuple):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[dim] for dim in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, x):
        return ops.rms_normalization(x, scale=self.scale, axis=self.axis, epsilon=self.epsilon)

    def _check_axes(self, input_shape, error=ValueError):
        for axis in self.axis if isinstance(self.axis, list | tuple) else [self.axis]:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise error(f"Axis {axis} is out of bounds for input shape {input_shape}. "
                            f"Received: axis={self.axis}")

    def compute_output_shape(self, input_shape):
        self._check_axes(input_shape)
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
