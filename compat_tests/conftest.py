"""Parity tests against TensorFlow's Keras.

Locally a missing TensorFlow skips this folder; in CI (``CI=true``) it is an error, because the
parity suite is the proof that minikeras equals Keras.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter
try:
    import tensorflow as tf  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the machine
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(
            "CI=true but TensorFlow does not import: install the test extras "
            "(pip install -e '.[test]')") from exc
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(autouse=True)
def _fresh_sessions():
    """Both libraries start each test with fresh name counters and float32."""
    import keras

    import minikeras

    keras.backend.clear_session(free_memory=False)  # freeing memory costs ~1 s a test
    minikeras.backend.clear_session()
    minikeras.backend.set_floatx("float32")
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
