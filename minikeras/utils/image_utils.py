"""Images as arrays and files (``keras.utils.img_to_array``, ``array_to_img``, ``save_img``,
``load_img``, and ``keras.preprocessing.image.smart_resize``).

An image file is read and written by Pillow, which is optional, as in Keras: it is imported the
first time a file or a PIL image is needed, and without it those functions raise Keras's
``ImportError`` ("Could not import PIL.Image. The use of `load_img` requires PIL."). Converting
to an array (``img_to_array``) and ``smart_resize`` need NumPy only.

    image = keras.utils.load_img("cat.png", target_size=(64, 64))   # a PIL image
    x = keras.utils.img_to_array(image)                              # float32 (64, 64, 3)
    keras.utils.save_img("copy.png", x)                              # rescaled to 0..255
"""

import io
import pathlib
import warnings

import numpy as np

from minikeras import backend

# Pillow's names for ``interpolation`` in load_img (Image.Resampling in Pillow >= 9.1)
_PIL_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil_image(function):
    """``PIL.Image``, or Keras's ImportError naming the function that needs it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"Could not import PIL.Image. The use of `{function}` requires "
                          f"PIL.") from None
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3D array ``(height, width, channels)`` as a PIL image: 4 channels RGBA, 3 RGB, 1 "L"
    (8-bit grey; 32-bit "I" if a value exceeds 255). With ``scale`` the values are first mapped
    linearly onto 0..255 (x - min, then / max, then * 255); either way they are cut to integers
    by truncation (``astype("uint8")``), as Keras does."""
    data_format = backend.standardize_data_format(data_format)
    if dtype is None:
        dtype = backend.floatx()
    image = _pil_image("array_to_img")
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    if x.shape[2] == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if x.shape[2] == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if x.shape[2] == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {x.shape[2]}")


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or anything ``np.asarray`` reads) as a 3D array of ``dtype`` (floatx by
    default): ``(height, width, channels)``, or ``(channels, height, width)`` for
    channels_first; a greyscale image gets a channel axis of 1."""
    data_format = backend.standardize_data_format(data_format)
    if dtype is None:
        dtype = backend.floatx()
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        if data_format == "channels_first":
            x = x.reshape((1, x.shape[0], x.shape[1]))
        else:
            x = x.reshape((x.shape[0], x.shape[1], 1))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write the array ``x`` as an image file (``array_to_img``, then ``PIL.Image.save``). The
    format comes from the file's extension unless ``file_format`` is given (it must be, for a
    file object); an RGBA image saved as JPEG is converted to RGB with a warning. ``kwargs`` go
    to ``PIL.Image.save`` (e.g. ``quality=95``)."""
    data_format = backend.standardize_data_format(data_format)
    if file_format is None and isinstance(path, str | pathlib.Path):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Read an image file (a path or ``io.BytesIO``) as a PIL image in ``color_mode``
    ("grayscale", "rgb" or "rgba"), resized by Pillow to ``target_size = (height, width)`` if
    given, with ``interpolation`` ("nearest", "bilinear", "bicubic", "hamming", "box",
    "lanczos"). ``keep_aspect_ratio`` resizes the largest centred crop with the target's aspect
    ratio instead of stretching the whole image."""
    image = _pil_image("load_img")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, pathlib.Path | bytes | str):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):  # 8-, 16- and 32-bit grey stay as they are
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if target_size is None:
        return img
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    if interpolation not in _PIL_INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported "
                         f"methods are {', '.join(_PIL_INTERPOLATIONS)}")
    resampling = getattr(image, "Resampling", image)
    resample = getattr(resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    target_width, target_height = width_height
    crop_height = min(height, width * target_height // target_width)
    crop_width = min(width, height * target_width // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(width_height, resample,
                      box=[left, top, left + crop_width, top + crop_height])


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resize an image (or a batch) to ``size = (height, width)`` without distorting it: take
    the largest centred crop with the target's aspect ratio, then ``ops.image.resize`` it. A
    NumPy input gives a NumPy array, a Tensor a Tensor (as Keras: the backend's tensor)."""
    from minikeras.ops import image as image_ops
    from minikeras.ops.core import value_of

    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs)}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    img = np.asarray(value_of(x))
    if img.ndim < 3 or img.ndim > 4:
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or "
                         "`(batch_size, height, width, channels)`, but got input with "
                         f"incorrect rank, of shape {img.shape}.")
    if data_format == "channels_last":
        height, width = img.shape[-3], img.shape[-2]
    else:
        height, width = img.shape[-2], img.shape[-1]
    target_height, target_width = size
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top, left = int(float(height - crop_height) / 2), int(float(width - crop_width) / 2)
    rows, cols = slice(top, top + crop_height), slice(left, left + crop_width)
    crop = img[..., rows, cols, :] if data_format == "channels_last" else img[..., rows, cols]
    resized = image_ops.resize(crop, size=size, interpolation=interpolation,
                               data_format=data_format)
    if isinstance(x, np.ndarray):
        return np.array(resized)
    return resized
