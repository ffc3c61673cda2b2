"""Extreme inputs give Keras's IEEE values (inf, -inf, NaN) without NumPy RuntimeWarnings, and
minikeras leaves NumPy's own warning settings as they were (minikeras/quiet.py)."""

import inspect
import warnings

import numpy as np
import pytest

import minikeras as keras
from minikeras import ops
from minikeras.quiet import quietly

EXTREMES = np.array([0.0, -1.0, 3.0, 1e38, -1e38, 1e-45, np.inf, -np.inf, np.nan], "float32")


def _public_ops():
    return sorted(name for name in ops.__all__ if inspect.isfunction(getattr(ops, name)))


@pytest.mark.parametrize("name", _public_ops())
def test_no_op_warns_on_extreme_inputs(name):
    """Each op, tried with one and with two extreme arrays (and an array and 0), either works
    or refuses the call with an error; it never emits a RuntimeWarning."""
    _never_warns(getattr(ops, name), (EXTREMES,), (EXTREMES, EXTREMES[::-1].copy()),
                 (EXTREMES, 0.0))


def _sub_namespace_ops():
    return [(namespace, name) for namespace in ("nn", "numpy", "image")
            for name in dir(getattr(ops, namespace)) if not name.startswith("_")]


@pytest.mark.parametrize("namespace, name", _sub_namespace_ops())
def test_sub_namespace_ops_are_quiet(namespace, name):
    """``ops.nn.log_softmax``, ``ops.numpy.log``, ``ops.image.resize``... run quietly too."""
    fn = getattr(getattr(ops, namespace), name)
    if name in ("size", "ndim"):  # questions that compute nothing: as plain as ops.size
        assert fn is getattr(ops, name)
    else:
        assert getattr(fn, "is_quiet", False)
    image = np.resize(EXTREMES, (1, 3, 3, 3))
    _never_warns(fn, (EXTREMES,), (EXTREMES, EXTREMES[::-1].copy()), (EXTREMES, 0.0),
                 (image, (2, 2)), (image, 2))


def test_sub_namespaces_give_ieee_values_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(ops.numpy.log(np.float32(0))) == -np.inf
        assert float(ops.nn.log_softmax(np.float32([0.0, -np.inf]))[1]) == -np.inf
        assert np.isnan(float(ops.numpy.sqrt(np.float32(-1))))


def _never_warns(fn, *argument_lists):
    for args in argument_lists:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            try:
                fn(*args)
            except RuntimeWarning:
                raise
            except Exception:  # arguments that do not fit this function: not what is tested
                pass


def test_ieee_values_as_numpy_computes_them():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(ops.log(np.float32(0))) == -np.inf
        assert float(ops.divide(1.0, 0.0)) == np.inf
        assert np.isnan(float(ops.sqrt(np.float32(-1))))
        assert float(ops.exp(np.float32(1000))) == np.inf
        squares = np.asarray(ops.square(EXTREMES))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(squares, np.square(EXTREMES))


def test_numpy_settings_are_left_alone():
    before = np.geterr()
    ops.log(np.float32(0))
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.float32(0))  # the user's own NumPy code still warns


def test_an_error_inside_a_quiet_call_resets_the_flag():
    @quietly
    def fails():
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    with pytest.warns(RuntimeWarning):
        np.log(np.float32(0))  # not quiet any more
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ops.log(np.float32(0))  # and the next quiet call works


def test_layers_losses_gradients_and_optimizers_are_quiet():
    """A Dense layer on 3e38 inputs overflows to inf, a loss of a zero probability is finite
    (clipped), the gradient of log at 0 is inf and an inf gradient makes the weight -inf:
    all silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = keras.layers.Dense(2, kernel_initializer="ones")
        out = np.asarray(layer(np.full((1, 3), 3e38, "float32")))
        assert np.isinf(out).all()
        loss = keras.losses.BinaryCrossentropy()(np.ones((2, 1)), np.zeros((2, 1)))
        assert np.isfinite(float(loss))
        x = keras.Variable(np.zeros(3, "float32"))
        with keras.GradientTape() as tape:
            y = ops.sum(ops.log(x))
        grad = tape.gradient(y, x)
        assert np.isinf(np.asarray(grad)).all()
        optimizer = keras.optimizers.SGD(0.1)
        optimizer.apply([grad], [x])
        assert np.isneginf(x.numpy()).all()


def test_a_diverging_fit_logs_inf_without_warnings():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(1e30), "mse")
    x = np.full((4, 1), 1e10, "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, x, epochs=2, verbose=0)
        model.predict(x, verbose=0)
        model(x)
    assert not np.isfinite(history.history["loss"][-1])


def _public_functions(module):
    return [(module.__name__.split(".")[-1], name) for name in sorted(dir(module))
            if not name.startswith("_") and inspect.isfunction(getattr(module, name))]


PREDICTIONS = np.array([[0.0, -1.0, 3.0, 1e38, -1e38, 1e-45, -100.0, 100.0]], "float32")


@pytest.mark.parametrize("module,name", _public_functions(keras.losses)
                         + _public_functions(keras.metrics) + _public_functions(keras.activations))
def test_no_loss_metric_or_activation_function_warns(module, name):
    fn = getattr(getattr(keras, module), name)
    labels = (np.abs(PREDICTIONS) > 1).astype("float32")
    _never_warns(fn, (PREDICTIONS,), (labels, PREDICTIONS), (PREDICTIONS, PREDICTIONS[:, ::-1]))


def _metric_classes():
    return sorted(name for name in dir(keras.metrics) if inspect.isclass(getattr(
        keras.metrics, name)) and issubclass(getattr(keras.metrics, name), keras.metrics.Metric))


ARGUMENTS = {  # the metrics that need constructor arguments
    "IoU": dict(num_classes=2, target_class_ids=[0]), "MeanIoU": dict(num_classes=2),
    "OneHotIoU": dict(num_classes=8, target_class_ids=[0]), "OneHotMeanIoU": dict(num_classes=8),
    "MeanMetricWrapper": dict(fn=keras.metrics.mean_squared_error),
    "PrecisionAtRecall": dict(recall=0.5), "RecallAtPrecision": dict(precision=0.5),
    "SensitivityAtSpecificity": dict(specificity=0.5),
    "SpecificityAtSensitivity": dict(sensitivity=0.5),
}


@pytest.mark.parametrize("name", _metric_classes())
def test_no_metric_warns_on_extreme_values(name):
    metric = getattr(keras.metrics, name)(**ARGUMENTS.get(name, {}))
    labels = (np.abs(PREDICTIONS) > 1).astype("float32")
    _never_warns(metric, (labels, PREDICTIONS), (PREDICTIONS, PREDICTIONS))
    _never_warns(metric.result)
