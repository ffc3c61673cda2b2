"""StringLookup: strings -> integer indices through a vocabulary (``keras.layers.StringLookup``)."""

from minikeras.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Maps strings to indices: ``StringLookup(vocabulary=["a", "b"])`` sends ``"a" -> 1``,
    ``"b" -> 2`` and anything else to the OOV index 0 (``oov_token="[UNK]"``).

    With ``mask_token`` (e.g. ``""``) that token maps to 0 and the OOV index moves to 1.
    ``adapt(data)`` learns the vocabulary, most frequent first. ``invert=True`` maps indices
    back to strings (a NumPy object array of ``str``; Keras returns a ``tf.string`` tensor).
    Inputs may be ``str``/``bytes`` (decoded with ``encoding``) in lists or arrays of any shape.
    See ``IndexLookup`` for the other output modes. With ``num_oov_indices > 1`` an unknown
    string goes to OOV index ``fingerprint64(utf8) % num_oov_indices`` (FarmHash64, as
    ``tf.strings.to_hash_bucket_fast``), or SipHash-2-4 keyed by ``salt``.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}
