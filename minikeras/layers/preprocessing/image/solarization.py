"""Solarization: invert the pixels above a threshold (``keras.layers.Solarization``)."""

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from minikeras.layers.preprocessing.image.value_range import (
    check_value_range,
    transform_value_range,
)

FACTOR_ERROR = ("The `addition_factor` and `threshold_factor` arguments should be a number (or "
                "a list of two numbers) in the range [0, 1]. ")


class Solarization(BaseImagePreprocessingLayer):
    """With ``training=True``, on the images mapped to 0-255 and per image::

        a ~ U[addition_factor[0], 255 addition_factor[1]),  t ~ U[threshold_factor[0],
        255 threshold_factor[1])
        z = clip(x + a, 0, 255);   y = z  if z < t  else 255 - z

    and back to ``value_range``. The defaults (0, 0) invert every pixel: ``y = 255 - x``.
    (Keras scales only the upper end of each range by 255, so ``addition_factor=(0.5, 0.5)``
    draws from [0.5, 127.5): only 0 is a fixed setting; minikeras does the same.) A number
    ``f`` means ``(0, f)``. At inference the identity. Outputs are in the layer's float dtype,
    in training and inference (integer images too). Differentiable almost everywhere.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)
        self.addition_factor = self._factor_range(addition_factor, "addition_factor")
        self.threshold_factor = self._factor_range(threshold_factor, "threshold_factor")
        self.value_range = check_value_range("Solarization", value_range)

    @staticmethod
    def _factor_range(factor, name):
        def check(number):
            if number > 1.0 or number < 0:
                raise ValueError(f"Solarization: {FACTOR_ERROR}Received: input_number={number}")

        if isinstance(factor, tuple | list):
            if len(factor) != 2:
                raise ValueError(f"Solarization: {FACTOR_ERROR}Received: {name}={factor}")
            check(factor[0])
            check(factor[1])
            return tuple(sorted(factor))
        if isinstance(factor, int | float):
            check(factor)
            return 0, factor
        raise ValueError(f"Solarization: {FACTOR_ERROR}Received: {name}={factor}")

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"additions", "thresholds"}``, each ``(batch, 1, 1, 1)`` (None at inference)."""
        if not training:
            return None
        shape = (data.shape[0], 1, 1, 1) if len(data.shape) == 4 else (1, 1, 1)
        seed = self._seed(seed)
        additions = mk_random.uniform(shape, minval=self.addition_factor[0],
                                      maxval=self.addition_factor[1] * 255, seed=seed,
                                      dtype=self.dtype)
        thresholds = mk_random.uniform(shape, minval=self.threshold_factor[0],
                                       maxval=self.threshold_factor[1] * 255, seed=seed,
                                       dtype=self.dtype)
        return {"additions": additions.numpy(), "thresholds": thresholds.numpy()}

    def transform_images(self, images, transformation, training=True):
        images = ops.cast(images, self.dtype)
        if not training or transformation is None:
            return images
        x = transform_value_range(images, self.value_range, (0, 255), self.dtype)
        z = ops.clip(ops.add(x, ops.cast(transformation["additions"], self.dtype)), 0, 255)
        thresholds = ops.cast(transformation["thresholds"], self.dtype)
        y = ops.where(ops.less(z, thresholds), z, ops.subtract(255, z))
        return transform_value_range(y, (0, 255), self.value_range, self.dtype)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}
