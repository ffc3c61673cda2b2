"""IndexLookup: the vocabulary table shared by StringLookup, IntegerLookup and
TextVectorization (Keras's ``layers/preprocessing/index_lookup.py``, not exported).

The vocabulary is laid out as Keras lays it out::

    index:  0             1 .. num_oov_indices      then the learned tokens, most frequent first
    token:  mask_token    oov_token (repeated)      ...
            (only with a mask_token and output_mode="int")

``adapt`` counts every token and keeps the ``max_tokens - (number of special tokens)`` most
frequent; ties go to the token that sorts *last* (Keras sorts by ``(count, token)`` and reverses).
An out-of-vocabulary input maps to the OOV index (``num_oov_indices=1``), to one of several OOV
indices (``num_oov_indices > 1``: ``value mod num_oov_indices`` for integers, a FarmHash64
fingerprint of the string mod ``num_oov_indices`` for strings), or is an error
(``num_oov_indices=0``). The mask token maps to 0 in ``"int"`` mode and is dropped in the
other modes.

Keras keeps the table in ``tf.lookup`` hash tables; here it is a Python list and a dict.
"""

import collections
import math
import os

import numpy as np

from minikeras import backend
from minikeras.layers.preprocessing.data_layer import (
    DataLayer,
    to_numpy,
    to_str_array,
    untracked,
    validate_string_arg,
)
from minikeras.layers.preprocessing.encoding import encode_categorical_inputs
from minikeras.layers.preprocessing.hash_utils import hash_bucket

_INT64_MAX = np.iinfo(np.int64).max


class IndexLookup(DataLayer):
    """Maps values from a vocabulary to integer indices (or back, with ``invert=True``).

    ``output_mode``: ``"int"`` (the indices, int64), ``"one_hot"``, ``"multi_hot"``,
    ``"count"`` (int64 vectors of the vocabulary size; ``pad_to_max_tokens=True`` pads them to
    ``max_tokens``) or ``"tf_idf"`` (float32: count x idf weight, with
    ``idf = log(1 + num_documents / (1 + documents containing the token))`` learned by
    ``adapt``; OOV gets the mean idf).
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. Received: "
                             f"max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. Received: "
                             f"num_oov_indices={num_oov_indices}")
        validate_string_arg(oov_method, ("floormod", "farmhash"), type(self).__name__,
                            "oov_method")
        output_mode = standardize_output_mode(output_mode, type(self).__name__)
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. Received: "
                             f"output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError("`sparse` may only be true if `output_mode` is `'one_hot'`, "
                             "`'multi_hot'`, `'count'` or `'tf_idf'`. Received: "
                             f"sparse={sparse} and output_mode={output_mode}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        vocabulary_dtype = "string" if vocabulary_dtype in ("string", str) else str(
            np.dtype(vocabulary_dtype))
        if salt is not None:
            if vocabulary_dtype != "string" and oov_method != "farmhash":
                raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                                 f"Received: oov_method={oov_method}")
            if isinstance(salt, tuple | list) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError("The `salt` argument for `IndexLookup` can only be a tuple of "
                                 f"2 integers, or a single integer. Received: salt={salt}.")
        if sparse:
            raise NotImplementedError(f"{type(self).__name__}: `sparse=True` is not implemented "
                                      f"in minikeras (it has no sparse tensors).")
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary",
                                                vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._output_dtype = "int64" if output_mode == "int" else backend.floatx()
        self._tokens = []  # the learned tokens, in index order (after the special tokens)
        self._index = {}  # token -> index
        self.idf_weights = None
        if output_mode == "tf_idf":
            if self._has_input_vocabulary and idf_weights is None:
                raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output "
                                 "mode, the `idf_weights` argument must also be provided.")
            if idf_weights is not None:
                self.idf_weights = np.asarray(idf_weights, dtype=backend.floatx())
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.reset_state()

    # --- the vocabulary -------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The size of the vocabulary, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order: ``vocabulary[i]`` is the token of index ``i`` (with
        ``include_special_tokens=False``, only the learned tokens)."""
        vocab = ([self.mask_token] * self._oov_start_index()
                 + [self.oov_token] * self.num_oov_indices + list(self._tokens))
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (and, in ``"tf_idf"`` mode, the idf weights).

        ``vocabulary``: a list, tuple or 1-D array of unique tokens, or the path of a text file
        with one token per line. It may start with the special tokens in their places
        (``[mask_token] + [oov_token] * num_oov_indices``); otherwise they are put in front.
        """
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            if not os.path.exists(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary "
                                 "from file.")
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            self._set_tokens(self._as_tokens(lines))
            self._record_vocabulary_size()
            return
        vocabulary = self._as_tokens(to_numpy(vocabulary, self.name).ravel()
                                     if not isinstance(vocabulary, list | tuple)
                                     else list(vocabulary))
        if len(vocabulary) == 0:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary="
                             f"{vocabulary}")
        token_start = self._token_start_index()
        special_tokens = ([self.mask_token] * self._oov_start_index()
                          + [self.oov_token] * self.num_oov_indices)
        found_special_tokens = vocabulary[:token_start] == special_tokens
        tokens = vocabulary[token_start:] if found_special_tokens else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: {repeated}")
        for kind, token, check in (("mask", self.mask_token, True),
                                   ("OOV", self.oov_token, self.invert)):
            if check and token is not None and token in tokens:
                index = len(vocabulary) - 1 - vocabulary[::-1].index(token)
                raise ValueError(
                    f"Found reserved {kind} token at unexpected location in `vocabulary`. "
                    f"Note that passed `vocabulary` does not need to include the OOV and mask "
                    f"tokens. Either remove all mask and OOV tokens, or include them only at "
                    f"the start of the vocabulary in precisely this order: {special_tokens}. "
                    f"Received: {kind.lower()}_token={token} at vocabulary index [{index}]")
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {token_start + len(tokens)}; "
                             f"`max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        self._record_vocabulary_size()
        if self.output_mode == "tf_idf":
            idf_weights = np.asarray(idf_weights)
            if len(vocabulary) != len(idf_weights):
                raise ValueError("`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(idf_weights)}; len(vocabulary) is "
                                 f"{len(vocabulary)}")
            if idf_weights.ndim != 1:
                raise ValueError("TF-IDF data must be a 1-index array. Received: "
                                 f"idf_weights with shape {idf_weights.shape}")
            front = 0 if found_special_tokens else token_start
            front_value = 0 if found_special_tokens else np.average(idf_weights)
            back = (self.max_tokens - front - len(idf_weights)
                    if self.pad_to_max_tokens and self.max_tokens is not None else 0)
            self.idf_weights = np.pad(idf_weights, (front, back), "constant",
                                      constant_values=(front_value, 0)).astype(
                backend.floatx())

    def _as_tokens(self, values):
        """Vocabulary entries as Python ``str`` (decoded) or ``int``."""
        if self.vocabulary_dtype == "string":
            return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]
        return [int(v) for v in values]

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {token: start + i for i, token in enumerate(self._tokens)}

    def _record_vocabulary_size(self):
        new_size = self.vocabulary_size()
        if (self.output_mode != "int" and not self.pad_to_max_tokens
                and self._frozen_vocab_size is not None and new_size != self._frozen_vocab_size):
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                f"the vocabulary size cannot be changed after the layer is called. Old vocab "
                f"size is {self._frozen_vocab_size}, new vocab size is {new_size}")
        self._frozen_vocab_size = new_size

    # --- adapt ----------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn the vocabulary from ``data``: an array or list (one batch; a 1-D array is a
        column of single tokens), or a PyDataset / iterable of batches (``steps`` of them)."""
        self._adapt_batches(data, steps, lambda array: self._as_keys(array, "data"))

    def update_state(self, data):
        """Count the tokens of one batch (a rank-1 batch is one document)."""
        if isinstance(data, list | tuple) and data and all(
                isinstance(row, list | tuple) for row in data):
            rows = [self._as_tokens(row) for row in data]  # ragged rows of tokens
        else:
            data = self._as_keys(data, "data")
            if data.ndim < 2:
                data = data.reshape(1, -1)
            rows = [row.ravel().tolist() for row in data]
        self._count_rows(rows)

    def _count_rows(self, rows):
        """Add the token lists ``rows`` (documents) to the counts."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` "
                             "method.")
        for row in rows:
            self._token_counts.update(row)
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row))
            self._num_documents += len(rows)

    def finalize_state(self):
        """Turn the counts into the vocabulary (and the idf weights)."""
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        tokens = [t for t, _ in sorted(counts.items(), key=lambda item: (item[1], item[0]),
                                       reverse=True)]
        if self.max_tokens:
            tokens = tokens[:self.max_tokens - self._token_start_index()]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            document_counts = np.array([self._document_counts[t] for t in tokens],
                                       dtype=np.float64)
            idf = np.log(1.0 + self._num_documents / (1.0 + document_counts)).astype(
                backend.floatx())
            mean = np.mean(idf, dtype=idf.dtype) if idf.size else np.float32(math.nan)
            idf = np.concatenate([np.full(self._token_start_index(), mean, idf.dtype), idf])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size))
            self.idf_weights = idf
        self.reset_state()
        self._record_vocabulary_size()

    def reset_state(self):
        if self._has_input_vocabulary:
            return
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    # --- calling --------------------------------------------------------------------------
    def _as_keys(self, values, what="inputs"):
        """``values`` as an array of the lookup keys' type: str objects or int64."""
        array = to_numpy(values, self.name)
        key_is_string = self.vocabulary_dtype == "string" and not self.invert
        try:
            if key_is_string:
                return to_str_array(array, getattr(self, "encoding", "utf-8"))
            if array.dtype.kind in "USO":
                raise TypeError(f"expected integers, but received dtype {array.dtype} (first "
                                f"values: {array.ravel()[:3].tolist()})")
            return array.astype(np.int64)
        except TypeError as error:
            raise TypeError(f"Layer '{self.name}' ({type(self).__name__}) cannot use its "
                            f"{what}: {error}") from None

    def call(self, inputs):
        self._ensure_known_vocab_size()
        keys = self._as_keys(inputs)
        lookups = self._lookup(keys)
        if self.output_mode == "int":
            return lookups if self.invert and self.vocabulary_dtype == "string" else (
                untracked(lookups))
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be "
                                 "provided.")
            return untracked(encode_categorical_inputs(
                lookups, "tf_idf", depth, "int64", idf_weights=self.idf_weights))
        return untracked(encode_categorical_inputs(lookups, self.output_mode, depth, "int64"))

    def _lookup(self, keys):
        """The index of each key (with ``invert``: the token of each index)."""
        if self.invert:
            uniques, inverse = np.unique(keys.ravel(), return_inverse=True)
            vocabulary = self.get_vocabulary()
            table = {i: v for i, v in enumerate(vocabulary) if i >= self._token_start_index()}
            if self.mask_token is not None:
                table[0] = self.mask_token
            values = [table.get(int(k), self.oov_token) for k in uniques]
            dtype = object if self.vocabulary_dtype == "string" else np.int64
            out = np.empty(len(values), dtype=dtype)
            out[:] = values
            return out[inverse].reshape(keys.shape)
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        mask_value = 0 if self.output_mode == "int" else _INT64_MAX
        get, mask = self._index.get, self.mask_token
        flat = keys.ravel().tolist()  # Python str / int: a dict lookup each, no sorting
        if mask is None:
            values = [get(k, default) for k in flat]
        else:
            values = [mask_value if k == mask else get(k, default) for k in flat]
        values = np.array(values, dtype=np.int64).reshape(keys.shape)
        unknown = values == -1
        if not unknown.any():
            return values
        oov_keys, where = np.unique(keys[unknown], return_inverse=True)
        if self.num_oov_indices == 0:
            raise ValueError(
                f"Layer '{self.name}': when `num_oov_indices=0` all inputs should be in "
                f"vocabulary, found OOV values {oov_keys.tolist()}, consider setting "
                f"`num_oov_indices=1`.")
        buckets = self._oov_buckets(oov_keys) + self._oov_start_index()
        values[unknown] = buckets[where]
        return values

    def _oov_buckets(self, keys):
        """Which of the ``num_oov_indices`` OOV indices each unknown key takes: ``key mod n``
        for integers (``oov_method="floormod"``), else a hash of the key's text (integers
        written in decimal): FarmHash64 Fingerprint64 mod n, or SipHash-2-4 keyed by ``salt``
        mod n (``tf.strings.to_hash_bucket_fast`` / ``_strong``)."""
        n = self.num_oov_indices
        if self.vocabulary_dtype != "string" and self.oov_method == "floormod":
            return np.asarray(keys, dtype=np.int64) % n
        texts = keys if self.vocabulary_dtype == "string" else [str(int(k)) for k in keys]
        return np.array([hash_bucket(t, n, self.salt) for t in texts], dtype=np.int64)

    def _ensure_known_vocab_size(self):
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data.")

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    # --- config and saving ----------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": listify(self.input_idf_weights),
            "vocabulary": listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.build(None)

    def save_own_variables(self, store):
        """Keras stores the idf weights (``"tf_idf"`` mode only) under the key
        ``"idf_weights"`` of the layer's ``vars`` group."""
        if self.output_mode == "tf_idf":
            store["idf_weights"] = self.idf_weights

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf":
            self.idf_weights = np.asarray(store["idf_weights"])

    def save_assets(self, dir_path):
        """Write the vocabulary (special tokens included), one token per line, to
        ``dir_path/vocabulary.txt``, unless it was given to the constructor (then it is in the
        config)."""
        if self.input_vocabulary is not None:
            return
        vocabulary = self.get_vocabulary(include_special_tokens=True)
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in vocabulary))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = lines if self.vocabulary_dtype == "string" else [int(x) for x in lines]
        self.set_vocabulary(values, idf_weights=self.idf_weights
                            if self.output_mode == "tf_idf" else None)


def standardize_output_mode(output_mode, caller_name):
    """Keras's aliases (``"binary"`` is ``"multi_hot"``, ``"tf-idf"`` is ``"tf_idf"``), then its
    check of ``output_mode`` for the lookup and text layers."""
    if output_mode == "binary":
        output_mode = "multi_hot"
    if output_mode == "tf-idf":
        output_mode = "tf_idf"
    validate_string_arg(output_mode, ("int", "one_hot", "multi_hot", "count", "tf_idf"),
                        caller_name, "output_mode")
    return output_mode


def listify(x):
    """Arrays and tensors as lists, for configs."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    return x
