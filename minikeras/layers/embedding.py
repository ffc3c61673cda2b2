"""Embedding: integer indices -> rows of a trainable table (``keras.layers.Embedding``)."""

import warnings

import numpy as np

from minikeras import constraints, initializers, ops, regularizers
from minikeras.autodiff import record
from minikeras.layers.layer import Layer
from minikeras.ops.core import value_of


class Embedding(Layer):
    """``output[..., :] = embeddings[inputs[...], :]``: each index in ``[0, input_dim)`` picks one
    row of the ``(input_dim, output_dim)`` table, so ``(batch, t) -> (batch, t, output_dim)``.

    Inputs are indices, not numbers to compute with: they are never autocast to float
    (``autocast=False``, as in Keras); any dtype other than int32/int64 is cast to int32 (floats
    are truncated toward zero, as TensorFlow casts). The gradient w.r.t. ``embeddings`` is the
    output gradient added back into the rows that were looked up (see ``embedding_lookup``);
    nothing flows to the integer inputs.

    ``mask_zero=True`` makes ``compute_mask(inputs)`` return ``inputs != 0`` (index 0 is padding)
    and does not change the outputs (row 0 is still looked up). That mask travels with the output
    (``output._keras_mask``), as in Keras: the recurrent layers skip the padded steps,
    GlobalAveragePooling1D averages over the real ones, attention does not attend to them, and
    a loss on an output that still carries the mask averages over the real steps only.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: "
                                 f"{name}={value} (of type {type(value).__name__}).")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        if lora_rank:
            raise NotImplementedError(
                f"Embedding(lora_rank={lora_rank}): LoRA is not implemented in minikeras yet.")
        if quantization_config is not None:
            raise NotImplementedError("Embedding: quantization is not implemented in minikeras.")
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False  # indices stay integers
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.embeddings = None
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer,
            name="embeddings", regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        indices = np.asarray(value_of(inputs))
        if indices.dtype not in (np.int32, np.int64):
            indices = indices.astype(np.int32)
        self._check_indices(indices)
        return ops.cast(embedding_lookup(self.embeddings, indices), self.dtype)

    def _check_indices(self, indices):
        """TensorFlow refuses out-of-range indices too; say which one and what the range is."""
        if indices.size == 0:
            return
        bad = (indices < 0) | (indices >= self.input_dim)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"Layer '{self.name}' (Embedding) received index {int(indices[where])} at "
                f"position {where} of its input, but input_dim={self.input_dim}: every index "
                f"must be in [0, {self.input_dim}).")

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        config = {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
        if self.lora_rank:
            config["lora_rank"] = self.lora_rank
            config["lora_alpha"] = self.lora_alpha
        return config


def embedding_lookup(embeddings, indices):
    """out = E[indices]: a gather of rows, recorded as one op.

    With g = dL/d out (shape ``indices.shape + (output_dim,)``):
        dL/dE[r] = Σ_{positions p with indices[p] = r} g[p]
    a scatter-add: each looked-up row receives the gradient of every position that used it
    (``np.add.at`` adds repeated indices instead of keeping only the last write).
    """
    table = value_of(embeddings)

    def d_embeddings(g):
        grad = np.zeros(table.shape, dtype=g.dtype)
        np.add.at(grad, indices, g)
        return grad

    return record(table[indices], (embeddings,), d_embeddings)
