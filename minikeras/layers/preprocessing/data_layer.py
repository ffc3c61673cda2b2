"""DataLayer: the base of the preprocessing layers (lookups, encodings, bucketing, text).

These layers turn raw data (strings, integer ids, floats to bucket) into numbers a model can
learn from. They hold no trainable weights and are not differentiable: their outputs are plain
tensors with no place on the gradient tape (Keras's TensorFlow backend computes them with
``tf.lookup`` tables and ``tf.strings`` ops, which have no gradient either).

Unlike the other layers, their inputs are never cast to the layer's float dtype: strings stay
strings and integer ids stay integers, as in Keras, where these layers set
``_convert_input_args = False``.
"""

import numpy as np

from minikeras.layers.keras_tensor import any_symbolic
from minikeras.layers.layer import Layer
from minikeras.tensor import ArrayLike, Tensor


class DataLayer(Layer):
    """A layer whose ``call`` works on NumPy arrays of any dtype and returns untracked tensors.

    Subclasses set ``_output_dtype`` (the dtype Keras's ``compute_output_spec`` gives), which is
    also the dtype of the KerasTensor returned when the layer is called on ``keras.Input``.
    """

    _output_dtype = None  # None: the layer's dtype

    def _convert_input(self, inputs):
        """The input as a NumPy array, strings and integers left as they are."""
        return to_numpy(inputs, self.name)

    def _symbolic_call(self, inputs, args, training, kwargs):
        outputs = super()._symbolic_call(inputs, args, training, kwargs)
        outputs.dtype = self._output_dtype or self.dtype
        return outputs

    def build(self, input_shape=None):
        self.built = True

    def _adapt_batches(self, data, steps, as_array):
        """What ``adapt`` does (Keras's order): ``reset_state``, ``update_state`` on each batch
        (one array or list is one batch, ``as_array`` converts it and a 1-D one becomes a
        column), then ``finalize_state``."""
        self.reset_state()
        batches = iter_batches(data, steps)
        if batches is None:
            data = as_array(data)
            self.update_state(data[:, None] if data.ndim == 1 else data)
        else:
            for batch in batches:
                self.update_state(batch)
        self.finalize_state()

    def __call__(self, inputs, *args, **kwargs):
        if not self.built and not any_symbolic(inputs):
            self._built_by_data = True
        try:
            return super().__call__(inputs, *args, **kwargs)
        finally:
            self.__dict__.pop("_built_by_data", None)

    def _build_for(self, input_shape):
        super()._build_for(input_shape)
        by_data = self.__dict__.get("_built_by_data", False)
        self._recorded_build_shape = None if by_data else tuple(input_shape)

    def get_build_config(self):
        """What Keras records once built: ``{"input_shape": shape}`` when built by a
        ``keras.Input`` (or in a model), ``{"input_shape": None}`` when built by a call on data
        (Keras does not convert these layers' inputs to tensors, so it keeps no shape)."""
        if not self.built:
            return None
        return {"input_shape": getattr(self, "_recorded_build_shape", None)}

    def build_from_config(self, config):
        self.build(None)


def to_numpy(inputs, layer_name="layer"):
    """``inputs`` (a tensor, an array, a list, a Python scalar or string) as a NumPy array.

    Python strings, ``bytes`` and lists of them become object arrays, so NumPy does not clip
    them to a fixed width; strings of arrays are kept as they are.
    """
    if isinstance(inputs, ArrayLike):
        return np.asarray(inputs._value)
    if isinstance(inputs, np.ndarray):
        return inputs
    if isinstance(inputs, str | bytes):
        return np.array(inputs, dtype=object)
    try:
        array = np.asarray(inputs)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"Layer '{layer_name}' received an input it cannot turn into an "
                         f"array (rows of different lengths?): {error}") from None
    if array.dtype.kind in "US":
        array = np.asarray(inputs, dtype=object)
    return array


def untracked(value):
    """A result with no gradient: preprocessing layers are not differentiable."""
    return Tensor(np.asarray(value))


def to_str_array(array, encoding="utf-8"):
    """An object array of Python ``str``: bytes are decoded with ``encoding``, NumPy ``str_``
    becomes ``str`` (as ``tf.string`` tensors hold UTF-8 bytes)."""
    array = np.asarray(array)
    if array.dtype.kind == "U":
        return array.astype(object)
    if array.dtype.kind == "S":
        return np.char.decode(array, encoding).astype(object)
    if array.dtype.kind != "O":
        raise TypeError(f"Expected strings, but received an array of dtype {array.dtype} "
                        f"(first values: {array.ravel()[:3].tolist()}).")
    flat = [x.decode(encoding) if isinstance(x, bytes) else x for x in array.ravel()]
    bad = [x for x in flat if not isinstance(x, str)]
    if bad:
        raise TypeError(f"Expected strings, but received {type(bad[0]).__name__} values "
                        f"(first: {bad[0]!r}).")
    out = np.empty(array.shape, dtype=object)
    out.ravel()[:] = flat if flat else []
    return out


def iter_batches(data, steps=None):
    """The batches of ``data`` to adapt on, or None when ``data`` is one array.

    Lists, tuples, arrays and tensors are one batch (as in Keras); a ``PyDataset`` (the
    minikeras stand-in for ``tf.data.Dataset``), a generator or any other iterable yields
    batches, each an array or an ``(x, y)`` / ``(x, y, sample_weight)`` tuple whose ``x`` is
    used, up to ``steps`` of them.
    """
    if isinstance(data, list | tuple | np.ndarray | ArrayLike | str | bytes):
        return None
    if hasattr(data, "num_batches") and hasattr(data, "__getitem__"):  # a PyDataset
        count = data.num_batches
        indices = range(count if steps is None else min(count, steps))
        batches = (data[i] for i in indices)
    elif hasattr(data, "__iter__"):
        batches = iter(data)
        if steps is not None:
            batches = (b for _, b in zip(range(steps), batches, strict=False))
    else:
        raise TypeError(f"Unsupported data type for adapt(): {type(data).__name__}. Pass an "
                        f"array, a list, a PyDataset or an iterable of batches.")
    return (b[0] if isinstance(b, tuple) and len(b) in (2, 3) else b for b in batches)


def validate_string_arg(value, allowable_strings, caller_name, arg_name, allow_none=False,
                        allow_callables=False):
    """Keras's check of a string argument, with its message."""
    if allow_none and value is None:
        return
    if allow_callables and callable(value):
        return
    if isinstance(value, str) and value in allowable_strings:
        return
    raise ValueError(f"Unknown value for `{arg_name}` argument of {caller_name}. Allowed values "
                     f"are: {allowable_strings}. Received: {arg_name}={value}")
