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


# --- models with several outputs ---------------------------------------------------------------
#
# A functional model ``keras.Model(inputs, [o1, o2])`` returns a list of outputs. ``compile``
# then takes one loss for all outputs, a list (one per output, None skips one) or a dict keyed
# by output name; the total loss is Σ loss_weight_i · loss_i. Each output with a loss gets a
# running mean of its *unweighted* loss, logged as ``<output>_loss``, and its metrics are logged
# as ``<output>_<metric>``. Everything is resolved into lists in output order on the first batch
# (as Keras does, so a mismatch is reported by ``fit``, not by ``compile``).
#
# ``keras.Model(inputs, {"b": o1, "a": o2})`` returns a dict: its outputs are named by the keys,
# and lists (of losses, metrics, targets) follow the *sorted* keys, Keras's flattening order.
# ``output_names`` below is then the sorted keys, and ``output_keys`` the keys as given (the
# order of the ``<output>_loss`` logs, unless a loss dict gives another).


def _structure(value):
    """``['*', '*']`` for a list of two arrays: how Keras prints a structure in its errors."""
    if isinstance(value, dict):
        return {key: _structure(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_structure(v) for v in value)
    return "*"


def flatten_targets(y, output_names, name="y_true"):
    """``y`` (or per-output sample weights) as a list in output order: from a list with one
    entry per output, or from a dict keyed by output name."""
    if isinstance(y, dict):
        if set(y) != set(output_names):
            raise ValueError(
                f"{name} and y_pred have different structures: {name} is a dict with keys "
                f"{list(y)}, but the model's outputs are {output_names}. Give one entry per "
                f"output, keyed by output name.")
        return [y[key] for key in output_names]
    if isinstance(y, list | tuple) and len(y) == len(output_names):
        return list(y)
    shown = _structure(tuple(y) if isinstance(y, list) else y)  # Keras's data are tuples
    raise ValueError(f"{name} and y_pred have different structures.\n"
                     f"{name}: {shown}\ny_pred: {['*'] * len(output_names)}\n")


def _aligned(y_true, y_pred, output_names):
    """Targets and predictions as two lists in ``output_names`` order."""
    if isinstance(y_pred, dict):
        y_pred = [y_pred[name] for name in output_names]
    return flatten_targets(y_true, output_names), y_pred


def _per_output_weights(sample_weight, output_names):
    """One sample-weight array (or None) per output: a single array applies to every output."""
    if sample_weight is None or not isinstance(sample_weight, list | tuple | dict):
        return [sample_weight] * len(output_names)
    return flatten_targets(sample_weight, output_names, "sample_weight")


def _losses_per_output(loss, output_names, dict_outputs=False):
    """``compile(loss=...)`` as one entry per output (None skips an output). For a model with a
    dict of outputs, a loss dict may leave outputs out (as Keras allows there)."""
    if isinstance(loss, dict) and dict_outputs:
        for key in loss:
            if key not in output_names:
                raise ValueError(
                    f"The path: ({key!r},) in the `loss` argument, can't be found in the "
                    f"model's output (`y_pred`), whose keys are {output_names}.")
        return [loss.get(name) for name in output_names]
    if isinstance(loss, dict):
        if set(loss) != set(output_names):
            raise ValueError(f"Expected keys {output_names} in loss dict, but found "
                             f"loss.keys()={list(loss)}")
        return [loss[name] for name in output_names]
    if isinstance(loss, list | tuple):
        if len(loss) != len(output_names):
            raise ValueError(
                f"`loss` must have one entry per output of the model {output_names} (None to "
                f"skip an output), but received {len(loss)}: loss={loss}")
        return list(loss)
    return [loss] * len(output_names)


def _loss_weights_per_output(loss_weights, loss, output_names, dict_outputs=False):
    """``loss_weights`` as one weight (or None) per output, paired with the losses as Keras
    3.15 pairs them: a dict is read by output name when ``loss`` or the model's outputs are a
    dict too, and otherwise *by position, in sorted key order* (Keras flattens the dict,
    whatever its keys); a single loss takes a single weight for every output."""
    n = len(output_names)
    if loss_weights is None:
        return [None] * n
    if isinstance(loss_weights, dict) and (isinstance(loss, dict) or dict_outputs):
        missing = [name for name in output_names if name not in loss_weights]
        if missing:
            raise ValueError(f"`loss_weights` has no weight for the output(s) {missing}: give "
                             f"one for each output {output_names}. Received: "
                             f"loss_weights={loss_weights}")
        return [loss_weights[name] for name in output_names]
    weights = ([loss_weights[key] for key in sorted(loss_weights)]
               if isinstance(loss_weights, dict) else
               list(loss_weights) if isinstance(loss_weights, list | tuple) else [loss_weights])
    num_losses = n if isinstance(loss, list | tuple | dict) else 1
    if len(weights) != num_losses:
        raise ValueError(f"`loss_weights` must match the number of losses, got {num_losses} "
                         f"losses and {len(weights)} weights.")
    return weights * (n // num_losses)


class MultiOutputCompileLoss:
    """The compiled loss of a model with several outputs: Σ loss_weight_i · loss_i, with a
    ``Mean`` tracker ``<output>_loss`` for each output's unweighted loss (when more than one
    output has a loss). As in Keras 3.15, whose ``fit``/``evaluate`` see batches of unknown
    size, a tracker counts each batch once: it logs the mean of the batch losses, not weighted
    by batch size (the total ``loss`` is weighted by batch size)."""

    def __init__(self, loss, loss_weights, output_names, output_keys=None):
        if loss_weights and not isinstance(loss_weights, list | tuple | dict | float):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a "
                "list, tuple, or dict (multiple output case). Received instead: "
                f"loss_weights={loss_weights} of type {type(loss_weights)}")
        self.identifier = loss
        self.loss_weights = loss_weights
        self.output_names = list(output_names)
        self.output_keys = output_keys  # a dict of outputs: its keys, in the model's order
        self.losses = None  # [(output index, Loss, weight or None)], built on the first batch
        self.metrics = []   # the <output>_loss trackers

    def build(self, y_true, y_pred):
        names, dict_outputs = self.output_names, self.output_keys is not None
        identifiers = _losses_per_output(self.identifier, names, dict_outputs)
        weights = _loss_weights_per_output(self.loss_weights, self.identifier, names,
                                           dict_outputs)
        order = range(len(names))  # the order of the losses and their logs
        if dict_outputs:
            keys = self.identifier if isinstance(self.identifier, dict) else self.output_keys
            order = [names.index(key) for key in keys]
        self.losses = [(i, get_loss(identifiers[i], y_true[i], y_pred[i]), weights[i])
                       for i in order if identifiers[i] is not None]
        if len(self.losses) > 1:
            self.metrics = [metrics_module.Mean(name=f"{self.output_names[i]}_loss")
                            for i, _, _ in self.losses]

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _aligned(y_true, y_pred, self.output_names)
        if self.losses is None:
            self.build(y_true, y_pred)
        sample_weights = _per_output_weights(sample_weight, self.output_names)
        total = None
        for k, (i, loss, weight) in enumerate(self.losses):
            value = loss(y_true[i], y_pred[i], sample_weights[i])
            if self.metrics:
                self.metrics[k].update_state(value)  # one count per batch, as Keras
            if weight is not None:
                value = ops.multiply(value, float(weight))
            total = value if total is None else ops.add(total, value)
        return total

    def result(self):
        return {metric.name: metric.result() for metric in self.metrics}


class MultiOutputCompileMetrics:
    """``metrics`` and ``weighted_metrics`` of a model with several outputs: each a list with
    one entry per output (a metric, a list of metrics, or None) or a dict keyed by output name.
    Logged as ``<output>_<metric>``; a repeated name gets ``_1``, ``_2``..., and a weighted
    metric that repeats an unweighted one becomes ``<output>_weighted_<metric>``."""

    name = "compile_metrics"

    def __init__(self, metrics, weighted_metrics, output_names):
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, list | tuple | dict):
                raise ValueError(
                    f"Expected `{argument}` argument to be a list, tuple, or dict. Received "
                    f"instead: {argument}={value} of type {type(value)}")
        self.identifiers = metrics
        self.weighted_identifiers = weighted_metrics
        self.output_names = list(output_names)
        self._unweighted = None  # one list of metrics (or None) per output
        self._weighted = None

    def _build_set(self, argument, identifiers, y_true, y_pred):
        names = self.output_names
        if not identifiers:
            return [None] * len(names)
        if isinstance(identifiers, list | tuple) and len(identifiers) == len(names):
            per_output = list(identifiers)
        elif isinstance(identifiers, dict) and set(identifiers) <= set(names):
            per_output = [identifiers.get(name) for name in names]
        else:
            raise ValueError(
                f"Invalid `{argument}`. `{argument}` should contain metrics objects and either "
                f"be a dict or a list matching the output names of the functional model "
                f"{names} or match the output structure of the model: {['X'] * len(names)}.\n"
                f"Received: {argument}={identifiers}")
        return [None if entry is None else [
            get_metric(m, y_true[i], y_pred[i])
            for m in (entry if isinstance(entry, list | tuple) else [entry])]
            for i, entry in enumerate(per_output)]

    def build(self, y_true, y_pred):
        self._unweighted = self._build_set("metrics", self.identifiers, y_true, y_pred)
        self._weighted = self._build_set("weighted_metrics", self.weighted_identifiers,
                                         y_true, y_pred)

    @property
    def metrics(self):
        """Every metric object: each output's unweighted ones, then each output's weighted."""
        return [metric for per_output in (self._unweighted or []) + (self._weighted or [])
                for metric in per_output or []]

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _aligned(y_true, y_pred, self.output_names)
        if self._unweighted is None:
            self.build(y_true, y_pred)
        sample_weights = _per_output_weights(sample_weight, self.output_names)
        for i, metrics in enumerate(self._unweighted):
            for metric in metrics or []:
                metric.update_state(y_true[i], y_pred[i])
        for i, metrics in enumerate(self._weighted):
            for metric in metrics or []:
                metric.update_state(y_true[i], y_pred[i], sample_weight=sample_weights[i])

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self):
        """Keras's names: ``<output>_<metric>``, ``_<k>`` for repeats, ``weighted_`` for a
        weighted metric whose name is taken."""
        results, counts = {}, {}

        def unique(name):
            if name not in counts:
                counts[name] = 1
                return name
            counts[name] += 1
            return f"{name}_{counts[name] - 1}"

        for i, metrics in enumerate(self._unweighted or []):
            for metric in metrics or []:
                results[unique(f"{self.output_names[i]}_{metric.name}")] = metric.result()
        for i, metrics in enumerate(self._weighted or []):
            for metric in metrics or []:
                name = f"{self.output_names[i]}_{metric.name}"
                if name in counts:
                    name = f"{self.output_names[i]}_weighted_{metric.name}"
                results[unique(name)] = metric.result()
        return results
