"""Boston Housing (StatLib, CMU): 506 districts, 13 features each, target the median house value
in k$.

WARNING, as in Keras: the dataset includes a variable "B" that may appear to assume that racial
self-segregation influences house prices; use it only to illustrate ethical issues in data
science. ``california_housing.load_data(version="small")`` is a replacement.
"""

import numpy as np

from minikeras.datasets._common import check_test_split, shuffle_and_split
from minikeras.utils.file_utils import get_file

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
_FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"  # sha256


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: x of shape (num_samples, 13), y of shape
    (num_samples,), float64 as stored. The rows are shuffled with ``seed`` before the last
    ``test_split`` fraction is cut off for testing (404 / 102 rows by default)."""
    check_test_split(test_split)
    path = get_file(path, origin=_ORIGIN, file_hash=_FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_and_split(x, y, test_split, seed)
