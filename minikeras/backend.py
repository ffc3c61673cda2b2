"""Global settings, as in ``keras.backend``: the default float type, epsilon, name counters.

minikeras computes in float32 unless told otherwise, like Keras; ``set_floatx("float64")`` switches
every new weight and every converted input to float64 (the gradient checks in ``tests/`` use it).
"""

import functools
import re
from collections import defaultdict

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_NAME_COUNTERS = defaultdict(int)


def floatx():
    """The default float type as a string: ``'float32'`` unless ``set_floatx`` changed it."""
    return _FLOATX


def set_floatx(value):
    """Set the default float type: one of ``'float16'``, ``'float32'``, ``'float64'``."""
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(
            f"Unknown `floatx` value: {value!r}. Expected one of 'float16', 'float32', 'float64'."
        )
    _FLOATX = str(value)


def epsilon():
    """The fuzz factor used to keep logs and divisions finite: ``1e-7``, as in Keras."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Where image layers expect channels: ``'channels_last'`` (NHWC, the default) or
    ``'channels_first'`` (NCHW)."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Set the default of every image layer's ``data_format`` argument."""
    global _IMAGE_DATA_FORMAT
    if data_format is None:  # Keras refuses None here (str(None) is not a format)
        data_format = "None"
    _IMAGE_DATA_FORMAT = standardize_data_format(data_format)


def standardize_data_format(data_format):
    """``None`` -> ``image_data_format()``; otherwise the lower-cased name, checked (what image
    layers do with their ``data_format`` argument, as ``keras.src.backend.config`` does)."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}")
    return data_format


def backend():
    """The name of the backend doing the computing: always ``'numpy'`` in minikeras (Keras's
    own NumPy backend answers the same)."""
    return "numpy"


def clear_session():
    """Forget the automatic names given so far, so the next Dense is ``dense`` again."""
    _NAME_COUNTERS.clear()


def to_snake_case(name):
    """``'BatchNormalization'`` -> ``'batch_normalization'``, as Keras names layers."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def unique_name(base):
    """``dense``, then ``dense_1``, ``dense_2``... (one counter per base name, per session)."""
    count = _NAME_COUNTERS[base]
    _NAME_COUNTERS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def get_uid(prefix=""):
    """1, 2, 3... at successive calls for the same ``prefix``. It shares the counters that name
    layers, as in Keras: after ``Dense`` named ``dense`` and ``dense_1``, ``get_uid('dense')``
    is 3."""
    _NAME_COUNTERS[prefix] += 1
    return _NAME_COUNTERS[prefix]


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of the functional API (what ``keras.Input`` returns)."""
    from minikeras.layers.keras_tensor import KerasTensor  # layers build on this module

    return isinstance(x, KerasTensor)


def is_float_dtype(dtype):
    """``float16`` ... ``float64`` (given as names, NumPy dtypes or ``float``)."""
    if not isinstance(dtype, str):
        dtype = standardize_dtype(dtype)
    return dtype.startswith(("float", "bfloat"))


def is_int_dtype(dtype):
    """``int8`` ... ``int64`` and ``uint8`` ... ``uint64`` (given as names, NumPy dtypes or
    ``int``)."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


@functools.cache
def dtype_name(dtype):
    """``np.dtype('float32')`` -> ``'float32'``, from a table: NumPy builds ``dtype.name`` anew
    on every access, which costs more than most ops on a batch of 32."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = dtype.name
    return name


_DTYPE_NAMES = {}


def standardize_dtype(dtype):
    """A dtype given as a string, a NumPy dtype or a Python type, as Keras's string name."""
    if isinstance(dtype, np.dtype):
        return dtype_name(dtype)
    if dtype is None:
        return floatx()
    if dtype is float:
        return floatx()
    if dtype is int:
        return "int32"
    if dtype is bool:
        return "bool"
    if isinstance(dtype, type) and issubclass(dtype, np.generic):  # np.int32 -> 'int32'
        return dtype_name(np.dtype(dtype))
    name = getattr(dtype, "name", None) or str(dtype)
    return {"float": floatx(), "double": "float64"}.get(name, name)


def result_type(*dtypes):
    """The dtype Keras gives an op on operands of ``dtypes`` (see ``minikeras.dtypes``)."""
    from minikeras import dtypes as promotion  # that module builds on this one

    return promotion.result_type(*dtypes)
