"""split_dataset: cut in-memory data into a left and a right part, e.g. train / test
(``keras.utils.split_dataset``); and the helpers the ``*_dataset_from_directory`` functions
share: indexing a folder of class folders, the ``validation_split`` / ``subset`` rules.

Keras returns two ``tf.data.Dataset`` objects; minikeras has no tf.data and returns the data
itself, in the shape it came in: an array gives two arrays, a tuple or a list of arrays (x, y, ...)
gives two tuples of arrays. The samples, their order and the errors are Keras's.
"""

import os
import random

import numpy as np

from minikeras.utils.io_utils import print_msg
from minikeras.utils.py_dataset import PyDataset


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


def check_labels_args(labels, label_mode, class_names, files, samples):
    """Keras's checks of ``labels``, ``class_names`` and ``label_mode`` in the
    ``*_dataset_from_directory`` functions (``files``: "image files", ...; ``samples``: what a
    dataset without labels holds)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, list | tuple):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as "
                f"the number of {files} in the target directory. If you wish to infer the "
                "labels from the subdirectory names in the target directory, pass "
                f'`labels="inferred"`. If you wish to get a dataset that only contains {samples} '
                f"(no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. Received: '
                             f"labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """The files under ``directory`` whose names end with one of ``formats`` (class folders in
    sorted order, files sorted within each), their labels and the class names; shuffled
    together with ``RandomState(seed)`` (Keras's ``dataset_utils.index_directory``)."""
    if labels == "inferred":
        subdirs = [subdir for subdir in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, subdir))
                   and not subdir.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of "
                    f"the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}")
            subdirs = class_names  # keep the order given
    else:
        subdirs = [""]  # no labels or given labels: index from the folder itself down
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot "
                                 "be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` cannot "
                             "be specified (the `class_names` will be the sorted list of labels).")
    class_names = subdirs
    formats = tuple(f.lower() for f in formats)
    filenames, inferred = [], []
    for index, subdir in enumerate(subdirs):
        dirpath = os.path.join(directory, subdir)
        walk = sorted(os.walk(dirpath, followlinks=follow_links), key=lambda x: x[0])
        for root, _, files in walk:
            for fname in sorted(files):
                if fname.lower().endswith(formats):
                    relative = os.path.relpath(os.path.join(root, fname), dirpath)
                    filenames.append(os.path.join(os.path.basename(dirpath), relative))
                    inferred.append(index)
    if labels == "inferred":
        labels = np.array(inferred, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} files "
                f"in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = list(labels)
    if verbose:
        if labels is None:
            print_msg(f"Found {len(filenames)} files.")
        else:
            print_msg(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, fname) for fname in filenames]
    if shuffle:
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def get_training_or_validation_split(samples, labels, validation_split, subset):
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - num_val_samples} files for training.")
        samples = samples[:-num_val_samples]
        labels = None if labels is None else labels[:-num_val_samples]
    elif subset == "validation":
        print_msg(f"Using {num_val_samples} files for validation.")
        samples = samples[-num_val_samples:]
        labels = None if labels is None else labels[-num_val_samples:]
    return samples, labels


class FilesDataset(PyDataset):
    """The batches of ``*_dataset_from_directory``: ``(samples, labels)`` read on demand from a
    list of files; ``read(path)`` makes one sample and ``stack(samples)`` a batch of them.
    Labels are int32, float32 (batch, 1) for "binary", one-hot for "categorical"; with
    ``batch_size=None`` each item is one sample."""

    def __init__(self, file_paths, labels, label_mode, num_classes, batch_size):
        super().__init__()
        self.file_paths = list(file_paths)
        self.labels = labels
        self.label_mode = label_mode
        self.num_classes = num_classes
        self.batch_size = batch_size
        self.class_names = None

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        size = self.batch_size or 1
        selected = slice(index * size, (index + 1) * size)
        samples = self.stack([self.read(path) for path in self.file_paths[selected]])
        if self.label_mode is None:
            return samples[0] if self.batch_size is None else samples
        labels = np.asarray(self.labels[selected], dtype="int32")
        if self.label_mode == "binary":
            labels = labels.astype("float32")[:, None]
        elif self.label_mode == "categorical":
            labels = np.eye(self.num_classes, dtype="float32")[labels]
        if self.batch_size is None:
            return samples[0], labels[0]
        return samples, labels

    def read(self, path):
        raise NotImplementedError

    def stack(self, samples):
        return samples
