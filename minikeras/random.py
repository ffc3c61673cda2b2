"""Random tensors (``keras.random``): normal, uniform, truncated_normal, randint, shuffle, dropout,
categorical, gamma, beta, binomial, and the ``SeedGenerator`` that feeds them.

Every function takes ``seed``, one of three things, exactly as in Keras:

- an ``int``: the draw is *stateless*, so ``normal((2,), seed=42)`` returns the same numbers at
  every call;
- a ``SeedGenerator``: its state ``[seed, counter]`` seeds the draw and the counter then moves on,
  so successive calls differ, yet a run is reproducible from the generator's seed;
- ``None`` (the default): the draw comes from minikeras's one global generator
  (``minikeras.utils.random``), which ``keras.utils.set_random_seed`` seeds.

Each draw builds a NumPy ``Generator`` from that seed, as Keras's NumPy backend does
(``np.random.default_rng([seed, counter])``). The numbers cannot match Keras on TensorFlow
(Philox streams), only the distributions, shapes and dtypes do. Samples are constants for the
gradient tape; ``dropout`` and ``shuffle`` pass gradients to ``inputs``/``x`` like any op.
"""

import numpy as np

from minikeras import backend, ops
from minikeras.tensor import Tensor
from minikeras.utils.random import make_default_seed, make_rng
from minikeras.variables import Variable

_UINT32 = 0xFFFFFFFF


class SeedGenerator:
    """The state of a random stream: a non-trainable ``uint32`` Variable ``[seed, counter]``.

    ``SeedGenerator(seed=None, name=None)``: ``seed=None`` draws a seed from the global generator.
    Pass it as ``seed=`` to the random functions; each call uses the current state, then
    ``next()`` advances the counter. Keras's NumPy and JAX backends keep the state as
    ``uint32`` (TensorFlow's as ``int64``), in a variable named ``seed_generator_state``.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if name is None:
            name = backend.unique_name("seed_generator")
        self.name = name
        kwargs.pop("backend", None)  # Keras lets a layer pick a backend; minikeras has one
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self.state = Variable(np.array([seed & _UINT32, 0], dtype="uint32"), dtype="uint32",
                              trainable=False, name="seed_generator_state")
        self.state.path = f"{self.name}/seed_generator_state"

    def next(self, ordered=True):
        """The current state (a copy); then the counter moves on by one.

        ``ordered=False`` scrambles the state instead, ``(state + 1) * 5387 % 933199``, as Keras
        does for its global generator."""
        current = self.state.numpy()
        if ordered:
            self.state.assign(current + np.array([0, 1], dtype="uint32"))
        else:
            self.state.assign((current.astype("int64") + 1) * 5387 % 933199)
        return current

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r}, state={self.state.numpy().tolist()}>"


def draw_seed(seed):
    """The NumPy ``Generator`` for one draw: from an int (always the same), a ``SeedGenerator``
    (its state, which then advances), or ``None`` (the shared global generator)."""
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    if isinstance(seed, int | np.integer):
        return np.random.default_rng(np.array([int(seed) & _UINT32, 0], dtype="uint32"))
    if seed is None:
        return make_rng(None)
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})")


# --- helpers -------------------------------------------------------------------------------------
def _shape(shape):
    """``shape`` as a tuple of Python ints (it may be a list, a tensor's shape or an int)."""
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _float_dtype(dtype, function):
    dtype = backend.standardize_dtype(backend.floatx() if dtype is None else dtype)
    if not backend.is_float_dtype(dtype):
        raise ValueError(f"`keras.random.{function}` requires a floating point `dtype`. "
                         f"Received: dtype={dtype} ")
    return dtype


def _param(value):
    """A distribution parameter (number, list, array, tensor) as a NumPy value."""
    return np.asarray(value) if not isinstance(value, int | float) else value


# --- continuous distributions --------------------------------------------------------------------
def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev**2), ``floatx`` by default."""
    dtype = _float_dtype(dtype, "normal")
    rng = draw_seed(seed)
    values = rng.normal(loc=_param(mean), scale=_param(stddev), size=_shape(shape))
    return Tensor(values.astype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval): ``minval`` included, ``maxval`` excluded (also after the
    rounding to ``dtype``)."""
    dtype = _float_dtype(dtype, "uniform")
    rng = draw_seed(seed)
    low, high = _param(minval), _param(maxval)
    values = rng.uniform(low=low, high=high, size=_shape(shape)).astype(dtype)
    # float64 draws just below maxval can round up to it in float32/float16: step back one ulp
    high = np.asarray(high, dtype=dtype)
    rounded_up = (values >= high) & (high > np.asarray(low, dtype=dtype))
    if rounded_up.any():
        values = np.where(rounded_up, np.nextafter(high, np.asarray(-np.inf, dtype)), values)
    return Tensor(values.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev**2) with every sample farther than 2 stddev from the mean redrawn, so all
    values lie in [mean - 2 stddev, mean + 2 stddev] (the std of the result is ~0.88 stddev)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = draw_seed(seed)
    z = rng.standard_normal(_shape(shape))
    outside = np.abs(z) > 2.0
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return Tensor((_param(mean) + _param(stddev) * z).astype(dtype))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of Gamma(alpha, scale 1): mean ``alpha``, variance ``alpha``."""
    dtype = _float_dtype(dtype, "gamma")
    rng = draw_seed(seed)
    return Tensor(rng.gamma(_param(alpha), scale=1.0, size=_shape(shape)).astype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of Beta(alpha, beta) in [0, 1]: mean ``alpha / (alpha + beta)``."""
    dtype = _float_dtype(dtype, "beta")
    rng = draw_seed(seed)
    return Tensor(rng.beta(a=_param(alpha), b=_param(beta), size=_shape(shape)).astype(dtype))


# --- discrete distributions ----------------------------------------------------------------------
def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Numbers of successes in ``counts`` trials of probability ``probabilities`` (both broadcast
    to ``shape``), as ``floatx`` by default, like Keras."""
    dtype = backend.standardize_dtype(backend.floatx() if dtype is None else dtype)
    rng = draw_seed(seed)
    counts = np.asarray(counts)
    if counts.dtype.kind == "f":
        counts = counts.astype("int64")  # Keras accepts float counts such as 10.0
    values = rng.binomial(n=counts, p=_param(probabilities), size=_shape(shape))
    return Tensor(values.astype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval)."""
    if dtype is not None and not backend.is_int_dtype(dtype):
        raise ValueError("`keras.random.randint` requires an integer `dtype`. "
                         f"Received: dtype={dtype} ")
    dtype = backend.standardize_dtype("int32" if dtype is None else dtype)
    rng = draw_seed(seed)
    return Tensor(rng.integers(low=_param(minval), high=_param(maxval), size=_shape(shape),
                               dtype=dtype))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """For each row of ``logits`` (batch_size, num_classes), ``num_samples`` class indices drawn
    with probabilities ``softmax(row)``; returns (batch_size, num_samples).

    Each row's cumulative probabilities are searched for uniform draws (inverse-CDF sampling): a
    class with logit ``-inf`` has probability 0 and is never drawn."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
                         f"Received: logits={logits}")
    dtype = backend.standardize_dtype(dtype)
    rng = draw_seed(seed)
    z = logits.astype("float64")
    z = z - z.max(axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(z), axis=1)
    u = rng.random((logits.shape[0], int(num_samples)))
    samples = np.empty(u.shape, dtype="int64")
    for row in range(logits.shape[0]):
        samples[row] = np.searchsorted(cdf[row], u[row] * cdf[row, -1], side="right")
    return Tensor(np.minimum(samples, logits.shape[1] - 1).astype(dtype))


# --- random ops on a tensor ----------------------------------------------------------------------
def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout: each entry is kept with probability ``1 - rate`` and scaled by
    ``1 / (1 - rate)``, else zeroed; ``noise_shape`` shares one draw over the axes where it
    is 1 (``None`` entries take the input's size).  d out / d inputs = mask / (1 - rate)."""
    if rate == 1.0:
        return ops.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    if not 0.0 < rate < 1.0:
        raise ValueError(f"`rate` must be a float in [0, 1]. Received: rate={rate}")
    shape = np.shape(inputs)
    if noise_shape is None:
        noise_shape = shape
    else:
        noise_shape = tuple(shape[i] if n is None else int(n) for i, n in enumerate(noise_shape))
    rng = draw_seed(seed)
    keep = rng.uniform(size=noise_shape) >= rate
    dtype = ops.convert_to_tensor(inputs).dtype
    return ops.multiply(inputs, (keep / (1.0 - rate)).astype(dtype))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order (one permutation for all of
    them, as Keras does on TensorFlow, JAX and PyTorch). The gradient goes back to the slices."""
    rng = draw_seed(seed)
    permutation = rng.permutation(np.shape(x)[axis])
    return ops.take(x, permutation, axis=axis)


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
