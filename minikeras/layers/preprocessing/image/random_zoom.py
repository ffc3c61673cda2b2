"""RandomZoom: zoom images in or out at random while training (``keras.layers.RandomZoom``)."""

import numpy as np

from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer, two_sided_factor

ZOOM_FACTOR_ERROR = ("The `height_factor` and `width_factor` arguments should be a number (or a "
                     "list of two numbers) in the range (-1.0, 1.0]. ")


def _in_range(value):
    """In (-1, 1] (written as Keras's check, so NaN passes as it does there)."""
    return not (value > 1.0 or value <= -1.0)


class RandomZoom(BaseImagePreprocessingLayer):
    """With ``training=True`` each image is scaled about its centre: zoom ``zy ~
    U[1 + lower, 1 + upper)`` from ``height_factor`` (and ``zx`` from ``width_factor``, or
    ``zx = zy`` when it is None). Output pixel ``(x, y)`` reads the input at
    ``(zx x + (w - 1) / 2 (1 - zx), zy y + (h - 1) / 2 (1 - zy))``: a zoom above 1 reads a
    wider window (the picture shrinks, "zoom out"), below 1 a narrower one ("zoom in"), as in
    Keras. Outside points follow ``fill_mode``. At inference the identity.

    Factors: a number ``f`` for ``[-f, f]`` or a pair, each in (-1, 1]. Differentiable with
    TensorFlow's rule for the warp (``transform.affine_transform``).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._zoom_factor(height_factor, "height_factor")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = self._zoom_factor(width_factor, "width_factor")
        self._set_warp("RandomZoom", fill_mode, interpolation, fill_value)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)

    def _zoom_factor(self, factor, name):
        return two_sided_factor("RandomZoom", factor, name, ZOOM_FACTOR_ERROR, _in_range)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"height_zoom", "width_zoom"}`` of shape (batch, 1), or None at inference."""
        if not training:
            return None
        shape = tuple(data.shape)
        zoom_shape = (shape[0], 1) if len(shape) == 4 else (1, 1)
        seed = self._seed(seed)
        height_zoom = mk_random.uniform(zoom_shape, 1.0 + self.height_lower,
                                        1.0 + self.height_upper, seed=seed).numpy()
        if self.width_factor is not None:
            width_zoom = mk_random.uniform(zoom_shape, 1.0 + self.width_lower,
                                           1.0 + self.width_upper, seed=seed).numpy()
        else:
            width_zoom = height_zoom
        return {"height_zoom": height_zoom, "width_zoom": width_zoom, "input_shape": shape}

    def _transform_images(self, images, transformation, interpolation):
        zooms = np.concatenate([np.asarray(transformation["width_zoom"]),
                                np.asarray(transformation["height_zoom"])], axis=1)
        height, width = self._height_width(images.shape)
        matrix = self._get_zoom_matrix(zooms.astype("float32"), height, width)
        return self._warp(images, matrix, interpolation)

    @staticmethod
    def _get_zoom_matrix(zooms, image_height, image_width):
        """``[zx, 0, (w - 1) / 2 (1 - zx), 0, zy, (h - 1) / 2 (1 - zy), 0, 0]`` per image."""
        f32 = np.float32
        n = zooms.shape[0]
        x_offset = ((f32(image_width) - f32(1)) / f32(2)) * (f32(1) - zooms[:, 0:1])
        y_offset = ((f32(image_height) - f32(1)) / f32(2)) * (f32(1) - zooms[:, 1:])
        zeros = np.zeros((n, 1), f32)
        return np.concatenate([zooms[:, 0:1], zeros, x_offset, zeros, zooms[:, 1:], y_offset,
                               zeros, zeros], axis=1).astype(f32)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}
