"""image_dataset_from_directory: batches of images read from a folder of image files
(``keras.utils.image_dataset_from_directory``).

With ``labels="inferred"`` each subfolder is a class, named by the folder, numbered in sorted
order::

    main_directory/
        class_a/  a_image_1.jpg  a_image_2.png
        class_b/  b_image_1.jpg  b_image_2.png

Keras returns a ``tf.data.Dataset`` of ``(images, labels)`` batches; minikeras returns a
``PyDataset`` whose batches are ``(array (batch, height, width, channels), labels)`` (or just the
images without labels), with ``class_names`` and ``file_paths`` set as in Keras. Images are
decoded by Pillow (as Keras's TensorFlow-free "grain" path does) when their batch is asked for,
and resized by ``minikeras.ops.image.resize`` following the rules of Keras's default TensorFlow
pipeline (float32 pixels, but the file's uint8 for "nearest"; ``tf.image.resize_with_pad`` for
``pad_to_aspect_ratio``).
"""


import numpy as np

from minikeras import backend
from minikeras.utils.dataset_utils import (
    FilesDataset,
    check_labels_args,
    check_validation_split_arg,
    get_training_or_validation_split,
    index_directory,
)
from minikeras.utils.image_utils import _pil_image, smart_resize

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                  "mitchellcubic")
CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """The images (.bmp, .gif, .jpeg, .jpg, .png) under ``directory`` and their labels, in
    batches of ``batch_size`` (None: one image per item), each resized to ``image_size``.

    ``color_mode``: "rgb" (3 channels), "rgba" (4) or "grayscale" (1). ``label_mode``: "int"
    (int32 class indices), "categorical" (float32 one-hot), "binary" (float32, shape
    ``(batch, 1)``, exactly 2 classes) or None (images only). ``labels`` may also be a list of
    int labels for the files in sorted path order, or None. Each image is resized to
    ``image_size`` with ``ops.image.resize``: stretched by default; with
    ``crop_to_aspect_ratio`` its largest centred window of the target's aspect ratio is resized
    (``smart_resize``); with ``pad_to_aspect_ratio`` it is resized to fit inside and centred on
    zeros (``tf.image.resize_with_pad``). ``validation_split`` with ``subset``
    ("training", "validation" or "both": a list of the two) keeps the last fraction of the files
    for validation. ``shuffle`` shuffles the file list once with ``np.random.RandomState(seed)``,
    as Keras does before its own per-epoch tf.data shuffle, which minikeras does not add.
    ``format`` ("tf" or "grain") is checked and ignored.
    """
    check_labels_args(labels, label_mode, class_names, "image files", "images")
    if labels is None or label_mode is None:
        labels = label_mode = None
    if color_mode not in CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
                         f"color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, list | tuple) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. Received: "
                         f"image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    image_paths, labels, class_names = index_directory(
        directory, labels, ALLOWLIST_FORMATS, class_names, shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    loading = {"image_size": tuple(image_size), "num_channels": CHANNELS[color_mode],
               "interpolation": interpolation, "crop_to_aspect_ratio": crop_to_aspect_ratio,
               "pad_to_aspect_ratio": pad_to_aspect_ratio,
               "data_format": backend.standardize_data_format(data_format)}
    num_classes = len(class_names) if class_names else 0

    def make(subset_name, what="images"):
        paths, subset_labels = get_training_or_validation_split(
            image_paths, labels, validation_split, subset_name)
        if not paths:
            raise ValueError(f"No {what} found in directory {directory}. Allowed formats: "
                             f"{ALLOWLIST_FORMATS}")
        dataset = ImageFilesDataset(paths, subset_labels, label_mode, num_classes, batch_size,
                                    **loading)
        dataset.class_names = class_names  # and dataset.file_paths, as in Keras
        return dataset

    if subset == "both":
        return [make("training", "training images"), make("validation", "validation images")]
    return make(subset)


class ImageFilesDataset(FilesDataset):
    """Batches of ``(images, labels)``: images decoded and resized on demand, stacked."""

    def __init__(self, file_paths, labels, label_mode, num_classes, batch_size, image_size,
                 num_channels, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                 data_format):
        super().__init__(file_paths, labels, label_mode, num_classes, batch_size)
        self.image_size = image_size
        self.num_channels = num_channels
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format

    def stack(self, samples):
        return np.stack(samples)

    def read(self, path):
        """One image file as an array of ``image_size`` with ``num_channels``, as Keras's
        TensorFlow pipeline makes it: Pillow decodes and converts the file (grey "L", "RGB" or
        "RGBA"); the pixels are float32 for every interpolation but "nearest", which keeps the
        file's integers (``tf.image.resize`` does the same); then the resize rule."""
        pil = _pil_image("load_img")
        with pil.open(path) as img:
            if self.num_channels == 1 and img.format == "PNG" and img.mode in ("RGB", "RGBA",
                                                                               "P"):
                img = _png_grey(np.array(img.convert("RGB")))
            elif self.num_channels == 1 and img.mode not in ("L", "I;16", "I"):
                img = img.convert("L")
            elif self.num_channels == 3 and img.mode != "RGB":
                img = img.convert("RGB")
            elif self.num_channels == 4 and img.mode != "RGBA":
                img = img.convert("RGBA")
            x = np.array(img)
        if x.ndim == 2:
            x = x[:, :, None]
        if self.interpolation != "nearest":
            x = x.astype("float32")
        if self.crop_to_aspect_ratio:
            x = smart_resize(x, self.image_size, interpolation=self.interpolation)
        elif self.pad_to_aspect_ratio:
            x = resize_with_pad(x, self.image_size, self.interpolation)
        else:
            x = _resize(x, self.image_size, self.interpolation)
        if self.data_format == "channels_first":
            x = x.transpose(2, 0, 1)
        return x


def _png_grey(rgb):
    """Colour PNG pixels as grey, as TensorFlow's PNG decoder (libpng's ``rgb_to_gray`` in
    fixed point) makes them: (9797 R + 19234 G + 3737 B) >> 15, i.e. 0.299 R + 0.587 G +
    0.114 B rounded down (Pillow's "L" rounds to nearest, 1 level away for about half the
    pixels)."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((9797 * r + 19234 * g + 3737 * b) >> 15).astype(np.uint8)


def _resize(image, size, interpolation):
    from minikeras.ops import image as image_ops

    return np.asarray(image_ops.resize(image, size, interpolation=interpolation,
                                       data_format="channels_last"))


def resize_with_pad(image, size, interpolation):
    """``tf.image.resize_with_pad`` for one ``(height, width, channels)`` image, which Keras's
    pipeline uses for ``pad_to_aspect_ratio``: shrink or grow the image by the one ratio that
    makes it fit ``size`` (ratio = max(w / target_w, h / target_h), the new sides floored), then
    centre it on zeros (the offsets floored), all in float32 as TensorFlow computes them."""
    f32 = np.float32
    height, width = image.shape[:2]
    target_height, target_width = size
    ratio = max(f32(width) / f32(target_width), f32(height) / f32(target_height))
    new_height_float, new_width_float = f32(height) / ratio, f32(width) / ratio
    new_height, new_width = int(np.floor(new_height_float)), int(np.floor(new_width_float))
    top = max(0, int(np.floor((f32(target_height) - new_height_float) / f32(2))))
    left = max(0, int(np.floor((f32(target_width) - new_width_float) / f32(2))))
    resized = _resize(image, (new_height, new_width), interpolation)
    padded = np.zeros((target_height, target_width, image.shape[2]), resized.dtype)
    padded[top:top + new_height, left:left + new_width] = resized
    return padded
