"""Attention: dot-product (Luong-style) attention over a list ``[query, value(, key)]``
(``keras.layers.Attention``), and helpers the attention layers share."""

import numpy as np

from minikeras import ops
from minikeras.layers.keras_tensor import KerasTensor, any_symbolic
from minikeras.layers.layer import Layer
from minikeras.layers.node import Node
from minikeras.ops.core import value_of
from minikeras.utils.random import make_rng


class Attention(Layer):
    """Dot-product attention: with query ``(B, Tq, dim)``, value ``(B, Tv, dim_v)`` and key
    ``(B, Tv, dim)`` (key defaults to value)::

        scores = query @ key^T                          score_mode="dot"   (times `scale`
                                                                           if use_scale)
        scores = c * Σ_d tanh(query_i + key_j)          score_mode="concat" (tanh(scale * (...))
                                                                           if use_scale)
        scores = scores - 1e9 where the value/causal mask is False
        weights = softmax(scores, axis=-1)              (B, Tq, Tv); dropout when training
        output = weights @ value                        (B, Tq, dim_v); 0 where query_mask False

    ``scale`` and ``c`` (``concat_score_weight``) are scalar weights initialised to 1, created in
    that order. Masks: ``mask=[query_mask, value_mask]`` (booleans, (B, Tq) and (B, Tv)),
    taken from the inputs when an earlier ``Masking`` or ``Embedding(mask_zero=True)`` attached
    them, as in Keras; the output carries the query's mask. ``use_causal_mask=True`` lets query
    i attend only to keys j <= i. A query row whose keys are all masked gets
    uniform weights (every score lowered by the same 1e9), as in Keras. Dropout draws from NumPy,
    so it does not drop the same entries as Keras.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self._rng = make_rng(seed)
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.scale = self.concat_score_weight = None

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(),
                                                       initializer="ones")
        self.built = True

    # --- the computation ------------------------------------------------------------------
    def _calculate_scores(self, query, key):
        """(B, Tq, Tv) scores of every query against every key."""
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            if self.scale is not None:
                scores = ops.multiply(scores, self.scale)
            return scores
        q = ops.expand_dims(query, axis=-2)  # (B, Tq, 1, dim)
        k = ops.expand_dims(key, axis=-3)  # (B, 1, Tv, dim)
        summed = ops.add(q, k)
        if self.scale is not None:
            summed = ops.multiply(self.scale, summed)
        return ops.multiply(self.concat_score_weight, ops.sum(ops.tanh(summed), axis=-1))

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        """``(softmax(scores, masked) @ value, the softmax)``."""
        if scores_mask is not None:
            padding_mask = np.logical_not(scores_mask)
            max_value = 65504.0 if scores.dtype == "float16" else 1.0e9
            if padding_mask.ndim == 2:
                padding_mask = np.expand_dims(padding_mask, axis=-2)
            scores = ops.where(padding_mask,
                               ops.subtract(scores, np.asarray(max_value, scores.dtype)), scores)
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            keep = self._rng.random(weights.shape) >= self.dropout
            weights = ops.multiply(weights, (keep / (1.0 - self.dropout)).astype(weights.dtype))
        return ops.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if not use_causal_mask:
            return v_mask
        tq, tv = scores.shape[-2], scores.shape[-1]
        causal_mask = np.tril(np.ones((tq, tv), dtype=bool))[None]  # (1, Tq, Tv)
        if v_mask is not None:
            return np.expand_dims(v_mask, axis=-2) & causal_mask
        return causal_mask

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs=inputs, mask=mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        self._check_shapes(q.shape, v.shape, k.shape)
        q_mask = as_bool_mask(mask[0]) if mask and mask[0] is not None else None
        v_mask = as_bool_mask(mask[1]) if mask and mask[1] is not None else None
        scores = self._calculate_scores(query=q, key=k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        attention_output, attention_scores = self._apply_scores(
            scores=scores, value=v, scores_mask=scores_mask, training=training)
        if q_mask is not None:
            attention_output = ops.where(np.expand_dims(q_mask, axis=-1), attention_output,
                                         np.zeros((), attention_output.dtype))
        if return_attention_scores:
            return attention_output, attention_scores
        return attention_output

    # --- calling with a list of inputs ----------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        self._validate_inputs(inputs, kwargs.get("mask"))
        if any_symbolic(inputs):
            shapes = [tuple(x.shape) for x in inputs]
            if not self.built:
                self._build_for(shapes)
            self._check_shapes(*shapes[:2], shapes[2] if len(shapes) > 2 else shapes[1])
            return symbolic_call(self, (inputs, *args), kwargs, self._output_shapes(
                shapes, kwargs.get("return_attention_scores", False)))
        return super().__call__(inputs, *args, **kwargs)

    def _convert_input(self, inputs):
        if isinstance(inputs, list | tuple):
            return [super(Attention, self)._convert_input(x) for x in inputs]
        return super()._convert_input(inputs)

    def _output_shapes(self, shapes, return_attention_scores):
        output_shape = self.compute_output_shape(shapes)
        if not return_attention_scores:
            return output_shape
        key_shape = shapes[2] if len(shapes) > 2 else shapes[1]
        return output_shape, (*shapes[0][:-1], key_shape[-2])

    def compute_mask(self, inputs, mask=None):
        """The query's mask (Keras's rule): the output has one row per query step."""
        self._validate_inputs(inputs=inputs, mask=mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = input_shape[0], input_shape[1]
        return (*query_shape[:-1], value_shape[-1])

    def _check_shapes(self, query_shape, value_shape, key_shape):
        """Query and key must share their feature size, key and value their length."""
        name = type(self).__name__
        if len(query_shape) < 2 or len(key_shape) < 2 or len(value_shape) < 2:
            raise ValueError(f"Layer '{self.name}' ({name}) expects inputs of shape (batch, "
                             f"length, features). Received: query shape {tuple(query_shape)}, "
                             f"value shape {tuple(value_shape)}, key shape {tuple(key_shape)}")
        if None not in (query_shape[-1], key_shape[-1]) and query_shape[-1] != key_shape[-1]:
            raise ValueError(
                f"Layer '{self.name}' ({name}) needs the query and the key to have the same last "
                f"dimension. Received: query shape {tuple(query_shape)}, key shape "
                f"{tuple(key_shape)}")
        if None not in (value_shape[-2], key_shape[-2]) and value_shape[-2] != key_shape[-2]:
            raise ValueError(
                f"Layer '{self.name}' ({name}) needs the value and the key to have the same "
                f"length (axis -2). Received: value shape {tuple(value_shape)}, key shape "
                f"{tuple(key_shape)}")

    def _validate_inputs(self, inputs, mask=None):
        class_name = type(self).__name__
        if not isinstance(inputs, list):  # as Keras: a tuple is refused too
            raise ValueError(f"{class_name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: inputs={inputs}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{class_name} layer accepts inputs list of length 2 or 3, namely "
                             f"[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, list | tuple):
                raise ValueError(f"{class_name} layer mask must be a list, namely [query_mask, "
                                 f"value_mask]. Received: mask={mask}.")
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{class_name} layer accepts mask list of length 2 or 3. "
                                 f"Received: inputs={inputs}, mask={mask}.")

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


def as_bool_mask(mask):
    """A mask (booleans, 0/1 numbers, a Tensor) as a NumPy bool array: nonzero keeps."""
    return np.asarray(value_of(mask)).astype(bool)


def symbolic_call(layer, args, kwargs, output_shapes):
    """A call on KerasTensors: KerasTensor(s) of ``output_shapes`` (a shape, or a tuple of
    shapes for several outputs), and a Node recording the call for the functional graph."""
    if isinstance(output_shapes[0], tuple | list):
        outputs = tuple(KerasTensor(shape, dtype=layer.dtype) for shape in output_shapes)
    else:
        outputs = KerasTensor(output_shapes, dtype=layer.dtype)
    kwargs = {k: v for k, v in kwargs.items() if not (k == "training" and v is None)}
    Node(layer, args, kwargs, outputs)
    return outputs
