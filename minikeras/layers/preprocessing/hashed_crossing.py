"""HashedCrossing: two categorical features -> one bin of their cross
(``keras.layers.HashedCrossing``, Keras's ``layers/preprocessing/hashed_crossing.py``)."""

from minikeras import backend
from minikeras.layers.preprocessing.data_layer import (
    DataLayer,
    to_numpy,
    untracked,
    validate_string_arg,
)
from minikeras.layers.preprocessing.encoding import encode_categorical_inputs
from minikeras.layers.preprocessing.hash_utils import cross_hash


class HashedCrossing(DataLayer):
    """The "hashing trick" for feature crosses: ``hash((feature_1, feature_2)) % num_bins``,
    exactly as Keras computes it with ``tf.sparse.cross_hashed``:

        h = 0xDECAFCAFFE                                       TensorFlow's default hash key
        h = FingerprintCat64(h, hash(feature_i))  for each feature, in order
        bin = h % num_bins

    where ``hash`` of an integer is its int64 bits, and of a string its FarmHash
    ``Fingerprint64`` (that of ``Hashing``). So ``HashedCrossing(5)((["A", "B"], [101, 101]))``
    gives Keras's bins ``[1, 4]``.

    Inputs: a list or tuple of (at least) two features of equal shape ``()``, ``(batch,)`` or
    ``(batch, 1)``, of integers or strings. ``output_mode="int"``: the bins, shaped as an
    input (int64 by default); ``"one_hot"``: ``(batch, num_bins)`` vectors (float32 by default;
    a scalar input gives ``(1, num_bins)``, as Keras's).

    ``sparse=True`` (a SparseTensor in Keras's one_hot mode) is not implemented in minikeras,
    which has no sparse tensors.
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype if dtype is not None else backend.floatx(),
                         **kwargs)
        validate_string_arg(output_mode, allowable_strings=("int", "one_hot"),
                            caller_name=type(self).__name__, arg_name="output_mode")
        if sparse and output_mode == "one_hot":
            raise NotImplementedError("HashedCrossing: `sparse=True` is not implemented in "
                                      "minikeras (it has no sparse tensors).")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def _convert_input(self, inputs):
        """Each feature as a NumPy array, after Keras's checks (a list of at least two dense
        features of one shape, ``()``, ``(batch,)`` or ``(batch, 1)``, integers or strings)."""
        if not isinstance(inputs, list | tuple):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of "
                             f"inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. "
                             f"Received: inputs={inputs}")
        features = [to_numpy(x, self.name) for x in inputs]
        shape = features[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             "`(batch_size)` or `(batch_size, 1)`. "
                             f"Received: inputs={_describe(features)}")
        if any(x.shape != shape for x in features[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. "
                             f"Received: inputs={_describe(features)}")
        if not all(_is_integer_or_string(x) for x in features):
            raise ValueError("All `HashedCrossing` inputs should have an integer or string "
                             f"dtype. Received: inputs={_describe(features)}")
        return features

    def call(self, inputs):
        bins = cross_hash(inputs, self.num_bins)
        return untracked(encode_categorical_inputs(bins, self.output_mode, self.num_bins,
                                                   self.dtype))

    def compute_output_shape(self, input_shape):
        if (len(input_shape) != 2 or not isinstance(input_shape[0], tuple | list)
                or not isinstance(input_shape[1], tuple | list)):
            raise ValueError("Expected as input a list/tuple of 2 tensors. "
                             f"Received input_shape={input_shape}")
        first, second = tuple(input_shape[0]), tuple(input_shape[1])
        if first[-1:] != second[-1:]:
            raise ValueError("Expected the two input tensors to have identical shapes. "
                             f"Received input_shape={input_shape}")
        if self.output_mode == "int":
            return first
        if not first:  # a scalar is one sample
            return (1, self.num_bins)
        if first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def get_config(self):
        """Keras writes these five only (its dtype as a plain string, no ``trainable``)."""
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}


def _is_integer_or_string(array):
    if array.dtype.kind in "iuSU":
        return True
    return array.dtype.kind == "O" and all(isinstance(v, str | bytes) for v in array.ravel())


def _describe(features):
    return [f"array(shape={x.shape}, dtype={x.dtype})" for x in features]
