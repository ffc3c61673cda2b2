"""``minikeras.saving``: Keras's file formats and config (de)serialization.

- ``.keras`` archives and legacy ``.h5`` models: ``save_model``, ``load_model``;
- weights: ``save_weights`` / ``load_weights`` (``.weights.h5``, ``.keras``, legacy ``.h5``);
- configs: ``serialize_keras_object``, ``deserialize_keras_object``, ``model_from_json``,
  ``register_keras_serializable`` for your own classes.
"""

from minikeras.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minikeras.saving.saving_api import (
    clone_model,
    load_model,
    load_weights,
    model_from_json,
    save_model,
    save_weights,
)
from minikeras.saving.serialization import (
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)

__all__ = [
    "CustomObjectScope", "clone_model", "custom_object_scope", "deserialize_keras_object",
    "enable_unsafe_deserialization", "get_custom_objects", "get_registered_name",
    "get_registered_object", "load_model", "load_weights", "model_from_json",
    "register_keras_serializable", "save_model", "save_weights", "serialize_keras_object",
]
