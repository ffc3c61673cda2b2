"""Dropout variants: ``SpatialDropout1D`` / ``2D`` / ``3D`` drop whole feature maps,
``AlphaDropout`` keeps SELU's self-normalization. Each is the identity unless called with
``training=True``; the random draws are NumPy's, so they differ from TensorFlow's.
Follows ``keras/src/layers/regularization/spatial_dropout.py`` and ``alpha_dropout.py``.
"""

from minikeras import ops
from minikeras.layers.convolutional import standardize_data_format
from minikeras.layers.dropout import Dropout
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer
from minikeras.utils.random import make_rng


class _SpatialDropout(Dropout):
    """Dropout with one keep/drop draw per (sample, channel), shared by all positions: in a
    convolutional net neighbouring positions are correlated, so dropping single values would
    barely regularize. Training: y = x · mask / (1 - rate); d y / d x = mask / (1 - rate).

    Keras 3.15's constructor takes only (rate, seed, name, dtype) (no ``trainable``, no
    ``noise_shape``), and its config is just those four keys, with ``dtype`` a plain string."""

    _ndim = None

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.input_spec = InputSpec(ndim=self._ndim)

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(_SpatialDropout):
    """(batch, steps, channels): each channel of each sample is kept or dropped at every step
    (noise shape (batch, 1, channels))."""

    _ndim = 3

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.noise_shape = (None, 1, None)  # Dropout.call fills the None axes from the input


class _ChannelsSpatialDropout(_SpatialDropout):
    """Images and volumes: each channel of each sample is kept or dropped as a whole; the
    noise shape is 1 on every spatial axis, e.g. (batch, 1, 1, channels), or (batch, channels,
    1, 1) for channels_first."""

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)
        spatial = (1,) * (self._ndim - 2)
        self.noise_shape = ((None, None, *spatial) if self.data_format == "channels_first"
                            else (None, *spatial, None))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout2D(_ChannelsSpatialDropout):
    """(batch, height, width, channels): one keep/drop draw per sample and channel (noise
    shape (batch, 1, 1, channels), or (batch, channels, 1, 1) for channels_first)."""

    _ndim = 4


class SpatialDropout3D(_ChannelsSpatialDropout):
    """(batch, dim1, dim2, dim3, channels): one keep/drop draw per sample and channel (noise
    shape (batch, 1, 1, 1, channels), or (batch, channels, 1, 1, 1) for channels_first)."""

    _ndim = 5


# SELU's constants (Klambauer et al., 2017), as Keras writes them
_ALPHA, _SCALE = 1.6732632423543772, 1.0507009873554805


class AlphaDropout(Layer):
    """Dropout for SELU networks: a dropped input is set to SELU's negative limit
    α' = -scale·alpha instead of 0, then an affine map restores mean 0 and variance 1:
        y = a · (x·keep + α'·(1 - keep)) + b,
        a = ((1 - rate)(1 + rate·α'²))^(-1/2),  b = -a·α'·rate;   d y / d x = a · keep.
    Inference: y = x."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.noise_shape = noise_shape
        self._rng = make_rng(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape, strict=False))
        keep = (self._rng.random(shape) >= self.rate).astype(inputs.dtype)
        alpha_p = -_ALPHA * _SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = ops.add(ops.multiply(inputs, keep), (alpha_p * (1 - keep)).astype(inputs.dtype))
        return ops.add(ops.multiply(x, a), b)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
