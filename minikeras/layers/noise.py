"""Noise layers: random corruption while training, to fight overfitting (``GaussianNoise``,
``GaussianDropout``). Both are the identity unless called with ``training=True``."""

import math

from minikeras import ops
from minikeras.layers.layer import Layer
from minikeras.utils.random import make_rng


def _check_unit_interval(value, name):
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value "
                         f"between 0 and 1. Received: {name}={value}")


class GaussianNoise(Layer):
    """Training: ``y = x + n`` with ``n ~ N(0, stddev²)`` drawn anew at each call; d y / d x = 1.
    Inference: ``y = x``."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        _check_unit_interval(stddev, "stddev")
        self.stddev = stddev
        self.seed = seed
        self._rng = make_rng(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = self._rng.normal(0.0, self.stddev, size=inputs.shape).astype(self.dtype)
        return ops.add(inputs, noise)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Training: ``y = x * n`` with ``n ~ N(1, rate / (1 - rate))`` (the variance of inverted
    dropout at the same ``rate``), drawn anew at each call; d y / d x = n. Inference: ``y = x``."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        _check_unit_interval(rate, "rate")
        self.rate = rate
        self.seed = seed
        self._rng = make_rng(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._rng.normal(1.0, stddev, size=inputs.shape).astype(self.dtype)
        return ops.multiply(inputs, noise)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
