"""The one source of randomness in minikeras: a NumPy ``Generator`` shared by every random op.

Initializers, Dropout and ``minikeras.random``'s unseeded calls draw from here, so
``set_random_seed(42)`` makes a whole script reproducible, like ``keras.utils.set_random_seed``.
Keras's exact random numbers come from TensorFlow's Philox generator and cannot be reproduced
with NumPy: tests compare statistics, never raw random values.
"""

import random

import numpy as np

_GENERATOR = np.random.default_rng()


def set_random_seed(seed):
    """Seed Python's ``random``, ``np.random`` and minikeras's generator with one integer."""
    global _GENERATOR
    if not isinstance(seed, int):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})")
    random.seed(seed)
    np.random.seed(seed)
    _GENERATOR = np.random.default_rng(seed)


def make_rng(seed=None):
    """A Generator: a new one seeded with ``seed``, or the shared global one if ``seed`` is None."""
    if seed is None:
        return _GENERATOR
    return np.random.default_rng(seed)


def make_default_seed():
    """An integer seed drawn from the global generator (``keras.random.make_default_seed``)."""
    return int(_GENERATOR.integers(1, 10**9))
