"""Image ops (``keras.ops.image``), written as Keras's TensorFlow backend computes them.

- ``resize``: ``tf.image.resize`` with half-pixel centers. Every method is a linear map along
  each axis, ``out = Wy @ x @ Wx.T`` per image and channel, so ``d x = Wy.T @ g @ Wx``:
  ``"bilinear"``, ``"nearest"``, ``"bicubic"`` (TF's own kernels), ``"area"`` (``ResizeArea``:
  each output pixel averages the input area it covers) and ``"lanczos3"``, ``"lanczos5"`` and
  ``antialias=True`` (TF's ``ScaleAndTranslate`` kernel: a filter kernel, widened by the
  downscale factor when antialiasing, renormalized to sum to 1).
- ``affine_transform`` and ``perspective_transform``: ``ImageProjectiveTransformV3``: every
  output pixel ``(x, y)`` reads the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``,
  ``k = c0 x + c1 y + 1``, after the ``fill_mode`` maps outside coordinates back in. The
  gradient is TensorFlow's: the incoming gradient warped back by the inverse transform.

- ``map_coordinates`` and ``elastic_transform`` (reads at fractional points), colour
  conversions, ``gaussian_blur``, ``sobel_edges``, ``ssim``, ``crop_images`` / ``pad_images``,
  ``extract_patches`` (a convolution with the identity kernel) and ``scale_and_translate``
  (JAX's resampler), each as Keras's TensorFlow backend writes it.

All coordinates are float32, in TF's order of operations, so outputs match TF's to float32
rounding.
"""

import math

import numpy as np

from minikeras import backend
from minikeras.autodiff import record
from minikeras.ops import numpy as np_ops
from minikeras.ops.core import value_of
from minikeras.tensor import Tensor

F32 = np.float32
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")
AFFINE_TRANSFORM_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_TRANSFORM_FILL_MODES = ("constant", "nearest", "wrap", "reflect")


# --- layout: every op works on a (batch, height, width, channels) batch ----------------------
def _rank_error(images):
    return ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of "
                      f"images). Received input with shape: images.shape="
                      f"{np.shape(value_of(images))}")


def _to_batch_nhwc(images, data_format):
    """``images`` (rank 3 or 4, either data format) as a (batch, h, w, c) tensor, through
    recorded ops (gradients flow back), and the function that brings a result back."""
    data_format = backend.standardize_data_format(data_format)
    rank = np.ndim(value_of(images))
    if rank not in (3, 4):
        raise _rank_error(images)
    x = images if rank == 4 else np_ops.expand_dims(images, 0)
    if data_format == "channels_first":
        x = np_ops.transpose(x, (0, 2, 3, 1))

    def back(out):
        if data_format == "channels_first":
            out = np_ops.transpose(out, (0, 3, 1, 2))
        return out if rank == 4 else np_ops.squeeze(out, 0)

    return x, back


# --- resize ----------------------------------------------------------------------------------
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


def _area_matrix(in_size, out_size):
    """TF's ``ResizeArea`` along one axis: output pixel o covers ``[o·s, (o + 1)·s)`` of the
    input (s = in / out); each input pixel it touches weighs the length of the overlap, and the
    sum is divided by s (out of range rows are clamped to the edge)."""
    scale = F32(in_size) / F32(out_size)
    matrix = np.zeros((out_size, in_size), dtype=F32)
    for o in range(out_size):
        start, end = F32(o) * scale, F32(o + 1) * scale
        for i in range(int(np.floor(start)), int(np.ceil(end))):
            if i < start:
                overlap = scale if i + 1 > end else F32(i + 1) - start
            else:
                overlap = end - F32(i) if i + 1 > end else F32(1)
            matrix[o, min(max(i, 0), in_size - 1)] += overlap
    return matrix / scale


def _lanczos(radius):
    def kernel(x):  # radius sin(πx) sin(πx / radius) / (πx)², 1 near 0, 0 beyond the radius
        pi = F32(3.14159265359)
        safe = np.where(x <= F32(1e-3), F32(1), x)
        value = F32(radius) * np.sin(pi * safe) * np.sin(pi * safe / F32(radius)) / (
            pi * pi * safe * safe)
        return np.where(x > radius, F32(0), np.where(x <= F32(1e-3), F32(1), value))

    return kernel, radius


def _keys_cubic(x):
    near = ((F32(1.5) * x - F32(2.5)) * x) * x + F32(1)
    far = ((F32(-0.5) * x + F32(2.5)) * x - F32(4)) * x + F32(2)
    return np.where(x >= 2, F32(0), np.where(x >= 1, far, near))


_FILTERS = {  # TF's sampling kernels for ScaleAndTranslate: (kernel(|x|), radius)
    "lanczos3": _lanczos(3), "lanczos5": _lanczos(5),
    "bilinear": (lambda x: np.maximum(F32(0), F32(1) - x), 1),  # the triangle kernel
    "bicubic": (_keys_cubic, 2),
}


def _filter_matrix(in_size, out_size, interpolation, antialias):
    """TF's ``ScaleAndTranslate`` kernel along one axis (what ``tf.image.resize`` runs for
    lanczos and for antialiasing): output pixel o samples the input at
    ``src = (o + 0.5) · in / out``; input pixel i weighs ``kernel((i + 0.5 - src) / k)``, with
    ``k = max(in / out, 1)`` when antialiasing a downscale (a wider, low-pass kernel), else 1;
    the weights of the pixels within the kernel's radius are renormalized to sum to 1."""
    kernel, radius = _FILTERS[interpolation]
    inv_scale = F32(1) / (F32(out_size) / F32(in_size))
    kernel_scale = max(inv_scale, F32(1)) if antialias else F32(1)
    matrix = np.zeros((out_size, in_size), dtype=F32)
    for o in range(out_size):
        src = (F32(o) + F32(0.5)) * inv_scale
        start = min(max(int(math.ceil(src - radius * kernel_scale - F32(0.5))), 0), in_size - 1)
        end = min(max(int(math.floor(src + radius * kernel_scale - F32(0.5))), 0),
                  in_size - 1) + 1
        taps = np.arange(start, end, dtype=F32)
        weights = kernel(np.abs((taps + F32(0.5) - src) * (F32(1) / kernel_scale))).astype(F32)
        total = weights.sum(dtype=F32)
        if abs(total) >= 1000 * np.finfo(F32).tiny:
            matrix[o, start:end] = weights * (F32(1) / total)
    return matrix


def resize_nhwc(images, size, interpolation="bilinear", antialias=False):
    """``tf.image.resize(images, size, method, antialias)`` for a ``(batch, h, w, c)`` tensor.

    bilinear, as TF's kernel: ``top = tl + (tr - tl) * x_lerp``,
    ``bottom = bl + (br - bl) * x_lerp``, ``out = top + (bottom - top) * y_lerp``;
    nearest copies the pixel at the index above (and keeps the dtype); the other methods apply
    their matrices. The output is float32 except for nearest (as TF).
    """
    source = value_of(images)
    x = source.astype(F32, copy=False)
    height, width = x.shape[1], x.shape[2]
    out_h, out_w = size
    if interpolation == "nearest":
        wy, (ys,) = _resize_matrix(height, out_h, "nearest")
        wx, (xs,) = _resize_matrix(width, out_w, "nearest")
        out = source[:, ys][:, :, xs]
    elif interpolation in ("lanczos3", "lanczos5") or (
            antialias and interpolation in ("bilinear", "bicubic")):
        wy = _filter_matrix(height, out_h, interpolation, antialias)
        wx = _filter_matrix(width, out_w, interpolation, antialias)
        out = np.einsum("oh,bhwc,pw->bopc", wy, x, wx, optimize=True)
    elif interpolation == "area":
        wy, wx = _area_matrix(height, out_h), _area_matrix(width, out_w)
        out = np.einsum("oh,bhwc,pw->bopc", wy, x, wx, optimize=True)
    elif interpolation == "bicubic":  # along y (four rows), then along x (four columns)
        wy, (y_index, y_weights) = _resize_matrix(height, out_h, "bicubic")
        wx, (x_index, x_weights) = _resize_matrix(width, out_w, "bicubic")
        columns = sum(x[:, y_index[:, k]] * y_weights[None, :, k, None, None] for k in range(4))
        out = sum(columns[:, :, x_index[:, k]] * x_weights[None, None, :, k, None]
                  for k in range(4))
    else:
        wy, (y0, y1, y_lerp) = _resize_matrix(height, out_h, "bilinear")
        wx, (x0, x1, x_lerp) = _resize_matrix(width, out_w, "bilinear")
        x_lerp = x_lerp[None, None, :, None]
        y_lerp = y_lerp[None, :, None, None]
        rows0, rows1 = x[:, y0], x[:, y1]
        top = rows0[:, :, x0] + (rows0[:, :, x1] - rows0[:, :, x0]) * x_lerp
        bottom = rows1[:, :, x0] + (rows1[:, :, x1] - rows1[:, :, x0]) * x_lerp
        out = top + (bottom - top) * y_lerp

    def d_images(g):  # out[b,o,p,c] = sum_hw Wy[o,h] Wx[p,w] x[b,h,w,c]
        grad = np.einsum("oh,bopc,pw->bhwc", wy, np.asarray(g, dtype=F32), wx, optimize=True)
        return grad.astype(source.dtype, copy=False)

    if interpolation != "nearest":
        out = out.astype(F32, copy=False)
    return record(out, (images,), d_images)


def _fill_band(x, axis, width, fill_value):
    shape = list(np.shape(value_of(x)))
    shape[axis] = width
    return np.full(shape, fill_value, dtype=value_of(x).dtype)


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize images to ``size = (height, width)`` (``tf.image.resize``, see above), in the
    images' dtype: integers are rounded (half to even) and saturated back into their range."""
    from minikeras.ops.core import saturate_cast

    resized = backend_resize(images, size, interpolation, antialias, crop_to_aspect_ratio,
                             pad_to_aspect_ratio, fill_mode, fill_value, data_format)
    dtype = np.asarray(value_of(images)).dtype
    if value_of(resized).dtype == dtype:
        return resized
    if dtype.kind in "iu":
        resized = np_ops.round(resized)
    return saturate_cast(resized, dtype.name)


def backend_resize(images, size, interpolation="bilinear", antialias=False,
                   crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
                   fill_value=0.0, data_format=None):
    """``resize`` as Keras's TensorFlow backend returns it (what the image layers use): float32
    for every method but nearest, which keeps the dtype.

    ``crop_to_aspect_ratio`` first cuts the largest centred window with the target's aspect
    ratio: ``crop_h = clip(int(w * target_h / target_w), 1, h)`` (likewise ``crop_w``), start
    ``int((h - crop_h) / 2)``. ``pad_to_aspect_ratio`` instead adds ``fill_value`` rows (or
    columns) on both sides: ``int((pad_h - h) / 2)`` each, ``pad_h = max(h, int(w * th / tw))``.
    """
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                         f"supported. Received: fill_mode={fill_mode}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
                         "`True`.")
    if len(size) != 2:
        raise ValueError("Argument `size` must be a tuple of two elements (height, width). "
                         f"Received: size={size}")
    x, back = _to_batch_nhwc(images, data_format)
    _, height, width, _ = np.shape(value_of(x))
    target_h, target_w = (int(s) for s in size)
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(F32(width * target_h) / F32(target_w))), 1)
        crop_w = max(min(width, int(F32(height * target_w) / F32(target_h))), 1)
        top = int(F32(height - crop_h) / F32(2))
        left = int(F32(width - crop_w) / F32(2))
        x = np_ops.getitem(x, (slice(None), slice(top, top + crop_h),
                               slice(left, left + crop_w)))
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(F32(width * target_h) / F32(target_w)))
        pad_w = max(width, int(F32(height * target_w) / F32(target_h)))
        top = int(F32(pad_h - height) / F32(2))
        left = int(F32(pad_w - width) / F32(2))
        if top > 0:
            band = _fill_band(x, 1, top, fill_value)
            x = np_ops.concatenate([band, x, band], axis=1)
        if left > 0:
            band = _fill_band(x, 2, left, fill_value)
            x = np_ops.concatenate([band, x, band], axis=2)
    return back(resize_nhwc(x, (target_h, target_w), interpolation, antialias))


# --- affine and perspective transforms -------------------------------------------------------
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


def _projective_nhwc(images, t, interpolation, fill_mode, fill_value):
    """The projective warp of a recorded (batch, h, w, c) tensor by (batch, 8) transforms ``t``;
    its gradient is TensorFlow's rule for this op: the incoming gradient warped by the inverse
    transforms (same interpolation and fill mode, fill 0). That is the exact transpose only for
    whole-pixel shifts and quarter turns; for other maps it is TensorFlow's approximation, kept
    so that gradients match Keras's."""
    x = value_of(images)
    if t.shape[0] == 1 and x.shape[0] > 1:
        t = np.broadcast_to(t, (x.shape[0], 8))
    out = affine_transform_nhwc(x, t, interpolation, fill_mode, fill_value)

    def d_images(g):  # TF: ImageProjectiveTransformV3(g, inverse(transforms), fill_value=0)
        back = affine_transform_nhwc(np.asarray(g, dtype=F32), _inverse_transforms(t),
                                     interpolation, fill_mode, 0.0)
        return back.astype(x.dtype, copy=False)

    return record(out, (images,), d_images)


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"Invalid value for argument `{name}`. Expected of one {allowed}. "
                         f"Received: {name}={value}")


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Warp images by projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (one, or one per
    image) mapping each output point to the input point it reads (see above)."""
    _check_choice("interpolation", interpolation, AFFINE_TRANSFORM_INTERPOLATIONS)
    _check_choice("fill_mode", fill_mode, AFFINE_TRANSFORM_FILL_MODES)
    t = np.asarray(value_of(transform), dtype=F32)
    if t.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank 2 "
                         f"(batch of transforms). Received input with shape: transform.shape="
                         f"{t.shape}")
    x, back = _to_batch_nhwc(images, data_format)
    return back(_projective_nhwc(x, t.reshape(-1, 8), interpolation, fill_mode, fill_value))


def _homography(start_points, end_points):
    """Keras's ``compute_homography_matrix``: the (batch, 8) projective transforms that map each
    of the four ``end_points`` onto its ``start_point`` (the output-to-input map), solving the
    8 x 8 linear system in float32."""
    (sx, sy), (ex, ey) = np.moveaxis(start_points, -1, 0), np.moveaxis(end_points, -1, 0)
    zeros, ones = np.zeros_like(ex[:, 0]), np.ones_like(ex[:, 0])
    rows = []
    for k in range(4):
        rows.append([ex[:, k], ey[:, k], ones, zeros, zeros, zeros,
                     -sx[:, k] * ex[:, k], -sx[:, k] * ey[:, k]])
        rows.append([zeros, zeros, zeros, ex[:, k], ey[:, k], ones,
                     -sy[:, k] * ex[:, k], -sy[:, k] * ey[:, k]])
    coefficients = np.moveaxis(np.asarray(rows, F32), -1, 0)  # (batch, 8, 8)
    targets = np.stack([sx[:, 0], sy[:, 0], sx[:, 1], sy[:, 1], sx[:, 2], sy[:, 2], sx[:, 3],
                        sy[:, 3]], axis=-1)[..., None]
    return np.linalg.solve(coefficients, targets).reshape(-1, 8).astype(F32)


def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warp images so that the four ``start_points`` (x, y) land on the ``end_points`` (one set,
    shape (4, 2), or one per image): the projective transform of ``_homography``, applied as
    ``affine_transform`` applies its transforms (fill mode constant)."""
    _check_choice("interpolation", interpolation, AFFINE_TRANSFORM_INTERPOLATIONS)
    start = np.asarray(value_of(start_points), F32)
    end = np.asarray(value_of(end_points), F32)
    for name, points in (("start_points", start), ("end_points", end)):
        if points.ndim not in (2, 3) or points.shape[-2:] != (4, 2):
            raise ValueError(f"Invalid {name} shape: expected (4,2) for a single image or "
                             f"(N,4,2) for a batch. Received shape: {points.shape}")
    if start.shape != end.shape:
        raise ValueError("start_points and end_points must have the same shape. Received "
                         f"start_points.shape={start.shape}, end_points.shape={end.shape}")
    x, back = _to_batch_nhwc(images, data_format)
    transforms = _homography(start.reshape(-1, 4, 2), end.reshape(-1, 4, 2))
    return back(_projective_nhwc(x, transforms, interpolation, "constant", fill_value))


# --- map_coordinates and elastic_transform ---------------------------------------------------
MAP_COORDINATES_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fixed_index(index, size, fill_mode):
    """Keras's ``process_coordinates``: the index actually read for ``index`` along an axis of
    ``size``, and whether it lies inside (only "constant" mode reads ``fill_value`` outside)."""
    inside = np.ones(index.shape, bool)
    if fill_mode == "constant":
        inside = (index >= 0) & (index < size)
        index = np.clip(index, 0, size - 1)
    elif fill_mode == "nearest":
        index = np.clip(index, 0, size - 1)
    elif fill_mode in ("mirror", "reflect"):
        mod = np.mod(np.abs(index), 2 * size)
        index = np.where(mod < size, mod, 2 * size - mod - (fill_mode == "reflect"))
    else:  # wrap
        index = np.mod(index, size)
    return index, inside


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """Read ``inputs`` at fractional ``coordinates`` (one array per input axis, as
    ``scipy.ndimage.map_coordinates``), by spline interpolation of ``order`` 0 (nearest, ties
    to even) or 1 (linear: each of the 2^rank corners weighs the product of its per-axis weights
    ``1 - frac`` or ``frac``). The gradient goes to the corners read, by the same weights, and
    (order 1) to the coordinates: d out / d c_k = Σ corners ±(other axes' weights) · value."""
    a = np.asarray(value_of(inputs))
    c = np.asarray(value_of(coordinates))
    if c.shape[0] != a.ndim:
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. "
                         f"Received inputs with shape: {a.shape} and coordinate leading dim of "
                         f"{c.shape[0]}")
    if c.ndim < 2:
        raise ValueError(f"Invalid coordinates rank: expected at least rank 2. Received input "
                         f"with shape: {c.shape}")
    if fill_mode not in MAP_COORDINATES_FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected one of "
                         f"{set(MAP_COORDINATES_FILL_MODES)}. Received: fill_mode={fill_mode}")
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1")
    if c.dtype.kind not in "fc":
        c = c.astype(np.int64)
    dtype = c.dtype if c.dtype.kind == "f" else np.dtype(np.int32)
    axes = []  # per axis: [(index, inside, weight, sign of d weight / d coordinate)]
    for k in range(a.ndim):
        if order == 0:
            index = (np.round(c[k]) if c.dtype.kind == "f" else c[k]).astype(np.int64)
            nodes = [(index, np.ones((), dtype), 0)]
        else:
            lower = np.floor(c[k])
            upper_weight = (c[k] - lower).astype(dtype)
            index = lower.astype(np.int64)
            nodes = [(index, 1 - upper_weight, -1), (index + 1, upper_weight, 1)]
        axes.append([(*_fixed_index(i, a.shape[k], fill_mode), w, s) for i, w, s in nodes])
    corners = []
    for combination in _product(axes):
        indices, insides, weights, signs = zip(*combination, strict=True)
        value = a[indices].astype(dtype)
        if fill_mode == "constant":
            value = np.where(np.logical_and.reduce(insides), value, np.asarray(fill_value, dtype))
        corners.append((indices, np.logical_and.reduce(insides), weights, signs, value))
    out = sum(_prod(weights) * value for _, _, weights, _, value in corners)
    if a.dtype.kind in "iub":
        out = np.round(out)
    out = np.asarray(out).astype(a.dtype)

    def d_inputs(g):
        grad = np.zeros(a.shape, g.dtype)
        for indices, inside, weights, _, _ in corners:
            np.add.at(grad, indices, np.where(inside, g * _prod(weights), 0))  # fill: no grad
        return grad

    def d_coordinates(g):
        grad = np.zeros(c.shape, dtype)
        if order == 1:
            for _, _, weights, signs, value in corners:
                for k in range(a.ndim):
                    others = _prod([w for j, w in enumerate(weights) if j != k])
                    grad[k] += signs[k] * others * value * g
        return grad

    return record(out, (inputs, coordinates), d_inputs, d_coordinates)


def _product(lists):
    combos = [()]
    for options in lists:
        combos = [combo + (option,) for combo in combos for option in options]
    return combos


def _prod(values):
    out = 1
    for v in values:
        out = out * v
    return out


def _gaussian_kernel_1d(size, sigma, dtype):
    x = np.arange(size, dtype=dtype) - dtype.type((size - 1) / 2)
    kernel = np.exp(dtype.type(-0.5) * (x / dtype.type(sigma)) ** 2)
    return kernel / kernel.sum(dtype=dtype)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Each channel convolved ("same" zero padding) with a normalized Gaussian kernel: Keras's
    kernel is ``outer(g(size[1], sigma[1]), g(size[0], sigma[0]))`` read as a (size[0],
    size[1]) array, g(n, s)[i] ∝ exp(-(i - (n - 1) / 2)² / (2 s²)) (the same as the textbook
    kernel for square sizes). Differentiable through the depthwise convolution."""
    from minikeras.ops.convolution import depthwise_conv

    x, back = _to_batch_nhwc(images, data_format)
    dtype = np.dtype(value_of(x).dtype)
    kernel_size = tuple(int(k) for k in np.broadcast_to(np.asarray(kernel_size), (2,)))
    sigma = tuple(float(s) for s in np.broadcast_to(np.asarray(sigma, "float64"), (2,)))
    kernel = np.multiply.outer(_gaussian_kernel_1d(kernel_size[1], sigma[1], dtype),
                               _gaussian_kernel_1d(kernel_size[0], sigma[0], dtype))
    channels = np.shape(value_of(x))[-1]
    kernel = np.tile(kernel.reshape(*kernel_size, 1, 1), (1, 1, channels, 1))
    return back(depthwise_conv(x, kernel, padding="same", data_format="channels_last"))


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Keras's elastic distortion: a random displacement field (standard normal noise times
    ``sigma``, smoothed by a ``6·int(sigma) | 1`` Gaussian blur of ``sigma``, times ``alpha``)
    moves every pixel's read position, read by ``map_coordinates`` (order 0 or 1).

    The noise comes from ``minikeras.random`` (NumPy's generator), so the distortions differ
    from Keras's as their random numbers do; and minikeras draws independent noise for x and y,
    where Keras's TensorFlow backend draws both from one seed (its dx equals its dy)."""
    from minikeras import random

    _check_choice("interpolation", interpolation, AFFINE_TRANSFORM_INTERPOLATIONS)
    _check_choice("fill_mode", fill_mode, AFFINE_TRANSFORM_FILL_MODES)
    x, back = _to_batch_nhwc(images, data_format)
    a = value_of(x)
    batch, height, width, channels = a.shape
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(backend.floatx())
    size = 6 * int(sigma) | 1
    noise = value_of(random.normal((2, batch, height, width, 1), dtype=dtype.name, seed=seed))
    dy, dx = (value_of(gaussian_blur(n * dtype.type(sigma), (size, size), (sigma, sigma),
                                     "channels_last"))[..., 0] for n in noise)
    rows, columns = np.meshgrid(np.arange(height, dtype=dtype), np.arange(width, dtype=dtype),
                                indexing="ij")
    ys, xs = rows + dtype.type(alpha) * dy, columns + dtype.type(alpha) * dx
    order = AFFINE_TRANSFORM_INTERPOLATIONS.index(interpolation)
    out = np_ops.stack([np_ops.stack([
        map_coordinates(np_ops.getitem(x, (b, Ellipsis, c)), np.stack([ys[b], xs[b]]), order,
                        fill_mode, fill_value)
        for c in range(channels)], axis=-1) for b in range(batch)])
    return back(out)


# --- colour, edges, similarity ---------------------------------------------------------------
def _channels_axis(images, data_format):
    rank = np.ndim(value_of(images))
    if rank not in (3, 4):
        raise _rank_error(images)
    return -1 if backend.standardize_data_format(data_format) == "channels_last" else -3


def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.5870 G + 0.1140 B (as ``tf.image.rgb_to_grayscale``), keeping a channel axis
    of 1 and the input's dtype (integers are truncated back); one channel is returned as is.
    Differentiable: a weighted sum of the channels."""
    from minikeras.ops.core import cast

    axis = _channels_axis(images, data_format)
    shape = np.shape(value_of(images))
    if shape[axis] not in (1, 3):
        raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received "
                         f"input with shape: images.shape={shape}")
    if shape[axis] == 1:
        return np_ops.copy(images)
    original = value_of(images).dtype
    floats = cast(images, np_ops._floats(np.zeros((), original)).dtype)
    weights = np.asarray([0.2989, 0.5870, 0.1140], value_of(floats).dtype)
    gray = np_ops.tensordot(floats, weights, axes=([len(shape) + axis], [0]))
    return cast(np_ops.expand_dims(gray, axis), original)


def _float_images(images, data_format):
    a = np.asarray(value_of(images))
    if a.dtype.kind != "f":
        raise ValueError("Invalid images dtype: expected float dtype. Received: images.dtype="
                         f"{backend.standardize_dtype(a.dtype)}")
    if a.ndim not in (3, 4):
        raise _rank_error(images)
    if backend.standardize_data_format(data_format) == "channels_first":
        return np.moveaxis(a, -3, -1), lambda out: np.moveaxis(out, -1, -3)
    return a, lambda out: out


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value (``tf.image.rgb_to_hsv``): V = max, S = (V -
    min) / V, H = the sixth of the circle of the largest channel plus the difference of the
    other two over 6 (V - min), wrapped into [0, 1). Not differentiated (as TensorFlow)."""
    a, back = _float_images(images, data_format)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    v = a.max(axis=-1)
    spread = v - a.min(axis=-1)
    s = np.where(v > 0, spread / np.where(v > 0, v, 1), 0).astype(a.dtype)
    norm = (1 / spread) * a.dtype.type(1 / 6)
    h = np.where(r == v, norm * (g - b),
                 np.where(g == v, norm * (b - r) + a.dtype.type(2 / 6),
                          norm * (r - g) + a.dtype.type(4 / 6)))
    h = np.where(spread > 0, h, 0)
    h = np.where(h < 0, h + 1, h)
    return Tensor(np.ascontiguousarray(back(np.stack([h, s, v], -1).astype(a.dtype))))


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value back to RGB (``tf.image.hsv_to_rgb``): each channel is
    V·(1 - S + S·c(6H)) with the piecewise-linear c of R, G and B. Not differentiated (as
    TensorFlow)."""
    a, back = _float_images(images, data_format)
    h, s, v = a[..., 0], a[..., 1], a[..., 2]
    dh = h * 6
    dr = np.clip(np.abs(dh - 3) - 1, 0, 1)
    dg = np.clip(-np.abs(dh - 2) + 2, 0, 1)
    db = np.clip(-np.abs(dh - 4) + 2, 0, 1)
    one_s = 1 - s
    rgb = np.stack([(one_s + s * dr) * v, (one_s + s * dg) * v, (one_s + s * db) * v], -1)
    return Tensor(np.ascontiguousarray(back(rgb.astype(a.dtype))))


_SOBEL = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]],  # d/dy
                   [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])  # d/dx


def sobel_edges(images, data_format=None):
    """The Sobel gradients (d/dy, d/dx) of every channel, stacked on a new last axis (as
    ``tf.image.sobel_edges``: the image reflect-padded by one pixel, then each channel
    correlated with the two 3 x 3 kernels). Differentiable: a padding and a convolution."""
    from minikeras.ops.convolution import depthwise_conv

    if np.ndim(value_of(images)) != 4:
        raise ValueError("Invalid images rank: expected rank 4 (batch of images). Received "
                         f"input with shape: images.shape={np.shape(value_of(images))}")
    first = backend.standardize_data_format(data_format) == "channels_first"
    x = np_ops.transpose(images, (0, 2, 3, 1)) if first else images
    n, h, w, c = np.shape(value_of(x))
    padded = np_ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    kernel = np.tile(np.transpose(_SOBEL, (1, 2, 0))[:, :, None, :], (1, 1, c, 1))
    edges = depthwise_conv(padded, kernel.astype(value_of(x).dtype), padding="valid",
                           data_format="channels_last")
    edges = np_ops.reshape(edges, (n, h, w, c, 2))
    return np_ops.transpose(edges, (0, 3, 1, 2, 4)) if first else edges


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """The structural similarity of two images (or batches), Keras's formula: with Gaussian
    window means μ, variances σ² and covariance σ12 ("valid" windows of ``filter_size``),
        SSIM = mean over windows and channels of
               (2 μ1 μ2 + c1)(2 σ12 + c2) / ((μ1² + μ2² + c1)(σ1² + σ2² + c2)),
    c1 = (k1·max_val)², c2 = (k2·max_val)². Differentiable (recorded ops throughout)."""
    from minikeras.ops.core import cast
    from minikeras.ops.nn import conv

    original = np.asarray(value_of(image1)).dtype
    compute = np_ops._floats(image1).dtype
    x1, x2 = cast(image1, compute), cast(image2, compute)
    for name, image in (("image1", x1), ("image2", x2)):
        if np.ndim(value_of(image)) not in (3, 4):
            raise ValueError(f"Invalid {name} rank: expected rank 3 (single image) or rank 4 "
                             f"(batch of images). Received input with shape: {name}.shape="
                             f"{np.shape(value_of(image))}")
    unbatched = np.ndim(value_of(x1)) == 3
    if unbatched:
        x1, x2 = np_ops.expand_dims(x1, 0), np_ops.expand_dims(x2, 0)
    if backend.standardize_data_format(data_format) == "channels_first":
        x1, x2 = np_ops.moveaxis(x1, 1, -1), np_ops.moveaxis(x2, 1, -1)
    batch, height, width, channels = np.shape(value_of(x1))
    gauss = _gaussian_kernel_1d(filter_size, filter_sigma, np.dtype(compute))
    kernel = np.outer(gauss, gauss).reshape(filter_size, filter_size, 1, 1)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2

    def channels_as_batch(x):
        return np_ops.reshape(np_ops.transpose(x, (0, 3, 1, 2)), (-1, height, width, 1))

    def blur(x):
        return conv(x, kernel, strides=1, padding="valid", data_format="channels_last")

    a, b = channels_as_batch(x1), channels_as_batch(x2)
    mu1, mu2 = blur(a), blur(b)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = blur(a * a) - mu1_sq
    sigma2_sq = blur(b * b) - mu2_sq
    sigma12 = blur(a * b) - mu1_mu2
    numerator = (2.0 * mu1_mu2 + c1) * (2.0 * sigma12 + c2)
    denominator = (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2)
    per_channel = np_ops.mean(numerator / denominator, axis=(1, 2, 3))
    result = np_ops.mean(np_ops.reshape(per_channel, (batch, channels)), axis=-1)
    if unbatched:
        result = np_ops.squeeze(result, 0)
    return cast(result, original)


# --- crop, pad, patches, scale_and_translate -------------------------------------------------
def _two_of_three(names, values):
    if list(values).count(None) != 1:
        raise ValueError(f"Must specify exactly two of {', '.join(names)}. Received: "
                         + ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True)))
    for name, value in zip(names, values, strict=True):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")


def _spatial_axes(images, data_format):
    rank = np.ndim(value_of(images))
    if rank not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch "
                         f"of images). Received: images.shape={np.shape(value_of(images))}")
    first = backend.standardize_data_format(data_format) == "channels_first"
    return (rank - 2, rank - 1) if first else (rank - 3, rank - 2)


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pad images on the sides; of each (top, bottom, target_height) and (left, right,
    target_width) exactly two are given and the third follows. The gradient crops."""
    axes = _spatial_axes(images, data_format)
    _two_of_three(("top_padding", "bottom_padding", "target_height"),
                  (top_padding, bottom_padding, target_height))
    _two_of_three(("left_padding", "right_padding", "target_width"),
                  (left_padding, right_padding, target_width))
    height, width = (np.shape(value_of(images))[a] for a in axes)
    if top_padding is None:
        top_padding = target_height - bottom_padding - height
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - height
    if left_padding is None:
        left_padding = target_width - right_padding - width
    if right_padding is None:
        right_padding = target_width - left_padding - width
    for name, value in (("top_padding", top_padding), ("left_padding", left_padding),
                        ("right_padding", right_padding), ("bottom_padding", bottom_padding)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    width_per_axis = [(0, 0)] * np.ndim(value_of(images))
    width_per_axis[axes[0]] = (top_padding, bottom_padding)
    width_per_axis[axes[1]] = (left_padding, right_padding)
    return np_ops.pad(images, width_per_axis)


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Cut images to a window; of each (top, bottom, target_height) and (left, right,
    target_width) exactly two are given and the third follows. The gradient pads with 0."""
    axes = _spatial_axes(images, data_format)
    _two_of_three(("top_cropping", "bottom_cropping", "target_height"),
                  (top_cropping, bottom_cropping, target_height))
    _two_of_three(("left_cropping", "right_cropping", "target_width"),
                  (left_cropping, right_cropping, target_width))
    height, width = (np.shape(value_of(images))[a] for a in axes)
    if top_cropping is None:
        top_cropping = height - target_height - bottom_cropping
    if target_height is None:
        target_height = height - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = width - target_width - right_cropping
    if target_width is None:
        target_width = width - right_cropping - left_cropping
    for name, value in (("top_cropping", top_cropping), ("target_height", target_height),
                        ("left_cropping", left_cropping), ("target_width", target_width)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    key = [slice(None)] * np.ndim(value_of(images))
    key[axes[0]] = slice(top_cropping, top_cropping + target_height)
    key[axes[1]] = slice(left_cropping, left_cropping + target_width)
    return np_ops.getitem(images, tuple(key))


def _patches(images, size, strides, dilation_rate, padding, data_format, rank):
    """Keras's extract_patches: a convolution with the identity kernel, so output channel
    ``(i·pw + j)·C + c`` (2-D) is pixel (i, j) of the patch, channel c. Differentiable."""
    from minikeras.ops.nn import conv

    first = backend.standardize_data_format(data_format) == "channels_first"
    shape = np.shape(value_of(images))
    channels = shape[-rank - 1] if first else shape[-1]
    window = tuple(size)
    out_dim = int(np.prod(window)) * channels
    kernel = np.eye(out_dim, dtype=value_of(images).dtype).reshape(*window, channels, out_dim)
    unbatched = len(shape) == rank + 1
    x = np_ops.expand_dims(images, 0) if unbatched else images
    patches = conv(x, kernel, strides=strides, padding=padding,
                   data_format="channels_first" if first else "channels_last",
                   dilation_rate=dilation_rate)
    return np_ops.squeeze(patches, 0) if unbatched else patches


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Every ``size`` patch of the images, flattened onto the channel axis (a size of three
    numbers: volumes, as ``extract_patches_3d``); strides default to the patch size."""
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    if isinstance(size, int):
        size = (size, size)
    elif len(size) != 2:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 2. "
                        f"Received: size={size}")
    return _patches(images, size, strides or size, dilation_rate, padding, data_format, 2)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Every ``size`` (depth, height, width) patch of the volumes, flattened onto the channel
    axis; strides default to the patch size."""
    if isinstance(size, int):
        size = (size, size, size)
    elif len(size) != 3:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 3. "
                        f"Received: size={size}")
    strides = size if strides is None else strides
    if isinstance(strides, int):
        strides = (strides,) * 3
    if len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    return _patches(volumes, size, strides, dilation_rate, padding, data_format, 3)


SCALE_AND_TRANSLATE_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic",
                               "tricubic", "lanczos3", "lanczos5")


def _weight_matrix(in_size, out_size, scale, translation, method, antialias, dtype):
    """Keras's (JAX's) ``compute_weight_mat``, as an (in_size, out_size) matrix: output pixel o
    samples ``(o + 0.5 - translation) / scale - 0.5``; input pixel i weighs the kernel at the
    distance (widened by 1 / scale when antialiasing a downscale), the column normalized to sum
    to 1, and output pixels sampling outside the input get 0."""
    kernel = {"linear": _FILTERS["bilinear"][0], "cubic": _keys_cubic,
              "lanczos3": _FILTERS["lanczos3"][0], "lanczos5": _FILTERS["lanczos5"][0]}[method]
    inv_scale = dtype.type(1) / scale
    kernel_scale = np.maximum(inv_scale, dtype.type(1)) if antialias else dtype.type(1)
    sample = ((np.arange(out_size, dtype=dtype) + dtype.type(0.5)) * inv_scale
              - translation * inv_scale - dtype.type(0.5))
    distance = np.abs(sample[None, :] - np.arange(in_size, dtype=dtype)[:, None]) / kernel_scale
    weights = kernel(distance.astype(F32)).astype(dtype)
    total = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000.0 * float(np.finfo(F32).eps),
                       weights / np.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[None, :], weights, 0).astype(dtype)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Resample ``images`` along ``spatial_dims`` to ``output_shape`` (``jax.image.
    scale_and_translate``): along each axis, output pixel o reads the input around
    ``(o + 0.5 - translation) / scale - 0.5`` through the ``method``'s kernel (linear, cubic
    (Keys), lanczos3/5). A matrix product per axis (recorded), so gradients flow; integer
    images are rounded and clipped to their range afterwards."""
    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError("Invalid value for argument `method`. Expected of one "
                         f"{set(SCALE_AND_TRANSLATE_METHODS)}. Received: method={method}")
    method = ("linear" if method in ("linear", "bilinear", "trilinear") else
              "cubic" if method in ("cubic", "bicubic", "tricubic") else method)
    scale, translation = np.asarray(value_of(scale)), np.asarray(value_of(translation))
    dtype = np.result_type(np_ops._floats(scale).dtype, np_ops._floats(translation).dtype)
    scale, translation = scale.astype(dtype), translation.astype(dtype)
    a = value_of(images)
    integers = np.asarray(a).dtype.kind in "iub"
    out = np_ops.cast(images, "float32") if integers else images
    for i, axis in enumerate(spatial_dims):
        axis = axis % np.ndim(a)
        w = _weight_matrix(np.shape(a)[axis], int(output_shape[axis]), scale[i],
                           translation[i], method, antialias, dtype)
        out = np_ops.tensordot(out, w.astype(value_of(out).dtype), axes=([axis], [0]))
        out = np_ops.moveaxis(out, -1, axis)
    if integers:
        rounded = np.clip(np.round(value_of(out)), np.min(a), np.max(a))
        return Tensor(rounded.astype(np.asarray(a).dtype))
    return out
