"""The saving entry points: pick the format from the file name, as Keras does.

| call | ``.keras`` | ``.weights.h5`` | ``.h5`` / ``.hdf5`` |
|---|---|---|---|
| ``save_model`` / ``model.save`` | zip archive | - | Keras 2 whole-model HDF5 |
| ``load_model`` | yes | - | yes (tf.keras 2 files too) |
| ``model.save_weights`` | - | Keras 3 layout | Keras 2 layout (Keras 3 refuses this) |
| ``model.load_weights`` | its weights | yes (tf.keras's too) | by order, or ``by_name=True`` |
"""

import os
import warnings

from minikeras.saving.serialization import deserialize_keras_object, serialize_keras_object

_H5 = (".h5", ".hdf5")


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Save architecture, weights and optimizer state to ``.keras`` (or legacy ``.h5``)."""
    from minikeras.saving import file_utils, legacy_h5_format, saving_lib  # h5py, lazily

    include_optimizer = kwargs.pop("include_optimizer", True)
    kwargs.pop("save_format", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    filepath_str = os.fspath(filepath)
    if zipped is False:
        raise ValueError("minikeras saves `.keras` models as zip archives only: remove "
                         "`zipped=False`.")
    if not filepath_str.endswith((".keras", *_H5)):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for "
            "the native Keras format (recommended) or a `.h5` extension. Received: "
            f"filepath={filepath_str}.")
    if not overwrite and os.path.exists(filepath_str) and (
            not file_utils.ask_to_proceed_with_overwrite(filepath_str)):
        return
    if filepath_str.endswith(".keras"):
        saving_lib.save_model(model, filepath_str)
    else:
        warnings.warn(
            "You are saving your model as an HDF5 file via `model.save()` or "
            "`keras.saving.save_model(model)`. This file format is considered legacy. We "
            "recommend using instead the native Keras format, e.g. "
            "`model.save('my_model.keras')` or `keras.saving.save_model(model, "
            "'my_model.keras')`. ", stacklevel=3)
        legacy_h5_format.save_model_to_hdf5(model, filepath_str, include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a ``.keras`` archive or a legacy ``.h5`` file, built (and compiled if it was
    saved compiled and ``compile=True``). Loading never runs code from the file: classes come
    only from minikeras, the registry and ``custom_objects``; lambdas need ``safe_mode=False``."""
    from minikeras.saving import legacy_h5_format, saving_lib  # h5py, lazily

    filepath_str = os.fspath(filepath)
    if filepath_str.endswith(".keras"):
        if not os.path.exists(filepath_str):
            raise ValueError(f"File not found: filepath={filepath_str}. Please ensure the file "
                             f"is an accessible `.keras` zip file.")
        return saving_lib.load_model(filepath_str, custom_objects, compile, safe_mode)
    if filepath_str.endswith(_H5):
        if not os.path.exists(filepath_str):
            raise ValueError(f"File not found: filepath={filepath_str}.")
        return legacy_h5_format.load_model_from_hdf5(filepath_str, custom_objects, compile,
                                                     safe_mode)
    raise ValueError(f"File format not supported: filepath={filepath_str}. Keras 3 only "
                     f"supports V3 `.keras` files and legacy H5 format files (`.h5` "
                     f"extension).")


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """``.weights.h5`` (Keras 3 layout) or ``.h5`` (Keras 2 layout, readable by tf.keras)."""
    from minikeras.saving import file_utils, legacy_h5_format, saving_lib  # h5py, lazily

    if max_shard_size is not None:
        raise ValueError("minikeras does not shard weight files: remove `max_shard_size`.")
    filepath_str = os.fspath(filepath)
    if not filepath_str.endswith((".weights.h5", *_H5)):
        raise ValueError(f"The filename must end in `.weights.h5` (or `.h5` for the Keras 2 "
                         f"format). Received: filepath={filepath_str}")
    if not overwrite and os.path.exists(filepath_str) and (
            not file_utils.ask_to_proceed_with_overwrite(filepath_str)):
        return
    if filepath_str.endswith(".weights.h5"):
        saving_lib.save_weights_only(model, filepath_str)
    else:
        legacy_h5_format.save_weights_to_hdf5(model, filepath_str)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Load weights saved by ``save_weights`` or ``save`` in any of the formats above."""
    from minikeras.saving import legacy_h5_format, saving_lib  # h5py, lazily

    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath_str = os.fspath(filepath)
    if not os.path.exists(filepath_str):
        raise FileNotFoundError(f"No such file: '{filepath_str}'.")
    if filepath_str.endswith((".keras", ".weights.h5")):
        if by_name is not None:
            raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
                             f"Received: {filepath_str}")
        saving_lib.load_weights_only(model, filepath_str, skip_mismatch)
    elif filepath_str.endswith(_H5):
        legacy_h5_format.load_weights_from_hdf5(model, filepath_str, skip_mismatch,
                                                bool(by_name))
    else:
        raise ValueError(f"File format not supported: filepath={filepath_str}. Keras 3 only "
                         f"supports V3 `.keras` and `.weights.h5` files, or legacy H5 format "
                         f"files (`.h5` extension).")


def model_from_json(json_string, custom_objects=None):
    """The model ``model.to_json()`` described (Keras 2 JSON without ``module`` keys too),
    with fresh weights."""
    from minikeras.saving import legacy_h5_format, saving_lib  # h5py, lazily

    config = saving_lib.parse_config(json_string, "the JSON string")
    if "module" in config:
        return deserialize_keras_object(config, custom_objects)
    return legacy_h5_format.model_from_config(config, custom_objects)


def clone_model(model, clone_function=None):
    """A new model with the same architecture and freshly initialized weights (not shared).

    A Sequential is rebuilt layer by layer, each through ``clone_function(layer)`` (by default
    ``layer.__class__.from_config(layer.get_config())``); other models through their config.
    """
    from minikeras.layers.input_layer import InputLayer
    from minikeras.models.sequential import Sequential

    if not isinstance(model, Sequential):
        return deserialize_keras_object(serialize_keras_object(model),
                                        custom_objects={type(model).__name__: type(model)})
    clone_function = clone_function or (lambda layer: layer.__class__.from_config(
        layer.get_config()))
    layers = [clone_function(layer) for layer in model.layers]
    first = model._layers[0] if model._layers else None
    if isinstance(first, InputLayer):
        layers.insert(0, InputLayer(batch_shape=first.batch_shape, dtype=first.dtype,
                                    name=first.name))
    return Sequential(layers, name=model.name, trainable=model.trainable)

