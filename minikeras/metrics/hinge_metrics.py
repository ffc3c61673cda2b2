"""Hinge metrics: running means of the hinge losses, for maximum-margin classifiers.

As in Keras, the per-sample functions are the loss functions of ``minikeras.losses``.
"""

from minikeras.losses import categorical_hinge, hinge, squared_hinge
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


class Hinge(MeanMetricWrapper):
    """Running mean of ``mean(max(1 - y·p, 0))``; labels that are all 0 or 1 become -1 or 1."""

    _direction = "down"

    def __init__(self, name="hinge", dtype=None):
        super().__init__(fn=hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(MeanMetricWrapper):
    """Running mean of ``mean(max(1 - y·p, 0)²)``; labels that are all 0 or 1 become -1 or 1."""

    _direction = "down"

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(fn=squared_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CategoricalHinge(MeanMetricWrapper):
    """Running mean of ``max(max((1 - y)·p) - Σ y·p + 1, 0)`` for one-hot labels."""

    _direction = "down"

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(fn=categorical_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
