"""Parity of minikeras.metrics with keras.metrics: the same batches, the same results.

Every metric gets three random batches (plus edge values such as predictions of exactly 0.5, 0 and
1), without weights and with ``(N,)`` and ``(N, 1)`` sample weights; ``result()`` is compared after
every update and after ``reset_state``. Configs, variables, string resolution (``get``) and the
per-sample functions are compared too.
"""

import keras
import numpy as np
import pytest

import minikeras
from minikeras import metrics as mk_metrics

RTOL, ATOL = 1e-5, 1e-6
N, C = 16, 5


# --- data -----------------------------------------------------------------------------------------
def _probs(rng, shape):
    """Uniform probabilities with a few exact edge values (0, 0.5, 1) mixed in."""
    p = rng.uniform(size=shape).astype("float32")
    flat = p.reshape(-1)
    flat[:3] = [0.0, 0.5, 1.0]
    return p


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _batch(kind, rng):
    """One ``(y_true, y_pred)`` batch of the given kind, float32."""
    if kind == "binary":  # (N, 1) labels and predictions
        return rng.integers(0, 2, (N, 1)).astype("float32"), _probs(rng, (N, 1))
    if kind == "binary_flat":  # (N,) labels against (N, 1) predictions
        return rng.integers(0, 2, (N,)).astype("float32"), _probs(rng, (N, 1))
    if kind == "multilabel":  # (N, 3) 0/1 labels
        return rng.integers(0, 2, (N, 3)).astype("float32"), _probs(rng, (N, 3))
    if kind == "categorical":
        y = np.eye(C, dtype="float32")[rng.integers(0, C, N)]
        return y, _softmax(rng.normal(size=(N, C)) * 2)
    if kind == "categorical_ties":  # rounded scores: ties at the top-k boundary
        y = np.eye(C, dtype="float32")[rng.integers(0, C, N)]
        return y, np.round(rng.uniform(size=(N, C)), 1).astype("float32")
    if kind == "sparse":
        return rng.integers(0, C, (N,)).astype("float32"), _softmax(rng.normal(size=(N, C)) * 2)
    if kind == "sparse_col":
        return rng.integers(0, C, (N, 1)).astype("float32"), _softmax(rng.normal(size=(N, C)))
    if kind == "sparse_ties":
        return (rng.integers(0, C, (N,)).astype("float32"),
                np.round(rng.uniform(size=(N, C)), 1).astype("float32"))
    if kind == "regression":
        return (rng.normal(size=(N, 3)).astype("float32"),
                rng.normal(size=(N, 3)).astype("float32"))
    if kind == "regression_flat":  # (N,) against (N, 1)
        return rng.normal(size=(N,)).astype("float32"), rng.normal(size=(N, 1)).astype("float32")
    if kind == "positive":
        return (rng.uniform(0, 3, (N, 3)).astype("float32"),
                rng.uniform(0, 3, (N, 3)).astype("float32"))
    if kind == "distribution":
        return _softmax(rng.normal(size=(N, C))), _softmax(rng.normal(size=(N, C)))
    if kind == "logits":  # binary labels, unbounded scores
        return (rng.integers(0, 2, (N, 3)).astype("float32"),
                (rng.normal(size=(N, 3)) * 4).astype("float32"))
    if kind == "class_ids":  # integer class ids; a few predictions outside [0, C) are dropped
        return (rng.integers(0, C, (N,)).astype("float32"),
                rng.integers(-1, C + 1, (N,)).astype("float32"))
    if kind == "accuracy":  # exact matches of small integers
        return (rng.integers(0, 3, (N, 1)).astype("float32"),
                rng.integers(0, 3, (N, 1)).astype("float32"))
    raise ValueError(kind)


# (class name, constructor kwargs, batch kind), grouped by family. Each family is one test: the
# conftest's ``keras.backend.clear_session()`` costs about a second per test.
FAMILIES = {
    "accuracy": [
        ("Accuracy", {}, "accuracy"),
        ("BinaryAccuracy", {}, "binary"),
        ("BinaryAccuracy", {}, "binary_flat"),
        ("BinaryAccuracy", {"threshold": 0.3}, "multilabel"),
        ("CategoricalAccuracy", {}, "categorical"),
        ("CategoricalAccuracy", {}, "categorical_ties"),
        ("SparseCategoricalAccuracy", {}, "sparse"),
        ("SparseCategoricalAccuracy", {}, "sparse_col"),
        ("TopKCategoricalAccuracy", {}, "categorical"),
        ("TopKCategoricalAccuracy", {"k": 2}, "categorical_ties"),
        ("SparseTopKCategoricalAccuracy", {}, "sparse"),
        ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse_ties"),
        ("SparseTopKCategoricalAccuracy", {"k": 1}, "sparse_col"),
    ],
    "confusion": [
        ("TruePositives", {}, "binary"),
        ("FalsePositives", {"thresholds": [0.2, 0.5, 0.8]}, "multilabel"),
        ("TrueNegatives", {"thresholds": 0.3}, "binary_flat"),
        ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "multilabel"),
        ("Precision", {}, "binary"),
        ("Precision", {"thresholds": [0.0, 0.3, 0.5, 0.9]}, "multilabel"),
        ("Precision", {"top_k": 2}, "multilabel"),
        ("Precision", {"class_id": 1}, "multilabel"),
        ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary_flat"),
        ("Recall", {}, "binary_flat"),
        ("Recall", {"thresholds": [0.1, 0.5]}, "multilabel"),
        ("Recall", {"top_k": 1, "class_id": 2}, "multilabel"),
    ],
    "auc": [
        ("AUC", {}, "binary"),
        ("AUC", {}, "binary_flat"),
        ("AUC", {"curve": "PR"}, "binary"),
        ("AUC", {"curve": "PR"}, "multilabel"),
        ("AUC", {"num_thresholds": 7}, "multilabel"),
        ("AUC", {"thresholds": [0.1, 0.35, 0.5, 0.9]}, "binary"),
        ("AUC", {"summation_method": "minoring"}, "binary"),
        ("AUC", {"summation_method": "majoring", "curve": "PR"}, "binary"),
        ("AUC", {"curve": "PRGAIN"}, "binary"),
        ("AUC", {"multi_label": True}, "multilabel"),
        ("AUC", {"multi_label": True, "num_labels": 3, "label_weights": [1.0, 2.0, 0.5],
                 "curve": "PR"}, "multilabel"),
        ("AUC", {"label_weights": [1.0, 2.0, 0.5]}, "multilabel"),
        ("AUC", {"from_logits": True}, "logits"),
    ],
    "regression": [
        ("MeanSquaredError", {}, "regression"),
        ("MeanSquaredError", {}, "regression_flat"),
        ("MeanAbsoluteError", {}, "regression"),
        ("RootMeanSquaredError", {}, "regression"),
        ("RootMeanSquaredError", {}, "regression_flat"),
        ("MeanAbsolutePercentageError", {}, "regression"),
        ("MeanSquaredLogarithmicError", {}, "regression"),
        ("CosineSimilarity", {}, "regression"),
        ("LogCoshError", {}, "regression"),
    ],
    "probabilistic": [
        ("BinaryCrossentropy", {}, "binary"),
        ("BinaryCrossentropy", {"label_smoothing": 0.2}, "multilabel"),
        ("BinaryCrossentropy", {"from_logits": True}, "logits"),
        ("CategoricalCrossentropy", {}, "categorical"),
        ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical_ties"),
        ("CategoricalCrossentropy", {"from_logits": True}, "regression"),
        ("SparseCategoricalCrossentropy", {}, "sparse"),
        ("SparseCategoricalCrossentropy", {}, "sparse_col"),
        ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
        ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
        ("KLDivergence", {}, "distribution"),
        ("Poisson", {}, "positive"),
    ],
    "hinge": [
        ("Hinge", {}, "logits"),  # 0/1 labels become -1/1
        ("Hinge", {}, "regression"),  # other labels are used as they are
        ("SquaredHinge", {}, "logits"),
        ("SquaredHinge", {}, "regression"),
        ("CategoricalHinge", {}, "categorical"),
    ],
    "correlation": [
        ("PearsonCorrelation", {}, "regression"),
        ("PearsonCorrelation", {}, "positive"),
        ("ConcordanceCorrelation", {}, "regression"),
        ("ConcordanceCorrelation", {}, "positive"),
    ],
    "r2": [
        ("R2Score", {}, "regression"),
        ("R2Score", {}, "regression_flat"),
        ("R2Score", {"class_aggregation": None}, "regression"),
        ("R2Score", {"class_aggregation": "variance_weighted_average"}, "positive"),
        ("R2Score", {"num_regressors": 2}, "regression"),
    ],
    "f_score": [  # Keras takes (N,) sample weights only: see test_f_score_weights_of_shape_n_1
        ("F1Score", {}, "categorical"),
        ("F1Score", {"average": "micro"}, "categorical_ties"),
        ("F1Score", {"average": "macro", "threshold": 0.5}, "multilabel"),
        ("FBetaScore", {"beta": 2.0}, "categorical"),
        ("FBetaScore", {"average": "weighted", "beta": 0.5, "threshold": 0.3}, "multilabel"),
    ],
    "at_rate": [
        ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary"),
        ("SensitivityAtSpecificity", {"specificity": 0.8, "num_thresholds": 1}, "binary_flat"),
        ("SpecificityAtSensitivity", {"sensitivity": 0.6}, "multilabel"),
        ("SpecificityAtSensitivity", {"sensitivity": 0.3, "class_id": 1}, "multilabel"),
        ("PrecisionAtRecall", {"recall": 0.7}, "binary"),
        ("PrecisionAtRecall", {"recall": 0.4, "num_thresholds": 7}, "multilabel"),
        ("RecallAtPrecision", {"precision": 0.5}, "binary_flat"),
        ("RecallAtPrecision", {"precision": 0.8, "num_thresholds": 10}, "multilabel"),
    ],
    "iou": [  # float32 state, so that fractional sample weights count (the int64 default
        # truncates them: see test_iou_truncates_weights_like_keras)
        ("IoU", {"num_classes": C, "target_class_ids": [0, 2, 4], "dtype": "float32"},
         "class_ids"),
        ("IoU", {"num_classes": C, "target_class_ids": [1], "ignore_class": 3,
                 "dtype": "float32"}, "class_ids"),
        ("MeanIoU", {"num_classes": C, "dtype": "float32"}, "class_ids"),
        ("MeanIoU", {"num_classes": C, "sparse_y_pred": False, "dtype": "float32"}, "sparse"),
        ("BinaryIoU", {"dtype": "float32"}, "binary"),
        ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3, "dtype": "float32"},
         "binary_flat"),
        ("OneHotIoU", {"num_classes": C, "target_class_ids": [0, 3], "dtype": "float32"},
         "categorical"),
        ("OneHotMeanIoU", {"num_classes": C, "dtype": "float32"}, "categorical_ties"),
        ("OneHotMeanIoU", {"num_classes": C, "ignore_class": 0, "dtype": "float32"},
         "categorical"),
    ],
}
CASES = [case for cases in FAMILIES.values() for case in cases]


def _case_id(case):
    name, kwargs, kind = case
    args = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({args})-{kind}"


def _weights(kind, rng, y_true):
    if kind is None:
        return None
    w = rng.uniform(0, 2, (len(y_true),)).astype("float32")
    w[0] = 0.0  # a zero weight must remove the sample
    return w if kind == "flat" else w[:, None]


def _assert_close(mk_value, keras_value, context, atol=ATOL):
    np.testing.assert_allclose(np.asarray(mk_value), np.asarray(keras_value), rtol=RTOL, atol=atol,
                               err_msg=context)


def _check_case(case, weights, rng):
    name, kwargs, kind = case
    context = f"{_case_id(case)}, sample_weight={weights}"
    k_metric = getattr(keras.metrics, name)(**kwargs)
    m_metric = getattr(mk_metrics, name)(**kwargs)
    for step in range(3):
        y_true, y_pred = _batch(kind, rng)
        sw = _weights(weights, rng, y_true)
        k_metric.update_state(y_true, y_pred, sample_weight=sw)
        m_metric.update_state(y_true, y_pred, sample_weight=sw)
        # Counts (TP, FN, ...) are float32 sums; TN/FN are (total - TP/FP), so a count that should
        # be 0 can be left at a rounding residue of the total. Compare on the scale of the values.
        scale = max(1.0, float(np.max(np.abs(k_metric.result()))))
        _assert_close(m_metric.result(), k_metric.result(), f"{context}: after update {step}",
                      atol=ATOL * scale)
    for k_var, m_var in zip(k_metric.variables, m_metric.variables, strict=True):
        assert (m_var.name, m_var.path, m_var.shape, m_var.dtype) == (
            k_var.name, k_var.path, tuple(k_var.shape), k_var.dtype), context
        scale = max(1.0, float(np.max(np.abs(k_var.numpy()))))
        _assert_close(m_var.numpy(), k_var.numpy(), f"{context}: {k_var.path}", atol=ATOL * scale)
    k_metric.reset_state()
    m_metric.reset_state()
    _assert_close(m_metric.result(), k_metric.result(), f"{context}: after reset_state")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_results_match_keras_over_several_updates(family, rng):
    """Every case, unweighted and with (N,) and (N, 1) sample weights."""
    for case in FAMILIES[family]:
        # Keras's multi_label AUC is slow (about 1.5 s per instance), so one weighted run only.
        modes = ("column",) if case[1].get("multi_label") else (None, "flat", "column")
        if case[0] in ("F1Score", "FBetaScore"):
            modes = (None, "flat")
        for weights in modes:
            _check_case(case, weights, rng)


def test_cosine_similarity_over_the_batch_axis(rng):
    """``axis=0`` gives one value per feature: fine unweighted, and per-sample weights cannot
    broadcast against it, in both libraries."""
    _check_case(("CosineSimilarity", {"axis": 0}, "regression"), None, rng)
    y_true, y_pred = _batch("regression", rng)
    sw = np.ones(len(y_true), "float32")
    with pytest.raises(Exception, match="[Ii]ncompatible shapes"):
        keras.metrics.CosineSimilarity(axis=0).update_state(y_true, y_pred, sample_weight=sw)
    with pytest.raises(ValueError, match="sample_weight"):
        mk_metrics.CosineSimilarity(axis=0).update_state(y_true, y_pred, sample_weight=sw)


def test_f_score_weights_of_shape_n_1():
    """FBetaScore expands ``(N,)`` weights to ``(N, 1)`` itself, so ``(N, 1)`` weights broadcast
    to ``(N, N, C)`` and the counters cannot take them, in both libraries."""
    y_true, y_pred = _batch("categorical", np.random.default_rng(0))
    sw = np.ones((N, 1), "float32")
    with pytest.raises(ValueError, match="shape"):
        keras.metrics.F1Score().update_state(y_true, y_pred, sample_weight=sw)
    with pytest.raises(ValueError, match="shape"):
        mk_metrics.F1Score().update_state(y_true, y_pred, sample_weight=sw)


def test_iou_truncates_weights_like_keras(rng):
    """The default state is int64: float weights are truncated (and warned about), labels too."""
    y_true, y_pred = _batch("class_ids", rng)
    sw = rng.uniform(0, 3, (N,)).astype("float32")
    k_metric, m_metric = keras.metrics.MeanIoU(C), mk_metrics.MeanIoU(C)
    with pytest.warns(UserWarning, match="weight as `float`"):
        k_metric.update_state(y_true + 0.5, y_pred, sample_weight=sw)
    with pytest.warns(UserWarning, match="weight as `float`"):
        m_metric.update_state(y_true + 0.5, y_pred, sample_weight=sw)
    np.testing.assert_array_equal(m_metric.total_cm.numpy(), k_metric.total_cm.numpy())
    assert m_metric.total_cm.dtype == k_metric.total_cm.dtype == "int64"
    _assert_close(m_metric.result(), k_metric.result(), "MeanIoU int64")


def test_state_built_on_first_update_and_nan_before_data(rng):
    """R2Score and F1Score create their per-column state on the first update; R2Score's result
    after reset_state is NaN (0/0), in both libraries."""
    for name in ("R2Score", "F1Score"):
        k_metric, m_metric = getattr(keras.metrics, name)(), getattr(mk_metrics, name)()
        assert len(m_metric.variables) == len(k_metric.variables), name
    for lib in (keras, minikeras):
        metric = lib.metrics.R2Score()
        metric.update_state(*_batch("regression", rng))
        metric.reset_state()
        assert np.isnan(np.asarray(metric.result()))


def test_bad_arguments_raise_like_keras():
    cases = [
        ("R2Score", {"class_aggregation": "median"}),
        ("R2Score", {"num_regressors": -1}),
        ("FBetaScore", {"average": "mean"}),
        ("FBetaScore", {"beta": 1}),
        ("FBetaScore", {"beta": -1.0}),
        ("FBetaScore", {"threshold": 1}),
        ("FBetaScore", {"threshold": 1.5}),
        ("SensitivityAtSpecificity", {"specificity": 1.5}),
        ("SpecificityAtSensitivity", {"sensitivity": -0.1}),
        ("PrecisionAtRecall", {"recall": 2}),
        ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 0}),
        ("IoU", {"num_classes": 2, "target_class_ids": [0, 2]}),
    ]
    for name, kwargs in cases:
        with pytest.raises(ValueError) as k_error:
            getattr(keras.metrics, name)(**kwargs)
        with pytest.raises(ValueError) as m_error:
            getattr(mk_metrics, name)(**kwargs)
        assert str(m_error.value) == str(k_error.value), name
    for name in ("R2Score", "F1Score"):
        y = np.zeros((4, 2, 3), "float32")
        with pytest.raises(ValueError) as k_error:
            getattr(keras.metrics, name)().update_state(y, y)
        with pytest.raises(ValueError) as m_error:
            getattr(mk_metrics, name)().update_state(y, y)
        assert str(m_error.value) == str(k_error.value), name


def _plain(value):
    """Config values as plain Python (Keras keeps tensors and NumPy scalars in some configs)."""
    if hasattr(value, "numpy") or isinstance(value, np.ndarray | np.generic):
        return np.asarray(value).tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _plain_config(config):
    return {key: _plain(value) for key, value in config.items()}


def test_configs_match_keras_and_round_trip():
    for case in CASES:
        name, kwargs, _ = case
        k_config = getattr(keras.metrics, name)(**kwargs).get_config()
        m_metric = getattr(mk_metrics, name)(**kwargs)
        m_config = m_metric.get_config()
        assert _plain_config(m_config) == _plain_config(k_config), _case_id(case)
        clone = type(m_metric).from_config(m_config)
        assert _plain_config(clone.get_config()) == _plain_config(m_config), _case_id(case)


def test_reduction_metrics_match_keras(rng):
    """Mean and Sum of (N, 3, 2) values: no weight, (N,), (N, 1), scalar and (N, 3) weights."""
    for name in ("Mean", "Sum"):
        for weights in (None, "flat", "column", "scalar", "full"):
            k_metric, m_metric = getattr(keras.metrics, name)(), getattr(mk_metrics, name)()
            for step in range(3):
                values = rng.normal(size=(N, 3, 2)).astype("float32")
                sw = {None: None, "flat": rng.uniform(size=(N,)),
                      "column": rng.uniform(size=(N, 1)), "scalar": 2.5,
                      "full": rng.uniform(size=(N, 3))}[weights]
                k_metric.update_state(values, sample_weight=sw)
                m_metric.update_state(values, sample_weight=sw)
                _assert_close(m_metric.result(), k_metric.result(),
                              f"{name}, sample_weight={weights}, update {step}")
            assert m_metric.get_config() == k_metric.get_config()


def test_mean_metric_wrapper_matches_keras(rng):
    k_metric = keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy, threshold=0.7)
    m_metric = mk_metrics.MeanMetricWrapper(mk_metrics.binary_accuracy, threshold=0.7)
    y_true, y_pred = _batch("multilabel", rng)
    k_metric.update_state(y_true, y_pred)
    m_metric.update_state(y_true, y_pred)
    _assert_close(m_metric.result(), k_metric.result(), "MeanMetricWrapper")
    assert m_metric.get_config() == k_metric.get_config()
    assert mk_metrics.serialize(m_metric) == keras.metrics.serialize(k_metric)


FUNCTIONS = [
    ("binary_accuracy", "binary_flat", {}),
    ("binary_accuracy", "multilabel", {"threshold": 0.2}),
    ("categorical_accuracy", "categorical_ties", {}),
    ("sparse_categorical_accuracy", "sparse_col", {}),
    ("top_k_categorical_accuracy", "categorical_ties", {"k": 2}),
    ("sparse_top_k_categorical_accuracy", "sparse_ties", {"k": 3}),
    ("mean_squared_error", "regression_flat", {}),
    ("mean_absolute_error", "regression", {}),
    ("mean_absolute_percentage_error", "regression", {}),
    ("mean_squared_logarithmic_error", "positive", {}),
    ("log_cosh", "regression", {}),
    ("binary_crossentropy", "multilabel", {}),
    ("binary_crossentropy", "logits", {"from_logits": True, "label_smoothing": 0.1}),
    ("categorical_crossentropy", "categorical", {}),
    ("categorical_crossentropy", "regression", {"from_logits": True}),
    ("sparse_categorical_crossentropy", "sparse", {}),
    ("sparse_categorical_crossentropy", "sparse_col", {"from_logits": True}),
    ("kl_divergence", "distribution", {}),
    ("poisson", "positive", {}),
    ("pearson_correlation", "regression", {}),
    ("pearson_correlation", "positive", {"axis": 0}),
    ("concordance_correlation", "regression", {}),
    ("hinge", "logits", {}),
    ("squared_hinge", "regression", {}),
    ("categorical_hinge", "categorical", {}),
    ("huber", "regression", {"delta": 0.5}),
    ("binary_focal_crossentropy", "multilabel", {"gamma": 1.5}),
    ("categorical_focal_crossentropy", "categorical", {}),
]


def test_per_sample_functions_match_keras(rng):
    for fn_name, kind, kwargs in FUNCTIONS:
        y_true, y_pred = _batch(kind, rng)
        expected = np.asarray(getattr(keras.metrics, fn_name)(y_true, y_pred, **kwargs))
        actual = getattr(mk_metrics, fn_name)(y_true, y_pred, **kwargs)
        assert actual.shape == expected.shape, fn_name
        _assert_close(actual, expected, f"{fn_name}({kind}, {kwargs})")


def test_crossentropy_extremes_and_logits_hook_match_keras(rng):
    """Saturated probabilities hit the clip bounds: 15.942385 for (p=1, y=0), 16.118095 for
    (p=0, y=1) (keras-facts 1.2). Behind a sigmoid/softmax output Keras uses the logits; minikeras
    reads them from ``_keras_logits``."""
    y_true = np.array([[0.0], [1.0], [1.0], [0.0]], "float32")
    y_pred = np.array([[1.0], [0.0], [1.0], [0.0]], "float32")
    k_metric, m_metric = keras.metrics.BinaryCrossentropy(), mk_metrics.BinaryCrossentropy()
    _assert_close(m_metric(y_true, y_pred), k_metric(y_true, y_pred), "BCE at the clip bounds")
    for name, activation, kind in [("BinaryCrossentropy", "sigmoid", "logits"),
                                   ("CategoricalCrossentropy", "softmax", "categorical"),
                                   ("SparseCategoricalCrossentropy", "softmax", "sparse")]:
        y_true, _ = _batch(kind, rng)
        logits = (rng.normal(size=(N, 3 if kind == "logits" else C)) * 30).astype("float32")
        k_pred = getattr(keras.activations, activation)(keras.ops.convert_to_tensor(logits))
        m_pred = minikeras.Tensor(np.asarray(k_pred))
        m_pred._keras_logits = minikeras.Tensor(logits)
        k_value = getattr(keras.metrics, name)()(y_true, k_pred)
        _assert_close(getattr(mk_metrics, name)()(y_true, m_pred), k_value, f"{name} + hook")
        # Without the hook, the clipped-probability path gives a different value.
        plain = getattr(mk_metrics, name)()(y_true, np.asarray(k_pred))
        assert not np.isclose(plain, k_value), name


def _keras_names():
    from keras.src.metrics import ALL_OBJECTS_DICT

    ours = {cls.__name__ for cls in mk_metrics.ALL_OBJECTS}
    return {key: cls.__name__ for key, cls in ALL_OBJECTS_DICT.items() if cls.__name__ in ours}


# Names that resolve to a class whose constructor has required arguments: get() raises TypeError.
NEED_ARGUMENTS = {
    "IoU", "io_u", "MeanIoU", "mean_io_u", "OneHotIoU", "one_hot_io_u", "OneHotMeanIoU",
    "one_hot_mean_io_u", "SensitivityAtSpecificity", "sensitivity_at_specificity",
    "SpecificityAtSensitivity", "specificity_at_sensitivity", "PrecisionAtRecall",
    "precision_at_recall", "RecallAtPrecision", "recall_at_precision",
}


def test_get_resolves_strings_like_keras():
    from keras.src.metrics import ALL_OBJECTS_DICT

    ours = {key: cls.__name__ for key, cls in mk_metrics.ALL_OBJECTS_DICT.items()}
    assert ours == _keras_names()
    assert set(ours) == set(ALL_OBJECTS_DICT)  # every name Keras resolves ("r2_score", ...)
    for identifier in sorted(set(_keras_names()) - {"mean_metric_wrapper", "MeanMetricWrapper"}):
        if identifier in NEED_ARGUMENTS:
            for module in (keras.metrics, mk_metrics):
                with pytest.raises(TypeError, match="missing"):
                    module.get(identifier)
            continue
        k_metric, m_metric = keras.metrics.get(identifier), mk_metrics.get(identifier)
        assert type(m_metric).__name__ == type(k_metric).__name__, identifier
        assert m_metric.name == k_metric.name, identifier
        assert _plain_config(m_metric.get_config()) == _plain_config(k_metric.get_config())


def test_get_rejects_what_keras_rejects():
    for identifier in ["acc", "crossentropy", "logcosh", "kld", "nonsense"]:
        with pytest.raises(ValueError):
            keras.metrics.get(identifier)
        with pytest.raises(ValueError, match="Valid names"):
            mk_metrics.get(identifier)
    for module in (keras.metrics, mk_metrics):  # a wrapper needs its `fn`
        with pytest.raises(TypeError):
            module.get("mean_metric_wrapper")


def test_serialize_matches_keras():
    for case in CASES:
        name, kwargs, _ = case
        k_config = keras.metrics.serialize(getattr(keras.metrics, name)(**kwargs))
        m_metric = getattr(mk_metrics, name)(**kwargs)
        m_config = mk_metrics.serialize(m_metric)
        k_config["config"] = _plain_config(k_config["config"])
        assert m_config == k_config, _case_id(case)
        restored = mk_metrics.deserialize(m_config)
        assert type(restored) is type(m_metric)
        assert _plain_config(restored.get_config()) == _plain_config(m_metric.get_config())


# --- compile(metrics=[...]) + fit: each new family through the training loop ------------------
FIT_FAMILIES = {  # output kind: (units, activation, loss, metrics for both libraries)
    "hinge_and_regression": (3, "tanh", "mse", lambda lib: [
        "hinge", "squared_hinge", "categorical_hinge", "r2_score", "pearson_correlation",
        "concordance_correlation",
        lib.metrics.R2Score(class_aggregation="variance_weighted_average", name="r2_vw")]),
    "f_score_and_iou": (3, "softmax", "categorical_crossentropy", lambda lib: [
        lib.metrics.F1Score(average="macro"),
        lib.metrics.FBetaScore(average="weighted", beta=2.0, threshold=0.4),
        lib.metrics.OneHotMeanIoU(3), lib.metrics.OneHotIoU(3, [0, 2], name="iou_02")]),
    "at_rate_and_binary_iou": (1, "sigmoid", "binary_crossentropy", lambda lib: [
        lib.metrics.SensitivityAtSpecificity(0.5), lib.metrics.SpecificityAtSensitivity(0.5),
        lib.metrics.PrecisionAtRecall(0.5), lib.metrics.RecallAtPrecision(0.6),
        lib.metrics.BinaryIoU(), lib.metrics.F1Score(average="micro", threshold=0.5)]),
}


@pytest.mark.parametrize("family", sorted(FIT_FAMILIES))
def test_new_metrics_in_fit_match_keras_history(family):
    """Two epochs of SGD on the same data and weights, with validation data: every History
    entry (metrics and val_ metrics) equals Keras's."""
    units, activation, loss, metrics = FIT_FAMILIES[family]
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 4)).astype("float32")
    labels = rng.integers(0, units if units > 1 else 2, 40)
    y = (np.eye(units, dtype="float32")[labels] if units > 1
         else labels[:, None].astype("float32"))
    models = []
    for lib in (keras, minikeras):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(units, activation=activation)])
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss=loss, metrics=metrics(lib))
        models.append(model)
    k_model, m_model = models
    m_model.set_weights(k_model.get_weights())
    fit = dict(batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(x[:12], y[:12]))
    k_history, m_history = k_model.fit(x, y, **fit), m_model.fit(x, y, **fit)
    assert list(m_history.history) == list(k_history.history)
    for key, values in k_history.history.items():
        np.testing.assert_allclose(m_history.history[key], values, rtol=RTOL, atol=1e-5,
                                   err_msg=f"{family}: {key}")
