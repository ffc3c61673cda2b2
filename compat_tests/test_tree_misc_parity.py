"""``minikeras.tree``, ``name_scope`` / ``device``, the segment reductions, ``get_item`` and
``TimeDistributed`` behave as in Keras 3: the same results, the same errors, the same gradients
(against ``tf.GradientTape``), the same configs, summaries, training and files."""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from compat_tests.test_saving_parity import assert_same_config

pytestmark = pytest.mark.filterwarnings(  # the weighted test loss overflows float32 at the
    "ignore:overflow encountered")          # empty segments' ±float max, not the gradients

Point = collections.namedtuple("Point", ["y", "x"])
Other = collections.namedtuple("Other", ["y", "x"])


# --- keras.tree ----------------------------------------------------------------------------------
def _outcome(fn):
    """("ok", result) or (error type name, message) for one call."""
    try:
        return "ok", fn()
    except Exception as error:  # noqa: BLE001 - the error itself is what is compared
        return type(error).__name__, str(error)


STRUCTURES = {
    "leaf": 3, "none": None, "flat_list": [1, 2, 3], "one_item": [7],
    "nested": [[1, 2, 3], [4, [5], [[6]]]],
    "tuple": (1, (2, 3)), "dict": {"b": 1, "a": [2, (3, None)], "c": Point(4, 5)},
    "int_keys": {100: "world!", 6: "Hello"},
    "mixed_keys": {1: "one", "a": "A", 0: "zero"}, "namedtuple": Point(y=[1, 2], x={"k": None}),
    "ordered": collections.OrderedDict([("b", 1), ("a", 2)]), "empty": [[], {}, ()],
    "deque": collections.deque([1, [2, 3]]), "with_nones": [None, (None, 1), {"z": None}],
    "array_leaf": [np.arange(3), {"w": np.ones(2)}],
}


def _same(a, b):
    """Equal results, arrays compared by value, containers by type as well."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, list | tuple | dict | collections.deque):
        if type(a) is not type(b) or len(a) != len(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _assert_same_outcome(ours, theirs):
    assert ours[0] == theirs[0], f"minikeras {ours} vs keras {theirs}"
    if ours[0] == "ok":
        assert _same(ours[1], theirs[1]), f"minikeras {ours[1]!r} vs keras {theirs[1]!r}"
    else:
        assert ours[1] == theirs[1]


@pytest.mark.parametrize("name", sorted(STRUCTURES))
@pytest.mark.parametrize("function", ["is_nested", "flatten", "flatten_with_path",
                                      "lists_to_tuples", "map_shape_structure", "identity_map",
                                      "double_map", "pack", "traverse_top", "traverse_bottom"])
def test_tree_functions_on_one_structure(name, function):
    s = STRUCTURES[name]
    calls = {
        "is_nested": lambda t: t.is_nested(s),
        "flatten": lambda t: t.flatten(s),
        "flatten_with_path": lambda t: t.flatten_with_path(s),
        "lists_to_tuples": lambda t: t.lists_to_tuples(s),
        "map_shape_structure": lambda t: t.map_shape_structure(repr, s),
        "identity_map": lambda t: t.map_structure(lambda v: v, s),
        "double_map": lambda t: t.map_structure(lambda a, b: (a, b), s, s),
        "pack": lambda t: t.pack_sequence_as(s, list(range(len(t.flatten(s))))),
        "traverse_top": lambda t: t.traverse(
            lambda v: v * 10 if isinstance(v, int) else None, s),
        "traverse_bottom": lambda t: t.traverse(
            lambda v: t.MAP_TO_NONE if isinstance(v, tuple) else None, s, top_down=False),
    }
    _assert_same_outcome(_outcome(lambda: calls[function](minikeras.tree)),
                         _outcome(lambda: calls[function](keras.tree)))


PAIRS = {  # (a, b): each is mapped / compared with the other
    "list_vs_tuple": ([1, 2], (1, 2)), "longer": ([1, 2], [1, 2, 3]),
    "leaf_vs_list": ([1, [2]], [1, 2]), "list_vs_leaf": ([1, 2], [1, [2]]),
    "keys": ({"a": 1}, {"b": 1}), "namedtuple_vs_tuple": (Point(1, 2), (1, 2)),
    "namedtuple_classes": (Point(1, 2), Other(1, 2)),
    "same": ([1, (2, {"k": 3})], [4, (5, {"k": 6})]),
    "dict_orders": ({"b": 1, "a": 2}, {"a": 3, "b": 4}),
    "dict_vs_ordered": ({"a": 1, "b": 2}, collections.OrderedDict([("b", 3), ("a", 4)])),
    "none_vs_leaf": ([None, 1], [2, 3]), "none_vs_list": ([None, 1], [[2], 3]),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("function", ["map_structure", "map_none_not_leaf",
                                      "assert_same_structure", "assert_same_paths"])
def test_tree_functions_on_two_structures(name, function):
    a, b = PAIRS[name]
    calls = {
        "map_structure": lambda t: t.map_structure(lambda x, y: (x, y), a, b),
        "map_none_not_leaf": lambda t: t.map_structure(lambda x, y: (x, y), a, b,
                                                       none_is_leaf=False),
        "assert_same_structure": lambda t: t.assert_same_structure(a, b),
        "assert_same_paths": lambda t: t.assert_same_paths(a, b),
    }
    _assert_same_outcome(_outcome(lambda: calls[function](minikeras.tree)),
                         _outcome(lambda: calls[function](keras.tree)))


UP_TO = {
    "docstring_len": ([0, 0], len, ([[1, 1], [2, 2]],)),
    "docstring_str": ([0, [0, 0]], str, ([[1, 1], [2, 2]],)),
    "two_structures": ((0, 0), lambda a, b: a + b, (([1], [2]), ([3], [4]))),
    "dict": ({"a": 0, "b": 0}, len, ({"b": [1], "a": [1, 2]},)),
    "type_mismatch": ((0, 0), len, ([[1], [2]],)),
    "too_shallow": ([0, [0, 0]], str, ([[1, 1], 2],)),
    "no_structures": ([0], len, ()),
}


@pytest.mark.parametrize("name", sorted(UP_TO))
def test_map_structure_up_to(name):
    shallow, func, structures = UP_TO[name]
    _assert_same_outcome(
        _outcome(lambda: minikeras.tree.map_structure_up_to(shallow, func, *structures)),
        _outcome(lambda: keras.tree.map_structure_up_to(shallow, func, *structures)))


def test_map_structure_up_to_with_none_leaves_follows_the_docstring():
    """Keras's docstring example (shallow leaves ``None``) raises with the optree backend
    (``optree.tree_is_leaf(None)`` is False by default); minikeras gives the documented result."""
    shallow, structure = [None, [None, None]], [[1, 1], [2, 2]]
    assert minikeras.tree.map_structure_up_to(shallow, str, structure) == ["[1, 1]", ["2", "2"]]
    with pytest.raises(ValueError, match="same nested structure"):
        keras.tree.map_structure_up_to(shallow, str, structure)


@pytest.mark.parametrize("flat", [[1], [1, 2, 3], [1, 2]])
def test_pack_sequence_as_counts_the_leaves(flat):
    _assert_same_outcome(_outcome(lambda: minikeras.tree.pack_sequence_as([1, [2]], flat)),
                         _outcome(lambda: keras.tree.pack_sequence_as([1, [2]], flat)))


def test_pack_sequence_as_refuses_a_non_sequence():
    with pytest.raises(TypeError):
        keras.tree.pack_sequence_as([1, 2], 5)
    with pytest.raises(TypeError, match="sequence of leaves"):
        minikeras.tree.pack_sequence_as([1, 2], 5)


def test_map_structure_needs_a_structure():
    _assert_same_outcome(_outcome(lambda: minikeras.tree.map_structure(len)),
                         _outcome(lambda: keras.tree.map_structure(len)))


def test_check_types_is_deprecated_with_a_warning():
    for tree in (keras.tree, minikeras.tree):
        with pytest.warns(DeprecationWarning, match="deprecated"):
            tree.assert_same_structure([1], [2], check_types=True)


def test_tree_namespace_is_complete():
    public = {name for name in dir(keras.tree) if not name.startswith("_")}
    assert public <= set(dir(minikeras.tree))
    assert minikeras.utils.tree.flatten is minikeras.tree.flatten


# --- name_scope and device -----------------------------------------------------------------------
def test_name_scope_is_a_context_manager_like_keras():
    for lib in (keras, minikeras):
        with lib.name_scope("outer") as scope:
            assert scope.name == "outer"
        with pytest.raises(ValueError, match="cannot contain character `/`"):
            lib.name_scope("a/b")
        with pytest.raises(ValueError, match="must be a string"):
            lib.name_scope(3)


def test_name_scope_stack():
    from keras.src.backend.common import global_state

    from minikeras.backend_contexts import current_path

    for lib in (keras, minikeras):
        caller = object()
        with lib.name_scope("a"), lib.name_scope("b", caller=caller), \
                lib.name_scope("b", caller=caller):  # deduplicated: not nested again
            stack = (global_state.get_global_attribute("name_scope_stack") if lib is keras
                     else minikeras.backend_contexts._NAME_SCOPE_STACK)
            assert [s.name for s in stack] == ["a", "b"]
    assert current_path() == "" and not minikeras.backend_contexts._NAME_SCOPE_STACK


@pytest.mark.parametrize("name", ["cpu", "cpu:0", "/cpu:0", "CPU:0", "/device:CPU:0"])
def test_device_cpu_names(name):
    for lib in (keras, minikeras):
        with lib.device(name):
            y = lib.ops.add(lib.ops.ones((2,)), 1.0)
        np.testing.assert_array_equal(np.asarray(y), [2.0, 2.0])


@pytest.mark.parametrize("name", ["gpu:0", "/gpu:0", "tpu:0", "cuda"])
def test_device_refuses_accelerators(name):
    with pytest.raises(ValueError, match="CPU only"), minikeras.device(name):
        pass


# --- ops: get_item and the segment reductions ----------------------------------------------------
def _value_and_grad(lib, fn, x):
    if lib is keras:
        xt = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = fn(keras.ops, xt)
            loss = tf.reduce_sum(y * tf.cast(tf.reshape(tf.range(tf.size(y)), y.shape), y.dtype))
        return np.asarray(y), np.asarray(tape.gradient(loss, xt))
    xv = minikeras.Variable(x)
    with minikeras.GradientTape() as tape:
        y = fn(minikeras.ops, xv)
        weights = np.arange(int(np.prod(y.shape))).reshape(y.shape).astype(y.dtype)
        loss = minikeras.ops.sum(y * weights)
    return np.asarray(y), np.asarray(tape.gradient(loss, xv))


IDS = np.array([0, 0, 2, 2, 2, 3, -1, 0])
DATA = np.array([[1.0, -2], [5, -2], [3, 0], [3, 4], [-1, 0], [2, 2], [9, 9], [0.5, 7]])
SEGMENT_CASES = {
    "unsorted": dict(segment_ids=IDS),
    "num_segments": dict(segment_ids=IDS, num_segments=6),
    "sorted": dict(segment_ids=np.array([0, 0, 1, 1, 1, 3, 3, 4]), sorted=True),
}


@pytest.mark.parametrize("case", sorted(SEGMENT_CASES))
@pytest.mark.parametrize("op", ["segment_max", "segment_min", "segment_prod", "segment_sum"])
def test_segment_ops_values_and_gradients(op, case):
    kwargs = SEGMENT_CASES[case]

    def fn(ops, x):
        return getattr(ops, op)(x, **kwargs)

    ours = _value_and_grad(minikeras, fn, DATA.astype("float32"))
    theirs = _value_and_grad(keras, fn, DATA.astype("float32"))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-6)


def test_segment_prod_gradient_with_zeros():
    data = np.array([0.0, 2, 3, 0, 0, 4, 5]).astype("float32")
    ids = np.array([0, 0, 0, 1, 1, 2, 2])

    def fn(ops, x):
        return ops.segment_prod(x, ids, num_segments=3)

    for ours, theirs in zip(_value_and_grad(minikeras, fn, data),
                            _value_and_grad(keras, fn, data), strict=True):
        np.testing.assert_allclose(ours, theirs)


def test_segment_ops_integer_data_and_errors():
    data, ids = np.array([1, 2, 10, 20, 100, 200]), np.array([0, 0, 1, 1, 2, 2])
    for op in ("segment_max", "segment_min", "segment_prod"):
        ours = getattr(minikeras.ops, op)(data, ids, 3)
        theirs = getattr(keras.ops, op)(data, ids, 3)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
        for lib in (keras, minikeras):
            with pytest.raises(ValueError, match="`num_segments` cannot be set"):
                getattr(lib.ops, op)(data, ids, 3, sorted=True)


@pytest.mark.parametrize("key", [1, (slice(None), 0), (Ellipsis, slice(1, 3)),
                                 (slice(None, None, -1), None), (slice(0, 3, 2), -1)],
                         ids=["int", "tuple", "ellipsis", "reverse_newaxis", "strided"])
def test_get_item(key):
    x = np.arange(12, dtype="float32").reshape(3, 4) / 3

    def fn(ops, v):
        return ops.get_item(v, key) * 1.0

    for ours, theirs in zip(_value_and_grad(minikeras, fn, x), _value_and_grad(keras, fn, x),
                            strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


# --- TimeDistributed -----------------------------------------------------------------------------
def _time_distributed(lib, units=3, activation="tanh"):
    lib.backend.clear_session()
    return lib.Sequential([lib.Input((5, 4)), lib.layers.TimeDistributed(
        lib.layers.Dense(units, activation=activation))])


def _same_weights(rng):
    theirs = _time_distributed(keras)
    weights = [rng.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours = _time_distributed(minikeras)
    ours.set_weights(weights)
    return ours, theirs


def test_time_distributed_outputs_and_gradients(rng):
    ours, theirs = _same_weights(rng)
    x = rng.normal(size=(6, 5, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    xv, xt = minikeras.Variable(x), tf.Variable(x)
    with minikeras.GradientTape() as tape:
        loss = minikeras.ops.sum(ours(xv) ** 2)
    our_grads = tape.gradient(loss, [xv, *ours.trainable_weights])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(theirs(xt) ** 2)
    their_grads = tape.gradient(loss, [xt, *theirs.trainable_weights])
    for a, b in zip(our_grads, their_grads, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_time_distributed_config_and_weights():
    ours, theirs = _time_distributed(minikeras), _time_distributed(keras)
    assert_same_config(ours.get_config(), theirs.get_config())
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    layer = minikeras.layers.deserialize(keras.layers.serialize(theirs.layers[0]))
    assert type(layer).__name__ == "TimeDistributed" and layer.layer.units == 3
    with pytest.raises(ValueError, match="`keras.layers.Layer` instance"):
        minikeras.layers.TimeDistributed(3)


def test_time_distributed_needs_a_time_axis():
    for lib in (keras, minikeras):
        with pytest.raises(ValueError, match="at least 3 dimensions"):
            lib.layers.TimeDistributed(lib.layers.Dense(2)).build((None, 4))


@pytest.mark.parametrize("columns", ["80", "200"])
def test_time_distributed_summary(columns, capsys, monkeypatch):
    from compat_tests.test_summary_parity import _assert_same, _summaries

    monkeypatch.setenv("COLUMNS", columns)
    _assert_same(*_summaries(lambda lib: _time_distributed(lib), capsys))


def test_time_distributed_fit_two_epochs(rng):
    ours, theirs = _same_weights(rng)
    x = rng.normal(size=(16, 5, 4)).astype("float32")
    y = rng.normal(size=(16, 5, 3)).astype("float32")
    for lib, model in ((minikeras, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_time_distributed_keras_files_both_ways(tmp_path, rng):
    ours, theirs = _same_weights(rng)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    ours.save(str(tmp_path / "ours.keras"))
    theirs.save(str(tmp_path / "theirs.keras"))
    from_ours = keras.models.load_model(str(tmp_path / "ours.keras"))
    from_theirs = minikeras.models.load_model(str(tmp_path / "theirs.keras"))
    expected = np.asarray(theirs(x))
    np.testing.assert_allclose(np.asarray(from_ours(x)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(from_theirs(x)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, shape", [
    (lambda L: L.layers.Conv2D(2, 3, padding="same", activation="relu"), (4, 6, 6, 3)),
    (lambda L: L.layers.Dense(3), (None, 4)),  # unknown number of timesteps
], ids=["conv2d", "unknown_time"])
def test_time_distributed_other_layers_in_functional_models(rng, make, shape):
    models = {}
    for lib in (keras, minikeras):
        lib.backend.clear_session()
        inputs = lib.Input(shape)
        models[lib] = lib.Model(inputs, lib.layers.TimeDistributed(make(lib))(inputs))
    weights = [rng.normal(0, 0.5, w.shape).astype("float32")
               for w in models[keras].get_weights()]
    for model in models.values():
        model.set_weights(weights)
    x = rng.normal(size=(2, 4, *shape[1:])).astype("float32")
    np.testing.assert_allclose(np.asarray(models[minikeras](x)), np.asarray(models[keras](x)),
                               rtol=1e-5, atol=1e-6)
    assert_same_config(models[minikeras].get_config(), models[keras].get_config())
