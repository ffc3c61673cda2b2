"""Fixtures shared by the download and dataset tests (no network: files are served from a
local folder through ``file://`` URLs)."""

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty ``KERAS_HOME``, where ``get_file`` caches its downloads."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


@pytest.fixture
def server(tmp_path):
    """A folder standing for a download server (read through ``file://`` URLs)."""
    folder = tmp_path / "server"
    folder.mkdir()
    return folder
