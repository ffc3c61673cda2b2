"""A float64 finite-difference gradient checker (in the spirit of DeZero's ``gradient_check``).

``gradient_check(f, x, y)`` runs ``f`` on float64 copies of the inputs, differentiates
``sum(f(...) * r)`` with a ``GradientTape`` (``r`` is a fixed random array, so every output element
counts, even for functions like softmax whose plain sum is constant), and compares with central
differences ``(L(x + h) - L(x - h)) / 2h`` for each input element. On failure it raises an
AssertionError that prints the shapes and the first differing values of both gradients.
"""

import contextlib

import numpy as np

import minikeras
from minikeras import ops


@contextlib.contextmanager
def floatx(dtype):
    """Run a block with ``minikeras.backend.set_floatx(dtype)``, restoring the previous value."""
    previous = minikeras.backend.floatx()
    minikeras.backend.set_floatx(dtype)
    try:
        yield
    finally:
        minikeras.backend.set_floatx(previous)


def numerical_grad(loss, args, index, eps=1e-6):
    """Central differences of ``loss(*args)`` with respect to ``args[index]``."""
    x = np.array(args[index], dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        up = loss(*args[:index], x.copy(), *args[index + 1:])
        x[i] = original - eps
        down = loss(*args[:index], x.copy(), *args[index + 1:])
        x[i] = original
        grad[i] = (up - down) / (2 * eps)
    return grad


def tape_grads(f, args, wrt, weights):
    """Gradients of ``sum(f(*args) * weights)`` with respect to ``args[i]`` for ``i`` in wrt."""
    tensors = [minikeras.Tensor(np.array(a, dtype=np.float64)) if i in wrt else a
               for i, a in enumerate(args)]
    with minikeras.GradientTape() as tape:
        tape.watch([tensors[i] for i in wrt])
        loss = ops.sum(ops.multiply(f(*tensors), weights))
    return tape.gradient(loss, [tensors[i] for i in wrt])


def _compare(name, grad, numeric, rtol, atol):
    """Raise an AssertionError that shows both gradients unless they agree."""
    if grad is None:
        raise AssertionError(f"gradient check failed for {name}: the tape returned None "
                             f"(numerical gradient first values {numeric.ravel()[:6]})")
    analytic = np.asarray(grad, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(f"gradient check failed for {name}: analytic shape "
                             f"{analytic.shape}, numerical shape {numeric.shape}")
    if not np.allclose(analytic, numeric, rtol=rtol, atol=atol):
        raise AssertionError(_describe(name, analytic, numeric, rtol, atol))


def _describe(name, analytic, numeric, rtol, atol):
    bad = ~np.isclose(analytic, numeric, rtol=rtol, atol=atol)
    first = tuple(int(i) for i in np.unravel_index(np.argmax(bad), bad.shape))
    flat_a, flat_n = analytic.ravel(), numeric.ravel()
    return (f"gradient check failed for {name}:\n"
            f"  analytic  shape {analytic.shape}, numerical shape {numeric.shape}\n"
            f"  {int(bad.sum())} of {bad.size} values differ; first at index {first}: "
            f"analytic {float(analytic[first])!r}, numerical {float(numeric[first])!r}\n"
            f"  analytic  first values: {np.array2string(flat_a[:6], precision=8)}\n"
            f"  numerical first values: {np.array2string(flat_n[:6], precision=8)}")


def gradient_check(f, *args, wrt=None, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0):
    """Assert that the tape's gradients of ``f`` match central differences, in float64.

    ``wrt`` lists the indices of the arguments to differentiate (default: every float array);
    the other arguments (integer labels, Python options) are passed through unchanged.
    """
    with floatx("float64"):
        if wrt is None:
            wrt = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
        args = [np.array(a, dtype=np.float64) if i in wrt else a for i, a in enumerate(args)]
        shape = np.shape(f(*[minikeras.Tensor(a) if i in wrt else a
                             for i, a in enumerate(args)]))
        weights = np.random.default_rng(seed).standard_normal(shape)

        def loss(*xs):
            return float(np.sum(np.asarray(f(*xs), dtype=np.float64) * weights))

        grads = tape_grads(f, args, wrt, weights)
        for i, grad in zip(wrt, grads, strict=True):
            name = f"{getattr(f, '__name__', f)} w.r.t. argument {i}"
            numeric = numerical_grad(loss, args, i, eps)
            _compare(name, grad, numeric, rtol, atol)


def layer_gradient_check(layer, x, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0, **call_kwargs):
    """Check d sum(layer(x) * r) / d(x and every trainable weight) against central differences.

    Build the layer (or model) under ``set_floatx("float64")`` so its weights are float64; each
    weight is perturbed in place and restored.
    """
    x = minikeras.Tensor(np.array(x, dtype=np.float64))
    weights = np.random.default_rng(seed).standard_normal(np.shape(layer(x, **call_kwargs)))

    def loss():
        return float(np.sum(np.asarray(layer(x, **call_kwargs), dtype=np.float64) * weights))

    variables = layer.trainable_weights
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(ops.multiply(layer(x, **call_kwargs), weights))
    grads = tape.gradient(total, [x, *variables])
    for name, target, grad in zip(["input"] + [v.path for v in variables], [x, *variables], grads,
                                  strict=True):
        numeric = np.zeros(target.shape)
        for i in np.ndindex(target.shape):
            original = target._value[i]
            target._value[i] = original + eps
            up = loss()
            target._value[i] = original - eps
            down = loss()
            target._value[i] = original
            numeric[i] = (up - down) / (2 * eps)
        _compare(f"{layer.name} w.r.t. {name}", grad, numeric, rtol, atol)
