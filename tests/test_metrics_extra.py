"""The metrics added to complete ``keras.metrics`` (hinge, R², F-scores, correlations, rates at a
fixed rate, IoU): Keras's documented examples, independent NumPy formulas, state handling, names
and bad arguments. NumPy only; parity with Keras is in compat_tests/test_metrics_parity.py."""

import warnings

import numpy as np
import pytest

from minikeras import metrics


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-5, atol=1e-6)


# --- the examples of Keras's docstrings --------------------------------------------------------
DOC_Y, DOC_P = [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]


@pytest.mark.parametrize("cls, unweighted, weighted", [
    (metrics.Hinge, 1.3, 1.1), (metrics.SquaredHinge, 1.86, 1.46),
    (metrics.CategoricalHinge, 1.4, 1.2)])
def test_hinge_metrics_docstring_examples(cls, unweighted, weighted):
    metric = cls()
    metric.update_state(DOC_Y, DOC_P)
    _close(metric.result(), unweighted)
    metric.reset_state()
    metric.update_state(DOC_Y, DOC_P, sample_weight=[1, 0])
    _close(metric.result(), weighted)


def test_f_scores_docstring_examples():
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    f_beta = metrics.FBetaScore(beta=2.0, threshold=0.5)
    f_beta.update_state(y_true, y_pred)
    _close(f_beta.result(), [0.3846154, 0.90909094, 0.8333334])
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(y_true, y_pred)
    _close(f1.result(), [0.5, 0.8, 0.6666667])


def test_iou_docstring_examples():
    iou = metrics.IoU(num_classes=2, target_class_ids=[0])
    iou.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    _close(iou.result(), 1 / 3)
    mean_iou = metrics.MeanIoU(num_classes=2)
    mean_iou.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    _close(mean_iou.result(), 1 / 3)
    binary = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    binary.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    _close(binary.result(), 1 / 3)
    binary = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3, dtype="float32")
    binary.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    _close(binary.result(), (0.2 / 0.9 + 0.1 / 0.8) / 2)  # 0.17361112


def test_sensitivity_at_specificity_docstring_example():
    metric = metrics.SensitivityAtSpecificity(0.5)
    metric.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    _close(metric.result(), 0.5)


def test_r2_score_docstring_example():
    metric = metrics.R2Score()
    metric.update_state(np.array([[1], [4], [3]], "float32"), np.array([[2], [4], [4]], "float32"))
    _close(metric.result(), 0.57142854)


# --- independent formulas ----------------------------------------------------------------------
def test_r2_score_is_one_minus_residual_over_total_per_column():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    w = rng.uniform(size=20)
    metric = metrics.R2Score(class_aggregation=None)
    metric.update_state(y[:10], p[:10], sample_weight=w[:10])
    metric.update_state(y[10:], p[10:], sample_weight=w[10:])
    mean = np.sum(w[:, None] * y, 0) / np.sum(w)
    expected = 1 - np.sum(w[:, None] * (y - p) ** 2, 0) / np.sum(w[:, None] * (y - mean) ** 2, 0)
    _close(metric.result(), expected)
    adjusted = metrics.R2Score(num_regressors=5)
    adjusted.update_state(y, p)
    n = y.size
    plain = metrics.R2Score()
    plain.update_state(y, p)
    _close(adjusted.result(), 1 - (1 - plain.result()) * (n - 1) / (n - 5 - 1))


def test_r2_score_falls_back_with_too_many_regressors():
    metric = metrics.R2Score(num_regressors=3)
    metric.update_state(np.ones((2, 1)), np.zeros((2, 1)))
    with pytest.warns(UserWarning, match="More independent predictors"):
        metric.result()


def test_correlations_match_numpy_formulas():
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=(8, 6)), rng.normal(size=(8, 6))
    expected = [np.corrcoef(a, b)[0, 1] for a, b in zip(y, p, strict=True)]
    _close(metrics.pearson_correlation(y, p), expected)
    # Keras's concordance: 2·mean((y - mean p)(p - mean p)) / (var y + var p + (mean y - mean p)²)
    y_mean, p_mean = y.mean(1, keepdims=True), p.mean(1, keepdims=True)
    ccc = np.mean(2 * (y - p_mean) * (p - p_mean), 1) / (
        y.var(1) + p.var(1) + (y_mean - p_mean)[:, 0] ** 2 + 1e-7)
    _close(metrics.concordance_correlation(y, p), ccc)
    metric = metrics.PearsonCorrelation()
    metric.update_state(y, p)
    _close(metric.result(), np.mean(expected))


def test_pearson_of_constant_values_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(metrics.pearson_correlation(np.ones((2, 3)), np.ones((2, 3)))).all()


def test_f_score_averages():
    y = np.eye(3, dtype="float32")[[0, 1, 2, 1, 0, 0]]
    p = np.eye(3, dtype="float32")[[0, 1, 1, 1, 2, 0]]
    eps = 1e-7
    tp, fp, fn = (y * p).sum(0), ((1 - y) * p).sum(0), (y * (1 - p)).sum(0)
    precision, recall = tp / (tp + fp + eps), tp / (tp + fn + eps)
    per_class = 2 * precision * recall / (precision + recall + eps)
    for average, expected in [(None, per_class), ("macro", per_class.mean()),
                              ("weighted", np.sum(per_class * y.sum(0) / (y.sum() + eps)))]:
        metric = metrics.F1Score(average=average)
        metric.update_state(y, p)
        _close(metric.result(), expected)
    micro = metrics.F1Score(average="micro")
    micro.update_state(y, p)
    assert micro.true_positives.shape == ()
    _close(micro.result(), 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()))


def test_rates_at_a_fixed_rate_search_the_thresholds():
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0], "float32")
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.6, 0.3, 0.9, 0.7], "float32")
    best = {}
    for t in np.linspace(0, 1, 200):
        pos = p > t
        tp, fp = np.sum(pos & (y == 1)), np.sum(pos & (y == 0))
        tn, fn = np.sum(~pos & (y == 0)), np.sum(~pos & (y == 1))
        rates = {"recall": tp / max(tp + fn, 1), "specificity": tn / max(tn + fp, 1),
                 "precision": tp / (tp + fp) if tp + fp else 0.0}
        for (constrained, value, maximised) in [("specificity", 0.75, "recall"),
                                                ("recall", 0.75, "specificity"),
                                                ("recall", 0.5, "precision"),
                                                ("precision", 0.8, "recall")]:
            if rates[constrained] >= value:
                key = (constrained, maximised)
                best[key] = max(best.get(key, 0.0), rates[maximised])
    for metric, key in [(metrics.SensitivityAtSpecificity(0.75), ("specificity", "recall")),
                        (metrics.SpecificityAtSensitivity(0.75), ("recall", "specificity")),
                        (metrics.PrecisionAtRecall(0.5), ("recall", "precision")),
                        (metrics.RecallAtPrecision(0.8), ("precision", "recall"))]:
        metric.update_state(y, p)
        _close(metric.result(), best[key])


def test_iou_ignores_out_of_range_and_ignored_classes():
    metric = metrics.MeanIoU(num_classes=3, ignore_class=2)
    metric.update_state([0, 1, 2, 1, 5, -1], [0, 1, 0, 2, 1, 1])
    np.testing.assert_array_equal(metric.total_cm.numpy(), [[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    _close(metric.result(), (1 + 1 / 2 + 0) / 3)
    one_hot = metrics.OneHotMeanIoU(num_classes=3)
    one_hot.update_state(np.eye(3)[[0, 1, 1, 2]], np.eye(3)[[0, 1, 2, 2]] * 0.9)
    _close(one_hot.result(), (1 + 1 / 2 + 1 / 2) / 3)


# --- state, configs, names, errors -------------------------------------------------------------
def test_state_variables_and_reset():
    f1 = metrics.F1Score()
    assert f1.variables == []
    f1.update_state(np.eye(3)[[0, 1]], np.eye(3)[[0, 2]])
    assert [v.path for v in f1.variables] == [
        "f1_score/true_positives", "f1_score/false_positives", "f1_score/false_negatives",
        "f1_score/intermediate_weights"]
    f1.reset_state()
    assert all(not v.numpy().any() for v in f1.variables)
    iou = metrics.IoU(3, [0])
    assert (iou.dtype, iou.total_cm.dtype, iou.total_cm.name) == (
        "int64", "int64", "total_confusion_matrix")
    at_rate = metrics.RecallAtPrecision(0.5, num_thresholds=1)
    assert at_rate.thresholds == [0.5] and at_rate.true_positives.shape == (1,)


@pytest.mark.parametrize("name, cls", [
    ("hinge", metrics.Hinge), ("r2_score", metrics.R2Score), ("f1_score", metrics.F1Score),
    ("f_beta_score", metrics.FBetaScore), ("pearson_correlation", metrics.PearsonCorrelation),
    ("concordance_correlation", metrics.ConcordanceCorrelation),
    ("binary_io_u", metrics.BinaryIoU), ("CategoricalHinge", metrics.CategoricalHinge)])
def test_get_resolves_the_new_names(name, cls):
    assert type(metrics.get(name)) is cls


@pytest.mark.parametrize("metric", [
    metrics.R2Score(class_aggregation=None, num_regressors=2),
    metrics.FBetaScore(average="weighted", beta=0.5, threshold=0.3),
    metrics.F1Score(average="micro"), metrics.SensitivityAtSpecificity(0.4, class_id=1),
    metrics.RecallAtPrecision(0.9, num_thresholds=50), metrics.IoU(4, [1, 3], ignore_class=0),
    metrics.BinaryIoU([1], 0.3), metrics.MeanIoU(3), metrics.OneHotIoU(3, [2]),
    metrics.OneHotMeanIoU(5, sparse_y_pred=True), metrics.PearsonCorrelation(axis=0)],
    ids=lambda m: type(m).__name__)
def test_configs_round_trip(metric):
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric)
    assert clone.get_config() == metric.get_config()


@pytest.mark.parametrize("cls, kwargs, message", [
    (metrics.R2Score, {"class_aggregation": "mean"}, "class_aggregation"),
    (metrics.R2Score, {"num_regressors": -2}, "num_regressors"),
    (metrics.FBetaScore, {"average": "median"}, "average"),
    (metrics.FBetaScore, {"beta": 2}, "Python float"),
    (metrics.FBetaScore, {"beta": 0.0}, "> 0"),
    (metrics.F1Score, {"threshold": 0.0}, "0 < threshold <= 1"),
    (metrics.SpecificityAtSensitivity, {"sensitivity": 1.2}, "`sensitivity` must be in"),
    (metrics.PrecisionAtRecall, {"recall": 0.5, "num_thresholds": -1}, "num_thresholds"),
    (metrics.IoU, {"num_classes": 3, "target_class_ids": [3]}, "out of range"),
])
def test_bad_arguments(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_r2_and_f_scores_need_2d_inputs():
    for metric in (metrics.R2Score(), metrics.F1Score()):
        with pytest.raises(ValueError, match="expects 2D inputs"):
            metric.update_state(np.zeros(4), np.zeros(4))
