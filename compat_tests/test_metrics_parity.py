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


def test_get_resolves_strings_like_keras():
    ours = {key: cls.__name__ for key, cls in mk_metrics.ALL_OBJECTS_DICT.items()}
    assert ours == _keras_names()
    for identifier in sorted(set(_keras_names()) - {"mean_metric_wrapper", "MeanMetricWrapper"}):
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
