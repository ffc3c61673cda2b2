"""CIFAR-100: 60,000 32x32 colour images in 100 fine classes grouped into 20 coarse ones (Alex
Krizhevsky, 2009). The archive holds ``cifar-100-python/train`` and ``cifar-100-python/test``."""

import os

import numpy as np

from minikeras.datasets.cifar import load_batch
from minikeras.utils.file_utils import get_file

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"  # sha256


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels last), labels of shape (50000, 1) and (10000, 1): the 100 fine
    classes (``label_mode="fine"``) or the 20 coarse ones (``"coarse"``). As in Keras, the labels
    keep the integer dtype NumPy gives the stored Python list (int64)."""
    if label_mode not in ["fine", "coarse"]:
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    path = get_file(fname="cifar-100-python-target", origin=_ORIGIN, extract=True,
                    file_hash=_FILE_HASH)
    path = os.path.join(path, "cifar-100-python")
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=f"{label_mode}_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=f"{label_mode}_labels")

    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    x_train = x_train.transpose(0, 2, 3, 1)  # (n, 3, 32, 32) -> (n, 32, 32, 3)
    x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
