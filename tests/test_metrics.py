"""Unit tests of minikeras.metrics against independent NumPy formulas (no TensorFlow).

Every expected value is recomputed here from the metric's definition (in float64 where it
matters); the Keras-specific rules (strict ``>``, clip bounds, sample-weight broadcasting) are
spelled out in the tests that check them. Any RuntimeWarning from NumPy fails a test.
"""

import numpy as np
import pytest

from minikeras import backend, metrics

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EPS = 1e-7


@pytest.fixture(autouse=True)
def _fresh_session():
    backend.clear_session()
    backend.set_floatx("float32")
    yield
    backend.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol)


def weighted_mean(values, weights=None):
    values = np.asarray(values, dtype=np.float64)
    weights = np.ones_like(values) if weights is None else np.asarray(weights, np.float64)
    return np.sum(values * weights) / np.sum(weights)


# --- base class and reductions ------------------------------------------------------------------
def test_mean_is_the_weighted_mean_over_all_updates(rng):
    m = metrics.Mean()
    assert m.result() == 0.0  # no update yet: 0, not NaN
    batches = [(rng.normal(size=5), rng.uniform(size=5)) for _ in range(3)]
    for values, weights in batches:
        m.update_state(values, sample_weight=weights)
    all_values = np.concatenate([v for v, _ in batches])
    all_weights = np.concatenate([w for _, w in batches])
    close(m.result(), weighted_mean(all_values, all_weights))
    assert isinstance(m.result(), np.float32)
    m.reset_state()
    assert m.result() == 0.0
    assert [v.numpy() for v in m.variables] == [0.0, 0.0]


def test_mean_sample_weight_shapes(rng):
    values = rng.normal(size=(6,)).astype("float32")
    w = rng.uniform(size=(6,)).astype("float32")
    expected = weighted_mean(values, w)
    for vals, weights in [(values, w), (values, w[:, None]), (values[:, None], w),
                          (values[:, None], w[:, None])]:
        close(metrics.Mean()(vals, sample_weight=weights), expected)


def test_mean_reduces_extra_axes_per_sample_before_weighting(rng):
    values = rng.normal(size=(4, 3))
    w = rng.uniform(size=4)
    close(metrics.Mean()(values, sample_weight=w), weighted_mean(values.mean(axis=1), w))
    # No weights: every element counts once, and count is the number of samples.
    close(metrics.Mean()(values), values.mean())
    # A scalar weight multiplies the batch mean and counts once (Keras's reduction).
    m = metrics.Mean()
    m.update_state(values, sample_weight=2.0)
    close([m.total.numpy(), m.count.numpy()], [2.0 * values.mean(), 2.0])


def test_sum_adds_weighted_values(rng):
    m = metrics.Sum()
    a, b = rng.normal(size=(3, 2)), rng.normal(size=4)
    w = rng.uniform(size=3)
    m.update_state(a, sample_weight=w)
    m.update_state(b)
    close(m.result(), np.sum(a.sum(axis=1) * w) + b.sum())


def test_sample_weight_that_does_not_broadcast_is_rejected():
    with pytest.raises(ValueError, match="sample_weight"):
        metrics.Mean().update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 2.0])


def test_metric_variables_names_paths_and_dtype():
    m = metrics.Mean(name="loss_tracker")
    assert [(v.name, v.path, v.trainable, v.dtype) for v in m.variables] == [
        ("total", "loss_tracker/total", False, "float32"),
        ("count", "loss_tracker/count", False, "float32")]
    m64 = metrics.Mean(dtype="float64")
    m64.update_state([1.0, 2.0])
    assert m64.dtype == "float64" and m64.result().dtype == np.float64
    assert [v.name for v in metrics.Precision().variables] == ["true_positives",
                                                               "false_positives"]
    assert [v.name for v in metrics.Recall().variables] == ["true_positives", "false_negatives"]


def test_auto_names_are_unique_snake_case():
    assert [metrics.AUC().name, metrics.AUC().name, metrics.Precision().name] == [
        "auc", "auc_1", "precision"]
    assert metrics.Mean().name == metrics.Mean().name == "mean"  # a default name, not auto


def test_mean_metric_wrapper_wraps_any_function(rng):
    def squared_error(y_true, y_pred, scale=1.0):
        return scale * (np.asarray(y_true) - np.asarray(y_pred)) ** 2

    m = metrics.MeanMetricWrapper(squared_error, name="se", scale=3.0)
    y, p = rng.normal(size=5), rng.normal(size=5)
    close(m(y, p), 3.0 * np.mean((y - p) ** 2))
    assert m.get_config()["scale"] == 3.0


# --- accuracy -----------------------------------------------------------------------------------
def test_binary_accuracy_is_strictly_greater_than_threshold():
    y_true = np.array([0.0, 1.0, 1.0, 0.0])
    y_pred = np.array([0.5, 0.5, 0.50001, 0.7])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred), [1, 0, 1, 0])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred, threshold=0.6),
                                  [1, 0, 0, 0])


def test_binary_accuracy_running_and_weighted(rng):
    m = metrics.BinaryAccuracy()
    ys, ps, ws = [], [], []
    for _ in range(3):
        y, p, w = rng.integers(0, 2, 8), rng.uniform(size=(8, 1)), rng.uniform(size=8)
        m.update_state(y, p, sample_weight=w)  # (N,) labels against (N, 1) predictions
        ys.append(y), ps.append(p[:, 0]), ws.append(w)
    y, p, w = map(np.concatenate, (ys, ps, ws))
    close(m.result(), weighted_mean(y == (p > 0.5), w))


def test_accuracy_is_exact_equality():
    close(metrics.Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]]), 0.75)
    close(metrics.Accuracy()([1, 2, 3, 4], [0, 2, 3, 4], sample_weight=[1, 1, 0, 0]), 0.5)


def test_categorical_and_sparse_categorical_accuracy(rng):
    p = rng.uniform(size=(10, 4))
    labels = rng.integers(0, 4, 10)
    w = rng.uniform(size=10)
    expected = weighted_mean(labels == p.argmax(axis=1), w)
    close(metrics.CategoricalAccuracy()(np.eye(4)[labels], p, sample_weight=w), expected)
    close(metrics.SparseCategoricalAccuracy()(labels, p, sample_weight=w), expected)
    close(metrics.SparseCategoricalAccuracy()(labels[:, None], p, sample_weight=w), expected)
    assert metrics.sparse_categorical_accuracy(labels[:, None], p).shape == (10,)
    # Ties in y_pred go to the first index, as argmax does.
    np.testing.assert_array_equal(
        metrics.categorical_accuracy([[0, 1], [1, 0]], [[0.5, 0.5], [0.5, 0.5]]), [0, 1])


def top_k_reference(labels, scores, k):
    """Independent in_top_k: fewer than k classes score strictly higher than the label."""
    return np.array([np.sum(row > row[label]) < k for label, row in zip(labels, scores,
                                                                          strict=True)])


def test_top_k_accuracies_count_ties_as_in_the_top_k(rng):
    scores = np.round(rng.uniform(size=(30, 6)), 1)  # many ties
    labels = rng.integers(0, 6, 30)
    for k in (1, 2, 5):
        expected = top_k_reference(labels, scores, k).mean()
        close(metrics.SparseTopKCategoricalAccuracy(k=k)(labels, scores), expected)
        close(metrics.TopKCategoricalAccuracy(k=k)(np.eye(6)[labels], scores), expected)
    # All classes tied: every label is in the top 1.
    close(metrics.sparse_top_k_categorical_accuracy([0, 3], np.ones((2, 4)), k=1), [1, 1])


def test_top_k_accuracy_non_finite_scores_and_bad_labels_are_misses():
    scores = np.array([[0.1, np.inf, 0.3], [np.nan, 0.2, 0.3], [0.1, 0.2, 0.3]])
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy([1, 2, 7], scores, k=3), [0, 0, 0])


def test_sparse_top_k_from_sorted_ids():
    ids = np.array([[5, 2, 9], [1, 0, 3]])
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy([2, 3], ids, k=2, from_sorted_ids=True), [1, 0])
    m = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    close(m([2, 3], ids), 0.5)
    assert m.get_config()["from_sorted_ids"] is True
    assert "from_sorted_ids" not in metrics.SparseTopKCategoricalAccuracy().get_config()


# --- confusion-matrix metrics -------------------------------------------------------------------
def confusion_reference(y_true, y_pred, w, thresholds):
    """TP, FP, TN, FN per threshold by direct comparison (float64)."""
    pos = np.asarray(y_true).ravel() != 0
    p = np.asarray(y_pred, np.float64).ravel()
    w = np.broadcast_to(np.asarray(w, np.float64).reshape(-1, *[1] * (np.ndim(y_pred) - 1)),
                        np.shape(y_pred)).ravel()
    rows = []
    for t in thresholds:
        hit = p > t
        rows.append([np.sum(w * (pos & hit)), np.sum(w * (~pos & hit)),
                     np.sum(w * (~pos & ~hit)), np.sum(w * (pos & ~hit))])
    return np.array(rows).T  # (4, num_thresholds)


@pytest.mark.parametrize("thresholds", [None, 0.3, [0.1, 0.5, 0.8],
                                        [0.0, 0.25, 0.5, 0.75, 1.0]])
def test_confusion_counts_match_direct_counting(thresholds, rng):
    classes = [metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives,
               metrics.FalseNegatives]
    ms = [cls(thresholds=thresholds) for cls in classes]
    expected = 0
    grid = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    for _ in range(3):
        y = rng.integers(0, 2, (12, 3))
        p = np.round(rng.uniform(size=(12, 3)), 2)  # hits the thresholds exactly
        w = rng.uniform(size=12)
        for m in ms:
            m.update_state(y, p, sample_weight=w)
        expected = expected + confusion_reference(y, p, w, grid)
    for i, m in enumerate(ms):
        result = m.result()
        assert np.shape(result) == (() if np.ndim(thresholds) == 0 else (len(grid),))
        close(result, expected[i] if np.ndim(thresholds) else expected[i][0])


def test_precision_and_recall_with_thresholds(rng):
    y, p = rng.integers(0, 2, 40), rng.uniform(size=40)
    w = rng.uniform(size=40)
    thresholds = [0.0, 0.3, 0.6, 0.9]
    tp, fp, _, fn = confusion_reference(y, p, w, thresholds)
    close(metrics.Precision(thresholds=thresholds)(y, p, sample_weight=w), tp / (tp + fp))
    close(metrics.Recall(thresholds=thresholds)(y, p, sample_weight=w), tp / (tp + fn))
    # No predicted positives: 0, not NaN.
    assert metrics.Precision()([1, 0], [0.1, 0.2]) == 0.0
    assert metrics.Recall()([0, 0], [0.7, 0.2]) == 0.0


def test_precision_recall_top_k_and_class_id(rng):
    y = rng.integers(0, 2, (20, 4))
    p = rng.uniform(size=(20, 4))
    in_top2 = np.argsort(-p, axis=1)[:, :2]
    top = np.zeros_like(y, dtype=bool)
    np.put_along_axis(top, in_top2, True, axis=1)
    tp, fp, fn = np.sum(top & (y == 1)), np.sum(top & (y == 0)), np.sum(~top & (y == 1))
    close(metrics.Precision(top_k=2)(y, p), tp / (tp + fp))
    close(metrics.Recall(top_k=2)(y, p), tp / (tp + fn))
    # class_id: only column 1, default threshold 0.5.
    hit, pos = p[:, 1] > 0.5, y[:, 1] == 1
    close(metrics.Precision(class_id=1)(y, p), np.sum(hit & pos) / np.sum(hit))
    close(metrics.Recall(class_id=1)(y, p), np.sum(hit & pos) / np.sum(pos))
    # Both: column 1 counts as predicted only when it is among the row's top 2.
    hit = top[:, 1]
    close(metrics.Precision(top_k=2, class_id=1)(y, p), np.sum(hit & pos) / np.sum(hit))


def roc_auc_reference(y, p, thresholds):
    tp, fp, tn, fn = confusion_reference(y, p, 1.0, thresholds)
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def pr_auc_reference(y, p, thresholds, steps=2000):
    """Integrate precision d(recall) numerically, TP and P linear between thresholds."""
    tp, fp, _, fn = confusion_reference(y, p, 1.0, thresholds)
    positives, predicted = tp[0] + fn[0], tp + fp
    area = 0.0
    for i in range(len(thresholds) - 1):
        if tp[i] == tp[i + 1]:
            continue
        s = (np.arange(steps) + 0.5) / steps
        tp_s = tp[i + 1] + s * (tp[i] - tp[i + 1])
        p_s = predicted[i + 1] + s * (predicted[i] - predicted[i + 1])
        area += np.mean(tp_s / p_s) * (tp[i] - tp[i + 1]) / positives
    return area


def auc_thresholds(n=200):
    return [-EPS] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + EPS]


def test_auc_roc_and_pr_match_references(rng):
    y = rng.integers(0, 2, 300)
    p = np.clip(0.3 * y + rng.uniform(size=300) * 0.7, 0, 1)
    close(metrics.AUC()(y, p), roc_auc_reference(y, p, auc_thresholds()))
    close(metrics.AUC(curve="PR")(y, p), pr_auc_reference(y, p, auc_thresholds()), rtol=1e-4)
    # Predictions of exactly 0 and 1 sit inside the -ε and 1+ε endpoints.
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 1, 1], [0.0, 1.0, 0.5])
    close(m.false_positives.numpy(), [1, 0, 0])
    close(m.true_positives.numpy(), [2, 1, 0])
    # Perfectly separated: 1; perfectly inverted: 0.
    close(metrics.AUC()([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1.0)
    close(metrics.AUC()([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0.0)


def test_auc_explicit_thresholds_and_running_state(rng):
    thresholds = [0.2, 0.45, 0.7]
    m = metrics.AUC(thresholds=thresholds)
    assert m.thresholds == [-EPS, 0.2, 0.45, 0.7, 1 + EPS]
    ys, ps = [], []
    for _ in range(3):
        y, p = rng.integers(0, 2, 20), rng.uniform(size=20)
        m.update_state(y, p)
        ys.append(y), ps.append(p)
    close(m.result(), roc_auc_reference(np.concatenate(ys), np.concatenate(ps), m.thresholds))
    m.reset_state()
    assert m.result() == 0.0


def test_auc_multi_label_averages_per_label_areas(rng):
    y = rng.integers(0, 2, (50, 3))
    p = rng.uniform(size=(50, 3))
    per_label = [roc_auc_reference(y[:, j], p[:, j], auc_thresholds()) for j in range(3)]
    m = metrics.AUC(multi_label=True)
    assert m.variables == []  # built from the first batch's shape
    close(m(y, p), np.mean(per_label))
    assert m.true_positives.shape == (200, 3)
    weights = np.array([1.0, 3.0, 0.5])
    close(metrics.AUC(multi_label=True, label_weights=weights)(y, p),
          np.sum(weights * per_label) / weights.sum())


def test_auc_from_logits_applies_a_sigmoid(rng):
    y, z = rng.integers(0, 2, 30), rng.normal(size=30) * 5
    close(metrics.AUC(from_logits=True)(y, z), metrics.AUC()(y, 1 / (1 + np.exp(-z))))
    metrics.AUC(from_logits=True)(y, np.array([-1e4, 1e4] * 15))  # no overflow warning


# --- regression ---------------------------------------------------------------------------------
REGRESSION = [
    (metrics.MeanSquaredError, lambda y, p: np.mean((y - p) ** 2, axis=-1)),
    (metrics.MeanAbsoluteError, lambda y, p: np.mean(np.abs(y - p), axis=-1)),
    (metrics.MeanAbsolutePercentageError,
     lambda y, p: 100 * np.mean(np.abs((y - p) / np.maximum(np.abs(y), EPS)), axis=-1)),
    (metrics.MeanSquaredLogarithmicError,
     lambda y, p: np.mean((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(y, EPS))) ** 2,
                          axis=-1)),
    (metrics.LogCoshError, lambda y, p: np.mean(np.log(np.cosh(p - y)), axis=-1)),
    (metrics.CosineSimilarity,
     lambda y, p: np.sum(y * p, axis=-1) / np.linalg.norm(y, axis=-1) / np.linalg.norm(p, axis=-1)),
]


@pytest.mark.parametrize("cls, per_sample", REGRESSION, ids=[c.__name__ for c, _ in REGRESSION])
def test_regression_metrics_match_formulas_over_updates(cls, per_sample, rng):
    m = cls()
    values, weights = [], []
    for _ in range(3):
        y, p = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
        w = rng.uniform(size=6)
        m.update_state(y.astype("float32"), p.astype("float32"), sample_weight=w)
        values.append(per_sample(y, p)), weights.append(w)
    close(m.result(), weighted_mean(np.concatenate(values), np.concatenate(weights)), rtol=1e-4)


def test_regression_metrics_match_y_true_n_against_y_pred_n1(rng):
    y, p = rng.normal(size=8), rng.normal(size=(8, 1))
    close(metrics.MeanSquaredError()(y, p), np.mean((y - p[:, 0]) ** 2))
    close(metrics.MeanSquaredError()(p, y), np.mean((y - p[:, 0]) ** 2))
    # The rank-1 side is expanded to (N, 1): one value per sample, never an (N, N) broadcast.
    assert metrics.mean_squared_error(y, p).shape == (8,)
    assert metrics.mean_squared_error(p, y).shape == (8,)
    assert metrics.accuracy(p, y).shape == (8, 1)


def test_root_mean_squared_error_is_the_root_of_the_running_weighted_mean(rng):
    m = metrics.RootMeanSquaredError()
    errors, weights = [], []
    for _ in range(3):
        y, p, w = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), rng.uniform(size=5)
        m.update_state(y, p, sample_weight=w)
        errors.append(((y - p) ** 2).mean(axis=1)), weights.append(w)
    close(m.result(), np.sqrt(weighted_mean(np.concatenate(errors), np.concatenate(weights))))


def test_log_cosh_and_cosine_similarity_are_stable_at_extremes():
    close(metrics.log_cosh([[0.0]], [[1e4]]), [1e4 - np.log(2)])
    close(metrics.cosine_similarity([[0.0, 0.0]], [[1.0, 2.0]]), [0.0])  # zero vector stays 0


# --- probabilistic ------------------------------------------------------------------------------
class WithLogits:
    """A stand-in for a sigmoid/softmax output tensor that remembers its logits."""

    def __init__(self, probs, logits):
        self.probs, self._keras_logits = np.asarray(probs, "float32"), logits

    def __array__(self, dtype=None, copy=None):
        return self.probs if dtype is None else self.probs.astype(dtype)


def bce_reference(y, p, from_logits=False, ls=0.0):
    y = np.asarray(y, np.float64) * (1 - ls) + 0.5 * ls
    if from_logits:
        z = np.asarray(p, np.float64)
        return np.mean(np.logaddexp(0, z) - z * y, axis=-1)
    p = np.clip(np.asarray(p, np.float64), EPS, float(np.float32(1 - EPS)))
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)


def test_binary_crossentropy_probability_path_clips_to_float32_bounds():
    values = metrics.binary_crossentropy([[0.0], [1.0]], np.array([[1.0], [0.0]], "float32"))
    close(values, [-np.log(1 - np.float64(np.float32(1 - EPS))), -np.log(np.float32(EPS))])
    close(values, [15.942385, 16.118095])  # keras-facts 1.2 (verified against Keras)


def test_binary_crossentropy_metric_paths(rng):
    y = rng.integers(0, 2, (10, 3)).astype("float32")
    p = rng.uniform(size=(10, 3)).astype("float32")
    z = (rng.normal(size=(10, 3)) * 50).astype("float32")
    close(metrics.BinaryCrossentropy()(y, p), bce_reference(y, p).mean())
    close(metrics.BinaryCrossentropy(label_smoothing=0.2)(y, p),
          bce_reference(y, p, ls=0.2).mean())
    close(metrics.BinaryCrossentropy(from_logits=True)(y, z), bce_reference(y, z, True).mean())
    with pytest.raises(ValueError, match="same rank"):
        metrics.BinaryCrossentropy()(y[:, 0], p[:, :1])


def test_crossentropy_uses_keras_logits_hook(rng):
    y = rng.integers(0, 2, (6, 1)).astype("float32")
    z = (rng.normal(size=(6, 1)) * 40).astype("float32")
    probs = 1 / (1 + np.exp(-z.astype(np.float64)))
    hooked = WithLogits(probs, z)
    close(metrics.BinaryCrossentropy()(y, hooked), bce_reference(y, z, True).mean())
    assert not np.isclose(metrics.BinaryCrossentropy()(y, probs), bce_reference(y, z, True).mean())
    with pytest.warns(UserWarning, match="from_logits=True"):
        metrics.binary_crossentropy(y, hooked, from_logits=True)
    labels = rng.integers(0, 4, 6)
    zc = (rng.normal(size=(6, 4)) * 40).astype("float32")
    expected = -(zc - np.log(np.sum(np.exp(zc.astype(np.float64)), axis=1, keepdims=True)))
    expected = expected[np.arange(6), labels]
    hooked = WithLogits(np.full((6, 4), 0.25), zc)
    close(metrics.SparseCategoricalCrossentropy()(labels, hooked), expected.mean(), rtol=1e-4)
    close(metrics.CategoricalCrossentropy()(np.eye(4)[labels], hooked), expected.mean(),
          rtol=1e-4)


def test_categorical_crossentropy_renormalises_and_smooths(rng):
    y = np.eye(3)[rng.integers(0, 3, 5)]
    p = rng.uniform(0.1, 2.0, (5, 3)).astype("float32")  # not normalised
    q = np.clip(p / p.sum(axis=1, keepdims=True), EPS, 1 - EPS)
    close(metrics.categorical_crossentropy(y, p), -np.sum(y * np.log(q), axis=1))
    ys = y * 0.7 + 0.3 / 3
    close(metrics.CategoricalCrossentropy(label_smoothing=0.3)(y, p),
          np.mean(-np.sum(ys * np.log(q), axis=1)))
    z = rng.normal(size=(5, 3)) * 100
    log_softmax = z - z.max(1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(1, keepdims=True))
    close(metrics.categorical_crossentropy(y, z, from_logits=True), -np.sum(y * log_softmax, 1))
    with pytest.raises(ValueError, match="same shape"):
        metrics.categorical_crossentropy(y[:, :2], p)


def test_sparse_categorical_crossentropy_shapes_and_implicit_renormalisation(rng):
    labels = rng.integers(0, 3, 6)
    p = rng.uniform(0.0, 1.0, (6, 3)).astype("float32")
    r = np.clip(p.astype(np.float64), EPS, 1 - EPS)
    expected = -np.log(r[np.arange(6), labels] / r.sum(axis=1))
    close(metrics.sparse_categorical_crossentropy(labels, p), expected)
    close(metrics.sparse_categorical_crossentropy(labels[:, None], p), expected)
    with pytest.raises(ValueError, match="outside the valid range"):
        metrics.sparse_categorical_crossentropy([0, 3], p[:2])
    with pytest.raises(ValueError, match="axis=-1"):
        metrics.sparse_categorical_crossentropy(labels, p, axis=0)


def test_sparse_categorical_crossentropy_ignore_class(rng):
    labels = np.array([0, 1, 2, 1])
    p = rng.uniform(0.1, 1.0, (4, 3)).astype("float32")
    per_sample = -np.log(p[np.arange(4), labels] / p.sum(axis=1))
    valid = labels != 1
    values = metrics.sparse_categorical_crossentropy(labels, p, ignore_class=1)
    close(values, np.where(valid, per_sample, 0))
    # Without weights the ignored samples count as zeros; with weights they are left out.
    close(metrics.SparseCategoricalCrossentropy(ignore_class=1)(labels, p),
          per_sample[valid].sum() / 4)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    close(metrics.SparseCategoricalCrossentropy(ignore_class=1)(labels, p, sample_weight=w),
          weighted_mean(per_sample[valid], w[valid]))


def test_kl_divergence_and_poisson(rng):
    y = rng.dirichlet(np.ones(4), 5)
    p = rng.dirichlet(np.ones(4), 5)
    y[0, 0] = 0.0  # clipped to ε
    yc, pc = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    close(metrics.KLDivergence()(y, p), np.mean(np.sum(yc * np.log(yc / pc), axis=1)))
    counts, rates = rng.poisson(2.0, (5, 3)), rng.uniform(0.5, 3, (5, 3))
    close(metrics.Poisson()(counts, rates), np.mean(rates - counts * np.log(rates + EPS)))


def test_crossentropies_are_warning_free_at_extremes():
    z = np.array([[-1e4, 0.0, 1e4]], "float32")
    for fn, y in [(metrics.binary_crossentropy, [[0.0, 1.0, 0.0]]),
                  (metrics.categorical_crossentropy, [[0.0, 1.0, 0.0]]),
                  (metrics.sparse_categorical_crossentropy, [1])]:
        assert np.all(np.isfinite(fn(y, z, from_logits=True)))
        assert np.all(np.isfinite(fn(y, np.array([[0.0, 1.0, 0.0]], "float32"))))


# --- configs, serialization, get ----------------------------------------------------------------
ALL_CLASSES = [
    (metrics.Accuracy, {}), (metrics.BinaryAccuracy, {"threshold": 0.3}),
    (metrics.CategoricalAccuracy, {}), (metrics.SparseCategoricalAccuracy, {}),
    (metrics.TopKCategoricalAccuracy, {"k": 3}), (metrics.SparseTopKCategoricalAccuracy, {}),
    (metrics.TruePositives, {"thresholds": [0.2, 0.4]}), (metrics.FalsePositives, {}),
    (metrics.TrueNegatives, {}), (metrics.FalseNegatives, {"thresholds": 0.1}),
    (metrics.Precision, {"top_k": 2, "class_id": 1}), (metrics.Recall, {"thresholds": [0.3]}),
    (metrics.AUC, {"curve": "PR", "thresholds": [0.2, 0.6]}),
    (metrics.AUC, {"multi_label": True, "label_weights": [1.0, 2.0]}),
    (metrics.MeanSquaredError, {}), (metrics.MeanAbsoluteError, {}),
    (metrics.RootMeanSquaredError, {}), (metrics.MeanAbsolutePercentageError, {}),
    (metrics.MeanSquaredLogarithmicError, {}), (metrics.CosineSimilarity, {}),
    (metrics.LogCoshError, {}), (metrics.BinaryCrossentropy, {"label_smoothing": 0.1}),
    (metrics.CategoricalCrossentropy, {"from_logits": True}),
    (metrics.SparseCategoricalCrossentropy, {"ignore_class": 0}), (metrics.KLDivergence, {}),
    (metrics.Poisson, {}), (metrics.Mean, {}), (metrics.Sum, {}),
]


def plain(config):
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in config.items()}


@pytest.mark.parametrize("cls, kwargs", ALL_CLASSES,
                         ids=[f"{c.__name__}{i}" for i, (c, _) in enumerate(ALL_CLASSES)])
def test_config_and_serialization_round_trips(cls, kwargs):
    metric = cls(name="m", **kwargs)
    config = metric.get_config()
    assert config["name"] == "m" and config["dtype"] == "float32"
    assert plain(cls.from_config(config).get_config()) == plain(config)
    restored = metrics.deserialize(metrics.serialize(metric))
    assert type(restored) is cls and plain(restored.get_config()) == plain(config)


def test_specific_configs():
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}
    assert metrics.AUC(thresholds=[0.5, 0.2]).get_config()["thresholds"] == [0.2, 0.5]
    assert metrics.Precision().get_config() == {"name": "precision", "dtype": "float32",
                                                "thresholds": None, "top_k": None,
                                                "class_id": None}
    assert "axis" not in metrics.CosineSimilarity(axis=0).get_config()  # as in Keras
    assert metrics.LogCoshError().name == "logcosh"


def test_mean_metric_wrapper_config_round_trip():
    m = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="acc", threshold=0.7)
    config = m.get_config()
    assert config["fn"] == {"module": "builtins", "class_name": "function",
                            "config": "binary_accuracy", "registered_name": "function"}
    clone = metrics.MeanMetricWrapper.from_config(config)
    assert clone._fn is metrics.binary_accuracy and clone._fn_kwargs == {"threshold": 0.7}
    assert metrics.deserialize(metrics.serialize(metrics.poisson)) is metrics.poisson


@pytest.mark.parametrize("identifier, cls", [
    ("accuracy", metrics.Accuracy), ("binary_accuracy", metrics.BinaryAccuracy),
    ("categorical_accuracy", metrics.CategoricalAccuracy), ("mse", metrics.MeanSquaredError),
    ("MSE", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError),
    ("mean_squared_error", metrics.MeanSquaredError), ("AUC", metrics.AUC),
    ("auc", metrics.AUC), ("precision", metrics.Precision), ("recall", metrics.Recall),
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("bce", metrics.BinaryCrossentropy),
    ("mape", metrics.MeanAbsolutePercentageError), ("msle", metrics.MeanSquaredLogarithmicError),
    ("log_cosh_error", metrics.LogCoshError), ("kl_divergence", metrics.KLDivergence),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("RootMeanSquaredError", metrics.RootMeanSquaredError),
])
def test_get_resolves_strings(identifier, cls):
    assert type(metrics.get(identifier)) is cls


def test_get_other_identifiers():
    assert metrics.get(None) is None
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    m = metrics.Recall()
    assert metrics.get(m) is m
    assert metrics.get(metrics.poisson) is metrics.poisson
    auc = metrics.get({"class_name": "AUC", "config": {"curve": "PR"}})
    assert isinstance(auc, metrics.AUC) and auc.curve == "PR"


@pytest.mark.parametrize("identifier", ["acc", "logcosh", "kld", "crossentropy", "f1"])
def test_get_unknown_string_lists_valid_names(identifier):
    with pytest.raises(ValueError, match="Valid names: .*'accuracy'"):
        metrics.get(identifier)


# --- bad arguments ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), r"\[0, 1\]"),
    (lambda: metrics.TruePositives(thresholds=-0.1), r"\[0, 1\]"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: metrics.AUC(curve="ROCK"), "curve"),
    (lambda: metrics.AUC(summation_method="riemann"), "summation method"),
    (lambda: metrics.AUC(num_labels=3), "num_labels"),
    (lambda: metrics.Precision(class_id=0)([1, 0], [0.2, 0.7]), "class_id"),
    (lambda: metrics.AUC(multi_label=True)([1, 0], [0.2, 0.7]), "rank 2"),
    (lambda: metrics.categorical_crossentropy([[0, 1]], [[0.5, 0.5]], axis=True), "axis"),
])
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_base_metric_requires_update_state_and_result():
    m = metrics.Metric(name="custom")
    with pytest.raises(NotImplementedError):
        m.update_state([1.0])
    with pytest.raises(NotImplementedError):
        m.result()
    assert repr(m) == "<Metric name=custom>"
