"""Turning ``fit(x, y, ...)`` arguments into batches ``(x, y, sample_weight)``.

Arrays (and lists) are cut into ``ceil(n / batch_size)`` batches, the last one partial, shuffled
anew each epoch when asked. A model with several inputs (or outputs) takes a list or a dict of
arrays, all with the same number of samples, cut alike. Python generators and iterators are read
batch by batch as given.
"""

import itertools
import math

import numpy as np

from minikeras import backend
from minikeras.ops.core import string_array
from minikeras.utils import tree
from minikeras.utils.random import make_rng


def to_array(data, name):
    """``data`` as a NumPy array; float data is converted to ``floatx`` once, up front.

    The inputs ``x`` may also be strings (a list of str, a NumPy unicode, bytes or object
    array): they become an object array of ``str`` (``ops.core.string_array``), which the
    model hands to its preprocessing layers (TextVectorization, StringLookup...). Targets and
    sample weights must be numbers.
    """
    if data is None:
        return None
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        array = _strings_or_raise(data, array, name)
    elif array.dtype.kind == "f" and backend.dtype_name(array.dtype) != backend.floatx():
        array = array.astype(backend.floatx())
    if array.ndim == 0:
        raise ValueError(f"`{name}` must be an array with a batch dimension, got a scalar.")
    return array


def _strings_or_raise(data, array, name):
    first = array.ravel()[:3].tolist()
    if name.split("[")[0] != "x" or array.dtype.kind not in "USO":  # only inputs are strings
        raise TypeError(f"`{name}` must hold numbers, but it has dtype {array.dtype} "
                        f"(first values: {first}).")
    try:
        return string_array(data if isinstance(data, np.ndarray) else array)
    except TypeError as error:
        raise TypeError(f"`{name}` must hold numbers or strings, but it has dtype "
                        f"{array.dtype} (first values: {first}): {error}") from None


def _is_strings(data):
    return isinstance(data, list | tuple) and all(isinstance(v, str | bytes) for v in data)


def to_arrays(data, name):
    """``to_array`` for one array, or for each array of a list or dict of arrays (the data of a
    model with several inputs or outputs); a list of one array is that array. A list of
    strings is one array of texts."""
    if isinstance(data, dict):
        return {key: to_array(value, f"{name}['{key}']") for key, value in data.items()}
    if isinstance(data, list | tuple) and data and all(hasattr(d, "shape") for d in data) and (
            not _is_strings(data)):
        if len(data) == 1:
            return to_array(data[0], name)
        return [to_array(d, f"{name}[{i}]") for i, d in enumerate(data)]
    return to_array(data, name)


def num_samples(data):
    """The number of samples in an array, or in a list or dict of arrays (which must agree)."""
    if isinstance(data, np.ndarray):
        return len(data)
    sizes = [len(array) for array in tree.flatten(data)]
    if len(set(sizes)) > 1:
        raise ValueError(f"Data cardinality is ambiguous: the arrays have sizes {sizes}. Make "
                         f"sure all arrays contain the same number of samples.")
    return sizes[0]


def _take(data, index):
    """The rows ``index`` (a slice, or an array of row numbers) of an array or a structure."""
    if data is None:
        return None
    if isinstance(data, np.ndarray):
        return _rows(data, index)
    return tree.map_structure(lambda array: _rows(array, index), data)


def _rows(array, index):
    # ``take`` gathers rows 4x faster than ``array[index]``, which first parses the index
    return array[index] if isinstance(index, slice) else array.take(index, axis=0)


def is_iterator(data):
    return hasattr(data, "__next__") or (hasattr(data, "__iter__") and not hasattr(
        data, "__len__"))


class ArrayData:
    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 steps=None):
        self.x = to_arrays(x, "x")
        self.y = to_arrays(y, "y")
        self.sample_weight = to_arrays(sample_weight, "sample_weight")
        n = num_samples(self.x)
        if n == 0:
            raise ValueError(f"Expected a non-empty `x`, but received x with shape "
                             f"{tree.map_structure(np.shape, self.x)}.")
        for name, other in (("y", self.y), ("sample_weight", self.sample_weight)):
            if other is not None and num_samples(other) != n:
                raise ValueError(
                    f"Data cardinality is ambiguous: x sizes: {n}, {name} sizes: "
                    f"{num_samples(other)}. "
                    f"Make sure all arrays contain the same number of samples.")
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        self.num_samples = n
        self.num_batches = math.ceil(n / self.batch_size)
        if steps is not None:
            self.num_batches = min(self.num_batches, steps)
        self._rng = make_rng()

    @property
    def static_batch_size(self):
        """The batch size when every batch has it (no smaller last batch), else None."""
        return self.batch_size if self.num_samples % self.batch_size == 0 else None

    def batches(self):
        """The epoch's batches. Shuffled data up to ``_GATHER_ALL_BYTES`` is reordered with one
        gather, then cut into views; larger data is gathered a batch at a time."""
        x, y, w = self.x, self.y, self.sample_weight
        order = self._rng.permutation(self.num_samples) if self.shuffle else None
        if order is not None and _nbytes((x, y, w)) <= _GATHER_ALL_BYTES:
            x, y, w = _take(x, order), _take(y, order), _take(w, order)
            order = None
        for step in range(self.num_batches):
            start, stop = step * self.batch_size, (step + 1) * self.batch_size
            index = slice(start, stop) if order is None else order[start:stop]
            yield _take(x, index), _take(y, index), _take(w, index)


_GATHER_ALL_BYTES = 1 << 24  # 16 MiB: the one-gather shuffle holds a second copy of the data


def _nbytes(data):
    return sum(array.nbytes for array in tree.flatten(data) if array is not None)


class IteratorData:
    """Batches from a generator: each item is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)``."""

    def __init__(self, iterator, steps=None):
        self.iterator = iter(iterator)
        self.num_batches = steps

    def batches(self):
        count = 0
        while self.num_batches is None or count < self.num_batches:
            try:
                item = next(self.iterator)
            except StopIteration:
                return
            count += 1
            item = item if isinstance(item, tuple) else (item,)
            x, y, w = (*item, None, None)[:3]
            yield to_arrays(x, "x"), to_arrays(y, "y"), to_arrays(w, "sample_weight")


def py_dataset_data(dataset, y=None, sample_weight=None, **options):
    """``PyDatasetData`` for ``fit``/``evaluate``/``predict``, which take the targets and weights
    from the dataset itself."""
    for name, value, what in (("y", y, "the targets"),
                              ("sample_weights", sample_weight, "the sample weights")):
        if value is not None:
            raise ValueError(f"When providing `x` as a PyDataset, `{name}` should not be passed. "
                             f"Instead, {what} should be included as part of the PyDataset.")
    return PyDatasetData(dataset, **options)


class PyDatasetData:
    """Batches from a ``keras.utils.PyDataset``: ``dataset[i]`` for each index, in a new random
    order each epoch when shuffling, between the dataset's ``on_epoch_begin`` and
    ``on_epoch_end``. An endless dataset (``num_batches`` None) runs ``steps`` batches."""

    def __init__(self, dataset, shuffle=False, steps=None, class_weight=None):
        self.dataset = dataset
        self.shuffle = shuffle
        self.class_weight = class_weight
        count = dataset.num_batches
        self.num_batches = steps if count is None else min(count, steps or count)
        self._rng = make_rng()

    def batches(self):
        self.dataset.on_epoch_begin()
        count = self.dataset.num_batches
        if count is None:
            indices = itertools.count()
        else:
            indices = self._rng.permutation(count) if self.shuffle else range(count)
        for index in itertools.islice(indices, self.num_batches):
            x, y, w = self._unpack(self.dataset[int(index)])
            yield to_arrays(x, "x"), to_arrays(y, "y"), to_arrays(w, "sample_weight")
        self.dataset.on_epoch_end()

    def _unpack(self, batch):
        if isinstance(batch, np.ndarray | dict):  # inputs only (a dict: inputs by name)
            batch = (batch,)
        if not isinstance(batch, tuple | list) or len(batch) not in (1, 2, 3):
            raise ValueError(
                "PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it must be "
                "ordered either (input,) or (inputs, targets) or (inputs, targets, "
                f"sample_weights). Received: {str(batch)[:100]}... of type {type(batch)}")
        x, y, w = (*batch, None, None)[:3]
        if self.class_weight is not None:
            if w is not None:
                raise ValueError(
                    "You cannot specify `class_weight` and `sample_weight` at the same time.")
            w = class_weight_to_sample_weights(y, self.class_weight)
        return x, y, w


def train_validation_split(arrays, validation_split):
    """Keras's split: the last ``n - floor(n * (1 - validation_split))`` samples, unshuffled."""
    n = num_samples(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    train = tuple(_take(a, slice(None, split_at)) for a in arrays)
    val = tuple(_take(a, slice(split_at, None)) for a in arrays)
    return train, val


def class_weight_to_sample_weights(y, class_weight):
    """One weight per sample: ``class_weight[label]`` (argmax for one-hot rows), else 1."""
    for key in class_weight:
        if isinstance(key, bool) or not isinstance(key, int | np.integer) or key < 0:
            raise ValueError(f"`class_weight` keys must be class indices (non-negative "
                             f"integers). Received key {key!r} in class_weight={class_weight}")
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] != 1:
        num_classes = y.shape[-1]
        labels = np.argmax(y, axis=-1)
    else:
        labels = np.round(y.reshape(len(y), -1)[:, 0]).astype("int64")
        num_classes = max(int(labels.max()) + 1, 2) if labels.size else 2
    bad = [k for k in class_weight if k >= num_classes]
    if bad:
        raise ValueError(f"`class_weight` has keys {bad} that are not classes: the labels "
                         f"have {num_classes} classes (0 to {num_classes - 1}).")
    table = np.ones(num_classes, dtype=backend.floatx())
    for key, weight in class_weight.items():
        table[key] = weight
    return table[labels]
