"""Activation functions by name (``keras.activations``): ``Dense(3, activation="sigmoid")``.

Each function is the differentiable op from ``minikeras.ops`` (where its derivative sits) or a
short composition of ops that the tape differentiates by the chain rule.
"""

from minikeras import ops
from minikeras.ops import (  # noqa: F401  (re-exported under Keras's names)
    celu,
    elu,
    exponential,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    log_sigmoid,
    mish,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    tanh,
    tanh_shrink,
    threshold,
)


def linear(x):
    """The identity: f(x) = x (what ``activation=None`` means)."""
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), or with options: x if x > threshold else negative_slope·(x - threshold),
    capped at max_value."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return ops.leaky_relu(x, negative_slope)
    y = ops.where(ops.greater(x, threshold), x, 0.0) if threshold != 0 else ops.relu(x)
    if max_value is not None:
        y = ops.clip(y, 0.0, max_value)
    if negative_slope != 0.0:
        y = y - negative_slope * ops.relu(threshold - x)
    return y


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else negative_slope·x."""
    return ops.leaky_relu(x, negative_slope)


def softmax(x, axis=-1):
    """e^x_i / Σ_j e^x_j along ``axis``: a probability distribution over classes."""
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """x - log Σ e^x along ``axis``."""
    return ops.log_softmax(x, axis=axis)


def sparsemax(x, axis=-1):
    """Like softmax, a probability distribution over ``axis``, but with exact zeros."""
    return ops.sparsemax(x, axis=axis)


def gelu(x, approximate=False):
    """x·Φ(x), exact (erf) by default as in ``keras.activations.gelu``."""
    return ops.gelu(x, approximate=approximate)


_ACTIVATIONS = {
    fn.__name__: fn
    for fn in (relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus,
               soft_shrink, sparse_plus, silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid,
               sparse_sigmoid, exponential, hard_sigmoid, hard_silu, hard_tanh, hard_shrink,
               linear, mish, log_softmax, log_sigmoid, sparsemax)
}
swish = silu  # keras.activations.swish is silu under its older name
hard_swish = hard_silu
_ALIASES = {"swish": swish, "hard_swish": hard_swish}


def get(identifier):
    """An activation function from a name, a config, a callable, or None (linear)."""
    from minikeras.saving.serialization import deserialize_keras_object

    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        obj = deserialize_keras_object(identifier)
    elif isinstance(identifier, str):
        obj = _ACTIVATIONS.get(identifier) or _ALIASES.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}. "
                     f"Valid names: {sorted({**_ACTIVATIONS, **_ALIASES})}")


def serialize(activation):
    """The name Keras writes in configs: ``'sigmoid'``, ``'silu'`` for swish, and so on."""
    name = getattr(activation, "__name__", None)
    if _ACTIVATIONS.get(name) is activation:
        return name
    from minikeras.saving.serialization import serialize_keras_object

    return serialize_keras_object(activation)


def deserialize(config, custom_objects=None):
    """An activation function from its name or config (built-in, registered or custom)."""
    from minikeras.saving.serialization import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects,
                                    module_objects={**_ACTIVATIONS, **_ALIASES})
