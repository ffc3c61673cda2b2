"""Dropout: randomly silences inputs while training, to fight overfitting."""


from minikeras import ops
from minikeras.layers.layer import Layer
from minikeras.utils.random import make_rng


class Dropout(Layer):
    """Inverted dropout: with ``training=True`` each input is kept with probability
    ``1 - rate`` and scaled by ``1 / (1 - rate)``, else set to 0, so the expected value is
    unchanged; at inference it is the identity.  d out / d x = mask / (1 - rate).

    ``noise_shape`` broadcasts one mask over some axes: ``(None, 1)`` drops whole rows.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = make_rng(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape, strict=False))
        keep = self._rng.random(shape) >= self.rate
        scale = 0.0 if self.rate == 1 else 1.0 / (1.0 - self.rate)
        return ops.multiply(inputs, (keep * scale).astype(inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


