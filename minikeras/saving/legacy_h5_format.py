"""The Keras 2 HDF5 format (``.h5``): what tf.keras tutorials saved, still read by Keras 3.

Weights are stored per layer, found by the ``layer_names`` attribute and each layer group's
``weight_names`` attribute::

    @layer_names=['dense', 'dense_1']  @backend  @keras_version
    /dense     @weight_names=['dense/kernel:0', 'dense/bias:0']   datasets at those paths
    /top_level_model_weights  @weight_names=[]

A whole model (``model.save("x.h5")``) adds the attributes ``model_config`` and
``training_config`` (JSON) and puts the weights under ``/model_weights`` and the optimizer's
state under ``/optimizer_weights``. Loading matches layers **by order** (only layers that have
weights count), or by layer name with ``by_name=True``; as with ``.weights.h5``, everything is
read and checked before anything is assigned.
"""

import json
import os
import warnings

import h5py
import numpy as np

from minikeras.saving import file_utils, saving_lib
from minikeras.saving.object_registration import get_registered_name, get_registered_object
from minikeras.saving.serialization import deserialize_keras_object, serialize_keras_object

HDF5_OBJECT_HEADER_LIMIT = 64512  # bytes an HDF5 attribute may hold; longer lists are chunked


def _legacy_weights(layer):
    """Keras 2's weight order: trainable weights, then non-trainable ones."""
    return layer.trainable_weights + layer.non_trainable_weights


# --- writing -------------------------------------------------------------------------------------
def save_weights_to_hdf5(model, filepath):
    """``model.save_weights("x.h5")``: the Keras 2 layout (no optimizer state)."""
    with file_utils.atomic_write(filepath) as tmp, h5py.File(tmp, "w") as h5file:
        write_weights_group(h5file, model)


def save_model_to_hdf5(model, filepath, include_optimizer=True):
    """``model.save("x.h5")``: config, training config, weights and optimizer state."""
    directory = os.path.dirname(os.fspath(filepath))
    if directory:
        os.makedirs(directory, exist_ok=True)
    model_config = {"class_name": type(model).__name__,
                    "config": _legacy_config(model.get_config())}
    with file_utils.atomic_write(filepath) as tmp, h5py.File(tmp, "w") as h5file:
        h5file.attrs["keras_version"] = saving_lib.KERAS_VERSION
        h5file.attrs["backend"] = "tensorflow"
        h5file.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None and getattr(model, "compiled", False):
            h5file.attrs["training_config"] = json.dumps(
                _training_config(model)).encode("utf8")
        write_weights_group(h5file.create_group("model_weights"), model)
        if include_optimizer and optimizer is not None:
            _write_subset(h5file.create_group("optimizer_weights"), optimizer.variables)


def _legacy_config(config):
    """Keras 3's legacy writer keeps only ``class_name`` and ``config`` for the layers (and,
    in a functional model, each layer's ``name`` and ``inbound_nodes``)."""
    if "layers" in config:
        config = {**config, "layers": [
            {"class_name": layer.get("registered_name") or layer["class_name"],
             "config": _legacy_config(layer["config"]),
             **{key: layer[key] for key in ("name", "inbound_nodes") if key in layer}}
            for layer in config["layers"]]}
    return config


def _training_config(model):
    config = dict(model._compile_config)
    config.pop("optimizer", None)
    if config.get("jit_compile") == "auto":
        config["jit_compile"] = False
    config = serialize_keras_object(config)
    config["optimizer_config"] = {"class_name": get_registered_name(type(model.optimizer)),
                                  "config": model.optimizer.get_config()}
    return config


def write_weights_group(group, model):
    """``layer_names`` and one group per layer (sorted by name), as Keras writes them."""
    _save_attribute(group, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
    group.attrs["backend"] = "tensorflow"
    group.attrs["keras_version"] = saving_lib.KERAS_VERSION
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        _write_subset(group.create_group(layer.name), _legacy_weights(layer))
    _write_subset(group.create_group("top_level_model_weights"), _top_level_weights(model))


def _top_level_weights(model):
    return model._trainable_variables + model._non_trainable_variables


def _write_subset(group, weights):
    names = _unique_paths(weights)
    _save_attribute(group, "weight_names", [name.encode("utf8") for name in names])
    for name, weight in zip(names, weights, strict=True):
        group.create_dataset(name, data=np.asarray(weight.value))


def _unique_paths(weights):
    """Each weight's ``path`` (``sequential/dense/kernel``), numbered if two share one."""
    names, seen = [], set()
    for weight in weights:
        name = weight.path
        while name in seen:
            name = f"{name}_{len(seen)}"
        seen.add(name)
        names.append(name)
    return names


def _save_attribute(group, name, data):
    """``group.attrs[name] = data``, split into ``name0``, ``name1``... above the HDF5 limit."""
    array = np.asarray(data)
    chunks = 1
    while array.nbytes / chunks > HDF5_OBJECT_HEADER_LIMIT:
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
    else:
        for i, part in enumerate(np.array_split(array, chunks)):
            group.attrs[f"{name}{i}"] = part


# --- reading -------------------------------------------------------------------------------------
def _load_attribute(group, name):
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values += list(group.attrs[f"{name}{i}"])
            i += 1
    return [file_utils.decode_attr(v) for v in values]


def _read_subset(group, filepath):
    return [np.asarray(file_utils.read_dataset(group, name, filepath))
            for name in _load_attribute(group, "weight_names")]


def load_weights_from_hdf5(model, filepath, skip_mismatch=False, by_name=False):
    """``model.load_weights("x.h5")`` for a weights file or a whole-model file."""
    with file_utils.open_h5(os.fspath(filepath), filepath) as h5file:
        group = h5file
        if "layer_names" not in h5file.attrs and "model_weights" in h5file:
            group = file_utils.h5_child(h5file, "model_weights", filepath)
        if by_name:
            plans = _plan_by_name(group, model, filepath, skip_mismatch)
        else:
            plans = _plan_by_order(group, model, filepath, skip_mismatch)
    saving_lib.assign(plans)


def _stored_layers(group, filepath):
    """``[(name, [arrays])]`` for the saved layers that have weights, in file order."""
    stored = []
    for name in _load_attribute(group, "layer_names"):
        values = _read_subset(file_utils.h5_child(group, name, filepath), filepath)
        if values:
            stored.append((name, values))
    return stored


def _plan_by_order(group, model, filepath, skip_mismatch):
    layers = [layer for layer in model.layers if _legacy_weights(layer)]
    stored = _stored_layers(group, filepath)
    if len(stored) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file '{filepath}'. "
                         f"Model expected {len(layers)} layers, found {len(stored)} saved "
                         f"layers.")
    plans = []
    for k, (layer, (name, values)) in enumerate(zip(layers, stored, strict=True)):
        label = f"layer #{k} (named {layer.name} in the current model, {name} in the save file)"
        plans.append(_plan_layer(layer, values, label, filepath, skip_mismatch, strict=True))
    if "top_level_model_weights" in group:
        values = _read_subset(file_utils.h5_child(group, "top_level_model_weights", filepath),
                              filepath)
        plans.append(_plan_layer(model, values, "top-level model", filepath, skip_mismatch,
                                 strict=True, weights=_top_level_weights(model)))
    return plans


def _plan_by_name(group, model, filepath, skip_mismatch):
    index = {}
    for layer in model.layers:
        index.setdefault(layer.name, []).append(layer)
    plans = []
    for k, name in enumerate(_load_attribute(group, "layer_names")):
        values = _read_subset(file_utils.h5_child(group, name, filepath), filepath)
        for layer in index.get(name, []):
            plans.append(_plan_layer(layer, values, f"layer #{k} (named {layer.name})",
                                     filepath, skip_mismatch, strict=not skip_mismatch))
    return plans


def _plan_layer(layer, values, label, filepath, skip_mismatch, strict, weights=None):
    """``(layer, [(variable, value)])``; a count mismatch is an error when ``strict`` (else a
    warning), a shape mismatch an error unless ``skip_mismatch`` (then that weight is skipped)."""
    weights = _legacy_weights(layer) if weights is None else weights
    if len(values) != len(weights):
        message = (f"Weight count mismatch for {label} when loading '{filepath}'. Layer expects "
                   f"{len(weights)} weight(s). Received {len(values)} saved weight(s)")
        if strict:
            raise ValueError(message)
        warnings.warn(f"Skipping loading of weights: {message}", stacklevel=4)
        return layer, []
    plan = []
    for weight, value in zip(weights, values, strict=True):
        if weight.shape != value.shape:
            message = (f"Shape mismatch in {label} for weight {weight.path} when loading "
                       f"'{filepath}'. Weight expects shape {weight.shape}. Received saved "
                       f"weight with shape {value.shape}")
            if not skip_mismatch:
                raise ValueError(message)
            warnings.warn(f"Skipping: {message}", stacklevel=4)
            continue
        plan.append((weight, value))
    return layer, plan


# --- whole models --------------------------------------------------------------------------------
def load_model_from_hdf5(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by ``model.save("x.h5")`` in tf.keras 2 or Keras 3 (or minikeras)."""
    with file_utils.open_h5(os.fspath(filepath), filepath) as h5file:
        if "model_config" not in h5file.attrs:
            raise ValueError(f"No model config found in the file at {filepath}.")
        config = saving_lib.parse_config(h5file.attrs["model_config"], filepath, safe_mode)
        model = model_from_config(config, custom_objects, safe_mode)
        plans = _plan_by_order(file_utils.h5_child(h5file, "model_weights", filepath), model,
                               filepath, skip_mismatch=False)
        training_config = h5file.attrs.get("training_config")
        if compile and training_config is not None:
            training_config = saving_lib.parse_config(training_config, filepath, safe_mode)
            model.compile(**compile_args_from_training_config(training_config, custom_objects))
            if "optimizer_weights" in h5file:
                group = file_utils.h5_child(h5file, "optimizer_weights", filepath)
                plans.append(_plan_optimizer(model, group, filepath))
        elif compile:
            warnings.warn("No training configuration found in the save file, so the model was "
                          "*not* compiled. Compile it manually.", stacklevel=3)
    saving_lib.assign(plans)
    return model


def model_from_config(config, custom_objects=None, safe_mode=True):
    """A model or layer from a Keras 2 style config: ``module`` keys optional, Keras 2's
    ``axis: [n]`` accepted."""
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(f"The provided configuration is not a valid Keras configuration. "
                         f"Expected a dictionary containing a 'config' key. "
                         f"Received: config={config}")
    axis = config["config"].get("axis")
    if isinstance(axis, list) and len(axis) == 1:
        config = {**config, "config": {**config["config"], "axis": int(axis[0])}}
    return deserialize_keras_object(config, custom_objects, safe_mode=safe_mode,
                                    module_objects=_layer_objects())


def _layer_objects():
    """Every layer and model class by name: what a Keras 2 config may name without a module."""
    from minikeras import layers, models

    return {name: obj for module in (layers, models) for name, obj in vars(module).items()
            if isinstance(obj, type) and hasattr(obj, "from_config")}


def compile_args_from_training_config(training_config, custom_objects=None):
    """``model.compile`` arguments from a ``training_config`` (tf.keras 2 or Keras 3)."""
    optimizer = dict(training_config["optimizer_config"])
    optimizer["config"] = {key: value for key, value in optimizer["config"].items()
                           if key not in ("jit_compile", "is_legacy_optimizer")
                           and not (key == "decay" and not value)}
    if get_registered_object(optimizer["class_name"]) is None:  # tf.keras: "Custom>Adam"
        optimizer["class_name"] = optimizer["class_name"].split(">")[-1]
        optimizer["module"] = "keras.optimizers"
    return {
        "optimizer": deserialize_keras_object(optimizer, custom_objects),
        "loss": _compile_objects(training_config.get("loss"), "keras.losses", custom_objects),
        "metrics": _compile_objects(training_config.get("metrics"), "keras.metrics",
                                    custom_objects),
        "weighted_metrics": _compile_objects(training_config.get("weighted_metrics"),
                                             "keras.metrics", custom_objects),
        "loss_weights": training_config.get("loss_weights"),
    }


def _compile_objects(config, module, custom_objects):
    """Strings stay strings; tf.keras's ``MeanMetricWrapper`` becomes its name (``"accuracy"``);
    other configs become objects. tf.keras nests metrics per output: one output is unwrapped."""
    if config is None or isinstance(config, str):
        return config
    if isinstance(config, list):
        if len(config) == 1 and isinstance(config[0], list):
            return _compile_objects(config[0], module, custom_objects)
        return [_compile_objects(item, module, custom_objects) for item in config]
    if "class_name" not in config:  # a dict keyed by output name (several outputs)
        return {key: _compile_objects(item, module, custom_objects)
                for key, item in config.items()}
    if config.get("class_name") == "MeanMetricWrapper":
        return config["config"]["name"]
    inner = {key: value for key, value in config.get("config", {}).items() if key != "fn"}
    if inner.get("reduction") == "auto":  # tf.keras's default reduction
        inner["reduction"] = "sum_over_batch_size"
    return deserialize_keras_object({**config, "module": config.get("module") or module,
                                     "config": inner}, custom_objects)


def _plan_optimizer(model, group, filepath):
    """The saved optimizer state for the freshly compiled model's optimizer (built here).

    tf.keras 2 stores no ``learning_rate`` variable (names like ``iteration:0``,
    ``Adam/m/dense/kernel:0``): the compiled learning rate is kept and the rest matched in
    order. Anything that does not fit is skipped with a warning, leaving a fresh optimizer.
    """
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    names = _load_attribute(group, "weight_names")
    values = [np.asarray(file_utils.read_dataset(group, name, filepath)) for name in names]
    variables = list(optimizer.variables)
    if not any(name.split("/")[-1].startswith("learning_rate") for name in names) and (
            len(variables) == len(values) + 1 and variables[1] is optimizer._learning_rate):
        values.insert(1, variables[1].numpy())
    if len(values) != len(variables) or any(
            v.shape != value.shape for v, value in zip(variables, values, strict=True)):
        warnings.warn(f"Error in loading the saved optimizer state from '{filepath}' (saved "
                      f"shapes {[v.shape for v in values]}, expected "
                      f"{[v.shape for v in variables]}). As a result, your model is starting "
                      f"with a freshly initialized optimizer.", stacklevel=4)
        return optimizer, []
    return optimizer, list(zip(variables, values, strict=True))
