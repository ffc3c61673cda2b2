"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing (Zalando SE, MIT license).

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
8 Bag, 9 Ankle boot. The files are the original gzipped IDX files: a label file is an 8-byte
header then one byte per label; an image file is a 16-byte header then 28*28 bytes per image.
"""

import os

import numpy as np

from minikeras.utils.file_utils import get_file

_ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
          "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and
    (10000, 28, 28), uint8 labels 0-9 of shape (60000,) and (10000,).

    As in Keras, the files are cached in ``~/.keras/datasets/fashion-mnist`` without a hash check
    (Keras publishes none for them).
    """
    import gzip  # imported here, not at the top: ``import minikeras`` stays fast

    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(fname, origin=_ORIGIN_FOLDER + fname, cache_subdir=dirname)
             for fname in _FILES]
    with gzip.open(paths[0], "rb") as lbpath:
        y_train = np.frombuffer(lbpath.read(), np.uint8, offset=8)
    with gzip.open(paths[1], "rb") as imgpath:
        x_train = np.frombuffer(imgpath.read(), np.uint8, offset=16).reshape(len(y_train), 28, 28)
    with gzip.open(paths[2], "rb") as lbpath:
        y_test = np.frombuffer(lbpath.read(), np.uint8, offset=8)
    with gzip.open(paths[3], "rb") as imgpath:
        x_test = np.frombuffer(imgpath.read(), np.uint8, offset=16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
