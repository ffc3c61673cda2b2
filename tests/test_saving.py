"""Saving and loading inside minikeras (NumPy only).

Every format round trips; training continued after a round trip equals training continued
without one; a save that fails midway leaves the previous file intact and no temporary file; a
load that fails changes nothing and names the file, the layer and the shapes; loading never
runs code from the file.
"""

import json
import os
import warnings
import zipfile

import h5py
import numpy as np
import pytest

import minikeras
from minikeras import layers, saving
from minikeras.saving import legacy_h5_format, saving_lib

pytestmark = pytest.mark.filterwarnings(
    "ignore:You are saving your model as an HDF5 file", "ignore:No training configuration")
D = 3


@pytest.fixture(autouse=True)
def _fresh():
    minikeras.backend.clear_session()
    minikeras.backend.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def make(units=(4, 2), dropout=True):
    """Dense, Dropout, BatchNormalization, Dense: weights, a weightless layer, moving stats."""
    body = [layers.Dense(units[0], activation="tanh", kernel_regularizer="l2"),
            *([layers.Dropout(0.2)] if dropout else []),
            layers.BatchNormalization(),
            layers.Dense(units[1], activation="softmax")]
    return minikeras.Sequential([minikeras.Input((D,)), *body])


def randomize(model, rng):
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) if "variance" in w.name
                       else rng.normal(size=w.shape).astype(w.dtype) for w in model.weights])
    return model


def trained(rng, x, y):
    model = randomize(make(dropout=False), rng)
    model.compile(optimizer=minikeras.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(12, D)).astype("float32")
    return x, np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]


def snapshot(model):
    """Every number that loading could change: weights and optimizer state."""
    state = [w.numpy() for w in model.weights]
    if getattr(model, "optimizer", None) is not None:
        state += [v.numpy() for v in model.optimizer.variables]
    return state


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


# --- round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".weights.h5", ".h5", ".keras"])
def test_weights_round_trip(tmp_path, rng, data, suffix):
    source = randomize(make(), rng)
    path = tmp_path / f"m{suffix}"
    source.save(path) if suffix == ".keras" else source.save_weights(path)
    target = make()
    target.load_weights(path)
    assert_same(target.get_weights(), source.get_weights())
    np.testing.assert_array_equal(target.predict(data[0], verbose=0),
                                  source.predict(data[0], verbose=0))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_round_trip(tmp_path, rng, data, suffix):
    source = randomize(make(), rng)
    source.save(tmp_path / f"m{suffix}")
    loaded = saving.load_model(tmp_path / f"m{suffix}")
    assert type(loaded) is minikeras.Sequential
    assert loaded.get_config() == source.get_config()
    assert_same(loaded.get_weights(), source.get_weights())
    np.testing.assert_array_equal(loaded.predict(data[0], verbose=0),
                                  source.predict(data[0], verbose=0))


def test_json_round_trip_has_the_architecture_not_the_weights(rng):
    source = randomize(make(), rng)
    rebuilt = saving.model_from_json(source.to_json())
    assert rebuilt.get_config() == source.get_config()
    assert json.loads(rebuilt.to_json()) == json.loads(source.to_json())
    assert not np.array_equal(rebuilt.layers[0].kernel.numpy(), source.layers[0].kernel.numpy())


def test_model_from_json_reads_keras2_json(rng):
    """tf.keras 2's JSON: no "module" keys, ``batch_input_shape``, dtype as a string."""
    keras2 = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, D],
                                                "dtype": "float32", "name": "input_1"}},
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True,
                                           "dtype": "float32", "units": 2,
                                           "activation": "relu"}}]}}
    model = saving.model_from_json(json.dumps(keras2))
    assert model.input_shape == (None, D) and model.layers[0].units == 2


def test_clone_model_copies_the_architecture_with_new_weights(rng, data):
    source = randomize(make(), rng)
    clone = saving.clone_model(source)
    assert clone.get_config() == source.get_config()
    assert all(a is not b for a, b in zip(clone.weights, source.weights, strict=True))
    clone.set_weights(source.get_weights())
    np.testing.assert_array_equal(clone.predict(data[0], verbose=0),
                                  source.predict(data[0], verbose=0))


def test_weights_h5_layout_is_keras3s(tmp_path, rng):
    """keras-facts 9.1: groups keyed by snake_case class name + counter, ``name`` attrs, empty
    groups for weightless layers and the model, datasets in variable order."""
    model = randomize(make(), rng)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as f:
        groups = {}
        f.visititems(lambda name, obj: groups.update(
            {name: dict(obj.attrs)} if name.endswith("vars") else {}))
        assert groups == {"layers/dense/vars": {"name": "dense"},
                          "layers/dropout/vars": {"name": "dropout"},
                          "layers/batch_normalization/vars": {"name": "batch_normalization"},
                          "layers/dense_1/vars": {"name": "dense_1"},
                          "vars": {"name": "sequential"}}
        bn = model.layers[2]
        for i, w in enumerate([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance]):
            np.testing.assert_array_equal(f[f"layers/batch_normalization/vars/{i}"][()],
                                          w.numpy())


class Block(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(2)
        self._private = layers.Dense(2)
        self.stack = [layers.Dense(1), layers.Dense(1)]

    def call(self, x):
        return self.stack[1](self.stack[0](self._private(self.inner(x))))


class Subclassed(minikeras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.zz = layers.Dense(3)
        self.aa = Block()

    def call(self, x):
        return self.aa(self.zz(x))


def test_subclassed_and_nested_layers_get_keras3s_paths(tmp_path, rng, data):
    """The paths real Keras 3.15 writes for these two classes (sorted attributes, private last,
    lists keyed by class name, a Model's ``layers`` list among the attributes)."""
    model = Subclassed()
    model(data[0])
    model.save_weights(tmp_path / "s.weights.h5")
    with h5py.File(tmp_path / "s.weights.h5") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if name.endswith("vars") else None)
    assert sorted(names) == ["aa/_private/vars", "aa/inner/vars", "aa/stack/dense/vars",
                             "aa/stack/dense_1/vars", "aa/vars", "layers/dense/vars", "vars"]
    other = Subclassed()
    other(data[0])
    other.load_weights(tmp_path / "s.weights.h5")
    np.testing.assert_array_equal(other.predict(data[0], verbose=0),
                                  model.predict(data[0], verbose=0))


# --- compiled models: the optimizer state round trips --------------------------------------------
@pytest.mark.parametrize("how", ["keras", "h5", "weights.h5"])
def test_training_continues_identically_after_a_round_trip(tmp_path, rng, data, how):
    x, y = data
    source = trained(rng, x, y)
    if how == "weights.h5":
        source.save_weights(tmp_path / "m.weights.h5")
        loaded = make(dropout=False)
        loaded.compile(optimizer=minikeras.optimizers.Adam(0.01),
                       loss="categorical_crossentropy", metrics=["accuracy"])
        loaded.optimizer.build(loaded.trainable_variables)
        loaded.load_weights(tmp_path / "m.weights.h5")
    else:
        source.save(tmp_path / f"m.{how}")
        loaded = saving.load_model(tmp_path / f"m.{how}")
    assert loaded.compiled and type(loaded.optimizer) is minikeras.optimizers.Adam
    assert_same(snapshot(loaded), snapshot(source))
    history_a = source.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    history_b = loaded.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    assert_same(snapshot(loaded), snapshot(source))
    assert history_a == history_b


def test_unbuilt_optimizer_state_is_skipped_with_a_warning(tmp_path, rng, data):
    source = trained(rng, *data)
    source.save_weights(tmp_path / "m.weights.h5")
    target = make(dropout=False)
    target.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.warns(UserWarning, match="optimizer 'adam_1', because it has 2 variables.*14"):
        target.load_weights(tmp_path / "m.weights.h5")
    assert_same(target.get_weights(), source.get_weights())
    assert int(target.optimizer.iterations.numpy()) == 0


def test_load_model_without_compile(tmp_path, rng, data):
    trained(rng, *data).save(tmp_path / "m.keras")
    assert not saving.load_model(tmp_path / "m.keras", compile=False).compiled


# --- custom objects ------------------------------------------------------------------------------
class Scale(layers.Layer):
    """A custom layer: ``y = factor * x``."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _scaled_model():
    return minikeras.Sequential([minikeras.Input((D,)), Scale(3.0), layers.Dense(2)])


def test_custom_layers_need_registration_or_custom_objects(tmp_path, data):
    _scaled_model().save(tmp_path / "m.keras")
    with pytest.raises(TypeError, match="Could not locate class 'Scale'"):
        saving.load_model(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    assert loaded.layers[0].factor == 3.0
    with saving.custom_object_scope({"Scale": Scale}):
        assert saving.load_model(tmp_path / "m.keras").layers[0].factor == 3.0


def test_registered_layers_load_by_their_registered_name(tmp_path, data):
    registered = saving.register_keras_serializable(package="MyPackage")(
        type("Registered", (Scale,), {}))
    assert saving.get_registered_name(registered) == "MyPackage>Registered"
    assert saving.get_registered_object("MyPackage>Registered") is registered
    model = minikeras.Sequential([minikeras.Input((D,)), registered(4.0)])
    config = saving.serialize_keras_object(model)["config"]["layers"][1]
    assert config["registered_name"] == "MyPackage>Registered"
    model.save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0]) is registered
    np.testing.assert_array_equal(loaded.predict(data[0], verbose=0), 4.0 * data[0])
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


# --- atomic saves --------------------------------------------------------------------------------
WRITERS = {  # suffix, how to save, the function that writes part of the file
    "weights.h5": (".weights.h5", "save_weights", saving_lib, "_write_vars"),
    "legacy weights": (".h5", "save_weights", legacy_h5_format, "_write_subset"),
    "keras": (".keras", "save", saving_lib, "_write_vars"),
    "legacy model": (".h5", "save", legacy_h5_format, "_write_subset"),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("existing", [True, False])
def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path, rng, monkeypatch,
                                                                writer, existing):
    suffix, method, module, function = WRITERS[writer]
    path = tmp_path / f"m{suffix}"
    model = randomize(make(), rng)
    if existing:
        getattr(model, method)(path)
        before = path.read_bytes()
    original, calls = getattr(module, function), []

    def fail_after_the_first_write(*args):
        if calls:
            raise OSError("disk full")
        calls.append(original(*args))

    monkeypatch.setattr(module, function, fail_after_the_first_write)
    randomize(model, rng)
    with pytest.raises(OSError, match="disk full"):
        getattr(model, method)(path)
    assert calls  # the failure came midway, after part of the file was written
    assert os.listdir(tmp_path) == ([path.name] if existing else [])
    if existing:
        assert path.read_bytes() == before


def test_saved_files_get_the_usual_permissions(tmp_path, rng):
    make().save_weights(tmp_path / "m.weights.h5")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "m.weights.h5").st_mode & 0o777 == 0o666 & ~umask


# --- failed loads change nothing -----------------------------------------------------------------
def _write_bad_files(tmp_path, rng):
    """``{name: (path, words the error must contain)}``: files that do not fit ``make()``."""
    files = {}
    other = randomize(make(units=(4, 3)), rng)  # the last Dense has 3 units instead of 2
    for suffix in (".weights.h5", ".h5"):
        other.save_weights(tmp_path / f"shape{suffix}")
    files["shape"] = (tmp_path / "shape.weights.h5", ["dense_1", "(4, 2)", "(4, 3)"])
    files["legacy shape"] = (tmp_path / "shape.h5", ["dense_1", "(4, 2)", "(4, 3)"])
    shorter = minikeras.Sequential([minikeras.Input((D,)), layers.Dense(4)])
    shorter.save_weights(tmp_path / "missing.weights.h5")
    shorter.save_weights(tmp_path / "missing.h5")
    files["missing layer"] = (tmp_path / "missing.weights.h5",
                              ["batch_normalization", "expected 4 variables", "received 0"])
    files["legacy count"] = (tmp_path / "missing.h5", ["Layer count mismatch", "3", "1"])
    good = tmp_path / "good.weights.h5"
    randomize(make(), rng).save_weights(good)
    (tmp_path / "truncated.weights.h5").write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])
    files["truncated"] = (tmp_path / "truncated.weights.h5", [])
    (tmp_path / "text.weights.h5").write_text("not weights")
    files["not hdf5"] = (tmp_path / "text.weights.h5", ["not an HDF5 file"])
    (tmp_path / "garbage.keras").write_bytes(rng.bytes(256))
    files["not zip"] = (tmp_path / "garbage.keras", ["not a zip file"])
    randomize(make(), rng).save(tmp_path / "whole.keras")
    cut = (tmp_path / "whole.keras").read_bytes()
    (tmp_path / "truncated.keras").write_bytes(cut[:len(cut) - 300])
    files["truncated keras"] = (tmp_path / "truncated.keras", [])
    return files


def test_failed_loads_raise_clearly_and_change_nothing(tmp_path, rng, data):
    model = trained(rng, *data)
    before = snapshot(model)
    for name, (path, words) in _write_bad_files(tmp_path, rng).items():
        with pytest.raises(ValueError) as error, warnings.catch_warnings():
            warnings.simplefilter("error")  # not even a warning before the error
            model.load_weights(path)
        message = str(error.value)
        for word in [path.name, *words]:
            assert word in message, (name, message)
        assert_same(snapshot(model), before)


def test_a_bad_optimizer_shape_changes_no_layer_either(tmp_path, rng, data):
    model = trained(rng, *data)
    path = tmp_path / "m.weights.h5"
    randomize(model, rng)
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["optimizer/vars/2"]
        f["optimizer/vars/2"] = np.zeros((7, 7), "float32")
    randomize(model, rng)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"Optimizer 'adam'.*\(3, 4\).*\(7, 7\)"):
        model.load_weights(path)
    assert_same(snapshot(model), before)


def test_skip_mismatch_loads_the_layers_that_fit(tmp_path, rng):
    source = randomize(make(units=(4, 3)), rng)
    source.save_weights(tmp_path / "m.weights.h5")
    target = randomize(make(), rng)
    last = target.layers[-1].get_weights()
    with pytest.warns(UserWarning, match="dense_1"):
        target.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    assert_same(target.layers[0].get_weights(), source.layers[0].get_weights())
    assert_same(target.layers[-1].get_weights(), last)


def test_legacy_by_name_matches_layer_names(tmp_path, rng):
    source = minikeras.Sequential([minikeras.Input((D,)), layers.Dense(4, name="a"),
                                   layers.Dense(2, name="b")])
    randomize(source, rng).save_weights(tmp_path / "m.h5")
    target = minikeras.Sequential([minikeras.Input((D,)), layers.Dense(4, name="x"),
                                   layers.Dense(2, name="b")])
    kept = target.layers[0].get_weights()
    target.load_weights(tmp_path / "m.h5", by_name=True)
    assert_same(target.layers[0].get_weights(), kept)
    assert_same(target.layers[1].get_weights(), source.layers[1].get_weights())
    wider = minikeras.Sequential([minikeras.Input((D,)), layers.Dense(5, name="a")])
    with pytest.raises(ValueError, match=r"Shape mismatch.*\(3, 5\).*\(3, 4\)"):
        wider.load_weights(tmp_path / "m.h5", by_name=True)
    kept = wider.get_weights()
    with pytest.warns(UserWarning, match="Skipping"):
        wider.load_weights(tmp_path / "m.h5", by_name=True, skip_mismatch=True)
    assert_same(wider.get_weights(), kept)


def test_bad_file_names_and_unbuilt_models(tmp_path):
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        make().save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        make().save_weights(tmp_path / "m.txt")
    with pytest.raises(ValueError, match="File not found"):
        saving.load_model(tmp_path / "missing.keras")
    unbuilt = minikeras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.save_weights(tmp_path / "m.weights.h5")


# --- loading never runs code ---------------------------------------------------------------------
def _archive(path, config):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))


@pytest.mark.parametrize("entry", ["../evil.txt", "/abs/evil.txt", "assets/../../evil.txt"])
def test_archive_entries_escaping_the_archive_are_refused(tmp_path, rng, entry):
    randomize(make(), rng).save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras", "a") as archive:
        archive.writestr(entry, b"x")
    with pytest.raises(ValueError, match="unsafe path"):
        saving.load_model(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="unsafe path"):
        make().load_weights(tmp_path / "m.keras")
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("config, error", [
    ({"module": "os", "class_name": "system", "config": {}}, "Could not locate class 'system'"),
    ({"module": "builtins", "class_name": "function", "config": "eval"},
     "Could not locate function 'eval'"),
    ({"module": "keras.models", "class_name": "function", "config": "load_model"},
     "Could not locate function 'load_model'"),
    ({"module": "keras.layers", "class_name": "Input", "config": {}},
     "Could not locate class 'Input'"),
    ({"class_name": "Dense", "config": {"units": 2}}, "Could not locate class 'Dense'"),
])
def test_configs_resolve_only_known_classes(config, error):
    with pytest.raises(TypeError, match=error):
        saving.deserialize_keras_object(config)


def test_keras_modules_resolve_to_minikeras_classes():
    dense = saving.deserialize_keras_object(
        {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2},
         "build_config": {"input_shape": [None, 5]}})
    assert type(dense) is layers.Dense and dense.kernel.shape == (5, 2)
    relu = {"module": "keras.src.activations.activations", "class_name": "function",
            "config": "relu", "registered_name": "relu"}
    assert saving.deserialize_keras_object(relu) is minikeras.activations.relu


def test_lambdas_are_refused_unless_safe_mode_is_off(tmp_path, rng):
    with pytest.warns(UserWarning, match="lambda"):
        config = saving.serialize_keras_object(lambda v: v * 3)
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.deserialize_keras_object(config)
    assert saving.deserialize_keras_object(config, safe_mode=False)(2) == 6
    model_config = saving.serialize_keras_object(make())
    model_config["config"]["layers"][1]["config"]["activation"] = config
    _archive(tmp_path / "lambda.keras", model_config)
    with pytest.raises(ValueError, match="lambda.keras.*bytecode"):
        saving.load_model(tmp_path / "lambda.keras")


def test_keras2_lambda_layers_in_h5_files_are_refused(tmp_path):
    keras2 = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Lambda", "config": {"name": "l", "function": ["4wAAAA==", None, None],
                                            "function_type": "lambda"}}]}}
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(keras2)
    with pytest.raises(ValueError, match="bytecode"):
        saving.load_model(tmp_path / "m.h5")


def test_hdf5_links_to_other_files_are_refused(tmp_path, rng):
    model = randomize(make(), rng)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r+") as f:
        del f["layers/dense"]
        f["layers/dense"] = h5py.ExternalLink("/etc/passwd", "/")
    with pytest.raises(ValueError, match="Not allowed.*ExternalLink"):
        make().load_weights(tmp_path / "m.weights.h5")


# --- files written by tf.keras 2 (made here with h5py, laid out as keras-facts 9.3 shows) ---------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_tutorial_era_tf_keras_h5_model(tmp_path, rng):
    """tf.keras 2.x ``model.save("x.h5")`` after one Adam step: "Custom>Adam", a
    MeanMetricWrapper metric, optimizer weights without a learning rate."""
    w = [rng.normal(size=s).astype("float32") for s in [(2, 3), (3,), (3, 1), (1,)]]
    slots = [rng.uniform(size=v.shape).astype("float32") for v in w for _ in "mv"]
    dense = {"trainable": True, "dtype": "float32", "activation": "sigmoid", "use_bias": True,
             "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
             "bias_initializer": {"class_name": "Zeros", "config": {}},
             "kernel_regularizer": None, "bias_regularizer": None,
             "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    model_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 2],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 3, **dense}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 1, **dense}}]}}
    training_config = {
        "loss": "binary_crossentropy", "weighted_metrics": None, "loss_weights": None,
        "metrics": [[{"class_name": "MeanMetricWrapper",
                      "config": {"name": "accuracy", "dtype": "float32",
                                 "fn": "binary_accuracy"}}]],
        "optimizer_config": {"class_name": "Custom>Adam", "config": {
            "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
            "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "jit_compile": False, "is_legacy_optimizer": False,
            "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
            "amsgrad": False}}}
    with h5py.File(tmp_path / "k2.h5", "w") as f:
        f.attrs["backend"], f.attrs["keras_version"] = "tensorflow", "2.21.0"
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([b"dense", b"dense_1"])
        for layer, (kernel, bias) in {"dense": w[:2], "dense_1": w[2:]}.items():
            names = [f"{layer}/kernel:0", f"{layer}/bias:0"]
            g.create_group(layer).attrs["weight_names"] = np.array([n.encode() for n in names])
            g[layer][names[0]], g[layer][names[1]] = kernel, bias
        g.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])
        names = ["iteration:0"] + [f"Adam/{s}/{layer}/{v}:0" for layer in ("dense", "dense_1")
                                   for v in ("kernel", "bias") for s in "mv"]
        o = f.create_group("optimizer_weights")
        o.attrs["weight_names"] = np.array([n.encode() for n in names])
        o[names[0]] = np.int64(1)
        for name, value in zip(names[1:], slots, strict=True):
            o[name] = value
    model = saving.load_model(tmp_path / "k2.h5")
    x = rng.normal(size=(5, 2)).astype("float32")
    expected = _sigmoid(_sigmoid(x @ w[0] + w[1]) @ w[2] + w[3])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    optimizer = model.optimizer
    assert type(optimizer) is minikeras.optimizers.Adam
    np.testing.assert_allclose(float(optimizer.learning_rate), 0.01, rtol=1e-7)
    values = [v.numpy() for v in optimizer.variables]
    assert values[0] == 1
    assert_same(values[2:], slots)


def test_tf_keras_weights_h5_variant(tmp_path, rng):
    """tf_keras's ``.weights.h5``: no ``name`` attrs, a ``/metrics`` group, and optimizer vars
    without the learning rate (keras-facts 9.3): layers load, the optimizer is skipped."""
    model = make(dropout=False)
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    values = [rng.normal(size=w.shape).astype("float32") for w in model.weights]
    with h5py.File(tmp_path / "k2.weights.h5", "w") as f:
        by_layer = {"dense": values[:2], "batch_normalization": values[2:6],
                    "dense_1": values[6:]}
        for layer, arrays in by_layer.items():
            for i, value in enumerate(arrays):
                f[f"layers/{layer}/vars/{i}"] = value
        f["metrics/mean/vars/0"], f["metrics/mean/vars/1"] = np.float32(3.0), np.float32(4.0)
        f["optimizer/vars/0"] = np.int64(5)
        for i, w in enumerate(model.trainable_weights):
            f[f"optimizer/vars/{2 * i + 1}"] = np.ones(w.shape, "float32")
            f[f"optimizer/vars/{2 * i + 2}"] = np.ones(w.shape, "float32")
        f.create_group("vars")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        model.load_weights(tmp_path / "k2.weights.h5")
    assert_same(model.get_weights(), values)
    assert int(model.optimizer.iterations.numpy()) == 0
