"""``keras.preprocessing.image``: images as arrays and files, and ``smart_resize`` (resize
without distortion by cropping), from minikeras/utils/image_utils.py."""

from minikeras.utils.image_utils import (
    array_to_img,
    img_to_array,
    load_img,
    save_img,
    smart_resize,
)

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
