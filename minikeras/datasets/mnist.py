"""MNIST: 70,000 28x28 grayscale images of handwritten digits (Yann LeCun and Corinna Cortes,
CC BY-SA 3.0)."""

import numpy as np

from minikeras.utils.file_utils import get_file

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # sha256


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and
    (10000, 28, 28) with pixels 0-255, and uint8 digit labels 0-9 of shape (60000,) and (10000,).

    ``path``: the file name in the cache (``~/.keras/datasets``).
    """
    path = get_file(fname=path, origin=_ORIGIN, file_hash=_FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
