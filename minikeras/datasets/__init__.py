"""``keras.datasets``: the small datasets of the Keras tutorials, as NumPy arrays.

Each module has ``load_data()``, which downloads the file once into ``~/.keras/datasets`` (with
``keras.utils.get_file``, checking Keras's sha256) and returns ``(x_train, y_train), (x_test,
y_test)`` exactly as Keras 3 does: same arrays, same dtypes, same seeded shuffles.

Files that Keras reads with ``pickle`` (CIFAR batches, the ragged sequences of IMDB and Reuters)
are read with a restricted unpickler that can only rebuild NumPy arrays (``npz_utils.py``):
loading a tampered file raises an error instead of running its code.
"""

from minikeras.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
