"""``keras.mixed_precision``: Keras's older names for the dtype policies, and
``LossScaleOptimizer``.

minikeras computes each layer in one float dtype (``minikeras/dtype_policies.py``), so the
policies here are ``"float16"``, ``"float32"`` and ``"float64"``; ``"mixed_float16"`` is refused
with an error that says so. ``LossScaleOptimizer`` scales the loss as in Keras, which also helps
a model trained in float16.
"""

from minikeras.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from minikeras.optimizers import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]
