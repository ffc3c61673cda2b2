"""RandomTranslation: shift images at random while training (``keras.layers.RandomTranslation``)."""

import numpy as np

from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer, two_sided_factor

TRANSLATION_FACTOR_ERROR = ("The `factor` argument should be a number (or a list of two numbers) "
                            "in the range [-1.0, 1.0]. ")


def _in_range(value):
    """In [-1, 1] (written as Keras's check, so NaN passes as it does there)."""
    return not (value > 1.0 or value < -1.0)


class RandomTranslation(BaseImagePreprocessingLayer):
    """With ``training=True`` each image moves by ``dy = U[lower, upper) * h`` pixels down and
    ``dx = U[lower, upper) * w`` right (factors from ``height_factor`` and ``width_factor``; a
    negative shift moves up/left): output pixel ``(x, y)`` reads the input at
    ``(x - dx, y - dy)``, interpolated, with uncovered pixels filled by ``fill_mode``. At
    inference the identity.

    Factors: a number ``f`` for ``[-f, f]`` or a pair, each in [-1, 1]. Differentiable with
    TensorFlow's rule for the warp (``transform.affine_transform``).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._translation_factor(height_factor,
                                                                        "height_factor")
        self.width_factor = width_factor
        self.width_lower, self.width_upper = self._translation_factor(width_factor,
                                                                      "width_factor")
        self._set_warp("RandomTranslation", fill_mode, interpolation, fill_value)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)

    def _translation_factor(self, factor, name):
        return two_sided_factor("RandomTranslation", factor, name, TRANSLATION_FACTOR_ERROR,
                                _in_range)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"translations": (batch, 2) [dx, dy] in pixels, "input_shape"}``, or None."""
        if not training:
            return None
        shape = tuple(data.shape)
        batch_size = shape[0] if len(shape) == 4 else 1
        height, width = self._height_width(shape)
        seed = self._seed(seed)
        height_translate = mk_random.uniform((batch_size, 1), self.height_lower,
                                             self.height_upper, seed=seed).numpy()
        height_translate = height_translate * np.float32(height)
        width_translate = mk_random.uniform((batch_size, 1), self.width_lower,
                                            self.width_upper, seed=seed).numpy()
        width_translate = width_translate * np.float32(width)
        translations = np.concatenate([width_translate, height_translate], axis=1)
        return {"translations": translations.astype("float32"), "input_shape": shape}

    def _transform_images(self, images, transformation, interpolation):
        matrix = self._get_translation_matrix(np.asarray(transformation["translations"]))
        return self._warp(images, matrix, interpolation)

    @staticmethod
    def _get_translation_matrix(translations):
        """``[1, 0, -dx, 0, 1, -dy, 0, 0]`` per image."""
        t = translations.astype("float32")
        ones, zeros = np.ones((t.shape[0], 1), "float32"), np.zeros((t.shape[0], 1), "float32")
        return np.concatenate([ones, zeros, -t[:, 0:1], zeros, ones, -t[:, 1:], zeros, zeros],
                              axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}
