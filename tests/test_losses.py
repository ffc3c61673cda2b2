"""Losses against independent float64 NumPy formulas: values, reductions, sample weights, masks,
the logits shortcut, float64 finite-difference gradients, extreme inputs and bad inputs."""

import warnings

import numpy as np
import pytest
from gradcheck import floatx, gradient_check

import minikeras
from minikeras import losses, ops

EPS = 1e-7
HI32 = float(np.float32(1 - EPS))  # the upper clip bound, 1 - ε rounded to float32
RTOL, ATOL = 1e-5, 1e-6
N, D = 6, 3
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]


# --- reference formulas, float64, written from the textbook definitions --------------------------


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS)


def ref_bce_elementwise(y, p, from_logits=False, hi=HI32):
    if from_logits:  # -[y log σ(z) + (1 - y) log(1 - σ(z))], stably
        return y * np.logaddexp(0, -p) + (1 - y) * np.logaddexp(0, p)
    pc = np.clip(p, EPS, hi)
    return -(y * np.log(pc) + (1 - y) * np.log(1 - pc))


def ref_bce(y, p, from_logits=False, label_smoothing=0.0):
    y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    return ref_bce_elementwise(y, p, from_logits).mean(-1)


def ref_focal(y, p, gamma=2.0, alpha=0.25, apply_class_balancing=False, from_logits=False):
    prob = 1 / (1 + np.exp(-p)) if from_logits else p
    p_t = y * prob + (1 - y) * (1 - prob)
    loss = (1 - p_t) ** gamma * ref_bce_elementwise(y, p, from_logits)
    if apply_class_balancing:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean(-1)


def ref_cce(y, p, from_logits=False, label_smoothing=0.0):
    y = y * (1 - label_smoothing) + label_smoothing / y.shape[-1]
    if from_logits:
        return -(y * _log_softmax(p)).sum(-1)
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, HI32)
    return -(y * np.log(q)).sum(-1)


def ref_scce(labels, p, from_logits=False):
    labels = labels.astype(int)
    if from_logits:
        log_q = _log_softmax(p)
    else:
        r = np.clip(p, EPS, HI32)
        log_q = np.log(r / r.sum(-1, keepdims=True))
    return -np.take_along_axis(log_q, labels[..., None], axis=-1)[..., 0]


def _hinge_labels(y):
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


REFERENCES = {
    "mean_squared_error": lambda y, p: ((y - p) ** 2).mean(-1),
    "mean_absolute_error": lambda y, p: np.abs(y - p).mean(-1),
    "mean_absolute_percentage_error":
        lambda y, p: 100 * (np.abs(y - p) / np.maximum(np.abs(y), EPS)).mean(-1),
    "mean_squared_logarithmic_error":
        lambda y, p: ((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(y, EPS))) ** 2).mean(-1),
    "cosine_similarity": lambda y, p: -(_unit(y) * _unit(p)).sum(-1),
    "huber": lambda y, p, delta=1.0: np.where(np.abs(p - y) <= delta, 0.5 * (p - y) ** 2,
                                              delta * np.abs(p - y) - 0.5 * delta**2).mean(-1),
    "log_cosh": lambda y, p: np.log(np.cosh(p - y)).mean(-1),
    "hinge": lambda y, p: np.maximum(1 - _hinge_labels(y) * p, 0).mean(-1),
    "squared_hinge": lambda y, p: (np.maximum(1 - _hinge_labels(y) * p, 0) ** 2).mean(-1),
    "categorical_hinge":
        lambda y, p: np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0),
    "kl_divergence": lambda y, p: (np.clip(y, EPS, 1) * np.log(np.clip(y, EPS, 1)
                                                              / np.clip(p, EPS, 1))).sum(-1),
    "poisson": lambda y, p: (p - y * np.log(p + EPS)).mean(-1),
    "binary_crossentropy": ref_bce,
    "binary_focal_crossentropy": ref_focal,
    "categorical_crossentropy": ref_cce,
    "sparse_categorical_crossentropy": ref_scce,
}


def make_data(kind, rng, n=N, d=D):
    labels = rng.integers(0, d, size=n)
    data = {
        "regression": lambda: (rng.normal(size=(n, d)), 1.5 * rng.normal(size=(n, d))),
        "positive": lambda: (rng.uniform(0.1, 3, (n, d)), rng.uniform(0.1, 3, (n, d))),
        "distribution": lambda: (_softmax(rng.normal(size=(n, d))),
                                 _softmax(rng.normal(size=(n, d)))),
        "binary": lambda: (rng.integers(0, 2, (n, d)), rng.uniform(0.02, 0.98, (n, d))),
        "binary_logits": lambda: (rng.integers(0, 2, (n, d)), 3 * rng.normal(size=(n, d))),
        "plus_minus_one": lambda: (rng.choice([-1.0, 1.0], (n, d)), rng.normal(size=(n, d))),
        "onehot": lambda: (np.eye(d)[labels], _softmax(2 * rng.normal(size=(n, d)))),
        "onehot_logits": lambda: (np.eye(d)[labels], 3 * rng.normal(size=(n, d))),
        "sparse": lambda: (labels, _softmax(2 * rng.normal(size=(n, d)))),
        "sparse_logits": lambda: (labels, 3 * rng.normal(size=(n, d))),
    }[kind]()
    return tuple(np.asarray(a, dtype="float32") for a in data)


# (class, its function, constructor kwargs (passed to the function too), data kind)
SPECS = [
    ("MeanSquaredError", "mean_squared_error", {}, "regression"),
    ("MeanAbsoluteError", "mean_absolute_error", {}, "regression"),
    ("MeanAbsolutePercentageError", "mean_absolute_percentage_error", {}, "regression"),
    ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", {}, "positive"),
    ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", {}, "regression"),
    ("CosineSimilarity", "cosine_similarity", {}, "regression"),
    ("Huber", "huber", {}, "regression"),
    ("Huber", "huber", {"delta": 0.5}, "regression"),
    ("LogCosh", "log_cosh", {}, "regression"),
    ("Hinge", "hinge", {}, "binary"),
    ("Hinge", "hinge", {}, "plus_minus_one"),
    ("SquaredHinge", "squared_hinge", {}, "binary"),
    ("SquaredHinge", "squared_hinge", {}, "plus_minus_one"),
    ("CategoricalHinge", "categorical_hinge", {}, "onehot"),
    ("KLDivergence", "kl_divergence", {}, "distribution"),
    ("Poisson", "poisson", {}, "positive"),
    ("BinaryCrossentropy", "binary_crossentropy", {}, "binary"),
    ("BinaryCrossentropy", "binary_crossentropy", {"from_logits": True}, "binary_logits"),
    ("BinaryCrossentropy", "binary_crossentropy", {"label_smoothing": 0.2}, "binary"),
    ("BinaryCrossentropy", "binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1},
     "binary_logits"),
    ("BinaryFocalCrossentropy", "binary_focal_crossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", "binary_focal_crossentropy",
     {"gamma": 1.5, "alpha": 0.4, "apply_class_balancing": True}, "binary"),
    ("BinaryFocalCrossentropy", "binary_focal_crossentropy", {"from_logits": True},
     "binary_logits"),
    ("CategoricalCrossentropy", "categorical_crossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", "categorical_crossentropy", {}, "distribution"),
    ("CategoricalCrossentropy", "categorical_crossentropy", {"from_logits": True},
     "onehot_logits"),
    ("CategoricalCrossentropy", "categorical_crossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("CategoricalCrossentropy", "categorical_crossentropy",
     {"from_logits": True, "label_smoothing": 0.3}, "onehot_logits"),
    ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", {"from_logits": True},
     "sparse_logits"),
]
SPEC_IDS = [f"{cls}-{kind}-{kw}" for cls, _, kw, kind in SPECS]


def reference(fn_name, y, p, **kwargs):
    return REFERENCES[fn_name](y.astype("float64"), p.astype("float64"), **kwargs)


def ref_reduce(values, sample_weight=None, reduction="sum_over_batch_size"):
    weighted = values if sample_weight is None else values * sample_weight
    if reduction in (None, "none"):
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return weighted.sum() / np.sum(sample_weight)
    return weighted.sum() / values.size


def assert_close(actual, expected, what="", rtol=RTOL, atol=ATOL):
    actual = np.asarray(actual)
    assert actual.shape == np.shape(expected), f"{what}: shape {actual.shape} vs " \
                                               f"{np.shape(expected)}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "fn", "kwargs", "kind"), SPECS, ids=SPEC_IDS)
def test_loss_matches_formula(cls, fn, kwargs, kind, rng):
    y, p = make_data(kind, rng)
    expected = reference(fn, y, p, **kwargs)
    per_sample = getattr(losses, fn)(y, p, **kwargs)
    assert per_sample.dtype == "float32"
    assert_close(per_sample, expected, f"{fn}{kwargs}")
    loss = getattr(losses, cls)(**kwargs)
    value = loss(y, p)
    assert value.shape == () and value.dtype == "float32"
    assert_close(value, expected.mean(), f"{cls}{kwargs}")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("sw_kind", ["none", "(N,)", "(N,1)", "scalar", "list"])
def test_reductions_and_sample_weights(reduction, sw_kind, rng):
    y, p = make_data("regression", rng)
    w = rng.uniform(0, 2, N).astype("float32")
    w[1] = 0.0
    sample_weight = {"none": None, "(N,)": w, "(N,1)": w[:, None], "scalar": 2.5,
                     "list": w.tolist()}[sw_kind]
    per_sample = reference("mean_squared_error", y, p)
    ref_w = None if sample_weight is None else np.asarray(sample_weight, "float64")
    if sw_kind == "(N,1)":  # (N,) values meet (N, 1) weights as (N, 1): still no (N, N)
        per_sample = per_sample[:, None]
    expected = ref_reduce(per_sample, ref_w, reduction)
    actual = losses.MeanSquaredError(reduction=reduction)(y, p, sample_weight=sample_weight)
    assert_close(actual, expected, f"{reduction} {sw_kind}")


def test_sum_over_batch_size_does_not_divide_by_the_weights(rng):
    """Σ w·l / N, not Σ w·l / Σ w (keras-facts 1.1: 0.639104 vs 1.196226 in its example)."""
    y, p = make_data("binary", rng, d=1)
    w = np.array([0.1, 2.0, 0.0, 1.0, 3.0, 0.5], "float32")
    values = reference("binary_crossentropy", y, p)
    loss = losses.BinaryCrossentropy()(y, p, sample_weight=w)
    assert_close(loss, (values * w).sum() / N)
    assert not np.isclose(float(loss), (values * w).sum() / w.sum())


def test_zero_weights_give_zero_not_nan(rng):
    y, p = make_data("regression", rng)
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        for reduction in ["mean_with_sample_weight", "sum_over_batch_size"]:
            loss = losses.MeanSquaredError(reduction=reduction)
            assert float(loss(y, p, sample_weight=np.zeros(N))) == 0.0
        empty = np.zeros((0, 2, D))
        assert float(losses.MeanSquaredError()(empty, empty)) == 0.0
        assert losses.MeanSquaredError()(empty[:, 0], empty[:, 0]).shape == (0,)  # as Keras


def test_labels_of_rank_one_meet_predictions_of_shape_n_1(rng):
    y, p = make_data("binary", rng, d=1)
    for cls in ["BinaryCrossentropy", "MeanSquaredError", "Hinge", "MeanAbsoluteError"]:
        loss = getattr(losses, cls)(reduction=None)
        expected = loss(y, p)
        assert expected.shape == (N,)
        for y_, p_ in [(y[:, 0], p), (y, p[:, 0])]:
            assert_close(loss(y_, p_), expected, f"{cls} {y_.shape} vs {p_.shape}")
        # (N,) against (N,) is one sample of N values: the last axis is averaged
        assert_close(loss(y[:, 0], p[:, 0]), np.mean(np.asarray(expected)), f"{cls} (N,)")


def test_sequences_reduce_over_every_entry(rng):
    y = _softmax(rng.normal(size=(N, 4, D))).astype("float32")
    p = _softmax(rng.normal(size=(N, 4, D))).astype("float32")
    w = rng.uniform(0, 2, (N, 4)).astype("float32")
    values = reference("categorical_crossentropy", y, p)
    assert values.shape == (N, 4)
    for reduction in REDUCTIONS:
        loss = losses.CategoricalCrossentropy(reduction=reduction)
        assert_close(loss(y, p, sample_weight=w), ref_reduce(values, w, reduction), reduction)


def test_label_smoothing(rng):
    y, p = make_data("binary", rng)
    for ls in [0.0, 0.1, 0.5, 1.0]:
        smoothed = y * (1 - ls) + 0.5 * ls
        assert_close(losses.BinaryCrossentropy(label_smoothing=ls)(y, p),
                     ref_bce_elementwise(smoothed, p.astype("float64")).mean(), f"BCE ls={ls}")
    y, p = make_data("onehot", rng)
    for ls in [0.1, 0.6]:
        smoothed = y * (1 - ls) + ls / D
        assert_close(losses.CategoricalCrossentropy(label_smoothing=ls)(y, p),
                     ref_cce(smoothed.astype("float64"), p.astype("float64")).mean(),
                     f"CCE ls={ls}")


def test_hinge_maps_binary_labels_only_when_all_are_binary():
    p = np.array([[0.3, -0.8, 2.0]], "float32")
    binary = np.array([[1.0, 0.0, 1.0]], "float32")
    assert_close(losses.hinge(binary, p), np.maximum(1 - (2 * binary - 1) * p, 0).mean(-1))
    mixed = np.array([[1.0, 0.0, -1.0]], "float32")  # not all in {0, 1}: used as they are
    assert_close(losses.hinge(mixed, p), np.maximum(1 - mixed * p, 0).mean(-1))


def test_ignore_class_averages_over_valid_entries(rng):
    labels = np.array([[1, 0, 2, 3], [0, 0, 0, 0], [3, 2, 1, 0]], "float32")  # 0 = padding
    p = _softmax(rng.normal(size=(3, 4, 4))).astype("float32")
    valid = labels != 0
    per_entry = np.where(valid, ref_scce(labels, p.astype("float64")), 0.0)
    w = np.array([[1.0], [2.0], [0.5]], "float32")
    expected = {
        "sum_over_batch_size": per_entry.sum() / valid.sum(),
        "mean": per_entry.sum() / valid.sum(),
        "sum": per_entry.sum(),
        "mean_with_sample_weight": per_entry.sum() / valid.sum(),  # Σ mask as the weights
        None: per_entry,
    }
    for reduction, value in expected.items():
        loss = losses.SparseCategoricalCrossentropy(ignore_class=0, reduction=reduction)
        assert_close(loss(labels, p), value, str(reduction))
    weighted = losses.SparseCategoricalCrossentropy(ignore_class=0)(labels, p, sample_weight=w)
    assert_close(weighted, (per_entry * w).sum() / valid.sum(), "weighted")
    per_sample = losses.sparse_categorical_crossentropy(labels, p, ignore_class=0)
    assert_close(per_sample, per_entry, "the function gives 0 where the label is ignored")
    everything_ignored = losses.SparseCategoricalCrossentropy(ignore_class=0)(labels * 0, p)
    assert float(everything_ignored) == 0.0


def test_a_mask_on_y_pred_combines_with_ignore_class(rng):
    labels = np.array([1.0, 0.0, 2.0, 1.0], "float32")
    p = ops.convert_to_tensor(_softmax(rng.normal(size=(4, 3))).astype("float32"))
    losses.set_keras_mask(p, np.array([True, True, True, False]))
    per_sample = ref_scce(labels, np.asarray(p, "float64"))
    assert_close(losses.SparseCategoricalCrossentropy()(labels, p), per_sample[:3].mean())
    both = losses.SparseCategoricalCrossentropy(ignore_class=0)(labels, p)
    assert_close(both, per_sample[[0, 2]].mean())


def test_sparse_labels_may_be_int_float_or_n_1(rng):
    labels, p = make_data("sparse", rng)
    expected = ref_scce(labels, p.astype("float64")).mean()
    loss = losses.SparseCategoricalCrossentropy()
    for y in [labels, labels.astype("int64"), labels.astype("int32"), labels[:, None],
              labels.astype("uint8")[:, None]]:
        assert_close(loss(y, p), expected, f"{y.dtype} {y.shape}")


def test_inputs_become_floatx(rng):
    y, p = make_data("regression", rng)
    value = losses.MeanSquaredError()(y.astype("float64"), p.astype("float64"))
    assert value.dtype == "float32"
    assert losses.MeanSquaredError(dtype="float64")(y, p).dtype == "float64"
    with floatx("float64"):
        loss = losses.MeanSquaredError()
    assert loss.dtype == "float64" and loss(y, p).dtype == "float64"


def test_a_custom_loss_subclass(rng):
    class Cubic(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.abs(y_true - y_pred) ** 3, axis=-1)

    y, p = make_data("regression", rng)
    loss = Cubic(reduction="sum")
    assert loss.name == "cubic" and loss.get_config() == {"name": "cubic", "reduction": "sum"}
    assert_close(loss(y, p), (np.abs(y - p.astype("float64")) ** 3).mean(-1).sum())


# --- the logits shortcut -----------------------------------------------------------------------


def _sigmoid_model(kernel):
    model = minikeras.Sequential([minikeras.Input((1,)),
                                  minikeras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[kernel]], "float32"), np.zeros(1, "float32")])
    return model


def test_saturated_sigmoid_uses_the_logits():
    """keras-facts 1.3: 50.0 from the logits, 15.942385 from the clipped probability."""
    model = _sigmoid_model(50.0)
    x, y = np.ones((1, 1), "float32"), np.zeros((1, 1), "float32")
    loss = losses.BinaryCrossentropy()
    with minikeras.GradientTape() as tape:
        value = loss(y, model(x))
    kernel_grad, bias_grad = tape.gradient(value, model.trainable_variables)
    assert float(value) == pytest.approx(50.0, rel=1e-6)
    assert float(kernel_grad[0, 0]) == pytest.approx(1.0) and float(bias_grad[0]) == 1.0
    probabilities = np.asarray(model(x))
    assert probabilities[0, 0] == 1.0  # the probability has rounded to 1
    assert float(loss(y, probabilities)) == pytest.approx(15.942385, rel=1e-6)
    assert float(loss(y[:, 0], model(x))) == pytest.approx(50.0, rel=1e-6)  # (N,) labels too


def test_from_logits_on_a_sigmoid_output_warns_and_does_not_apply_sigmoid_twice():
    model = _sigmoid_model(50.0)
    x, y = np.ones((1, 1), "float32"), np.zeros((1, 1), "float32")
    with pytest.warns(UserWarning, match="from_logits=True"):
        value = losses.BinaryCrossentropy(from_logits=True)(y, model(x))
    assert float(value) == pytest.approx(50.0, rel=1e-6)


def test_softmax_outputs_use_the_logits(rng):
    z = np.array([[120.0, 0.0, -5.0], [3.0, 1.0, 2.0]], "float32")
    onehot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], "float32")
    labels = np.array([1.0, 0.0], "float32")
    exact = -(onehot * _log_softmax(z.astype("float64"))).sum(-1)
    assert exact[0] == pytest.approx(120.0)
    probs = ops.softmax(z)
    assert_close(losses.CategoricalCrossentropy(reduction=None)(onehot, probs), exact)
    assert_close(losses.SparseCategoricalCrossentropy(reduction=None)(labels, probs), exact)
    clipped = losses.CategoricalCrossentropy(reduction=None)(onehot, np.asarray(probs))
    assert float(clipped[0]) == pytest.approx(-np.log(EPS), rel=1e-5)  # as a plain array
    assert_close(losses.binary_crossentropy(onehot, ops.sigmoid(z)),
                 ref_bce(onehot.astype("float64"), z.astype("float64"), from_logits=True))


def test_ignore_class_drops_the_logits_as_keras_does(rng):
    """Keras masks y_pred with where() before the cross-entropy, so the softmax logits are lost."""
    z = np.array([[120.0, 0.0, -5.0], [3.0, 1.0, 2.0]], "float32")
    labels = np.array([1.0, 2.0], "float32")
    value = losses.SparseCategoricalCrossentropy(ignore_class=2, reduction=None)(
        labels, ops.softmax(z))
    assert float(value[0]) == pytest.approx(-np.log(EPS / (1 + 2 * EPS)), rel=1e-5)


# --- gradients (float64 finite differences) ------------------------------------------------------


@pytest.mark.parametrize(("cls", "fn", "kwargs", "kind"), SPECS, ids=SPEC_IDS)
def test_gradient_wrt_y_pred(cls, fn, kwargs, kind, rng):
    y, p = make_data(kind, rng)
    w = rng.uniform(0, 2, N)
    for reduction, sample_weight in [("sum_over_batch_size", None), ("sum", w),
                                     ("mean_with_sample_weight", w[:, None]), (None, None)]:
        def loss(y_true, y_pred, reduction=reduction, sample_weight=sample_weight):
            return getattr(losses, cls)(reduction=reduction, **kwargs)(y_true, y_pred,
                                                                       sample_weight)

        loss.__name__ = f"{cls}{kwargs} reduction={reduction}"
        gradient_check(loss, y, p, wrt=[1])


@pytest.mark.parametrize(("cls", "activation", "labels"), [
    ("BinaryCrossentropy", ops.sigmoid, lambda rng: rng.integers(0, 2, (N, D))),
    ("BinaryFocalCrossentropy", ops.sigmoid, lambda rng: rng.integers(0, 2, (N, D))),
    ("CategoricalCrossentropy", ops.softmax, lambda rng: np.eye(D)[rng.integers(0, D, N)]),
    ("SparseCategoricalCrossentropy", ops.softmax, lambda rng: rng.integers(0, D, N)),
])
def test_gradient_through_the_logits_shortcut(cls, activation, labels, rng):
    y = labels(rng).astype("float32")
    z = 4 * rng.normal(size=(N, D))

    def loss(y_true, logits):
        return getattr(losses, cls)()(y_true, activation(logits))

    loss.__name__ = f"{cls}(y, {activation.__name__}(z))"
    gradient_check(loss, y, z, wrt=[1])


def test_gradient_with_ignore_class(rng):
    labels = rng.integers(0, D, (N, 4)).astype("float32")
    p = _softmax(rng.normal(size=(N, 4, D)))

    def loss(y_true, y_pred):
        return losses.SparseCategoricalCrossentropy(ignore_class=1)(y_true, y_pred)

    gradient_check(loss, labels, p, wrt=[1])


def test_gradient_of_cosine_similarity_on_another_axis(rng):
    y, p = make_data("regression", rng)

    def loss(y_true, y_pred):
        return losses.CosineSimilarity(axis=0)(y_true, y_pred)

    gradient_check(loss, y, p, wrt=[1])


# --- extreme inputs: finite values, finite gradients, no warnings ---------------------------------

EXTREMES = [
    ("BinaryCrossentropy", {}, [[1.0, 0.0, 1.0, 0.0]], [[0.0, 1.0, 1.0, 0.0]]),
    ("BinaryCrossentropy", {"from_logits": True}, [[1.0, 0.0, 1.0]], [[-1e4, 1e4, 3e38]]),
    ("BinaryFocalCrossentropy", {}, [[1.0, 0.0]], [[0.0, 1.0]]),
    ("BinaryFocalCrossentropy", {"from_logits": True}, [[1.0, 0.0]], [[-1e4, 1e4]]),
    ("CategoricalCrossentropy", {}, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]),
    ("CategoricalCrossentropy", {"from_logits": True}, [[1.0, 0.0, 0.0]], [[-1e4, 1e4, 0.0]]),
    ("SparseCategoricalCrossentropy", {}, [0.0], [[0.0, 1.0, 0.0]]),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, [0.0], [[-1e30, 1e30, 0.0]]),
    ("KLDivergence", {}, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]),
    ("Poisson", {}, [[1.0, 0.0, 3.0]], [[0.0, 0.0, 1e30]]),
    ("CosineSimilarity", {}, [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [0.0] * 3]),
    ("CosineSimilarity", {}, [[1.0, 2.0, 3.0]], [[1e-20, 0.0, -1e-20]]),
    ("MeanAbsolutePercentageError", {}, [[0.0, 0.0]], [[1.0, -1e20]]),
    ("MeanSquaredLogarithmicError", {}, [[0.0, 1e30]], [[-5.0, 0.0]]),
    ("Huber", {}, [[0.0, 0.0]], [[1e30, -1e30]]),
    ("LogCosh", {}, [[0.0, 0.0]], [[1e30, -1e30]]),
    ("Hinge", {}, [[1.0, 0.0]], [[1e30, -1e30]]),
    ("CategoricalHinge", {}, [[1.0, 0.0]], [[1e30, -1e30]]),
]


@pytest.mark.parametrize(("cls", "kwargs", "y", "p"), EXTREMES,
                         ids=[f"{c}{k}-{p}" for c, k, _, p in EXTREMES])
def test_extreme_inputs_stay_finite_without_warnings(cls, kwargs, y, p):
    y, p = np.array(y, "float32"), ops.convert_to_tensor(np.array(p, "float32"))
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        with minikeras.GradientTape() as tape:
            tape.watch(p)
            value = getattr(losses, cls)(**kwargs)(y, p)
        grad = tape.gradient(value, p)
    assert np.isfinite(float(value)), f"{cls}: loss {value}"
    assert np.all(np.isfinite(np.asarray(grad))), f"{cls}: gradient {grad}"


def test_clip_constants_match_keras_facts():
    """keras-facts 0.2: -log(1 - 0.99999988) = 15.942385 and -log(float32(1e-7)) = 16.118095."""
    values = losses.binary_crossentropy(np.array([[0.0], [1.0]], "float32"),
                                        np.array([[1.0], [0.0]], "float32"))
    np.testing.assert_allclose(np.asarray(values), [15.942385, 16.118095], rtol=1e-6)


# --- bad inputs ----------------------------------------------------------------------------------


def test_integer_labels_in_categorical_crossentropy_name_both_shapes(rng):
    labels, p = make_data("sparse", rng)
    with pytest.raises(ValueError, match=r"same rank .*target\.shape=\(6,\), "
                                         r"output\.shape=\(6, 3\)"):
        losses.CategoricalCrossentropy()(labels, p)
    with pytest.raises(ValueError, match=r"same shape.*target\.shape=\(6, 2\)"):
        losses.CategoricalCrossentropy()(np.eye(2)[labels.astype(int) % 2], p)


def test_one_hot_labels_in_sparse_crossentropy_name_both_shapes(rng):
    onehot, p = make_data("onehot", rng)
    with pytest.raises(ValueError, match=r"target\.shape=\(6, 3\), output\.shape=\(6, 3\)"):
        losses.SparseCategoricalCrossentropy()(onehot, p)
    with pytest.raises(ValueError, match=r"up until the last dimension"):
        losses.SparseCategoricalCrossentropy()(np.zeros(5), p)


def test_labels_out_of_range_are_rejected(rng):
    _, p = make_data("sparse", rng)
    for bad in [3, -1]:
        labels = np.array([0, 1, 2, bad, 0, 1])
        with pytest.raises(ValueError, match=rf"label value of {bad} .*\[0, 3\)"):
            losses.SparseCategoricalCrossentropy()(labels, p)
    labels = np.array([0, 1, 2, -1, 0, 1])  # an ignored label may be anything
    assert np.isfinite(float(losses.SparseCategoricalCrossentropy(ignore_class=-1)(labels, p)))


def test_binary_crossentropy_function_needs_equal_shapes():
    with pytest.raises(ValueError, match=r"same rank.*\(4,\).*\(4, 1\)"):
        losses.binary_crossentropy(np.zeros(4), np.full((4, 1), 0.5))


def test_invalid_arguments():
    with pytest.raises(ValueError, match=r"reduction.*'sum_over_batch_size'.*Received: "
                                         r"reduction=avg"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.categorical_crossentropy(np.eye(3), np.eye(3), axis=True)
    with pytest.raises(ValueError, match="Only axis=-1"):
        losses.sparse_categorical_crossentropy(np.zeros(3), np.eye(3), axis=0)
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        losses.categorical_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.5))


# --- names, configs, serialization ---------------------------------------------------------------


def test_get_resolves_names_and_aliases():
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    assert losses.get("binary_crossentropy") is losses.binary_crossentropy
    aliases = {"bce": "binary_crossentropy", "mse": "mean_squared_error",
               "mae": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
               "msle": "mean_squared_logarithmic_error", "kld": "kl_divergence"}
    for alias, fn in aliases.items():
        assert losses.get(alias) is getattr(losses, fn)
        assert losses.get(alias.upper()) is getattr(losses, fn)
    for cls, fn, _, _ in SPECS:
        assert type(losses.get(cls)).__name__ == cls
        assert losses.get(fn) is getattr(losses, fn)
    loss = losses.Huber()
    assert losses.get(loss) is loss and losses.get(None) is None
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)


@pytest.mark.parametrize("identifier", ["logcosh", "crossentropy", "huber_loss", "nope"])
def test_get_unknown_names_lists_the_valid_ones(identifier):
    with pytest.raises(ValueError, match=f"Could not interpret loss identifier: {identifier}. "
                                         "Valid names:.*'log_cosh'"):
        losses.get(identifier)


def test_get_rejects_non_callables():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        losses.get(3)


def test_configs_round_trip():
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2, reduction="sum",
                                     name="bce")
    assert loss.get_config() == {"name": "bce", "reduction": "sum", "from_logits": True,
                                 "label_smoothing": 0.2, "axis": -1}
    for cls, _, kwargs, _ in SPECS:
        original = getattr(losses, cls)(**kwargs)
        copy = losses.deserialize(losses.serialize(original))
        assert type(copy) is type(original) and copy.get_config() == original.get_config()
    assert losses.serialize(loss)["module"] == "keras.losses"
    assert losses.get({"class_name": "Huber", "config": {"name": "h"}}).name == "h"


def test_functions_and_wrappers_serialize_by_name():
    assert losses.serialize(losses.poisson) == {"module": "builtins", "class_name": "function",
                                                "config": "poisson",
                                                "registered_name": "function"}
    assert losses.deserialize(losses.serialize(losses.poisson)) is losses.poisson
    wrapper = losses.LossFunctionWrapper(losses.huber, name="h", delta=2.0)
    config = wrapper.get_config()
    assert config["fn"]["config"] == "huber" and config["delta"] == 2.0
    copy = losses.LossFunctionWrapper.from_config(config)
    assert copy.fn is losses.huber and copy._fn_kwargs == {"delta": 2.0}
    assert repr(copy).startswith("<LossFunctionWrapper(<function huber")
    assert losses.deserialize("mse") is losses.mean_squared_error
    assert isinstance(losses.deserialize("MeanSquaredError"), losses.MeanSquaredError)


def test_custom_objects_in_deserialize():
    class Custom(losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    config = losses.serialize(Custom(name="c"))
    assert config["class_name"] == "Custom" and config["registered_name"] == "Custom"
    with pytest.raises(TypeError, match="custom_objects"):
        losses.deserialize(config)
    assert losses.deserialize(config, custom_objects={"Custom": Custom}).name == "c"


def test_default_names_are_unique_like_keras():
    minikeras.backend.clear_session()
    assert [losses.Loss().name for _ in range(3)] == ["loss", "loss_1", "loss_2"]
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
