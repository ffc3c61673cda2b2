"""Initializers: the starting values of weights (``keras.initializers``).

An initializer is called as ``init(shape, dtype=None)`` and returns a NumPy array of ``dtype``
(``floatx()``, i.e. float32, by default). Dense uses ``GlorotUniform`` for its kernel and ``Zeros``
for its bias.

Seeds behave as in Keras: an initializer built with ``seed=42`` returns the *same* values at every
call. So does one built with ``seed=None``: it draws its own seed once, at construction, from
minikeras's global generator (``minikeras.utils.random``). Two ``Dense`` layers still start
differently because each creates its own initializer, and ``set_random_seed`` makes the whole run
reproducible. Reuse one instance for two layers and both get identical weights, exactly as in Keras.
"""

import math

import numpy as np

from minikeras import backend
from minikeras.saving import serialization
from minikeras.saving.object_registration import get_registered_object
from minikeras.utils.random import make_default_seed, make_rng


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config()``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


# --- constant initializers -----------------------------------------------------------------------
class Zeros(Initializer):
    """All zeros: the default bias initializer."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=backend.standardize_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=backend.standardize_dtype(dtype))


class Constant(Initializer):
    """``value * ones(shape)``; ``value`` is a scalar or an array that broadcasts to ``shape``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = backend.standardize_dtype(dtype)
        return np.asarray(self.value, dtype=dtype) * np.ones(shape, dtype=dtype)

    def get_config(self):
        value = self.value
        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, np.ndarray):  # Keras's serialized form of a NumPy array
            value = {"class_name": "__numpy__",
                     "config": {"value": value.tolist(), "dtype": value.dtype.name}}
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        value = config.get("value", 0.0)  # Keras raises KeyError for get("constant")
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            value = np.array(value["config"]["value"], dtype=value["config"]["dtype"])
        return cls(value)


class Identity(Initializer):
    """``gain * eye(rows, cols)`` for a 2-D shape (non-square allowed).

    As in Keras, ``get_config()`` is empty: the gain is not saved.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}.")
        dtype = backend.standardize_dtype(dtype)
        return np.asarray(self.gain * np.eye(*shape), dtype=dtype)


# --- random initializers -------------------------------------------------------------------------
class RandomInitializer(Initializer):
    """Holds the seed. ``seed=None`` draws an integer seed now: every call gives the same array."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(
                f"`seed` argument should be an integer or None. Received: seed={seed!r}")
        self._init_seed = seed  # what get_config reports: None stays None, as in Keras
        self.seed = make_default_seed() if seed is None else seed

    def _rng(self):
        return make_rng(self.seed)

    def get_config(self):
        return {"seed": self._init_seed}


def _truncated_normal(rng, shape, mean, stddev):
    """Normal(mean, stddev) samples; any sample farther than 2 stddev is redrawn (as TF does)."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return mean + stddev * values


class RandomNormal(RandomInitializer):
    """Samples from N(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        values = self._rng().normal(self.mean, self.stddev, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """N(mean, stddev) cut to [mean - 2 stddev, mean + 2 stddev] (sample std ~ 0.88 stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        values = _truncated_normal(self._rng(), shape, self.mean, self.stddev)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Samples from U(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        values = self._rng().uniform(self.minval, self.maxval, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out): a Dense kernel (in, out) gives (in, out); a conv kernel
    (*window, in, out) gives (in * prod(window), out * prod(window)); a vector (n,) gives (n, n)."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field_size = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field_size), int(shape[-1] * receptive_field_size)


class VarianceScaling(RandomInitializer):
    """Samples with variance ``s = scale / max(1, fan)``, fan = fan_in, fan_out or their mean.

    ``truncated_normal``: N(0, sqrt(s) / 0.8796...) cut at 2 stddev, so the samples' std is
    sqrt(s) (0.87962566103423978 is the std of a standard normal truncated at +-2);
    ``untruncated_normal``: N(0, sqrt(s)); ``uniform``: U(-sqrt(3 s), sqrt(3 s)).
    ``distribution='normal'`` means ``'truncated_normal'``, as in Keras.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}. "
                             "Please use one of ('fan_in', 'fan_out', 'fan_avg')")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. "
                "Please use one of ('uniform', 'truncated_normal', 'untruncated_normal')")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / 0.87962566103423978)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(scale), size=shape)
        else:
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _PresetVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed by the subclass."""

    preset = {}

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(**self.preset, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def get_config(self):
        return {"seed": self._init_seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_PresetVarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)): the default Dense kernel init."""

    preset = {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"}


class GlorotNormal(_PresetVarianceScaling):
    """Truncated normal with std sqrt(2 / (fan_in + fan_out))."""

    preset = {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal"}


class HeNormal(_PresetVarianceScaling):
    """Truncated normal with std sqrt(2 / fan_in) (for ReLU layers)."""

    preset = {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}


class HeUniform(_PresetVarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / fan_in)."""

    preset = {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}


class LecunNormal(_PresetVarianceScaling):
    """Truncated normal with std sqrt(1 / fan_in) (for SELU layers)."""

    preset = {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}


class LecunUniform(_PresetVarianceScaling):
    """U(-limit, limit), limit = sqrt(3 / fan_in)."""

    preset = {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}


class Orthogonal(RandomInitializer):
    """``gain * q``: q from the QR decomposition of a normal matrix, q * sign(diag(r)), so the rows
    (or columns, whichever are fewer) of the flattened (prod(shape[:-1]), shape[-1]) result are
    orthonormal."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}.")
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(num_rows, num_cols), min(num_rows, num_cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


# --- STFT kernels -------------------------------------------------------------------------------
def _cosine_sum(coefficients):
    """Σ_k a_k cos(k·φ), φ = -π .. π in M steps (SciPy's ``general_cosine``)."""
    def window(m):
        phi = np.linspace(-np.pi, np.pi, m)
        return sum(a * np.cos(k * phi) for k, a in enumerate(coefficients))
    return window


def _bartlett(m):
    n = np.arange(m)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


_WINDOWS = {  # the windows of ``scipy.signal.get_window`` that need no parameter, in NumPy
    "hann": _cosine_sum([0.5, 0.5]),
    "hamming": _cosine_sum([0.54, 0.46]),
    "blackman": _cosine_sum([0.42, 0.50, 0.08]),
    "bartlett": _bartlett,
    "boxcar": np.ones,
    "cosine": lambda m: np.sin(np.pi / m * (np.arange(m) + 0.5)),
}


def get_window(name, length, periodic=False):
    """SciPy's ``get_window(name, length, fftbins=periodic)`` (float64): the symmetric window
    of ``length`` points, or with ``periodic`` the first ``length`` of ``length + 1`` points."""
    if not isinstance(name, str) or name not in _WINDOWS:
        raise ValueError(f"Invalid window name {name!r} in parameter window={name!r}! "
                         f"minikeras knows {sorted(_WINDOWS)}.")
    if length <= 1:
        return np.ones(length)
    return _WINDOWS[name](length + 1)[:length] if periodic else _WINDOWS[name](length)


class STFT(Initializer):
    """Conv kernels whose outputs are a windowed DFT (``keras.initializers.STFT``), of shape
    ``(frame_length T, 1, bins F)``, with N = 2 (F - 1) and w the window:
        real:  w[t] cos(-2π t f / N) / s        imag:  w[t] sin(-2π t f / N) / s
    s = sqrt(Σ w²) ("density"), Σ |w| ("spectrum") or 1 (None). Computed in ``dtype`` step by
    step as Keras does, so float32 kernels equal Keras's (their angle reaches 2π T, where
    float32's rounding shows)."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            get_window(window, 1)  # an unknown name fails now, as in Keras
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        dtype = np.dtype(backend.standardize_dtype(dtype))
        frame_length, _, bins = shape
        freq = np.arange(bins, dtype=dtype).reshape(1, 1, bins) / dtype.type((bins - 1) * 2)
        time = np.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        args = (dtype.type(-2) * time) * freq * np.arccos(dtype.type(-1))
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if self.window is None:
            return kernel
        win = self.window
        if isinstance(win, str):
            win = get_window(win, frame_length, self.periodic)
        win = np.asarray(win).astype(dtype)
        if win.ndim != 1 or win.shape[-1] != frame_length:
            raise ValueError("The shape of `window` must be equal to [frame_length]."
                             f"Received: window shape={win.shape}")
        win = win.reshape(frame_length, 1, 1)
        scaling = dtype.type(1)
        if self.scaling == "density":
            scaling = np.sqrt(np.sum(np.square(win)))
        elif self.scaling == "spectrum":
            scaling = np.sum(np.abs(win))
        return (kernel * win / scaling).astype(dtype)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


stft = STFTInitializer = STFT  # Keras's other names


# --- lookup by name ------------------------------------------------------------------------------
ALL_OBJECTS = [Initializer, Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform,
               HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, RandomNormal,
               RandomUniform, TruncatedNormal, VarianceScaling, STFT]
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({backend.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({"IdentityInitializer": Identity, "normal": RandomNormal, "one": Ones,
                         "OrthogonalInitializer": Orthogonal, "uniform": RandomUniform,
                         "zero": Zeros, "STFTInitializer": STFT})

# Keras also exports each class under a lowercase name: ``he_normal()`` is ``HeNormal()``.
constant, identity, ones, zeros = Constant, Identity, Ones, Zeros
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
orthogonal = Orthogonal
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, IdentityInitializer, OrthogonalInitializer = VarianceScaling, Identity, Orthogonal


def serialize(initializer):
    """Keras's dict: ``{"module": "keras.initializers", "class_name": "Zeros", "config": {},
    "registered_name": None}``; a class registered with ``register_keras_serializable`` keeps its
    module and ``"package>Name"`` (see ``serialize_keras_object``)."""
    return serialization.serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """An initializer from ``serialize``'s dict, or from a name such as ``'glorot_uniform'``;
    registered classes and ``custom_objects`` are found too."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """An initializer from None, a name (built-in or registered), a config dict, a class, a
    callable or an array."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str) and (identifier in ALL_OBJECTS_DICT
                                          or get_registered_object(identifier) is not None):
        obj = deserialize({"class_name": identifier, "config": {}})
    elif isinstance(identifier, np.ndarray | np.generic):
        obj = _from_array(identifier)
    else:
        obj = identifier
    if isinstance(obj, type):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret initializer identifier: {identifier!r}. "
                         f"Valid names: {sorted(ALL_OBJECTS_DICT)}")
    return obj


def _from_array(array):
    """An initializer returning ``array`` itself (the requested shape must match)."""

    def initialize_fn(shape, dtype=None):
        if tuple(shape) != array.shape:
            raise ValueError(f"Expected `shape` to be {array.shape} for direct tensor as "
                             f"initializer. Received shape={shape}")
        return np.asarray(array, dtype=backend.standardize_dtype(dtype))

    return initialize_fn
