"""``keras.datasets`` parity: Keras's own loaders and minikeras's read the same fake files and
return identical arrays (values, dtypes, shapes, order after the seeded shuffles).

Offline, Keras's loaders cannot reach their URLs, so their ``get_file`` is wrapped: the origin is
replaced by the ``file://`` address of the fake file and the hash by its sha256; everything else
(Keras's caching, extraction, paths, parsing) runs as shipped. minikeras's loaders are pointed at
the same files through their ``_ORIGIN`` and ``_FILE_HASH`` attributes.
"""

import hashlib
import os
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from keras.src.datasets import boston_housing as k_boston
from keras.src.datasets import california_housing as k_california
from keras.src.datasets import cifar10 as k_cifar10
from keras.src.datasets import cifar100 as k_cifar100
from keras.src.datasets import fashion_mnist as k_fashion
from keras.src.datasets import imdb as k_imdb
from keras.src.datasets import mnist as k_mnist
from keras.src.datasets import reuters as k_reuters
from keras.src.utils import file_utils as k_file_utils

from minikeras import utils as m_utils
from minikeras.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from dataset_fakes import (  # noqa: E402
    serve,
    serve_folder,
    sha256,
    write_cifar10,
    write_cifar100,
    write_fashion_mnist,
    write_housing,
    write_imdb,
    write_mnist,
    write_reuters,
)

PAIRS = [(k_mnist, mnist), (k_fashion, fashion_mnist), (k_boston, boston_housing),
         (k_california, california_housing), (k_cifar10, cifar10), (k_cifar100, cifar100),
         (k_imdb, imdb), (k_reuters, reuters)]


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "server"
    folder.mkdir()
    return folder


@pytest.fixture
def keras_reads(server, tmp_path, monkeypatch):
    """Make Keras's loaders fetch from ``server`` into their own cache."""
    cache = tmp_path / "keras_cache"
    cache.mkdir()  # Keras falls back to /tmp/.keras if the cache_dir does not exist yet

    def get_file(fname=None, origin=None, **kwargs):
        local = server / os.path.basename(urllib.parse.urlsplit(origin).path)
        kwargs["file_hash"] = sha256(local)
        return k_file_utils.get_file(fname, local.as_uri(), cache_dir=str(cache), **kwargs)

    for keras_module, _ in PAIRS:
        monkeypatch.setattr(keras_module, "get_file", get_file)


@pytest.fixture(autouse=True)
def minikeras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "minikeras_home"))


def assert_identical(ours, theirs):
    if isinstance(theirs, (tuple, list)) and not isinstance(theirs, np.ndarray):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_identical(a, b)
        return
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    if theirs.dtype == object:
        assert [list(s) if isinstance(s, list) else s for s in ours.ravel()] == \
            [list(s) if isinstance(s, list) else s for s in theirs.ravel()]
        assert all(type(a) is type(b) for a, b in zip(ours.ravel(), theirs.ravel(), strict=True))
    else:
        np.testing.assert_array_equal(ours, theirs)


# --- same URLs, hashes, names and folders ------------------------------------------------------
def record_get_file(monkeypatch, module, calls):
    """Record every ``get_file`` call; the loader then fails on the missing file."""
    def get_file(fname=None, origin=None, **kwargs):
        calls.append({"fname": fname, "origin": origin, **kwargs})
        return "/nonexistent/minikeras-test"

    monkeypatch.setattr(module, "get_file", get_file)


@pytest.mark.parametrize("keras_module, ours", PAIRS, ids=[p[1].__name__ for p in PAIRS])
def test_same_origins_hashes_and_cache_names(monkeypatch, keras_module, ours):
    functions = ["load_data"] + [f for f in ("get_word_index",) if hasattr(keras_module, f)]
    for function in functions:
        theirs_calls, our_calls = [], []
        record_get_file(monkeypatch, keras_module, theirs_calls)
        record_get_file(monkeypatch, ours, our_calls)
        for module in (keras_module, ours):
            with pytest.raises(OSError):
                getattr(module, function)()
        assert our_calls == theirs_calls and theirs_calls


def test_reuters_label_names():
    assert reuters.get_label_names() == k_reuters.get_label_names()


def test_get_file_signature_and_extraction_paths(server, tmp_path):
    import inspect
    import tarfile

    assert inspect.signature(m_utils.get_file) == inspect.signature(k_file_utils.get_file)
    with tarfile.open(server / "pack.tar.gz", "w:gz") as tar:
        tar.add(__file__, arcname="top/file.py")
    for i, fname in enumerate((None, "pack", "pack.tar.gz")):
        m, k = tmp_path / f"m{i}", tmp_path / f"k{i}"
        k.mkdir()  # see keras_reads
        ours = m_utils.get_file(fname, (server / "pack.tar.gz").as_uri(), extract=True,
                                cache_dir=m)
        theirs = k_file_utils.get_file(fname, (server / "pack.tar.gz").as_uri(), extract=True,
                                       cache_dir=str(k))
        assert os.path.relpath(ours, m) == os.path.relpath(theirs, k)
        assert sorted(os.listdir(m / "datasets")) == sorted(os.listdir(k / "datasets"))
        assert os.listdir(ours) == os.listdir(theirs) == ["top"]


def test_hash_helpers_agree(tmp_path):
    (tmp_path / "f").write_bytes(b"parity" * 1000)
    for algorithm in ("sha256", "md5"):
        assert m_utils.file_utils.hash_file(tmp_path / "f", algorithm) == \
            k_file_utils.hash_file(tmp_path / "f", algorithm)
    md5 = hashlib.md5(b"parity" * 1000).hexdigest()
    assert m_utils.file_utils.validate_file(tmp_path / "f", md5) == \
        k_file_utils.validate_file(tmp_path / "f", md5) is True


# --- same arrays -------------------------------------------------------------------------------
def test_mnist(server, keras_reads, monkeypatch):
    write_mnist(server / "mnist.npz", n_train=30, n_test=7)
    serve(monkeypatch, mnist, server, "mnist.npz")
    assert_identical(mnist.load_data(), k_mnist.load_data())


def test_fashion_mnist(server, keras_reads, monkeypatch):
    write_fashion_mnist(server, n_train=9, n_test=4)
    serve_folder(monkeypatch, fashion_mnist, server)
    assert_identical(fashion_mnist.load_data(), k_fashion.load_data())


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.3, "seed": 1}, {"test_split": 0.0},
                                    {"seed": 2024, "test_split": 0.55}])
def test_boston_housing(server, keras_reads, monkeypatch, kwargs):
    write_housing(server / "boston_housing.npz", n=506)
    serve(monkeypatch, boston_housing, server, "boston_housing.npz")
    assert_identical(boston_housing.load_data(**kwargs), k_boston.load_data(**kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"version": "small"},
                                    {"version": "small", "test_split": 0.1, "seed": 3}])
def test_california_housing(server, keras_reads, monkeypatch, kwargs):
    write_housing(server / "california_housing.npz", n=1000, features=8)
    serve(monkeypatch, california_housing, server, "california_housing.npz")
    assert_identical(california_housing.load_data(**kwargs), k_california.load_data(**kwargs))


def test_cifar10_full_size(server, keras_reads, monkeypatch):
    """Keras's loader needs the real batch size (10,000 images a batch): 180 MB of fake data."""
    write_cifar10(server / "cifar-10-python.tar.gz", batch_size=10000, test_size=10000,
                  mode="w")  # an uncompressed tar (both read either): quicker to write
    serve(monkeypatch, cifar10, server, "cifar-10-python.tar.gz")
    assert_identical(cifar10.load_data(), k_cifar10.load_data())


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100(server, keras_reads, monkeypatch, label_mode):
    write_cifar100(server / "cifar-100-python.tar.gz", n_train=12, n_test=5)
    serve(monkeypatch, cifar100, server, "cifar-100-python.tar.gz")
    assert_identical(cifar100.load_data(label_mode), k_cifar100.load_data(label_mode))


TEXT_OPTIONS = [{}, {"num_words": 10}, {"num_words": 12, "skip_top": 5},
                {"num_words": 12, "skip_top": 5, "oov_char": None}, {"maxlen": 8},
                {"start_char": None}, {"start_char": None, "index_from": 0},
                {"start_char": 5, "oov_char": 3, "index_from": 7, "num_words": 20},
                {"seed": 7, "maxlen": 10, "num_words": 15}]


@pytest.mark.parametrize("kwargs", TEXT_OPTIONS)
def test_imdb(server, keras_reads, monkeypatch, kwargs):
    write_imdb(server / "imdb.npz", n_train=40, n_test=30)
    serve_folder(monkeypatch, imdb, server, _FILE_HASH="imdb.npz")
    assert_identical(imdb.load_data(**kwargs), k_imdb.load_data(**kwargs))


@pytest.mark.parametrize("kwargs", TEXT_OPTIONS + [{"test_split": 0.5, "seed": 3}])
def test_reuters(server, keras_reads, monkeypatch, kwargs):
    write_reuters(server / "reuters.npz", n=50)
    serve_folder(monkeypatch, reuters, server, _FILE_HASH="reuters.npz")
    assert_identical(reuters.load_data(**kwargs), k_reuters.load_data(**kwargs))


@pytest.mark.parametrize("ours, theirs, name", [(imdb, k_imdb, "imdb_word_index.json"),
                                                (reuters, k_reuters, "reuters_word_index.json")])
def test_word_index(server, keras_reads, monkeypatch, ours, theirs, name):
    (server / name).write_text('{"the": 1, "a": 2, "film": 3}')
    serve_folder(monkeypatch, ours, server, _WORD_INDEX_HASH=name)
    assert ours.get_word_index() == theirs.get_word_index()
