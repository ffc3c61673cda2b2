"""CIFAR-10: 60,000 32x32 colour images in 10 classes (Alex Krizhevsky, 2009).

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
9 truck. The archive holds ``cifar-10-batches-py/data_batch_1`` ... ``data_batch_5`` (10,000
training images each) and ``test_batch``.
"""

import os

import numpy as np

from minikeras.datasets.cifar import load_batch
from minikeras.utils.file_utils import get_file

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # sha256
_BATCH_SIZE = 10000  # images per training batch file


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels last, Keras's default and the only layout minikeras has) and
    uint8 labels 0-9 of shape (50000, 1) and (10000, 1)."""
    path = get_file(fname="cifar-10-batches-py-target", origin=_ORIGIN, extract=True,
                    file_hash=_FILE_HASH)
    path = os.path.join(path, "cifar-10-batches-py")  # the batches are in an inner folder

    num_train_samples = 5 * _BATCH_SIZE
    x_train = np.empty((num_train_samples, 3, 32, 32), dtype="uint8")
    y_train = np.empty((num_train_samples,), dtype="uint8")
    for i in range(1, 6):
        rows = slice((i - 1) * _BATCH_SIZE, i * _BATCH_SIZE)
        x_train[rows], y_train[rows] = load_batch(os.path.join(path, f"data_batch_{i}"))
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))

    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    x_train = x_train.transpose(0, 2, 3, 1)  # (n, 3, 32, 32) -> (n, 32, 32, 3)
    x_test = x_test.transpose(0, 2, 3, 1)
    x_test = x_test.astype(x_train.dtype)
    y_test = y_test.astype(y_train.dtype)
    return (x_train, y_train), (x_test, y_test)
