"""The image arithmetic behind the image layers.

``resize`` (as the TensorFlow backend returns it, before ``keras.ops.image.resize`` casts back
to the input's dtype) and ``affine_transform`` come from minikeras/ops/image.py, where they are
written as TensorFlow computes them; this module adds ``compute_affine_matrix``, the
matrix the random rotation, translation and zoom layers build.
"""

import math

import numpy as np

from minikeras.ops.image import (  # noqa: F401  (used by the layers as transform.<name>)
    AFFINE_TRANSFORM_FILL_MODES,
    AFFINE_TRANSFORM_INTERPOLATIONS,
    F32,
    RESIZE_INTERPOLATIONS,
    affine_transform,
    affine_transform_nhwc,
    backend_resize,
    resize_nhwc,
)

resize = backend_resize  # float32 for every method but nearest, as Keras's layers get it


def compute_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale, shear_x,
                          shear_y, height, width):
    """Keras's ``_compute_affine_matrix``: ``(batch, 8)`` float32 transforms for angles and
    shears in degrees, about the centre ``(center_x * (width - 1), center_y * (height - 1))``::

        a0 = s (cos t + shx sin t)   a1 = s (-sin t + shx cos t)   a2 = tx + cx - cx a0 - cy a1
        b0 = s (shy cos t + sin t)   b1 = s (-shy sin t + cos t)   b2 = ty + cy - cx b0 - cy b1
    """
    def f32(v):
        return np.asarray(v, dtype=F32)

    to_radians = F32(math.pi / 180.0)
    angle = f32(angle) * to_radians
    shear_x = np.tan(f32(shear_x) * to_radians)
    shear_y = np.tan(f32(shear_y) * to_radians)
    scale, translate_x, translate_y = f32(scale), f32(translate_x), f32(translate_y)
    cx = F32(center_x) * (F32(width) - F32(1))
    cy = F32(center_y) * (F32(height) - F32(1))
    cos, sin = np.cos(angle), np.sin(angle)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    zeros = np.zeros((angle.shape[0], 2), dtype=F32)
    return np.concatenate([a0[:, None], a1[:, None], a2[:, None], b0[:, None], b1[:, None],
                           b2[:, None], zeros], axis=1).astype(F32)
