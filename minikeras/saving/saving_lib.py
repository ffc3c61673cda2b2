"""Keras 3's own formats: ``.weights.h5`` files and ``.keras`` archives.

``.weights.h5`` is an HDF5 file with one ``vars`` group per layer, holding datasets ``"0"``,
``"1"``... in the layer's variable order, at the path Keras finds it by walking the model::

    /layers/dense/vars      @name="dense"       0: kernel (2, 3)   1: bias (3,)
    /layers/dense_1/vars    @name="dense_1"     0: kernel (3, 1)   1: bias (1,)
    /optimizer/vars         @name="adam"        0: iteration   1: learning_rate   2...: slots
    /vars                   @name="sequential"  (the model's own variables: none)

Paths are not layer names: inside a list a layer is keyed by its snake_case class name and a
counter (``dense``, ``dense_1``, ``dropout``...), and attributes holding layers are walked in
sorted order (private ones last). ``.keras`` is a zip of ``metadata.json``, ``config.json``
(``serialize_keras_object(model)``), ``model.weights.h5`` and the ``assets/<path>/`` files of
layers with ``save_assets`` (a lookup's ``vocabulary.txt``), all stored uncompressed.

Loading reads and checks everything before assigning anything: a file that does not fit leaves
the model and its optimizer exactly as they were.
"""

import datetime
import io
import json
import os
import tempfile
import warnings
import zipfile

import h5py
import numpy as np

from minikeras import backend
from minikeras.saving import file_utils
from minikeras.saving.serialization import (
    deserialize_keras_object,
    find_lambdas,
    serialize_keras_object,
)

KERAS_VERSION = "3.15.1"  # the Keras release whose file formats minikeras writes
_CONFIG = "config.json"
_METADATA = "metadata.json"
_WEIGHTS = "model.weights.h5"


# --- walking the model as Keras does -------------------------------------------------------------
def _is_saveable(obj):
    from minikeras.layers.layer import Layer
    from minikeras.optimizers.optimizer import Optimizer

    return isinstance(obj, Layer | Optimizer)


def own_variables(obj):
    """What an object stores in its ``vars`` group: a layer's own variables (trainable first,
    not its sublayers'), or all of an optimizer's ``variables``."""
    from minikeras.layers.layer import Layer

    if isinstance(obj, Layer):
        return obj._trainable_variables + obj._non_trainable_variables
    return list(obj.variables)


def _name_key(name):
    return f"~{name}" if name.startswith("_") else name  # private attributes last


def _children(obj):
    """``(attribute, value)`` in Keras's order: a Sequential's ``layers`` first, then every
    attribute sorted by name (a Model's ``layers`` among them), private ones last."""
    from minikeras.models.model import Model
    from minikeras.models.sequential import Sequential

    if isinstance(obj, Sequential):
        yield "layers", obj.layers
    # minikeras's own tracking (the layer's lists, its tracker, its cached walk of the layer
    # tree), and a Sequential's graph twin (Keras skips it too)
    names = set(vars(obj)) - {"_layers", "_tracker", "_walk", "_functional"}
    if isinstance(obj, Model):
        names.add("layers")
    for name in sorted(names, key=_name_key):
        yield name, getattr(obj, name)


def walk(obj, path="", visited=None):
    """Yield ``(path, saveable)`` for ``obj`` and every layer or optimizer reachable from it,
    each once, at the path Keras gives it (``""`` for the root)."""
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return
    visited.add(id(obj))
    yield path, obj
    for name, child in _children(obj):
        yield from _walk_value(child, _join(path, name), visited)


def _walk_value(value, path, visited):
    if _is_saveable(value):
        yield from walk(value, path, visited)
    elif isinstance(value, list | tuple | dict):
        used = {}
        for item in (value.values() if isinstance(value, dict) else value):
            if _is_saveable(item):
                key = _unique(backend.to_snake_case(type(item).__name__), used)
            elif isinstance(item, list | tuple | dict):
                key = _unique("container", used)
            else:
                continue
            yield from _walk_value(item, _join(path, key), visited)


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _join(path, name):
    return f"{path}/{name}" if path else name


# --- writing -------------------------------------------------------------------------------------
def write_weights(model, h5file):
    """Write every ``vars`` group of ``model`` into an open, writable ``h5py.File``."""
    for path, obj in walk(model):
        _write_vars(h5file, _join(path, "vars"), obj)


def _write_vars(h5file, group_path, obj):
    group = h5file.create_group(group_path)
    group.attrs["name"] = obj.name
    for i, variable in enumerate(own_variables(obj)):
        group.create_dataset(str(i), data=np.asarray(variable.value))
    if _keeps_own_state(obj):  # e.g. a lookup's idf weights, stored under their own key
        store = {}
        obj.save_own_variables(store)
        for key, value in store.items():
            group.create_dataset(key, data=np.asarray(value))


def _keeps_own_state(obj):
    """A layer (not an optimizer) with Keras's ``save_own_variables`` hook."""
    from minikeras.layers.layer import Layer

    return isinstance(obj, Layer) and hasattr(obj, "save_own_variables")


def save_weights_only(model, filepath):
    """``model.save_weights("x.weights.h5")``: the file is replaced only once fully written."""
    if not model.built:
        raise ValueError("You are saving a model that has not yet been built. Try building the "
                         "model first by calling it on some data or by using `build()`.")
    with file_utils.atomic_write(filepath) as tmp, h5py.File(tmp, "w") as h5file:
        write_weights(model, h5file)


def save_model(model, filepath):
    """``model.save("x.keras")``: metadata, config and weights in a zip, entries stored."""
    if not model.built:
        warnings.warn("You are saving a model that has not yet been built. It might not contain "
                      "any weights yet. Consider building the model first by calling it on some "
                      "data.", stacklevel=3)
    config_json = json.dumps(serialize_keras_object(model))
    metadata_json = json.dumps({
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    with file_utils.atomic_write(filepath) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(_METADATA, metadata_json)
        archive.writestr(_CONFIG, config_json)
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as h5file:
            write_weights(model, h5file)
        archive.writestr(_WEIGHTS, buffer.getvalue())
        write_assets(model, archive)


def write_assets(model, archive):
    """Keras's ``assets/<path>/...``: the files each layer's ``save_assets(dir)`` writes (a
    lookup layer's ``vocabulary.txt``), at the layer's path in the model."""
    files = {}
    for path, obj in walk(model):
        if not hasattr(obj, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            obj.save_assets(tmp)
            for name in os.listdir(tmp):
                with open(os.path.join(tmp, name), "rb") as f:
                    files[f"assets/{_join(path, name)}"] = f.read()
    for name in sorted(files, key=lambda name: name.split("/")):  # a sorted directory walk
        archive.writestr(name, files[name])


def load_assets(model, archive, filepath):
    """Give each layer with ``load_assets(dir)`` a directory holding its ``assets/<path>/``
    files from the archive (empty if there are none)."""
    for path, obj in walk(model):
        if not hasattr(obj, "load_assets"):
            continue
        prefix = f"assets/{path}/" if path else "assets/"
        with tempfile.TemporaryDirectory() as tmp:
            for name in archive.namelist():
                rest = name[len(prefix):]
                if name.startswith(prefix) and rest and "/" not in rest:
                    with open(os.path.join(tmp, rest), "wb") as f:
                        f.write(read_entry(archive, name, filepath))
            try:
                obj.load_assets(tmp)
            except OSError as error:
                raise ValueError(f"Could not load the assets of layer '{obj.name}' from "
                                 f"'{filepath}' (expected them under '{prefix}'): "
                                 f"{error}") from None


# --- reading -------------------------------------------------------------------------------------
def load_weights_only(model, filepath, skip_mismatch=False):
    """``model.load_weights`` from a ``.weights.h5`` file or a ``.keras`` archive."""
    if not model.built:
        raise ValueError("You are loading weights into a model that has not yet been built. Try "
                         "building the model first by calling it on some data or by using "
                         "`build()`.")
    if str(filepath).endswith(".keras"):
        with open_archive(filepath) as archive:
            source = io.BytesIO(read_entry(archive, _WEIGHTS, filepath))
    else:
        source = os.fspath(filepath)
    with file_utils.open_h5(source, filepath) as h5file:
        load_state(model, h5file, filepath, skip_mismatch)


def load_state(model, h5file, filepath, skip_mismatch=False):
    """Read and check every variable in ``h5file`` for ``model``, then assign them all.

    A layer whose variables do not match (count or shape) is an error naming the file, the
    layer and the shapes, and nothing is assigned; with ``skip_mismatch=True`` such layers are
    skipped with a warning instead. An optimizer whose variable count differs (e.g. not built
    yet) is skipped with a warning, as in Keras.
    """
    plans, errors, skipped = [], [], []
    for path, obj in walk(model):
        stored = _read_vars(h5file, _join(path, "vars"), filepath)
        plan, message = _match(obj, path, stored)
        if plan is None:
            errors.append(message)
        else:
            plans.append((obj, plan))
            skipped += [message] if message else []
    if errors:
        message = (f"Could not load the weights in '{filepath}': {len(errors)} object(s) do not "
                   f"match the model.\n" + "\n".join(errors))
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message + "\nThese objects were skipped.", stacklevel=5)
    for message in skipped:
        warnings.warn(message, stacklevel=5)  # points at the caller of model.load_weights
    assign(plans)


def assign(plans):
    """Assign ``[(owner, [(variable, value), ...]), ...]``; then let layers with derived state
    (``finalize_state``, e.g. Normalization) recompute it from their variables (not layers that
    restore their own state with ``load_own_variables``, as Keras does not)."""
    for owner, plan in plans:
        for variable, value in plan:
            variable.assign(value)
        if plan and hasattr(owner, "finalize_state") and not isinstance(plan[0][0], _OwnState):
            owner.finalize_state()


def _read_vars(h5file, group_path, filepath):
    """``{"0": array, ...}`` stored at ``group_path`` (empty if the file has no such group)."""
    group = _find_group(h5file, group_path, filepath)
    if group is None:
        return {}
    return {key: file_utils.read_dataset(group, key, filepath) for key in group.keys()}


def _find_group(h5file, group_path, filepath):
    """The group at ``group_path``, trying tf_keras 2.13's ``_layer_checkpoint_dependencies``
    spelling of ``layers`` too."""
    for path in (group_path, group_path.replace("layers", "_layer_checkpoint_dependencies", 1)):
        group = h5file
        for part in path.split("/"):
            if part not in group:
                group = None
                break
            group = file_utils.h5_child(group, part, filepath)
        if group is not None:
            return group
    return None


def _match(obj, path, stored):
    """``(plan, None)``: the ``(variable, value)`` pairs to assign, or ``(None, error)`` when
    the stored arrays do not fit. An optimizer with a different variable count is no error:
    Keras skips it with a warning, ``([], warning)``."""
    variables = own_variables(obj)
    if stored and not variables and _keeps_own_state(obj) and hasattr(obj,
                                                                     "load_own_variables"):
        return [(_OwnState(obj), stored)], None
    kind = "Optimizer" if _is_optimizer(obj) else "Layer"
    where = f"at '{path or '/'}'"
    if len(stored) != len(variables) or set(stored) != {str(i) for i in range(len(stored))}:
        if _is_optimizer(obj):
            return [], (
                f"Skipping variable loading for optimizer '{obj.name}', because it has "
                f"{len(variables)} variables whereas the saved optimizer has {len(stored)} "
                f"variables. " + ("This is likely because the optimizer has not been "
                                  "called/built yet." if not variables else ""))
        return None, (f"Layer '{obj.name}' ({where}) expected {len(variables)} variables, but "
                      f"received {len(stored)} variables during loading. Expected: "
                      f"{[v.name for v in variables]}")
    plan = []
    for i, variable in enumerate(variables):
        value = np.asarray(stored[str(i)])
        if value.shape != variable.shape:
            return None, (f"{kind} '{obj.name}' ({where}): variable '{variable.name}' has shape "
                          f"{variable.shape}, but the file has shape {value.shape}.")
        plan.append((variable, value))
    return plan, None


class _OwnState:
    """Stands in for a variable: "assigning" hands the stored arrays to the layer's
    ``load_own_variables`` (Keras's hook for state kept outside variables)."""

    def __init__(self, layer):
        self.layer = layer

    def assign(self, store):
        self.layer.load_own_variables(store)


def _is_optimizer(obj):
    from minikeras.layers.layer import Layer

    return not isinstance(obj, Layer)


# --- .keras archives -----------------------------------------------------------------------------
def open_archive(filepath):
    """The ``.keras`` zip, after refusing unsafe entry paths."""
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"Could not read '{filepath}': it is not a valid `.keras` archive "
                         f"(not a zip file).")
    archive = zipfile.ZipFile(filepath, "r")
    try:
        file_utils.check_zip_entries(archive, filepath)
    except ValueError:
        archive.close()
        raise
    return archive


def read_entry(archive, name, filepath):
    try:
        return archive.read(name)
    except KeyError:
        raise ValueError(f"Could not read '{filepath}': the archive has no '{name}'.") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"Could not read '{name}' in '{filepath}': the archive is truncated "
                         f"or corrupt ({error}).") from None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a ``.keras`` archive: config -> model (built, compiled), then weights."""
    with open_archive(filepath) as archive:
        config = parse_config(read_entry(archive, _CONFIG, filepath), filepath, safe_mode)
        weights = read_entry(archive, _WEIGHTS, filepath)
        if not compile:
            config["compile_config"] = None
        model = deserialize_keras_object(config, custom_objects, safe_mode=safe_mode)
        with file_utils.open_h5(io.BytesIO(weights), f"{filepath}/{_WEIGHTS}") as h5file:
            load_state(model, h5file, filepath)
        load_assets(model, archive, filepath)
    return model


def parse_config(config_json, filepath, safe_mode=True):
    """JSON -> dict, refusing Python lambdas up front unless ``safe_mode=False``."""
    try:
        config = json.loads(config_json)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"Could not read the model config in '{filepath}': it is not valid "
                         f"JSON ({error}).") from None
    if not isinstance(config, dict):
        raise ValueError(f"Could not read the model config in '{filepath}': expected a JSON "
                         f"object, found {type(config).__name__}.")
    lambdas = find_lambdas(config)
    if lambdas and safe_mode is not False:
        raise ValueError(f"Refusing to load '{filepath}': its config holds Python bytecode at "
                         f"{lambdas[0]}. Requested the deserialization of a Python lambda. "
                         f"This carries a potential risk of arbitrary code execution and thus "
                         f"it is disallowed by default. If you trust the source of the "
                         f"artifact, pass `safe_mode=False` to the loading function.")
    return config
