"""Discretization: bucket continuous values into bins (``keras.layers.Discretization``)."""

import numpy as np

from minikeras import backend
from minikeras.layers.preprocessing.data_layer import (
    DataLayer,
    iter_batches,
    untracked,
    validate_string_arg,
)
from minikeras.layers.preprocessing.encoding import encode_categorical_inputs


class Discretization(DataLayer):
    """Maps each value to the index of its bin: with ``bin_boundaries=[0., 1.]`` the bins are
    ``(-inf, 0)``, ``[0, 1)``, ``[1, inf)``, so ``[-1, 0, 0.5, 1, 2] -> [0, 1, 1, 2, 2]``
    (``np.digitize``; int32). ``output_mode="one_hot"|"multi_hot"|"count"`` encodes the bin
    indices over ``len(bin_boundaries) + 1`` bins (float32).

    ``adapt(data)`` with ``num_bins`` finds boundaries at the quantiles ``1/num_bins``,
    ``2/num_bins``... with Keras's approximate-quantile summary (precision ``epsilon``): the data
    is sorted, sampled every ``max(n * epsilon, 1)`` values, and the cumulative weights are
    interpolated (``np.interp``) at the quantiles.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)
        if sparse and output_mode == "int":
            raise ValueError("`sparse=True` may only be used if `output_mode` is "
                             "`'one_hot'`, `'multi_hot'`, or `'count'`. Received: "
                             f"sparse={sparse} and output_mode={output_mode}")
        if sparse:
            raise NotImplementedError("Discretization: `sparse=True` is not implemented in "
                                      "minikeras (it has no sparse tensors).")
        validate_string_arg(output_mode, ("int", "one_hot", "multi_hot", "count"),
                            "Discretization", "output_mode")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")
        self._output_dtype = self.dtype if output_mode != "int" else "int32"

    def adapt(self, data, steps=None):
        """Learn ``num_bins`` bins from ``data`` (an array, or batches of a PyDataset /
        iterable)."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        self.reset_state()
        batches = iter_batches(data, steps)
        for batch in [data] if batches is None else batches:
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        data = np.array(data).astype("float32")
        self.summary = merge_summaries(summarize(data, self.epsilon), self.summary,
                                       self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = get_bin_boundaries(self.summary, self.num_bins).tolist()

    def reset_state(self):
        if self.num_bins is None:
            return
        self.summary = np.array([[], []], dtype="float32")

    def _convert_input(self, inputs):
        x = super()._convert_input(inputs)
        if x.dtype.kind not in "iufb":
            raise TypeError(f"Layer '{self.name}' (Discretization) expects numbers, but received "
                            f"dtype {x.dtype} (first values: {x.ravel()[:3].tolist()}).")
        return x.astype(backend.floatx())

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             "using the `Discretization` layer.")
        boundaries = np.asarray(self.bin_boundaries, dtype=np.asarray(inputs).dtype)
        indices = np.digitize(inputs, boundaries)
        return untracked(encode_categorical_inputs(
            indices, self.output_mode, len(self.bin_boundaries) + 1, self._output_dtype))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = (len(self.bin_boundaries) + 1 if self.bin_boundaries is not None
                 else self.num_bins)
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return tuple(input_shape[:-1]) + (depth,)
            return tuple(input_shape) + (depth,)
        if input_shape and len(input_shape) >= 2:
            return (input_shape[0],) + tuple(input_shape[2:]) + (depth,)
        return (depth,)

    def get_build_config(self):
        shape = getattr(self, "_build_input_shape", None)
        return None if shape is None else {"input_shape": tuple(shape)}

    def build_from_config(self, config):
        self.build(config.get("input_shape"))

    def load_own_variables(self, store):
        if len(store) == 1:
            self.summary = store["0"]

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            config = dict(config)
            bin_boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = bin_boundaries
            return layer
        return cls(**config)


def summarize(values, epsilon):
    """A weighted sample of the sorted values: every ``step = max(n * epsilon, 1)``-th value,
    each standing for ``step`` values (row 0: values, row 1: weights)."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def get_bin_boundaries(summary, num_bins):
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


def compress_summary(summary, epsilon):
    """Re-sample the summary at the quantiles ``epsilon, 2 epsilon, ..., 1`` by interpolating
    the cumulative weights (Keras's ``compress_summary``)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")
