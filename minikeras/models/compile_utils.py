"""What ``compile()`` turns its arguments into: one loss object, a list of metric objects.

``'accuracy'`` and ``'crossentropy'`` are resolved from the shapes of the first batch, as Keras
does: a last dimension of 1 means binary, integer labels (lower rank, or last dim 1 against many
classes) mean sparse categorical, anything else categorical.
"""

from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras import ops


def is_binary_or_sparse_categorical(y_true, y_pred):
    is_binary = y_pred.shape[-1] == 1
    is_sparse = len(y_true.shape) < len(y_pred.shape) or (
        y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
    return is_binary, is_sparse


def get_loss(identifier, y_true, y_pred):
    """A ``Loss`` object for ``compile(loss=identifier)``."""
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        identifier = ("binary_crossentropy" if is_binary else
                      "sparse_categorical_crossentropy" if is_sparse else
                      "categorical_crossentropy")
    loss = losses_module.get(identifier)
    if not isinstance(loss, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", "loss")
        loss = losses_module.LossFunctionWrapper(loss, name=name)
    return loss


def get_metric(identifier, y_true, y_pred):
    """A ``Metric`` object for one entry of ``compile(metrics=[...])``, named as Keras names it."""
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        cls = (metrics_module.BinaryAccuracy if is_binary else
               metrics_module.SparseCategoricalAccuracy if is_sparse else
               metrics_module.CategoricalAccuracy)
        return cls(name=str(identifier))
    metric = metrics_module.get(identifier)
    name = identifier if isinstance(identifier, str) else getattr(
        metric, "name", getattr(metric, "__name__", "metric"))
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric, name=name)
    metric.name = name
    return metric


class CompileLoss:
    """The compiled loss ``loss_weight * loss(y, y_pred, sample_weight)``."""

    def __init__(self, loss, loss_weights=None):
        self.identifier = loss
        self.loss_weights = loss_weights
        self.loss = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.loss is None:
            self.loss = get_loss(self.identifier, y_true, y_pred)
        value = self.loss(y_true, y_pred, sample_weight)
        if self.loss_weights is not None and not isinstance(self.loss_weights, list | dict):
            value = ops.multiply(value, float(self.loss_weights))
        return value


class CompileMetrics:
    """``metrics`` (unweighted) and ``weighted_metrics`` (use sample weights), built on the first
    batch. A metric in both lists logs its weighted twin as ``weighted_<name>``."""

    name = "compile_metrics"

    def __init__(self, metrics=None, weighted_metrics=None):
        self.identifiers = list(metrics or [])
        self.weighted_identifiers = list(weighted_metrics or [])
        self._unweighted = None
        self._weighted = None

    def build(self, y_true, y_pred):
        self._unweighted = [get_metric(m, y_true, y_pred) for m in self.identifiers]
        names = {m.name for m in self._unweighted}
        self._weighted = []
        for identifier in self.weighted_identifiers:
            metric = get_metric(identifier, y_true, y_pred)
            if metric.name in names:
                metric.name = f"weighted_{metric.name}"
            self._weighted.append(metric)

    @property
    def metrics(self):
        """Every metric object, unweighted first (empty until the first batch builds them)."""
        return (self._unweighted or []) + (self._weighted or [])

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._unweighted is None:
            self.build(y_true, y_pred)
        for metric in self._unweighted:
            metric.update_state(y_true, y_pred)
        for metric in self._weighted:
            metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self):
        return {metric.name: metric.result() for metric in self.metrics}
