"""``to_categorical`` and ``normalize``."""

import numpy as np
import pytest

from minikeras.utils import normalize, to_categorical


def test_to_categorical():
    out = to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float64 and out.shape == (4, 3)  # as Keras
    np.testing.assert_array_equal(out.argmax(axis=1), [0, 2, 1, 2])
    assert to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    assert to_categorical(np.zeros((2, 3), dtype=int), 5).shape == (2, 3, 5)
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        to_categorical([0, 3], num_classes=2)
    with pytest.raises(ValueError, match="non-negative"):
        to_categorical([-1, 0])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[1.0, 1.0], [0.0, 0.0]])
