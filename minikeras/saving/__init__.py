"""``minikeras.saving``: configs and (later) files in Keras's formats."""

from minikeras.saving.serialization import serialize_keras_object

__all__ = ["serialize_keras_object"]
