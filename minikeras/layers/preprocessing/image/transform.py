"""The image arithmetic behind the image layers, written as TensorFlow computes it.

- ``resize``: ``tf.image.resize`` (``keras.ops.image.resize`` on TensorFlow) with half-pixel
  centers, ``"bilinear"``, ``"nearest"`` and ``"bicubic"``, plus Keras's
  ``crop_to_aspect_ratio`` and ``pad_to_aspect_ratio``. Differentiable: resizing is a linear
  map ``out = Wy @ x @ Wx.T`` (per image and channel), so ``d x = Wy.T @ g @ Wx``, written
  beside the forward.
- ``affine_transform``: ``tf.raw_ops.ImageProjectiveTransformV3`` (``keras.ops.image.
  affine_transform``): every output pixel ``(x, y)`` reads the input at
  ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``, after the
  ``fill_mode`` maps outside coordinates back in. Its gradient is TensorFlow's: the incoming
  gradient warped back by the inverse transform.
- ``compute_affine_matrix``: Keras's rotation/scale/shear/translation matrix.

All coordinates are float32, in TF's order of operations, so outputs match TF's to float32
rounding.
"""

import math

import numpy as np

from minikeras import ops
from minikeras.autodiff import record
from minikeras.ops.core import value_of

F32 = np.float32
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")
SUPPORTED_RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
AFFINE_TRANSFORM_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_TRANSFORM_FILL_MODES = ("constant", "nearest", "wrap", "reflect")


# --- resize --------------------------------------------------------------------------------------
def _resize_matrix(in_size, out_size, interpolation):
    """The ``(out_size, in_size)`` matrix ``W`` with ``out = W @ in`` along one axis, plus the
    pieces TF's kernel uses (indices and weights), all for half-pixel centers.

    bilinear: ``src = (i + 0.5) * scale - 0.5`` with ``scale = in / out``; it reads
    ``lower = max(floor(src), 0)`` and ``upper = min(ceil(src), in - 1)`` with weight
    ``lerp = src - floor(src)`` on ``upper``. nearest: ``min(floor((i + 0.5) * scale), in - 1)``.
    """
    scale = F32(in_size) / F32(out_size)
    i = np.arange(out_size, dtype=F32)
    matrix = np.zeros((out_size, in_size), dtype=F32)
    rows = np.arange(out_size)
    if interpolation == "bicubic":
        index, weights = _bicubic_taps(in_size, scale, i)
        for k in range(4):
            np.add.at(matrix, (rows, index[:, k]), weights[:, k])
        return matrix, (index, weights)
    if interpolation == "nearest":
        index = np.floor((i + F32(0.5)) * scale).astype(np.int64)
        index = np.clip(index, 0, in_size - 1)
        matrix[rows, index] = 1
        return matrix, (index,)
    src = (i + F32(0.5)) * scale - F32(0.5)
    floor = np.floor(src)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(src), in_size - 1).astype(np.int64)
    lerp = (src - floor).astype(F32)
    np.add.at(matrix, (rows, lower), 1 - lerp)
    np.add.at(matrix, (rows, upper), lerp)
    return matrix, (lower, upper, lerp)


def _keys_cubic_table(a=-0.5, size=1024):
    """TF's table of Keys' cubic kernel at ``x = i / 1024``: ``near(x)`` for the two taps within
    one pixel, ``far(x + 1)`` for the outer two (computed in double, stored as float)."""
    x = np.arange(size + 1, dtype=np.float64) / size
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x = x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return near.astype(F32), far.astype(F32)


def _bicubic_taps(in_size, scale, i):
    """TF's ``resize_bicubic(half_pixel_centers=True)`` taps: ``src = (i + 0.5) * scale - 0.5``
    reads ``floor(src) - 1 ... floor(src) + 2``, weighted by Keys' kernel (a = -0.5) looked up
    at ``rint(frac * 1024) / 1024``; taps outside the image get weight 0 and the rest are
    renormalized to sum to 1."""
    near, far = _keys_cubic_table()
    src = (i + F32(0.5)) * scale - F32(0.5)
    base = np.floor(src)
    offset = np.rint((src - base) * F32(1024)).astype(np.int64)
    base = base.astype(np.int64)
    weights = np.stack([far[offset], near[offset], near[1024 - offset], far[1024 - offset]], 1)
    wanted = base[:, None] + np.arange(-1, 3)
    index = np.clip(wanted, 0, in_size - 1)
    weights = np.where(index == wanted, weights, F32(0))
    total = weights.sum(axis=1, keepdims=True, dtype=F32)
    weights = np.where(np.abs(total) >= F32(1000) * np.finfo(F32).tiny, weights / total, weights)
    return index, weights.astype(F32)


def resize_nhwc(images, size, interpolation="bilinear"):
    """``tf.image.resize(images, size, method)`` for a float ``(batch, h, w, c)`` tensor.

    bilinear, as TF's kernel: ``top = tl + (tr - tl) * x_lerp``,
    ``bottom = bl + (br - bl) * x_lerp``, ``out = top + (bottom - top) * y_lerp``;
    nearest copies the pixel at the index above. The output is float32 (TF's bilinear gives
    float32 for any input; Keras casts back where it needs to).
    """
    x = value_of(images).astype(F32, copy=False)
    height, width = x.shape[1], x.shape[2]
    out_h, out_w = size
    wy, ys = _resize_matrix(height, out_h, interpolation)
    wx, xs = _resize_matrix(width, out_w, interpolation)
    if interpolation == "nearest":
        out = x[:, ys[0]][:, :, xs[0]]
    elif interpolation == "bicubic":  # along y (four rows), then along x (four columns)
        (y_index, y_weights), (x_index, x_weights) = ys, xs
        columns = sum(x[:, y_index[:, k]] * y_weights[None, :, k, None, None] for k in range(4))
        out = sum(columns[:, :, x_index[:, k]] * x_weights[None, None, :, k, None]
                  for k in range(4))
    else:
        (y0, y1, y_lerp), (x0, x1, x_lerp) = ys, xs
        x_lerp = x_lerp[None, None, :, None]
        y_lerp = y_lerp[None, :, None, None]
        rows0, rows1 = x[:, y0], x[:, y1]
        top = rows0[:, :, x0] + (rows0[:, :, x1] - rows0[:, :, x0]) * x_lerp
        bottom = rows1[:, :, x0] + (rows1[:, :, x1] - rows1[:, :, x0]) * x_lerp
        out = top + (bottom - top) * y_lerp

    def d_images(g):  # out[b,o,p,c] = sum_hw Wy[o,h] Wx[p,w] x[b,h,w,c]
        grad = np.einsum("oh,bopc,pw->bhwc", wy, np.asarray(g, dtype=F32), wx)
        return grad.astype(value_of(images).dtype, copy=False)

    return record(out.astype(F32, copy=False), (images,), d_images)


def _to_nhwc(images, data_format):
    return images if data_format == "channels_last" else ops.transpose(images, (0, 2, 3, 1))


def _from_nhwc(images, data_format):
    return images if data_format == "channels_last" else ops.transpose(images, (0, 3, 1, 2))


def resize(images, size, interpolation="bilinear", crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_value=0.0, data_format="channels_last"):
    """``keras.ops.image.resize`` (TensorFlow backend) for a 4-D float tensor.

    ``crop_to_aspect_ratio`` first cuts the largest centred window with the target's aspect
    ratio: ``crop_h = clip(int(w * target_h / target_w), 1, h)`` (likewise ``crop_w``), start
    ``int((h - crop_h) / 2)``. ``pad_to_aspect_ratio`` instead adds ``fill_value`` rows (or
    columns) on both sides: ``int((pad_h - h) / 2)`` each, ``pad_h = max(h, int(w * th / tw))``.
    """
    x = _to_nhwc(images, data_format)
    height, width = x.shape[1], x.shape[2]
    target_h, target_w = size
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(F32(width * target_h) / F32(target_w))), 1)
        crop_w = max(min(width, int(F32(height * target_w) / F32(target_h))), 1)
        top = int(F32(height - crop_h) / F32(2))
        left = int(F32(width - crop_w) / F32(2))
        x = x[:, top:top + crop_h, left:left + crop_w, :]
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(F32(width * target_h) / F32(target_w)))
        pad_w = max(width, int(F32(height * target_w) / F32(target_h)))
        top = int(F32(pad_h - height) / F32(2))
        left = int(F32(pad_w - width) / F32(2))
        if top > 0:
            band = np.full((x.shape[0], top, width, x.shape[3]), fill_value, dtype=x.dtype)
            x = ops.concatenate([band, x, band], axis=1)
        if left > 0:
            band = np.full((x.shape[0], x.shape[1], left, x.shape[3]), fill_value,
                           dtype=x.dtype)
            x = ops.concatenate([band, x, band], axis=2)
    return _from_nhwc(resize_nhwc(x, size, interpolation), data_format)


# --- affine transform ----------------------------------------------------------------------------
def _map_coordinates(coord, length, fill_mode):
    """TF's ``MapCoordinate`` functors: where an outside coordinate reads from.

    reflect ``[abcd] -> [dcba|abcd|dcba]``, wrap ``[abcd] -> [abcd|abcd|abcd]``, nearest clamps
    to the edge; constant leaves it (the read then gives ``fill_value``). All but constant end
    clamped to ``[0, length - 1]``.
    """
    if fill_mode == "constant":
        return coord
    hi = F32(length - 1)
    if fill_mode == "nearest" or length <= 1:
        return np.clip(coord, F32(0), hi)
    c = coord.copy()
    if fill_mode == "reflect":
        sz2 = F32(2 * length)
        neg = c < 0
        # below zero: fold into [-2len, 0), then mirror
        n = c[neg]
        n = sz2 * np.floor(-n / sz2).astype(F32) + n
        n = np.where(n < -length, n + sz2, -n - F32(1))
        c[neg] = n
        pos = coord > hi
        p = c[pos]
        p = p - sz2 * np.floor(p / sz2).astype(F32)
        p = np.where(p >= length, sz2 - p - F32(1), p)
        c[pos] = p
    else:  # wrap
        sz = F32(length - 1)
        neg = c < 0
        c[neg] = c[neg] + F32(length) * (np.floor(-c[neg] / sz) + 1).astype(F32)
        pos = coord > hi
        c[pos] = c[pos] - F32(length) * np.floor(c[pos] / sz).astype(F32)
    return np.clip(c, F32(0), hi)


def _read(images, batch, y, x, fill_value):
    """``images[batch, y, x, :]`` where ``(y, x)`` lies inside, ``fill_value`` elsewhere."""
    height, width = images.shape[1], images.shape[2]
    inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
    values = images[batch, np.clip(y, 0, height - 1), np.clip(x, 0, width - 1)]
    return np.where(inside[..., None], values, images.dtype.type(fill_value))


def _round_half_away(v):
    """C's ``std::round``: halves go away from zero (NumPy's ``round`` goes to even)."""
    return np.sign(v) * np.floor(np.abs(v) + F32(0.5))


def affine_transform_nhwc(images, transforms, interpolation="bilinear", fill_mode="constant",
                          fill_value=0.0):
    """``ImageProjectiveTransformV3`` on a ``(batch, h, w, c)`` array with ``(batch, 8)``
    transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` mapping output to input coordinates.

    bilinear reads the four neighbours ``(floor, floor + 1)`` of the mapped point (outside ones
    give ``fill_value``) and mixes them with weights ``ceil - x`` and ``x - floor``; nearest
    reads at ``round(x)``, half away from zero. Returns a NumPy array of the input's dtype.
    """
    images = np.asarray(images)
    batch, height, width = images.shape[:3]
    t = np.asarray(transforms, dtype=F32).reshape(-1, 8)
    if t.shape[0] == 1 and batch > 1:
        t = np.broadcast_to(t, (batch, 8))
    out_y, out_x = np.meshgrid(np.arange(height, dtype=F32), np.arange(width, dtype=F32),
                               indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, k, None, None] for k in range(8))
    projection = c0 * out_x + c1 * out_y + F32(1)
    zero = projection == 0
    safe = np.where(zero, F32(1), projection)
    in_x = _map_coordinates((a0 * out_x + a1 * out_y + a2) / safe, width, fill_mode)
    in_y = _map_coordinates((b0 * out_x + b1 * out_y + b2) / safe, height, fill_mode)
    b = np.arange(batch)[:, None, None]
    if interpolation == "nearest":
        yi = _round_half_away(in_y).astype(np.int64)
        xi = _round_half_away(in_x).astype(np.int64)
        out = _read(images, b, yi, xi, fill_value)
    else:
        source = images.astype(F32, copy=False)
        y_floor, x_floor = np.floor(in_y), np.floor(in_x)
        y_ceil, x_ceil = y_floor + 1, x_floor + 1
        y0, x0 = y_floor.astype(np.int64), x_floor.astype(np.int64)
        wx0, wx1 = (x_ceil - in_x)[..., None], (in_x - x_floor)[..., None]
        wy0, wy1 = (y_ceil - in_y)[..., None], (in_y - y_floor)[..., None]
        v_floor = (wx0 * _read(source, b, y0, x0, fill_value)
                   + wx1 * _read(source, b, y0, x0 + 1, fill_value))
        v_ceil = (wx0 * _read(source, b, y0 + 1, x0, fill_value)
                  + wx1 * _read(source, b, y0 + 1, x0 + 1, fill_value))
        out = wy0 * v_floor + wy1 * v_ceil
    out = np.where(zero[..., None], F32(fill_value), out)
    return out.astype(images.dtype, copy=False)


def _inverse_transforms(transforms):
    """The ``(batch, 8)`` transforms of the inverse maps: each ``[[a0 a1 a2] [b0 b1 b2]
    [c0 c1 1]]`` inverted (float32, as ``tf.linalg.inv``) and divided by its last entry."""
    t = np.asarray(transforms, dtype=F32).reshape(-1, 8)
    matrices = np.concatenate([t, np.ones((t.shape[0], 1), F32)], axis=1).reshape(-1, 3, 3)
    flat = np.linalg.inv(matrices).astype(F32).reshape(-1, 9)
    return (flat / flat[:, 8:9])[:, :8]


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0, data_format="channels_last"):
    """``keras.ops.image.affine_transform`` (TensorFlow backend) for a 4-D tensor.

    Its gradient is TensorFlow's rule for this op: the incoming gradient warped by the inverse
    transforms (same interpolation and fill mode, fill 0). That is the exact transpose only for
    whole-pixel shifts and quarter turns; for other maps it is TensorFlow's approximation,
    kept so that gradients match Keras's.
    """
    x = value_of(images)
    t = np.asarray(value_of(transforms), dtype=F32).reshape(-1, 8)
    if t.shape[0] == 1 and x.shape[0] > 1:
        t = np.broadcast_to(t, (x.shape[0], 8))
    first = data_format == "channels_first"
    nhwc = np.transpose(x, (0, 2, 3, 1)) if first else x
    out = affine_transform_nhwc(nhwc, t, interpolation, fill_mode, fill_value)
    out = np.ascontiguousarray(np.transpose(out, (0, 3, 1, 2)) if first else out)

    def d_images(g):  # TF: ImageProjectiveTransformV3(g, inverse(transforms), fill_value=0)
        g = np.asarray(g, dtype=F32)
        g = np.transpose(g, (0, 2, 3, 1)) if first else g
        back = affine_transform_nhwc(g, _inverse_transforms(t), interpolation, fill_mode, 0.0)
        back = np.transpose(back, (0, 3, 1, 2)) if first else back
        return np.ascontiguousarray(back).astype(x.dtype, copy=False)

    return record(out, (images,), d_images)


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
