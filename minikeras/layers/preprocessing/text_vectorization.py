"""TextVectorization: raw strings -> token indices or token vectors
(``keras.layers.TextVectorization``)."""

import re

import numpy as np

from minikeras.layers.preprocessing.data_layer import (
    DataLayer,
    to_numpy,
    to_str_array,
    untracked,
    validate_string_arg,
)
from minikeras.layers.preprocessing.encoding import encode_categorical_inputs
from minikeras.layers.preprocessing.index_lookup import listify, standardize_output_mode
from minikeras.layers.preprocessing.string_lookup import StringLookup

# Keras's punctuation pattern for tf.strings.regex_replace (",-." is the range , - .)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_TOKEN = re.compile(r"[^ \t\n\x0b\x0c\r]+")  # tf.strings.split: ASCII whitespace only
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class TextVectorization(DataLayer):
    """Turns each string into a sequence of token indices (or one vector) in four steps:

    1. standardize: ``"lower_and_strip_punctuation"`` (default) lowercases ASCII letters only
       (``tf.strings.lower``: "É" stays "É") and deletes the characters
       ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'``; ``"lower"``, ``"strip_punctuation"``, None, or a
       callable taking and returning a NumPy array of ``str``.
    2. split: ``"whitespace"`` (runs of ASCII spaces, tabs, newlines, \\v, \\f, \\r, as
       ``tf.strings.split``: a no-break space does not split), ``"character"`` (code points),
       None (each string is one token), or a callable taking a 1-D array of ``str`` and
       returning one list of tokens per string.
    3. ngrams: None, ``n`` (all 1- to n-grams) or a tuple of widths: for each width in order,
       the tokens joined by a space (``tf.strings.ngrams``).
    4. lookup in a vocabulary (a ``StringLookup`` with ``mask_token=""`` at index 0 and
       ``"[UNK]"`` at 1, learned by ``adapt``, most frequent first, at most ``max_tokens``).

    ``output_mode="int"`` gives int64 indices of shape ``(batch, output_sequence_length)``:
    truncated or padded with 0 at the end; with ``output_sequence_length=None``, padded to the
    longest sequence of the batch. ``"multi_hot"``, ``"count"`` (int64) and ``"tf_idf"``
    (float32) give one vector of the vocabulary size per string. ``"one_hot"`` gives one vector
    per token, ``(batch, longest, vocabulary size)``: Keras returns a RaggedTensor there;
    minikeras pads the shorter strings with all-zero vectors.
    Inputs: a list or array of ``str``/``bytes``, of shape ``(batch,)`` or ``(batch, 1)``.
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        validate_string_arg(standardize, ("lower_and_strip_punctuation", "lower",
                                          "strip_punctuation"), "TextVectorization",
                            "standardize", allow_none=True, allow_callables=True)
        validate_string_arg(split, ("whitespace", "character"), "TextVectorization", "split",
                            allow_none=True, allow_callables=True)
        output_mode = standardize_output_mode(output_mode, "TextVectorization")
        if not (ngrams is None or isinstance(ngrams, int) or isinstance(ngrams, tuple)
                and all(isinstance(item, int) for item in ngrams)):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        if output_mode == "int" and not (isinstance(output_sequence_length, int)
                                         or output_sequence_length is None):
            raise ValueError("`output_sequence_length` must be either None or an integer when "
                             "`output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}.")
        if ragged and output_mode != "int":
            raise ValueError(f"`ragged` must not be true if `output_mode` is `'int'`. Received: "
                             f"ragged={ragged} and output_mode={output_mode}")
        if ragged:
            raise NotImplementedError("TextVectorization: `ragged=True` is not implemented in "
                                      "minikeras (it has no ragged tensors).")
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=self._has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)
        self._output_dtype = "int64" if output_mode == "int" else self._lookup_layer._output_dtype

    # --- vocabulary -----------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from ``data``: a list or array of strings (one batch), or a
        PyDataset / iterable of batches of strings (``steps`` of them)."""
        self._adapt_batches(data, steps, lambda array: to_str_array(to_numpy(array, self.name),
                                                                    self._encoding))

    def update_state(self, data):
        tokens = self._preprocess(data)
        if isinstance(tokens, list):  # token lists: counted as they are
            self._lookup_layer._count_rows(tokens)
        else:
            self._lookup_layer.update_state(tokens)

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # --- the four steps -------------------------------------------------------------------
    def _preprocess(self, inputs):
        """Standardized, split strings: a list of token lists (one per string) when splitting,
        else an array of strings (what the vocabulary counts)."""
        tokens, scalar = self._tokenize(inputs)
        return [tokens] if scalar and isinstance(tokens, list) else tokens

    def _tokenize(self, inputs):
        """``(tokens, scalar)``: the token lists of the strings (or, with ``split=None`` and no
        ngrams, the standardized strings as an array), and whether the input was one string
        (then ``tokens`` is that string's list)."""
        strings = to_str_array(to_numpy(inputs, self.name), self._encoding)
        strings = self._standardize_strings(strings)
        if self._split is None:
            if self._ngrams is None:
                return strings, False
            rows = strings.reshape(-1, strings.shape[-1]) if strings.ndim else strings[None]
            return [_ngrams(list(row), self._ngrams) for row in rows], strings.ndim == 0
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(
                    "When using `TextVectorization` to tokenize strings, the input rank must be "
                    f"1 or the last shape dimension must be 1. Received: "
                    f"inputs.shape={strings.shape} with rank={strings.ndim}")
            strings = strings[..., 0]
        if strings.ndim > 1:
            raise ValueError(f"Layer '{self.name}' (TextVectorization): inputs of shape "
                             f"{strings.shape + (1,)} are not supported; pass (batch,) or "
                             f"(batch, 1) strings.")
        if self._split == "whitespace":
            rows = [_TOKEN.findall(s) for s in strings.ravel()]
        elif self._split == "character":
            rows = [list(s) for s in strings.ravel()]
        else:
            rows = [[_as_str(t, self._encoding) for t in row]
                    for row in self._split(strings.ravel())]
        if self._ngrams is not None:
            rows = [_ngrams(row, self._ngrams) for row in rows]
        return (rows[0], True) if strings.ndim == 0 else (rows, False)

    def _standardize_strings(self, strings):
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            strings = _map_strings(strings, lambda s: s.translate(_ASCII_LOWER))
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            strings = _map_strings(strings, lambda s: _PUNCTUATION.sub("", s))
        if callable(self._standardize):
            strings = to_str_array(to_numpy(self._standardize(strings), self.name),
                                   self._encoding)
        return strings

    def call(self, inputs):
        tokens, scalar = self._tokenize(inputs)
        lookup = self._lookup_layer
        length = self._output_sequence_length
        if isinstance(tokens, np.ndarray):  # split=None: each string is one token
            out = np.asarray(lookup.call(tokens))
            if self._output_mode == "int" and length is not None:
                out = _fit_length(out, length)
            return untracked(out)
        rows = [tokens] if scalar else tokens
        longest = max((len(r) for r in rows), default=0)
        padded = np.full((len(rows), max(longest, length or 0)), "", dtype=object)
        for i, row in enumerate(rows):
            padded[i, :len(row)] = row
        if self._output_mode == "int":  # "" is the mask token: padding looks up to 0
            ids = np.asarray(lookup.call(padded))
            if length is not None:
                ids = ids[:, :length]
            return untracked(ids[0] if scalar else ids)
        lookup._ensure_known_vocab_size()
        ids = lookup._lookup(lookup._as_keys(padded))
        for i, row in enumerate(rows):
            ids[i, len(row):] = -1  # padding: dropped by the encoding
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        if self._output_mode == "one_hot":  # Keras: ragged (batch, None, depth); here padded
            out = (ids[..., None] == np.arange(depth)).astype(np.int64)
        else:
            out = encode_categorical_inputs(ids, self._output_mode, depth, "int64",
                                            idf_weights=lookup.idf_weights)
        return untracked(out[0] if scalar else out)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = tuple(input_shape) + (1,)
        else:
            input_shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # --- config and saving ----------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self._lookup_layer.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
            "sparse": self._lookup_layer.sparse,
            "ragged": self._ragged,
            "vocabulary": listify(self._lookup_layer.input_vocabulary),
            "idf_weights": listify(self._lookup_layer.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }

    @classmethod
    def from_config(cls, config):
        from minikeras.saving.serialization import deserialize_keras_object

        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)


def _map_strings(strings, fn):
    out = np.empty(strings.shape, dtype=object)
    out.ravel()[:] = [fn(s) for s in strings.ravel()]
    return out


def _as_str(token, encoding):
    return token.decode(encoding) if isinstance(token, bytes) else str(token)


def _ngrams(tokens, widths):
    """``tf.strings.ngrams(tokens, widths, separator=" ")``: for each width in order, every
    run of that many consecutive tokens, joined by a space (none if the row is shorter)."""
    return [" ".join(tokens[i:i + n]) for n in widths for i in range(len(tokens) - n + 1)]


def _fit_length(ids, length):
    """Truncate or zero-pad the last axis to ``length``."""
    ids = ids[..., :length]
    missing = length - ids.shape[-1]
    if missing > 0:
        ids = np.concatenate([ids, np.zeros(ids.shape[:-1] + (missing,), ids.dtype)], axis=-1)
    return ids
