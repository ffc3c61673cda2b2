"""split_dataset: cut in-memory data into a left and a right part, e.g. train / test
(``keras.utils.split_dataset``).

Keras returns two ``tf.data.Dataset`` objects; minikeras has no tf.data and returns the data
itself, in the shape it came in: an array gives two arrays, a tuple or a list of arrays (x, y, ...)
gives two tuples of arrays. The samples, their order and the errors are Keras's.
"""

import random

import numpy as np


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split ``dataset`` (an array, or a tuple/list of arrays of the same length).

    ``left_size``/``right_size``: a float in ``(0, 1)`` is a fraction of the samples (rounded), an
    int a number of samples; ``None`` means the rest. The left part is the first ``left_size``
    samples and the right part the *last* ``right_size``: when they add up to less than the total,
    the samples in between are dropped. ``shuffle=True`` first shuffles the samples as Keras
    does, with Python's ``random`` seeded with ``seed`` (the same order for the same seed).
    """
    if isinstance(dataset, tuple):
        kind = tuple
    elif isinstance(dataset, list):
        kind = list
    elif isinstance(dataset, np.ndarray):
        kind = np.ndarray
    else:
        raise TypeError(
            "The `dataset` argument must be eithera `tf.data.Dataset` object, ora list/tuple of "
            f"arrays. Received: dataset={dataset} of type {type(dataset)}")
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    samples = _to_list_of_samples(dataset, kind)
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(samples)  # the order of random.seed(seed); random.shuffle
    total_length = len(samples)
    left_size, right_size = _rescale_dataset_split_sizes(left_size, right_size, total_length)
    left = _from_list_of_samples(samples[:left_size], kind)
    right = _from_list_of_samples(samples[-right_size:], kind)
    return left, right


def _to_list_of_samples(dataset, kind):
    if kind is np.ndarray:
        samples = list(dataset)
    else:
        name = kind.__name__
        if len(dataset) == 0:
            raise ValueError(f"Received an empty list dataset. Please provide a non-empty {name} "
                             "of arrays.")
        expected_shape = None
        for i, element in enumerate(dataset):
            if not isinstance(element, np.ndarray):
                raise ValueError(f"Expected a {name} of `numpy.ndarray` objects,Received: "
                                 f"{type(element)} at index {i}.")
            if expected_shape is None:
                expected_shape = element.shape
            elif element.shape[0] != expected_shape[0]:
                raise ValueError(
                    f"Received a {name} of NumPy arrays with different lengths.Mismatch found "
                    f"at index {i}, Expected shape={expected_shape} Received shape="
                    f"{element.shape}.Please provide a {name} of NumPy arrays of the same "
                    "length.")
        samples = list(zip(*dataset, strict=True))
    if not samples:
        raise ValueError("Received an empty dataset. Argument `dataset` must be a non-empty "
                         "list/tuple of `numpy.ndarray` objects or `tf.data.Dataset` objects.")
    first = samples[0]
    if isinstance(first, np.ndarray):
        for i, sample in enumerate(samples[1:]):
            if np.shape(sample) != first.shape:
                raise ValueError(f"All `dataset` samples must have same shape, Expected shape: "
                                 f"{first.shape} Received shape: {np.shape(sample)} at index "
                                 f"{i}.")
    return samples


def _from_list_of_samples(samples, kind):
    if kind is np.ndarray:
        return np.array(samples)
    return tuple(np.array(column) for column in zip(*samples, strict=True))


def _rescale_dataset_split_sizes(left_size, right_size, total_length):
    """The two sizes as sample counts (Keras's checks and messages; an int size must be a Python
    int, a fraction a Python float)."""
    left_size_type, right_size_type = type(left_size), type(right_size)
    if (left_size is not None and left_size_type not in [int, float]) and (
            right_size is not None and right_size_type not in [int, float]):
        raise TypeError(
            "Invalid `left_size` and `right_size` Types. Expected: integer or float or None, "
            f"Received: type(left_size)={left_size_type} and "
            f"type(right_size)={right_size_type}")
    if left_size is not None and left_size_type not in [int, float]:
        raise TypeError("Invalid `left_size` Type. Expected: int or float or None, Received: "
                        f"type(left_size)={left_size_type}.  ")
    if right_size is not None and right_size_type not in [int, float]:
        raise TypeError("Invalid `right_size` Type. Expected: int or float or None,Received: "
                        f"type(right_size)={right_size_type}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split "
                         "sizes must be non-zero.")
    if (left_size_type is int and (left_size <= 0 or left_size >= total_length)
            or left_size_type is float and (left_size <= 0 or left_size >= 1)):
        raise ValueError(
            f"`left_size` should be either a positive integer smaller than {total_length}, or a "
            f"float within the range `[0, 1]`. Received: left_size={left_size}")
    if (right_size_type is int and (right_size <= 0 or right_size >= total_length)
            or right_size_type is float and (right_size <= 0 or right_size >= 1)):
        raise ValueError(
            f"`right_size` should be either a positive integer and smaller than {total_length} "
            f"or a float within the range `[0, 1]`. Received: right_size={right_size}")
    if right_size_type is left_size_type is float and right_size + left_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be "
                         "less than or equal to 1.")
    if left_size_type is float:
        left_size = round(left_size * total_length)
    elif left_size_type is int:
        left_size = float(left_size)  # as Keras: the messages below then show e.g. 3.0
    if right_size_type is float:
        right_size = round(right_size * total_length)
    elif right_size_type is int:
        right_size = float(right_size)
    if left_size is None:
        left_size = total_length - right_size
    elif right_size is None:
        right_size = total_length - left_size
    if left_size + right_size > total_length:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total_length}. "
            f"Received: left_size + right_size = {left_size + right_size}and total_length = "
            f"{total_length}")
    for split, side in [(left_size, "left"), (right_size, "right")]:
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total_length}, `left_size`={left_size} and "
                f"`right_size`={right_size}.Resulting {side} side dataset split will be "
                "empty. Adjust any of the aforementioned parameters")
    return int(left_size), int(right_size)
