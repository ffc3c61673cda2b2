"""``dot_product_attention``: scaled dot-product attention as one op (``keras.ops``).

Written, as Keras's TensorFlow backend writes it (``_dot_product_attention_xla``), from recorded
ops (einsum, multiply, add, where, softmax, cast), so the tape differentiates it. Its backward,
for the output gradient g (B, T, N, H) and the probabilities P (B, N, T, S):

    dV = Pᵀ g                                  einsum("BNTS,BTNH->BSNH", P, g)
    dP = g Vᵀ                                  einsum("BTNH,BSNH->BNTS", g, V)
    dZ = P ⊙ (dP - Σ_S dP ⊙ P)                 softmax's backward (0 where masked)
    dQ = scale · dZ K,   dK = scale · dZᵀ Q,   d bias = dZ summed to the bias's shape
"""

import numpy as np

from minikeras import backend
from minikeras.ops import numpy as np_ops
from minikeras.ops.core import cast, convert_to_tensor, value_of
from minikeras.ops.nn import softmax

SOFT_CAP_ERROR = ("attn_logits_soft_cap is only supported for JAX on TPU. Set "
                  "attn_logits_soft_cap=None when not using JAX on TPU.")


def _large_negative(dtype):
    """The masked logits' value, as Keras's: -0.7 · the dtype's largest finite (bfloat16's for
    every dtype but float16), so masked entries get e^(z - max) = 0 without an inf."""
    value = 65500.0 if backend.standardize_dtype(dtype) == "float16" else 3.38953e38
    return np.asarray(value * -0.7, dtype)


def _check_shapes(query, key, value):
    """The 4D rule and the head counts, as errors that say what to change."""
    shapes = [np.shape(value_of(x)) for x in (query, key, value)]
    if len(shapes[0]) != 4:
        raise ValueError("`dot_product_attention` only supports 4D inputs. Received: "
                         f"query.shape={shapes[0]}, key.shape={shapes[1]}, "
                         f"value.shape={shapes[2]}.")
    if len(shapes[1]) != 4 or shapes[1] != shapes[2][:3] + shapes[1][3:]:
        raise ValueError("`key` must be 4D, (batch, kv_length, kv_heads, head_dim), and `value` "
                         f"the same but for its last axis. Received: key.shape={shapes[1]}, "
                         f"value.shape={shapes[2]}.")
    heads, kv_heads = shapes[0][2], shapes[1][2]
    if kv_heads > heads or heads % kv_heads != 0:
        raise ValueError("The query's heads (axis 2) must be a multiple of the key's: "
                         f"{kv_heads} key/value heads are shared by groups of query heads. "
                         f"Received: query.shape={shapes[0]}, key.shape={shapes[1]}.")
    if shapes[0][3] != shapes[1][3]:
        raise ValueError("`query` and `key` must have the same head size (last axis). Received: "
                         f"query.shape={shapes[0]}, key.shape={shapes[1]}.")
    return heads // kv_heads


def _apply_masks(logits, mask, is_causal):
    """The logits where ``mask`` (any nonzero entry counts as True, broadcast to (B, N, T, S))
    and, if causal, the lower triangle (query t sees keys s <= t) allow; the large negative
    elsewhere. d/d logits = g where allowed, 0 elsewhere."""
    if mask is None and not is_causal:
        return logits
    shape = np.shape(value_of(logits))
    allowed = np.ones(shape, bool)
    if mask is not None:
        allowed &= np.asarray(value_of(mask)).astype(bool)
    if is_causal:
        allowed &= np.tril(np.ones(shape[2:], bool))
    dtype = np.asarray(value_of(logits)).dtype
    return np_ops.where(allowed, logits, _large_negative(dtype))


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """softmax(scale · Q Kᵀ + bias, masked) V, per batch and head:

        Z[b, n, t, s] = scale · Σ_h Q[b, t, n, h] K[b, s, n, h] + bias[b, n, t, s]
        P = softmax over s of Z (entries the mask or causality forbid: -0.7·3.39e38)
        out[b, t, n, h] = Σ_s P[b, n, t, s] V[b, s, n, h]

    query (B, T, N, H); key and value (B, S, K, H), with N a multiple of K: each key/value head
    serves N / K query heads (grouped-query attention; multi-query when K = 1). ``scale``
    defaults to 1 / √H (computed in float32, as Keras's TensorFlow backend). The logits and the
    softmax are float32 or wider; the probabilities go back to the inputs' dtype. The backward
    rules are in this module's docstring. ``flash_attention=True`` and ``attn_logits_soft_cap``
    are refused, as on Keras's TensorFlow and NumPy backends.
    """
    if attn_logits_soft_cap is not None:
        raise ValueError(SOFT_CAP_ERROR)
    if flash_attention:
        raise ValueError("Flash attention is not supported in numpy backend.")
    query, key, value = (convert_to_tensor(x) for x in (query, key, value))
    groups = _check_shapes(query, key, value)
    compute_dtype = backend.result_type(*(np.asarray(value_of(x)).dtype
                                          for x in (query, key, value)))
    query, key, value = (cast(x, compute_dtype) for x in (query, key, value))
    if groups > 1:  # one copy of each key/value head per query head it serves
        key, value = np_ops.repeat(key, groups, axis=2), np_ops.repeat(value, groups, axis=2)
    if scale is None:
        head_dim = np.float32(np.shape(value_of(key))[-1])
        scale = np.float32(1.0) / np.sqrt(head_dim)
    logits_dtype = backend.result_type(compute_dtype, "float32")
    logits = cast(np_ops.einsum("BTNH,BSNH->BNTS", query, key), logits_dtype)
    logits = np_ops.multiply(logits, np.asarray(value_of(scale), logits_dtype))
    if bias is not None:
        logits = np_ops.add(logits, cast(convert_to_tensor(bias, compute_dtype), logits_dtype))
    logits = _apply_masks(logits, mask, is_causal)
    probs_dtype = backend.result_type(logits_dtype, "float32")
    probs = cast(softmax(cast(logits, probs_dtype), axis=-1), compute_dtype)
    return np_ops.einsum("BNTS,BSNH->BTNH", probs, value)
