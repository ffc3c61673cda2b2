"""DTypePolicy: the dtype layers create their weights in and compute in (``keras.DTypePolicy``).

minikeras computes each layer in one float dtype, so only the plain float policies exist here
(``"float16"``, ``"float32"``, ``"float64"``): their variable and compute dtypes are equal. Keras's
mixed precision (``"mixed_float16"``: float16 compute, float32 weights) and its quantized policies
(``"int8_from_float32"``...) would need casts inside every layer, which minikeras does not have.
"""

from minikeras import backend

_FLOAT_POLICIES = ("float16", "float32", "float64")


class DTypePolicy:
    """``DTypePolicy(name=None)``: ``name`` is a float dtype name; ``None`` means ``floatx()``."""

    def __init__(self, name=None):
        if name is None:
            name = backend.floatx()
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, such as 'float32'. Received: name={name} "
                            f"(of type {type(name)})")
        if name.startswith("mixed_") or "_from_" in name:
            raise ValueError(
                f"minikeras does not support the dtype policy {name!r}: mixed precision and "
                "quantization keep weights and computations in different dtypes, and minikeras "
                "layers compute in a single float dtype. Use one of "
                f"{', '.join(map(repr, _FLOAT_POLICIES))}.")
        if name not in _FLOAT_POLICIES:
            raise ValueError(
                f"Cannot convert {name!r} to a DTypePolicy. minikeras supports the float "
                f"policies {', '.join(map(repr, _FLOAT_POLICIES))}.")
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layers compute in."""
        return self._name

    @property
    def variable_dtype(self):
        """The dtype layers create their weights in (the compute dtype: no mixed precision)."""
        return self._name

    @property
    def quantization_mode(self):
        return None

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is DTypePolicy and self._name == other._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy  # the older Keras name


def serialize(dtype_policy):
    """``{'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': ...}, ...}``."""
    from minikeras.saving import serialization  # saving builds on the modules that use this

    return serialization.serialize_keras_object(dtype_policy)


def deserialize(config, custom_objects=None):
    """The policy a ``serialize`` dict describes."""
    from minikeras.saving import serialization

    return serialization.deserialize_keras_object(
        config, custom_objects=custom_objects,
        module_objects={"DTypePolicy": DTypePolicy, "FloatDTypePolicy": DTypePolicy})


def get(identifier):
    """A policy from ``None`` (the global one), a name, a NumPy dtype, a config dict or a
    policy."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(backend.standardize_dtype(identifier))
    except (TypeError, ValueError):
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance "
                         f"of DTypePolicy. Received: dtype={identifier}") from None


def dtype_policy():
    """The global policy: the one of ``floatx()`` (``set_dtype_policy`` sets ``floatx``)."""
    return DTypePolicy(backend.floatx())


def set_dtype_policy(policy):
    """Set the global policy: ``'float64'`` (or ``DTypePolicy('float64')``) makes every new
    layer create and compute float64 weights, by setting ``floatx``."""
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError(
                "Invalid `policy` argument. Expected the string name of a policy (such as "
                f"'float32') or a `DTypePolicy` instance. Received: policy={policy} "
                f"(of type {type(policy)})")
        policy = DTypePolicy(policy)
    backend.set_floatx(policy.name)


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize",
           "set_dtype_policy"]
