"""``minikeras.utils``: labels, seeds, the progress bar, the summary table, get_file, PyDataset,
padding sequences, splitting and windowing data, images as arrays and files, and (as in Keras)
the saving registry and a few backend helpers."""

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
from minikeras.utils.config import Config
from minikeras.utils.dataset_utils import split_dataset
from minikeras.utils.file_utils import get_file
from minikeras.utils.graph_utils import get_source_inputs
from minikeras.utils.image_dataset_utils import image_dataset_from_directory
from minikeras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
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
from minikeras.utils.text_dataset_utils import text_dataset_from_directory
from minikeras.utils.timeseries_dataset import timeseries_dataset_from_array


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of the functional API (what ``keras.Input`` returns)."""
    return isinstance(x, KerasTensor)


__all__ = [
    "Config", "CustomObjectScope", "Progbar", "PyDataset", "Sequence", "array_to_img",
    "clear_session", "custom_object_scope", "deserialize_keras_object",
    "disable_interactive_logging", "enable_interactive_logging", "get_custom_objects",
    "get_file", "get_source_inputs",
    "is_interactive_logging_enabled",
    "get_registered_name", "get_registered_object", "image_dataset_from_directory",
    "img_to_array", "is_keras_tensor", "load_img", "normalize",
    "pack_x_y_sample_weight", "pad_sequences", "register_keras_serializable", "save_img",
    "serialize_keras_object", "set_random_seed", "split_dataset", "standardize_dtype",
    "text_dataset_from_directory", "timeseries_dataset_from_array", "to_categorical",
    "unpack_x_y_sample_weight",
]
