"""Hashing: values -> one of ``num_bins`` bins by a string hash (``keras.layers.Hashing``)."""

import numpy as np

from minikeras import backend
from minikeras.layers.preprocessing.data_layer import DataLayer, untracked
from minikeras.layers.preprocessing.encoding import encode_categorical_inputs
from minikeras.layers.preprocessing.hash_utils import hash_bucket


class Hashing(DataLayer):
    """``bin = Fingerprint64(text) % num_bins``, FarmHash as in ``tf.strings.to_hash_bucket_fast``;
    with ``salt`` (an int or two), SipHash-2-4 keyed by it (``to_hash_bucket_strong``). The text
    is the string itself (UTF-8), or an integer written in decimal (floats are truncated to
    integers first), so ``Hashing(3)(["a", 12])`` equals Keras's bins exactly.

    ``mask_value``: inputs equal to it go to bin 0 and the others hash into bins
    ``1 .. num_bins - 1``. ``output_mode="int"`` (int64 bins), or ``"one_hot"``,
    ``"multi_hot"``, ``"count"`` over ``num_bins`` (float32).
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else backend.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError('When `output_mode="int"`, `dtype` should be an integer type, '
                             f"'int32' or 'in64'. Received: dtype={kwargs['dtype']}")
        accepted_output_modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in accepted_output_modes:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{accepted_output_modes}. Received: output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError('`sparse` may only be true if `output_mode` is `"one_hot"`, '
                             f'`"multi_hot"`, or `"count"`. Received: sparse={sparse} and '
                             f"output_mode={output_mode}")
        if sparse:
            raise NotImplementedError("Hashing: `sparse=True` is not implemented in minikeras "
                                      "(it has no sparse tensors).")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, tuple | list) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError("The `salt` argument for `Hashing` can only be a tuple of size "
                                 f"2 integers, or a single integer. Received: salt={salt}.")

    def call(self, inputs):
        values = np.asarray(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        return untracked(encode_categorical_inputs(
            self._hash_values_to_bins(values), self.output_mode, self.num_bins, self.dtype))

    def _hash_values_to_bins(self, values):
        hash_bins = self.num_bins
        mask = None
        if self.mask_value is not None and hash_bins > 1:
            hash_bins -= 1
            mask = values == self.mask_value
        if values.dtype.kind == "f":
            values = values.astype(np.int64)
        if values.dtype.kind in "iub":
            texts = values.astype(np.int64).astype(str).astype(object)
        elif values.dtype.kind in "USO":
            texts = values.astype(object)
        else:
            raise TypeError(f"Layer '{self.name}' (Hashing) cannot hash inputs of dtype "
                            f"{values.dtype}.")
        uniques, inverse = np.unique(texts.ravel(), return_inverse=True)
        buckets = np.array([hash_bucket(t, hash_bins, self.salt) for t in uniques],
                           dtype=np.int64)
        bins = buckets[inverse].reshape(values.shape)
        if mask is not None:
            bins = np.where(mask, 0, bins + 1)
        return bins

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}
