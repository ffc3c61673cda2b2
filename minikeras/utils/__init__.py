"""``minikeras.utils``: labels, seeds, the progress bar, the summary table, get_file, PyDataset,
padding sequences, and (as in Keras) the saving registry and a few backend helpers."""

from minikeras.backend import clear_session, standardize_dtype
from minikeras.layers.keras_tensor import KerasTensor
from minikeras.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minikeras.saving.serialization import deserialize_keras_object, serialize_keras_object
from minikeras.utils.file_utils import get_file
from minikeras.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from minikeras.utils.numerical_utils import normalize, to_categorical
from minikeras.utils.progbar import Progbar
from minikeras.utils.py_dataset import PyDataset, Sequence
from minikeras.utils.random import set_random_seed
from minikeras.utils.sequence_utils import (
    pack_x_y_sample_weight,
    pad_sequences,
    unpack_x_y_sample_weight,
)


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of the functional API (what ``keras.Input`` returns)."""
    return isinstance(x, KerasTensor)


__all__ = [
    "CustomObjectScope", "Progbar", "PyDataset", "Sequence", "clear_session",
    "custom_object_scope", "deserialize_keras_object", "disable_interactive_logging",
    "enable_interactive_logging", "get_custom_objects", "get_file",
    "is_interactive_logging_enabled",
    "get_registered_name", "get_registered_object", "is_keras_tensor", "normalize",
    "pack_x_y_sample_weight", "pad_sequences", "register_keras_serializable",
    "serialize_keras_object", "set_random_seed", "standardize_dtype", "to_categorical",
    "unpack_x_y_sample_weight",
]
