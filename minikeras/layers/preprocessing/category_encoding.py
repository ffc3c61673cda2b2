"""CategoryEncoding: integer features -> one-hot, multi-hot or count vectors
(``keras.layers.CategoryEncoding``)."""

import numpy as np

from minikeras.layers.preprocessing.data_layer import DataLayer, untracked
from minikeras.layers.preprocessing.encoding import encode_categorical_inputs


class CategoryEncoding(DataLayer):
    """Encodes integers in ``[0, num_tokens)`` as vectors of length ``num_tokens``:

    - ``"multi_hot"`` (default): per sample (the last axis), 1 where an index occurs:
      ``[[0, 1], [2, 2]] -> [[1, 1, 0, 0], [0, 0, 1, 0]]``;
    - ``"one_hot"``: one vector per index (a last axis of size 1 is replaced);
    - ``"count"``: per sample, how often each index occurs; ``count_weights`` (same shape as
      the inputs) weighs each occurrence.

    Output dtype: the layer's dtype (float32), or that of ``count_weights``. Values outside
    ``[0, num_tokens)`` are dropped (count nowhere), as Keras's TensorFlow bincount drops them.
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise NotImplementedError("CategoryEncoding: `sparse=True` is not implemented in "
                                      "minikeras (it has no sparse tensors).")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError("`count_weights` is not used when `output_mode` is not "
                                 f"`'count'`. Received `count_weights={count_weights}`.")
            count_weights = np.asarray(count_weights, dtype=self.dtype)
        indices = np.asarray(inputs)
        if indices.dtype.kind not in "iufb":
            raise TypeError(f"Layer '{self.name}' (CategoryEncoding) expects integer inputs, "
                            f"but received dtype {indices.dtype} (first values: "
                            f"{indices.ravel()[:3].tolist()}).")
        return untracked(encode_categorical_inputs(indices, self.output_mode, self.num_tokens,
                                                   self.dtype, count_weights=count_weights))

    def compute_output_shape(self, input_shape):
        if input_shape is not None and len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return tuple(input_shape) + (self.num_tokens,)
            return tuple(input_shape[:-1]) + (self.num_tokens,)
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}
