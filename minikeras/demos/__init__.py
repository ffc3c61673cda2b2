"""Runnable demonstrations shipped with the package (``python -m minikeras demo``)."""
