"""Metrics (``keras.metrics``): stateful objects that summarise predictions over many batches.

``update_state(y_true, y_pred, sample_weight=None)`` adds a batch, ``result()`` gives the value so
far, ``reset_state()`` starts again. ``get("mse")`` turns a string into a metric, the way
``keras.metrics.get`` does: class names and their snake_case forms, plus the aliases
``bce/BCE mse/MSE mae/MAE mape/MAPE msle/MSLE``. ``"acc"`` is not among them (``compile`` resolves
``"accuracy"``/``"acc"`` itself, from the shapes of the data).
"""

import inspect

import numpy as np

from minikeras import backend
from minikeras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from minikeras.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from minikeras.metrics.metric import Metric
from minikeras.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from minikeras.metrics.reduction_metrics import (
    Mean,
    MeanMetricWrapper,
    Sum,
    deserialize_function,
    serialize_function,
)
from minikeras.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

ALL_OBJECTS = {
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
}
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({backend.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

# The per-sample functions, by name (what MeanMetricWrapper's config refers to).
FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, log_cosh, cosine_similarity,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson,
)}


def serialize(metric):
    """``{"module": "keras.metrics", "class_name": ..., "config": get_config(),
    "registered_name": None}`` for a metric (arrays in the config become Keras's ``__tensor__``
    records); a function gets Keras's function record."""
    if inspect.isfunction(metric):
        return serialize_function(metric)
    config = {key: _serialize_value(value) for key, value in metric.get_config().items()}
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": config,
            "registered_name": None}


def _serialize_value(value):
    if isinstance(value, np.ndarray):
        return {"class_name": "__tensor__",
                "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    return value


def _deserialize_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__tensor__":
        return np.array(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


def deserialize(config, custom_objects=None):
    """A metric from ``serialize``'s dict or from a name (``"mse"`` -> ``MeanSquaredError()``)."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(config, str):
        return _instantiate(config, objects.get(config))
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret metric config: {config!r}")
    if config["class_name"] == "function":
        return deserialize_function(config)
    cls = objects.get(config["class_name"])
    if cls is None:
        _unknown(config["class_name"])
    inner = {key: _deserialize_value(value) for key, value in (config.get("config") or {}).items()}
    return cls.from_config(inner)


def get(identifier):
    """A metric from None, a name, a config dict, a class, a function or a metric instance."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _instantiate(identifier, ALL_OBJECTS_DICT.get(identifier))
    if callable(identifier):
        return identifier() if inspect.isclass(identifier) else identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


def _instantiate(name, cls):
    if cls is None:
        _unknown(name)
    return cls()


def _unknown(name):
    raise ValueError(f"Could not interpret metric identifier: {name}. "
                     f"Valid names: {sorted(ALL_OBJECTS_DICT)}")
