"""Resizing: resize images to ``(height, width)``, as ``keras.layers.Resizing``."""

import numpy as np

from minikeras import ops
from minikeras.layers.preprocessing.image import transform
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer


class Resizing(BaseImagePreprocessingLayer):
    """Resize 4-D ``(batch, h, w, c)`` or 3-D ``(h, w, c)`` images (``channels_first``:
    ``(..., c, h, w)``) to ``(height, width)`` with ``tf.image.resize``'s half-pixel rule.

    bilinear: output pixel ``i`` reads the input at ``src = (i + 0.5) * in / out - 0.5``,
    mixing its two neighbours (``floor`` and ``ceil``, clamped to the edge) with weight
    ``src - floor(src)``; nearest reads ``floor((i + 0.5) * in / out)``; bicubic mixes the
    four neighbours with Keys' cubic kernel (a = -0.5), taps outside the image dropped and the
    weights renormalized (TF's ``resize_bicubic``); area averages the input area each output
    pixel covers (TF's ``ResizeArea``); lanczos3/lanczos5 and ``antialias=True`` use TF's
    ``ScaleAndTranslate`` kernels (see ``minikeras/ops/image.py``). The same in training
    and inference. ``crop_to_aspect_ratio=True`` first crops the largest centred window with
    the target aspect ratio; ``pad_to_aspect_ratio=True`` pads the short side with
    ``fill_value`` instead. Float outputs are the layer's dtype; integer inputs (``uint8``) come
    back rounded and saturated to their dtype, as in Keras.

    Differentiable (each method is a linear map; its transpose is written beside the forward in
    ``ops.image``), as Keras's is through TensorFlow.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_size("Resizing", height, width)
        if interpolation not in transform.RESIZE_INTERPOLATIONS:
            raise ValueError(
                "Resizing: Invalid value for argument `interpolation`. Expected of one "
                f"{transform.RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}")
        if fill_mode != "constant":
            raise ValueError("Resizing: Invalid value for argument `fill_mode`. Only "
                             f"`'constant'` is supported. Received: fill_mode={fill_mode}")
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Resizing: Only one of `pad_to_aspect_ratio` & "
                             "`crop_to_aspect_ratio` can be `True`.")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def get_random_transformation(self, data, training=True, seed=None):
        """Keras returns the input's ``(height, width)`` (used for bounding boxes)."""
        return self._height_width(data.shape)

    def transform_images(self, images, transformation=None, training=True):
        return self._transform_images(images, transformation, self.interpolation)

    def _transform_images(self, images, transformation, interpolation):
        dtype = np.dtype(images.dtype)
        floats = images if dtype.kind == "f" else ops.cast(images, "float32")
        resized = transform.resize(
            floats, (self.height, self.width), interpolation=interpolation,
            antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_value=self.fill_value,
            data_format=self.data_format)
        if dtype.kind == "f":
            return ops.cast(resized, dtype.name)
        info = np.iinfo(dtype) if dtype.kind in "iu" else None
        values = np.round(np.asarray(resized.numpy()))  # Keras rounds, then saturates
        if info is not None:
            values = np.clip(values, info.min, info.max)
        return ops.convert_to_tensor(values.astype(dtype))

    def compute_output_shape(self, input_shape):
        return self._sized_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias,
                "data_format": self.data_format}
