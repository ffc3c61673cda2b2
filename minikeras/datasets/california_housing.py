"""California Housing (StatLib, 1990 US census): 20,640 block groups, 8 features each (MedInc,
HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude), target the median house
value in dollars."""

import numpy as np

from minikeras.datasets._common import check_test_split, shuffle_and_split
from minikeras.utils.file_utils import get_file

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
_FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"  # sha256


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: x of shape (num_samples, 8), y of shape
    (num_samples,). ``version="small"`` keeps the first 600 rows (a stand-in for Boston Housing);
    ``"large"`` all 20,640. The rows are shuffled with ``seed``, then the last ``test_split``
    fraction is for testing."""
    check_test_split(test_split)
    path = get_file(path, origin=_ORIGIN, file_hash=_FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    return shuffle_and_split(x, y, test_split, seed)
