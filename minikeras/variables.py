"""Variable: a named, mutable array that layers and optimizers own (``keras.Variable``).

Reading a variable inside a ``GradientTape`` is what gets differentiated: trainable variables are
watched automatically. Writing (``assign``, ``assign_add``, ``assign_sub``) happens in place, so the
optimizer's updates are cheap and every holder of the variable sees the new value.
"""

import numpy as np

from minikeras import backend
from minikeras.tensor import ArrayLike

_NUMBERS = (int, float, np.generic)


class Variable(ArrayLike):
    """``Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``.

    ``initializer`` is an array-like value, or an initializer (object, string or callable taking
    ``shape, dtype``) together with ``shape``.
    """

    __slots__ = ("_value", "trainable", "name", "path", "constraint", "regularizer",
                 "__weakref__")

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                 aggregation="none", synchronization="auto", name=None, constraint=None,
                 regularizer=None):
        if isinstance(initializer, str) or (callable(initializer) and
                                            not isinstance(initializer, ArrayLike)):
            if shape is None:
                raise ValueError(
                    f"When creating a Variable from an initializer, the `shape` argument must "
                    f"be specified. Received: initializer={initializer!r}, shape=None")
            from minikeras import initializers

            dtype = backend.standardize_dtype(dtype)
            value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        else:
            value = np.asarray(initializer)
            if dtype is not None:
                dtype = backend.standardize_dtype(dtype)
            elif backend.is_float_dtype(value.dtype) or value.dtype == object:
                dtype = backend.floatx()
            else:
                dtype = value.dtype.name
            if shape is not None and tuple(shape) != value.shape:
                raise ValueError(f"Initial value has shape {value.shape}, but `shape` is "
                                 f"{tuple(shape)}.")
        self._value = np.array(value, dtype=dtype)  # always our own copy
        self.trainable = trainable
        self.name = name or backend.unique_name("variable")
        self.path = self.name
        self.constraint = constraint
        self.regularizer = regularizer

    @property
    def value(self):
        return self._value

    def assign(self, value):
        value = np.asarray(value)
        if value.shape != self._value.shape:
            raise ValueError(
                f"The shape of the target variable and the shape of the value to assign must "
                f"match. Variable '{self.path}' has shape {self._value.shape}, received value "
                f"with shape {value.shape}.")
        self._value[...] = value
        return self

    def assign_add(self, value):
        if self._value.ndim == 0 and isinstance(value, _NUMBERS):  # a counter or a total
            self._value[()] += value  # NumPy scalar math: ten times faster than a 0-d ufunc
        else:
            np.add(self._value, value, out=self._value, casting="unsafe")
        return self

    def assign_sub(self, value):
        if self._value.ndim == 0 and isinstance(value, _NUMBERS):
            self._value[()] -= value
        else:
            np.subtract(self._value, value, out=self._value, casting="unsafe")
        return self

    def numpy(self):
        return self._value.copy()

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={self._value}>")
