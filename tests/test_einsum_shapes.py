"""einsum gradients with ``...`` (batch axes, broadcast ones too) checked by finite
differences, and ``Functional.compute_output_shape`` for models whose layers take several inputs
or give several outputs."""

import numpy as np
import pytest
from gradcheck import gradient_check

import minikeras as keras
from minikeras import ops

# (equation, operand shapes): ``...`` of every rank and position, broadcast batch axes
ELLIPSIS_CASES = [
    ("...b,bc->...c", [(2, 3, 4), (4, 5)]),  # EinsumDense's equation on a (batch, time, d) input
    ("...b,bc->...c", [(4,), (4, 5)]),  # ``...`` of rank 0
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),  # batch axes broadcast: (2, 1) with (5,)
    ("...ij,...jk->...ik", [(3, 2, 3), (1, 3, 4)]),  # a size-1 batch axis stretched to 3
    ("b...,b...->b...", [(2, 3, 4), (2, 1, 4)]),
    ("a...c,c->a...", [(2, 3, 4, 5), (5,)]),  # ``...`` in the middle
    ("ab...cd,d->ab...c", [(2, 3, 4, 2, 3), (3,)]),
    ("ij...,jk->ik...", [(2, 3, 4), (3, 5)]),  # ``...`` at the end
    ("...ii->...i", [(3, 4, 4)]),  # a diagonal under batch axes
    ("...ij->...", [(2, 3, 4)]),  # everything but the batch axes summed away
    ("...,...->...", [(2, 3), (3,)]),  # broadcasting multiply
    ("...,...", [(2, 1, 3), (4, 1)]),  # implicit output: the broadcast batch axes
    ("i...,i...", [(2, 3), (2, 1)]),
    ("...j,j", [(2, 3), (3,)]),
    ("bt...d,d...->bt...", [(2, 3, 4, 5), (5, 1)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # NumPy also broadcasts a lettered size-1 axis
    ("ij,jk->ik", [(2, 1), (3, 4)]),
]


def _operands(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


@pytest.mark.parametrize("equation, shapes", ELLIPSIS_CASES,
                         ids=[f"{e}{s}" for e, s in ELLIPSIS_CASES])
def test_einsum_with_ellipsis_gradients(equation, shapes):
    operands = _operands(shapes)
    np.testing.assert_allclose(ops.einsum(equation, *operands), np.einsum(equation, *operands),
                               rtol=1e-12)

    def f(*xs):
        return ops.einsum(equation, *xs)

    f.__name__ = f"einsum({equation!r})"
    gradient_check(f, *operands)


def test_einsum_gradient_has_each_operands_shape_and_sums_the_broadcast():
    x = keras.Variable(np.ones((3, 1, 2, 3)))
    y = keras.Variable(np.ones((4, 3, 5)))
    with keras.GradientTape() as tape:
        loss = ops.sum(ops.einsum("...ij,...jk->...ik", x, y))
    gx, gy = tape.gradient(loss, [x, y])
    assert gx.shape == (3, 1, 2, 3) and gy.shape == (4, 3, 5)
    np.testing.assert_allclose(gx, np.full((3, 1, 2, 3), 4 * 5.0))  # 4 batch rows, 5 columns
    np.testing.assert_allclose(gy, np.full((4, 3, 5), 3 * 2.0))  # 3 batch rows, 2 rows


def test_einsum_dense_on_rank_3_input_trains():
    layer = keras.layers.EinsumDense("...b,bc->...c", output_shape=(4,), bias_axes="c")
    x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype("float32")
    with keras.GradientTape() as tape:
        loss = ops.sum(layer(x) ** 2)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert [g.shape for g in grads] == [(5, 4), (4,)]
    out = x @ layer.kernel.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(grads[0], x.reshape(6, 5).T @ (2 * out).reshape(6, 4), rtol=1e-5)
    np.testing.assert_allclose(grads[1], (2 * out).sum(axis=(0, 1)), rtol=1e-5)


def test_einsum_without_ellipsis_is_unchanged():
    gradient_check(lambda a, b: ops.einsum("bij,jk->bik", a, b), *_operands([(2, 3, 4), (4, 2)]))
    gradient_check(lambda a: ops.einsum("ii->i", a), *_operands([(3, 3)]))
    gradient_check(lambda a: ops.einsum("ii", a), *_operands([(3, 3)]))


# --- Functional.compute_output_shape ---------------------------------------------------------
layers = keras.layers


def _models():
    """(name, model, input shapes with None batch) for layers with several inputs/outputs."""
    q, v, k = keras.Input((None, 8)), keras.Input((None, 6)), keras.Input((None, 5))
    mha = keras.Model([q, v, k], layers.MultiHeadAttention(2, 4)(q, v, key=k))
    t = keras.Input((5, 8))
    out, scores = layers.MultiHeadAttention(2, 4, output_shape=3)(
        t, t, return_attention_scores=True)
    mha_scores = keras.Model(t, [out, scores])
    a, b = keras.Input((4, 3)), keras.Input((6, 3))
    out, scores = layers.Attention()([a, b], return_attention_scores=True)
    attention = keras.Model([a, b], {"out": out, "scores": scores})
    x1, x2, x3 = keras.Input((3,)), keras.Input((3,)), keras.Input((2,))
    added = layers.Add()([x1, x2])
    merging = keras.Model([x1, x2, x3], [layers.Dense(4)(layers.Concatenate()([added, x3])),
                                         added])
    s = keras.Input((5, 3))
    lstm = keras.Model(s, layers.LSTM(4, return_state=True)(s))
    return [("mha", mha, [(None, 7, 8), (None, 9, 6), (None, 9, 5)]),
            ("mha_scores", mha_scores, (None, 5, 8)),
            ("attention", attention, [(None, 4, 3), (None, 6, 3)]),
            ("merging", merging, [(None, 3), (None, 3), (None, 2)]),
            ("lstm", lstm, (None, 5, 3))]


def _concrete(shapes, batch=2):
    if isinstance(shapes, tuple):
        return np.zeros((batch, *shapes[1:]), "float32")
    return [_concrete(s, batch) for s in shapes]


@pytest.mark.parametrize("index", range(5), ids=[m[0] for m in _models()])
def test_compute_output_shape_equals_the_shapes_of_a_call(index):
    name, model, shapes = _models()[index]
    symbolic = model.compute_output_shape(shapes)
    concrete = model.compute_output_shape(_map(lambda s: (2, *s[1:]), shapes))
    outputs = model(_concrete(shapes))
    assert _map_leaves(lambda x: tuple(x.shape), outputs) == _map_leaves(tuple, concrete), name
    assert _map_leaves(lambda s: (None, *s[1:]), concrete) == _map_leaves(tuple, symbolic)
    own = model.compute_output_shape(_map(tuple, [x.shape for x in model.inputs]))
    assert _map_leaves(tuple, own) == _map_leaves(lambda x: x.shape, model.output)


def _map(fn, shapes):
    return fn(shapes) if isinstance(shapes, tuple) else [_map(fn, s) for s in shapes]


def _map_leaves(fn, structure):
    """``fn`` on every leaf (a tensor, a KerasTensor or a shape); tuples and lists of leaves
    both become lists."""
    if isinstance(structure, dict):
        return {key: _map_leaves(fn, value) for key, value in structure.items()}
    if isinstance(structure, list) or (isinstance(structure, tuple) and structure and not
                                       isinstance(structure[0], int | type(None))):
        return [_map_leaves(fn, value) for value in structure]
    return fn(structure)


def test_compute_output_shape_with_new_lengths_and_key():
    name, model, _ = _models()[0]
    assert model.compute_output_shape([(3, 7, 8), (3, 2, 6), (3, 2, 5)]) == (3, 7, 8)
    assert model.compute_output_shape(((None, 1, 8), (None, 4, 6), (None, 4, 5))) == (
        None, 1, 8)  # a tuple of shapes, as Keras takes it
    with pytest.raises(ValueError, match="incompatible"):
        model.compute_output_shape([(3, 7, 8), (3, 2, 6), (3, 2, 4)])  # key: 5 features


def test_compute_output_shape_of_a_list_and_a_dict_of_outputs():
    x = keras.Input((3,), name="x")
    single = keras.Model(x, [layers.Dense(2)(x)])
    assert single.compute_output_shape((None, 3)) == [(None, 2)]  # Keras keeps the list
    a, b = keras.Input((3,), name="a"), keras.Input((4,), name="b")
    by_name = keras.Model({"a": a, "b": b}, {"sum": layers.Concatenate()([a, b])})
    assert by_name.compute_output_shape({"b": (5, 4), "a": (5, 3)}) == {"sum": (5, 7)}
    with pytest.raises(ValueError, match="incompatible"):
        single.compute_output_shape((None, 4))


def test_compute_output_shape_leaves_the_graph_as_it_was():
    name, model, shapes = _models()[1]
    config = model.get_config()
    nodes = {layer.name: len(layer._inbound_nodes) for layer in model.layers}
    model.compute_output_shape((4, 5, 8))
    with pytest.raises(ValueError):
        model.compute_output_shape((4, 5, 9))  # a failed dry run leaves no node either
    assert {layer.name: len(layer._inbound_nodes) for layer in model.layers} == nodes
    assert model.get_config() == config
    clone = keras.Model.from_config(config)
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert [tuple(o.shape) for o in model(np.zeros((2, 5, 8), "float32"))] == [
        (2, 5, 3), (2, 2, 5, 5)]
