"""``keras.utils.to_categorical`` and ``normalize`` give the same arrays."""

import keras
import numpy as np
import pytest

import minikeras as mk


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 2, 1, 2], None), (np.array([[1], [0], [3]]), None), (np.array([[1], [0]]), 4),
    (np.zeros((2, 3), dtype=int), 5)])
def test_to_categorical(labels, num_classes):
    ours = mk.utils.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


# Keras 3.15 turns axis=0 into -1 (`axis = axis or -1`) after computing the norms along 0, so
# normalize(x, axis=0) fails there for non-square x; minikeras normalizes along axis 0.
@pytest.mark.parametrize("axis, order", [(-1, 2), (1, 2), (-1, 1)])
def test_normalize(axis, order):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(mk.utils.normalize(x, axis, order),
                               keras.utils.normalize(x, axis, order), rtol=1e-6, atol=1e-7)
