"""``minikeras.tree``, ``name_scope`` / ``device``, the segment reductions, ``get_item`` and
``TimeDistributed``, checked with NumPy alone (finite differences for the gradients)."""

import collections

import numpy as np
import pytest

import minikeras
from minikeras import tree

Point = collections.namedtuple("Point", ["y", "x"])


# --- tree ----------------------------------------------------------------------------------------
def test_flatten_sorts_dict_keys_and_keeps_none():
    s = {"b": 1, "a": [2, (3, None)], "c": Point(4, 5)}
    assert tree.flatten(s) == [2, 3, None, 1, 4, 5]
    assert tree.flatten(None) == [None] and tree.flatten(1) == [1]
    assert tree.flatten({100: "world!", 6: "Hello"}) == ["Hello", "world!"]
    assert tree.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]
    assert tree.flatten([[], {}, ()]) == []
    assert tree.flatten_with_path([{"foo": 42}]) == [((0, "foo"), 42)]
    assert tree.flatten_with_path(None) == [((), None)]


def test_is_nested():
    assert tree.is_nested([1]) and tree.is_nested(()) and tree.is_nested({})
    assert tree.is_nested(Point(1, 2)) and tree.is_nested(collections.deque([1]))
    assert not tree.is_nested(None) and not tree.is_nested(np.zeros(2))
    assert not tree.is_nested({1, 2}) and not tree.is_nested("ab")


def test_map_structure_keeps_types_and_dict_order():
    s = {"b": [1, (2, 3)], "a": Point(4, None)}
    out = tree.map_structure(lambda v: v if v is None else v * 2, s)
    assert out == {"b": [2, (4, 6)], "a": Point(8, None)}
    assert list(out) == ["b", "a"] and type(out["a"]) is Point
    pairs = tree.map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)])
    assert pairs == [11, (22,)]
    assert tree.map_structure(lambda v: 1, [None, 2], none_is_leaf=False) == [None, 1]
    od = tree.map_structure(str, collections.OrderedDict([("z", 1), ("a", 2)]))
    assert type(od) is collections.OrderedDict and list(od) == ["z", "a"]


@pytest.mark.parametrize("a, b, message", [
    ([1, 2], (1, 2), "Expected an instance of list"),
    ([1, 2], [1, 2, 3], "list arity mismatch"),
    ([1, 2], [1, [2]], "don't have the same nested structure"),
    ({"a": 1}, {"b": 1}, "dictionary key mismatch"),
    (Point(1, 2), (1, 2), "Expected an instance of collections.namedtuple"),
])
def test_structure_mismatches_raise(a, b, message):
    with pytest.raises(ValueError, match=message):
        tree.map_structure(lambda x, y: x, a, b)
    with pytest.raises(ValueError, match=message):
        tree.assert_same_structure(a, b)


def test_assert_same_paths_ignores_sequence_types():
    tree.assert_same_paths([1, 2], (3, 4))
    tree.assert_same_paths(Point(1, 2), [3, 4])
    with pytest.raises(ValueError, match=r"Paths in `b` missing in `a`:\n\{\(2,\)\}"):
        tree.assert_same_paths([1, 2], [1, 2, 3])


def test_map_structure_up_to():
    assert tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2]]) == [2, 2]
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == [
        "[1, 1]", ["2", "2"]]
    with pytest.raises(ValueError, match="Expected an instance of list"):
        tree.map_structure_up_to([None, [None]], str, [[1, 1], 2])
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure_up_to([None], len)


def test_pack_sequence_as():
    s = {"b": [], "a": 1, "c": Point(2, [3])}
    packed = tree.pack_sequence_as(s, ["A", "C0", "C1"])
    assert packed == {"b": [], "a": "A", "c": Point("C0", ["C1"])}
    assert list(packed) == ["b", "a", "c"]
    assert tree.pack_sequence_as(None, [5]) == 5
    with pytest.raises(ValueError, match="Too few leaves"):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(ValueError, match="Too many leaves"):
        tree.pack_sequence_as([1, 2], [1, 2, 3])


def test_traverse_lists_to_tuples_and_shapes():
    assert tree.traverse(lambda v: v * 2 if isinstance(v, int) else None, [1, (2, {"a": 3})]) \
        == [2, (4, {"a": 6})]
    assert tree.traverse(lambda v: tree.MAP_TO_NONE if v == [2] else None, [1, [2]]) == [1, None]
    assert tree.traverse(lambda v: 7 if isinstance(v, list) else None, [1, [2]],
                         top_down=False) == 7
    assert tree.lists_to_tuples([1, [2, {"a": [3]}], (4, [5])]) == (1, (2, {"a": (3,)}), (4, (5,)))
    assert tree.map_shape_structure(len, {"a": (None, 3), "b": [(1, 2), [4]]}) == {
        "a": 2, "b": [2, 1]}


def test_utils_tree_is_the_same_implementation():
    from minikeras.utils import tree as utils_tree

    for name in ("flatten", "map_structure", "pack_sequence_as"):
        assert getattr(utils_tree, name) is getattr(tree, name)


# --- name_scope, device --------------------------------------------------------------------------
def test_name_scope_stack_and_errors():
    from minikeras.backend_contexts import current_path

    with minikeras.name_scope("a"):
        with minikeras.name_scope("b") as scope:
            assert scope.name == "b" and current_path() == "a/b"
        with minikeras.name_scope("c", override_parent="root"):
            assert current_path() == "root/c"
    assert current_path() == ""
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        minikeras.name_scope("a/b")


def test_device():
    for name in ("cpu", "cpu:0", "/cpu:0", "/device:CPU:0",
                 "/job:localhost/replica:0/task:0/cpu:0"):
        with minikeras.device(name):
            pass
    for name in ("gpu:0", "/GPU:0", "tpu", None):
        with pytest.raises(ValueError, match="CPU only"), minikeras.device(name):
            pass


# --- ops -----------------------------------------------------------------------------------------
def _numeric_grad(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("op", ["segment_max", "segment_min", "segment_prod"])
def test_segment_ops_values_and_gradients(op):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(7, 3))
    ids = np.array([0, 2, 2, 0, -1, 2, 3])
    reference = {"segment_max": np.max, "segment_min": np.min, "segment_prod": np.prod}[op]
    out = np.asarray(getattr(minikeras.ops, op)(data, ids, num_segments=5))
    for s in (0, 2, 3):
        np.testing.assert_allclose(out[s], reference(data[ids == s], axis=0))
    empty = {"segment_max": np.finfo("float64").min, "segment_min": np.finfo("float64").max,
             "segment_prod": 1.0}[op]
    np.testing.assert_array_equal(out[[1, 4]], empty)
    w = rng.normal(size=(4, 3))
    w[1] = 0  # segment 1 is empty: its ∓float max would swamp the finite differences

    def loss(x):
        return float(np.sum(np.asarray(getattr(minikeras.ops, op)(x, ids), np.float64) * w))

    x = minikeras.Variable(data)
    with minikeras.GradientTape() as tape:
        value = minikeras.ops.sum(getattr(minikeras.ops, op)(x, ids) * w)
    grad = np.asarray(tape.gradient(value, x))
    np.testing.assert_allclose(grad, _numeric_grad(loss, data), rtol=1e-5, atol=1e-7,
                               err_msg=f"{op}: analytic vs numeric gradient")


def test_segment_max_ties_share_the_gradient_and_sorted_empty_is_zero():
    x = minikeras.Variable(np.array([2.0, 2.0, 1.0]))
    with minikeras.GradientTape() as tape:
        y = minikeras.ops.sum(minikeras.ops.segment_max(x, np.array([0, 0, 0])))
    np.testing.assert_allclose(np.asarray(tape.gradient(y, x)), [0.5, 0.5, 0.0])
    out = minikeras.ops.segment_max(np.array([1.0, 3.0]), np.array([0, 2]), sorted=True)
    np.testing.assert_array_equal(np.asarray(out), [1.0, 0.0, 3.0])
    with pytest.raises(ValueError, match="out of range"):
        minikeras.ops.segment_min(np.ones(3), np.array([0, 1, 5]), num_segments=3)


def test_segment_prod_gradient_with_zeros():
    x = minikeras.Variable(np.array([0.0, 2, 3, 0, 0, 4, 5]))
    ids = np.array([0, 0, 0, 1, 1, 2, 2])
    with minikeras.GradientTape() as tape:
        y = minikeras.ops.sum(minikeras.ops.segment_prod(x, ids))
    np.testing.assert_allclose(np.asarray(tape.gradient(y, x)), [6, 0, 0, 0, 0, 5, 4])


def test_get_item():
    x = minikeras.Variable(np.arange(6.0).reshape(2, 3))
    with minikeras.GradientTape() as tape:
        y = minikeras.ops.sum(minikeras.ops.get_item(x, (slice(None), 1)) * 3)
    assert float(y) == 3 * (1 + 4)
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, x)), [[0, 3, 0], [0, 3, 0]])


# --- TimeDistributed -----------------------------------------------------------------------------
def test_time_distributed_dense_is_dense_on_every_step():
    layer = minikeras.layers.TimeDistributed(minikeras.layers.Dense(3, activation="tanh"))
    x = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    y = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.tanh(x @ kernel + bias), rtol=1e-6)
    assert layer.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert layer.count_params() == 4 * 3 + 3 and len(layer.trainable_weights) == 2


def test_time_distributed_gradients_match_finite_differences():
    minikeras.backend.set_floatx("float64")
    try:
        layer = minikeras.layers.TimeDistributed(minikeras.layers.Dense(2, activation="tanh"))
        data = np.random.default_rng(2).normal(size=(3, 4, 2))
        x = minikeras.Variable(data)
        with minikeras.GradientTape() as tape:
            loss = minikeras.ops.sum(layer(x) ** 2)
        grad_x, grad_kernel = tape.gradient(loss, [x, layer.layer.kernel])
        np.testing.assert_allclose(
            np.asarray(grad_x), _numeric_grad(lambda v: float(np.sum(np.asarray(layer(v)) ** 2)),
                                              data), rtol=1e-5, atol=1e-8)
        kernel = np.asarray(layer.layer.kernel.numpy())

        def loss_of_kernel(k):
            layer.layer.kernel.assign(k)
            return float(np.sum(np.asarray(layer(data)) ** 2))

        numeric = _numeric_grad(loss_of_kernel, kernel)
        layer.layer.kernel.assign(kernel)
        np.testing.assert_allclose(np.asarray(grad_kernel), numeric, rtol=1e-5, atol=1e-8)
    finally:
        minikeras.backend.set_floatx("float32")


def test_time_distributed_config_round_trip_and_errors():
    layer = minikeras.layers.TimeDistributed(minikeras.layers.Dense(3), name="td")
    config = layer.get_config()
    assert config["name"] == "td" and config["layer"]["class_name"] == "Dense"
    copy = minikeras.layers.TimeDistributed.from_config(config)
    assert copy.get_config() == config
    with pytest.raises(ValueError, match="`keras.layers.Layer` instance"):
        minikeras.layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layer.build((None, 4))


def test_time_distributed_in_a_model_trains():
    model = minikeras.Sequential([minikeras.Input((5, 4)),
                                  minikeras.layers.TimeDistributed(minikeras.layers.Dense(2))])
    assert model.compute_output_shape((None, 5, 4)) == (None, 5, 2)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 5, 4)), rng.normal(size=(8, 5, 2))
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
