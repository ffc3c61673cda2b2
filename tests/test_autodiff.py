"""GradientTape semantics (as tf.GradientTape) and the tutorial's gradient-descent loops."""

import numpy as np
import pytest

import minikeras
from minikeras import ops
from minikeras.autodiff import is_recording


def _var(value, **kwargs):
    return minikeras.Variable(np.asarray(value, dtype="float32"), **kwargs)


# --- what is watched -----------------------------------------------------------------------------
def test_trainable_variables_are_watched_automatically():
    w = _var([1.0, -2.0, 3.0])
    with minikeras.GradientTape() as tape:
        loss = ops.sum(ops.square(w))
    grad = tape.gradient(loss, w)
    assert isinstance(grad, minikeras.Tensor) and grad.dtype == "float32"
    np.testing.assert_array_equal(grad, 2 * w.numpy())


def test_non_trainable_variables_and_tensors_need_watch():
    frozen = _var([1.0, 2.0], trainable=False)
    t = ops.convert_to_tensor([3.0, 4.0])
    with minikeras.GradientTape() as tape:
        loss = ops.sum(frozen * t)
    assert tape.gradient(loss, [frozen, t]) == [None, None]
    with minikeras.GradientTape() as tape:
        tape.watch([frozen, t])
        loss = ops.sum(frozen * t)
    grads = tape.gradient(loss, [frozen, t])
    np.testing.assert_array_equal(grads[0], t)
    np.testing.assert_array_equal(grads[1], frozen.numpy())


def test_watch_accessed_variables_false():
    w, v = _var(2.0), _var(3.0)
    with minikeras.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch(v)
        loss = w * v
    assert tape.gradient(loss, w) is None
    assert float(tape.gradient(loss, v)) == 2.0


def test_watch_rejects_non_tensors():
    with minikeras.GradientTape() as tape:
        with pytest.raises(ValueError, match="ndarray"):
            tape.watch(np.ones(2))


def test_unconnected_gradients():
    w, unused = _var([1.0, 2.0]), _var([5.0])
    with minikeras.GradientTape(persistent=True) as tape:
        loss = ops.sum(w * 3.0)
    assert tape.gradient(loss, unused) is None
    np.testing.assert_array_equal(tape.gradient(loss, unused, unconnected_gradients="zero"), [0])


# --- persistence ---------------------------------------------------------------------------------
def test_non_persistent_tape_allows_one_gradient_call():
    w = _var(3.0)
    with minikeras.GradientTape() as tape:
        loss = w * w
    assert float(tape.gradient(loss, w)) == 6.0
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(loss, w)


def test_persistent_tape_allows_many_calls():
    w = _var(3.0)
    with minikeras.GradientTape(persistent=True) as tape:
        y = w * w
        z = y * w
    assert float(tape.gradient(y, w)) == 6.0
    assert float(tape.gradient(z, w)) == 27.0
    assert float(tape.gradient(z, y)) == 3.0  # with respect to an intermediate tensor


# --- structure of sources and targets ------------------------------------------------------------
def test_list_tuple_and_dict_sources():
    a, b = _var(2.0), _var(5.0)
    with minikeras.GradientTape(persistent=True) as tape:
        loss = a * b + a
    grads = tape.gradient(loss, [a, b])
    assert isinstance(grads, list) and [float(g) for g in grads] == [6.0, 2.0]
    assert isinstance(tape.gradient(loss, (a, b)), tuple)
    grads = tape.gradient(loss, {"a": a, "nested": [b]})
    assert float(grads["a"]) == 6.0 and float(grads["nested"][0]) == 2.0


def test_list_of_targets_and_output_gradients():
    w = _var([1.0, 2.0])
    with minikeras.GradientTape(persistent=True) as tape:
        y1, y2 = w * 2.0, ops.square(w)
    np.testing.assert_array_equal(tape.gradient([y1, y2], w), 2.0 + 2 * w.numpy())
    np.testing.assert_array_equal(tape.gradient(y2, w), 2 * w.numpy())  # non-scalar: summed
    np.testing.assert_array_equal(tape.gradient(y2, w, output_gradients=np.array([10.0, 1.0])),
                                  [20.0, 4.0])


# --- recording -----------------------------------------------------------------------------------
def test_nothing_is_recorded_without_a_tape():
    w = _var(3.0)
    assert not is_recording()
    y = w * w  # computed before any tape: it is a constant for the tape below
    with minikeras.GradientTape() as tape:
        assert is_recording()
        loss = y * 2.0
    assert not is_recording()
    assert tape.gradient(loss, w) is None


def test_stop_recording_and_stop_gradient():
    w = _var(3.0)
    with minikeras.GradientTape(persistent=True) as tape:
        with tape.stop_recording():
            assert not is_recording()
            hidden = w * w
        visible = w * w
        blocked = ops.stop_gradient(visible) * w
    assert tape.gradient(hidden, w) is None
    assert float(tape.gradient(visible, w)) == 6.0
    assert float(tape.gradient(blocked, w)) == 9.0  # d(c * w)/dw with c = w² held constant


def test_python_operators_record():
    x, y = _var([[1.0, 2.0], [3.0, 4.0]]), _var([[0.5, -1.0], [2.0, 1.5]])
    a, b = x.numpy().astype("float64"), y.numpy().astype("float64")
    with minikeras.GradientTape() as tape:
        loss = ops.sum(
            (x + y) * (x - 1.0) / (2.0 + y * y) + (x @ y) ** 2 - (-x) + abs(y) + 3.0 * x[0]
            + 1.0 - y + 2.0 ** x[1])
    gx, gy = tape.gradient(loss, [x, y])
    # Hand-derived derivatives of each term.
    d = 2.0 + b * b
    expected_x = ((x.numpy() - 1.0) + (a + b)) / d + 2 * (a @ b) @ b.T + 1.0
    expected_x[0] += 2 * 3.0  # x[0] (a row) is broadcast over both rows
    expected_x[1] += 2 * 2.0 ** a[1] * np.log(2.0)
    expected_y = (a - 1.0) / d - (a + b) * (a - 1.0) * 2 * b / d**2 + a.T @ (2 * (a @ b))
    expected_y += np.sign(b) - 1.0
    np.testing.assert_allclose(gx, expected_x, rtol=1e-5)
    np.testing.assert_allclose(gy, expected_y, rtol=1e-5)


def test_numpy_ufuncs_on_tensors_record():
    w = _var([0.5, 1.0, 2.0])
    c = np.array([1.0, 2.0, 3.0], dtype="float32")
    with minikeras.GradientTape() as tape:
        terms = [np.exp(w), np.add(c, w), c * w, np.sqrt(w), np.log(w), np.tanh(w),
                 np.maximum(w, 1.0), np.square(w), c / w, np.power(w, 3)]
        loss = ops.sum(ops.stack(terms))
    assert all(isinstance(t, minikeras.Tensor) for t in terms)
    v = w.numpy().astype("float64")
    expected = (np.exp(v) + 1 + c + 0.5 / np.sqrt(v) + 1 / v + 1 - np.tanh(v) ** 2
                + (v >= 1.0) + 2 * v - c / v**2 + 3 * v**2)
    np.testing.assert_allclose(tape.gradient(loss, w), expected, rtol=1e-6)


def test_gradients_accumulate_when_a_value_is_used_twice():
    x = _var(3.0)
    with minikeras.GradientTape(persistent=True) as tape:
        square = x * x
        double = x + x
        a = ops.tanh(x)
        branchy = a * a + a  # a used three times
    assert float(tape.gradient(square, x)) == 6.0
    assert float(tape.gradient(double, x)) == 2.0
    t = np.tanh(3.0)
    np.testing.assert_allclose(float(tape.gradient(branchy, x)), (2 * t + 1) * (1 - t * t),
                               rtol=1e-5)


def test_nested_tapes_both_record():
    w = _var(2.0)
    with minikeras.GradientTape() as outer:
        with minikeras.GradientTape() as inner:
            y = w * w * w
        inner_grad = inner.gradient(y, w)
    assert float(inner_grad) == 12.0
    assert float(outer.gradient(y, w)) == 12.0


def test_reset_forgets_the_records():
    w = _var(2.0)
    with minikeras.GradientTape() as tape:
        y = w * w
        tape.reset()
        z = w * 3.0
    assert tape.gradient([y, z], w) is not None  # only z's ops remain
    with minikeras.GradientTape() as tape:
        y = w * w
        tape.reset()
    assert tape.gradient(y, w) is None


def test_gradient_of_a_variable_itself_and_of_a_reduced_tensor():
    w = _var([[1.0, 2.0]])
    with minikeras.GradientTape(persistent=True) as tape:
        m = ops.mean(w)
    np.testing.assert_array_equal(tape.gradient(w, w), [[1.0, 1.0]])
    np.testing.assert_array_equal(tape.gradient(m, w), [[0.5, 0.5]])
    assert np.asarray(m).shape == ()  # a reduced tensor converts to a 0-d array


# --- the tutorial: gradient descent with a tape ------------------------------------------------
def test_gradient_descent_on_a_quadratic():
    w = minikeras.Variable(5.0)
    lr = 0.1
    for _ in range(100):
        with minikeras.GradientTape() as tape:
            loss = (w - 3.0) ** 2
        grad = tape.gradient(loss, w)
        w.assign_sub(lr * grad)
    assert w.dtype == "float32"
    assert float(w) == pytest.approx(3.0, abs=1e-5)


def _separable_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    y = (x[:, :1] + 2 * x[:, 1:] > 0).astype("float32")
    x += np.where(y > 0, 0.5, -0.5) * np.array([1.0, 2.0], dtype="float32") / np.sqrt(5)
    return x, y


def test_gradient_descent_logistic_regression():
    x, y = _separable_data()
    w = minikeras.Variable(np.zeros((2, 1), dtype="float32"))
    b = minikeras.Variable(np.zeros((1,), dtype="float32"))
    lr, losses = 0.5, []
    for step in range(300):
        with minikeras.GradientTape() as tape:
            p = ops.sigmoid(x @ w + b)
            loss = ops.mean(-(y * ops.log(p + 1e-7) + (1 - y) * ops.log(1 - p + 1e-7)))
        dw, db = tape.gradient(loss, [w, b])
        if step == 0:  # the textbook gradient: X^T (p - y) / N and mean(p - y)
            np.testing.assert_allclose(dw, x.T @ (0.5 - y) / len(x), rtol=1e-4, atol=1e-7)
            np.testing.assert_allclose(db, [np.mean(0.5 - y)], atol=1e-7)
        w.assign_sub(lr * dw)
        b.assign_sub(lr * db)
        losses.append(float(loss))
    accuracy = np.mean((np.asarray(ops.sigmoid(x @ w + b)) > 0.5) == y)
    assert losses[-1] < 0.1 * losses[0] and accuracy == 1.0


class MyDenseLayer(minikeras.layers.Layer):
    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.W = self.add_weight(shape=[input_dim, output_dim])
        self.b = self.add_weight(shape=[1, output_dim])

    def call(self, inputs):
        return minikeras.ops.sigmoid(minikeras.ops.matmul(inputs, self.W) + self.b)


def test_tutorial_custom_layer_trains_with_the_tape():
    x, y = _separable_data()
    layer = MyDenseLayer(2, 1)
    assert [w.shape for w in layer.trainable_weights] == [(2, 1), (1, 1)]
    losses = []
    for _ in range(300):
        with minikeras.GradientTape() as tape:
            p = layer(x)
            loss = ops.mean(ops.binary_crossentropy(y, p))
        grads = tape.gradient(loss, layer.trainable_weights)
        for weight, grad in zip(layer.trainable_weights, grads, strict=True):
            weight.assign_sub(0.5 * grad)
        losses.append(float(loss))
    accuracy = np.mean((np.asarray(layer(x)) > 0.5) == y)
    assert losses[-1] < 0.1 * losses[0] and accuracy == 1.0
