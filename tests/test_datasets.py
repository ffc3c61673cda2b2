"""``keras.datasets``, offline: fake files with the real files' structure, served from ``file://``.

``compat_tests/test_datasets_parity.py`` loads the same fakes with Keras's own loaders and checks
that the arrays are identical; here we check shapes, dtypes, values and the options.
"""

import os
import pickle

import numpy as np
import pytest
from dataset_fakes import (
    RunsCommand,
    npz_with_pickle_member,
    object_array,
    serve,
    serve_folder,
    write_cifar10,
    write_cifar100,
    write_fashion_mnist,
    write_housing,
    write_imdb,
    write_mnist,
    write_reuters,
    write_tar,
)

import minikeras as keras
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
from minikeras.datasets.npz_utils import load_npz


def assert_same(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def test_keras_origins_and_hashes_are_kept():
    """Checked against Keras itself in compat_tests; here, that the tests did not change them."""
    base = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    assert mnist._ORIGIN == base + "mnist.npz"
    assert mnist._FILE_HASH.startswith("731c5ac6")
    assert cifar10._ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert imdb._ORIGIN_FOLDER == reuters._ORIGIN_FOLDER == fashion_mnist._ORIGIN_FOLDER == base


# --- mnist, fashion_mnist ----------------------------------------------------------------------
def test_mnist_tutorial_line(home, server, monkeypatch):
    expected = write_mnist(server / "mnist.npz")
    serve(monkeypatch, mnist, server, "mnist.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    for name, array in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test),
                        ("y_test", y_test)]:
        assert_same(array, expected[name])
    assert (home / "datasets" / "mnist.npz").is_file()
    (server / "mnist.npz").unlink()  # cached: works without the origin
    assert_same(mnist.load_data()[0][0], expected["x_train"])


def test_mnist_path_argument_and_hash_check(home, server, monkeypatch):
    write_mnist(server / "mnist.npz")
    serve(monkeypatch, mnist, server, "mnist.npz")
    mnist.load_data(path="my_mnist.npz")
    assert (home / "datasets" / "my_mnist.npz").is_file()
    monkeypatch.setattr(mnist, "_FILE_HASH", "0" * 64)  # as if the file on the server changed
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        mnist.load_data(path="other.npz")


def test_mnist_refuses_pickles(home, server, monkeypatch):
    npz_with_pickle_member(server / "mnist.npz", "x_train", pickle.dumps([1, 2]))
    serve(monkeypatch, mnist, server, "mnist.npz")
    with pytest.raises(ValueError, match="allow_pickle=False"):
        mnist.load_data()


def test_fashion_mnist(home, server, monkeypatch):
    expected = write_fashion_mnist(server)
    serve_folder(monkeypatch, fashion_mnist, server)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    assert_same(x_train, expected["x_train"])
    assert_same(y_train, expected["y_train"])
    assert_same(x_test, expected["x_test"])
    assert_same(y_test, expected["y_test"])
    assert sorted(os.listdir(home / "datasets" / "fashion-mnist")) == sorted(fashion_mnist._FILES)


# --- housing -----------------------------------------------------------------------------------
def test_boston_housing_split_and_seeded_shuffle(home, server, monkeypatch):
    x, y = write_housing(server / "boston_housing.npz", n=20)
    serve(monkeypatch, boston_housing, server, "boston_housing.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
    assert x_train.shape == (16, 13) and x_test.shape == (4, 13)
    assert y_train.shape == (16,) and y_test.shape == (4,) and y_train.dtype == np.float64
    order = np.random.RandomState(113).permutation(20)  # Keras's seeded shuffle
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), order)
    assert_same(np.concatenate([x_train, x_test]), x[order])  # rows keep their targets

    (x_train, _), (x_test, y_test) = boston_housing.load_data(test_split=0.25, seed=7)
    assert len(x_train) == 15 and len(x_test) == 5
    np.testing.assert_array_equal(y_test, np.random.RandomState(7).permutation(20)[15:])
    (x_train, _), (x_test, _) = boston_housing.load_data(test_split=0)
    assert len(x_train) == 20 and len(x_test) == 0
    for bad in (1, -0.1, 1.5):
        with pytest.raises(ValueError, match=f"Invalid `test_split` argument: {bad}"):
            boston_housing.load_data(test_split=bad)


def test_california_housing_versions(home, server, monkeypatch):
    x, y = write_housing(server / "california_housing.npz", n=700, features=8)
    serve(monkeypatch, california_housing, server, "california_housing.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.california_housing.load_data()
    assert x_train.shape == (560, 8) and x_test.shape == (140, 8)
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]),
                                  np.random.RandomState(113).permutation(700))
    (x_train, y_train), (x_test, _) = california_housing.load_data(version="small")
    assert x_train.shape == (480, 8) and x_test.shape == (120, 8)
    assert y_train.max() < 600  # only the first 600 rows
    with pytest.raises(ValueError, match="Argument `version` must be one of 'small', 'large'"):
        california_housing.load_data(version="medium")


# --- cifar -------------------------------------------------------------------------------------
def test_cifar10(home, server, monkeypatch):
    batches = write_cifar10(server / "cifar-10-python.tar.gz", batch_size=2, test_size=3)
    serve(monkeypatch, cifar10, server, "cifar-10-python.tar.gz")
    monkeypatch.setattr(cifar10, "_BATCH_SIZE", 2)  # the real batches hold 10,000 images
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_test.shape == (3, 1)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    first = batches["data_batch_1"]
    # Row 0 of the file: 1024 red values, then green, then blue; pixel (i, j) in channel c.
    np.testing.assert_array_equal(x_train[0, :, :, 1], first[b"data"][0, 1024:2048].reshape(32, 32))
    np.testing.assert_array_equal(y_train[:, 0], sum((batches[f"data_batch_{i}"][b"labels"]
                                                      for i in range(1, 6)), []))
    np.testing.assert_array_equal(y_test[:, 0], batches["test_batch"][b"labels"])
    datadir = home / "datasets"
    assert (datadir / "cifar-10-batches-py-target_archive").is_file()  # Keras 3.15's names
    assert (datadir / "cifar-10-batches-py-target" / "cifar-10-batches-py").is_dir()


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100(home, server, monkeypatch, label_mode):
    batches = write_cifar100(server / "cifar-100-python.tar.gz")
    serve(monkeypatch, cifar100, server, "cifar-100-python.tar.gz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar100.load_data(label_mode)
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert x_train.dtype == np.uint8
    assert y_train.shape == (4, 1) and y_train.dtype == np.int64  # as Keras: from a list
    np.testing.assert_array_equal(y_test[:, 0], batches["test"][f"{label_mode}_labels".encode()])
    np.testing.assert_array_equal(x_test.transpose(0, 3, 1, 2).reshape(3, -1),
                                  batches["test"][b"data"])


def test_cifar100_label_mode_error():
    with pytest.raises(ValueError, match='`label_mode` must be one of `"fine"`, `"coarse"`'):
        cifar100.load_data("medium")


def test_malicious_cifar_pickle_is_refused_without_running(home, server, monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(RunsCommand(f"touch {marker}"), protocol=2)
    assert b"system" in evil
    files = {"cifar-100-python/train": evil, "cifar-100-python/test": evil}
    write_tar(server / "cifar-100-python.tar.gz", files)
    serve(monkeypatch, cifar100, server, "cifar-100-python.tar.gz")
    with pytest.raises(pickle.UnpicklingError, match=r"Refusing to deserialize `posix.system` "
                                                     "while loading a Keras dataset"):
        cifar100.load_data()
    assert not marker.exists()
    pickle.loads(evil)  # the same bytes through plain pickle do run the command
    assert marker.exists()


# --- imdb, reuters -----------------------------------------------------------------------------
def test_imdb_npz_structure_is_read_safely(tmp_path):
    arrays = write_imdb(tmp_path / "imdb.npz")
    loaded = load_npz(tmp_path / "imdb.npz")
    assert loaded["x_train"].dtype == object and loaded["x_train"].shape == (8,)
    assert [list(s) for s in loaded["x_train"]] == [list(s) for s in arrays["x_train"]]
    assert_same(loaded["y_train"], arrays["y_train"])


def serve_one_review(monkeypatch, server, train, test, label_train=1, label_test=0):
    """An imdb.npz with one training and one test review: the shuffle cannot move anything."""
    np.savez(server / "imdb.npz", x_train=object_array([train]), x_test=object_array([test]),
             y_train=np.array([label_train]), y_test=np.array([label_test]))
    serve_folder(monkeypatch, imdb, server, _FILE_HASH="imdb.npz")


def test_imdb_options_by_hand(home, server, monkeypatch):
    serve_one_review(monkeypatch, server, train=[1, 2, 3, 9], test=[4, 1])
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    # start_char=1, then each index + 3; num_words=None means "below the largest index", so the
    # largest (9 + 3 = 12) becomes oov_char=2, as in Keras.
    assert x_train.dtype == object and list(x_train[0]) == [1, 4, 5, 6, 2]
    assert list(x_test[0]) == [1, 7, 4]
    assert list(y_train) == [1] and list(y_test) == [0]

    (x_train, _), _ = imdb.load_data(num_words=6)
    assert list(x_train[0]) == [1, 4, 5, 2, 2]
    (x_train, _), _ = imdb.load_data(num_words=6, skip_top=5)
    assert list(x_train[0]) == [2, 2, 5, 2, 2]
    (x_train, _), _ = imdb.load_data(num_words=6, skip_top=5, oov_char=None)
    assert list(x_train[0]) == [5]
    (x_train, _), _ = imdb.load_data(start_char=None, index_from=0, num_words=100)
    assert list(x_train[0]) == [1, 2, 3, 9]
    (x_train, _), _ = imdb.load_data(start_char=None, num_words=100)
    assert list(x_train[0]) == [4, 5, 6, 12]
    (x_train, _), _ = imdb.load_data(start_char=7, index_from=10, num_words=100)
    assert list(x_train[0]) == [7, 11, 12, 13, 19]
    (x_train, _), (x_test, _) = imdb.load_data(maxlen=6)  # lengths 5 and 3 are both < 6
    assert len(x_train) == len(x_test) == 1
    with pytest.raises(ValueError, match="After filtering for sequences shorter than maxlen=5, "
                                         "no sequence was kept. Increase maxlen."):
        imdb.load_data(maxlen=5)  # the training review has length 5: not shorter than 5


def test_imdb_seeded_shuffle_keeps_labels(home, server, monkeypatch):
    # Review i is [i + 1] * 3 and has label i: the shuffle must move both together.
    train = [[i + 1] * 3 for i in range(10)] + [[1, 2]]
    np.savez(server / "imdb.npz", x_train=object_array(train), y_train=np.arange(11),
             x_test=object_array([[i + 1, 1] for i in range(5)]), y_test=np.arange(5))
    serve_folder(monkeypatch, imdb, server, _FILE_HASH="imdb.npz")
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=1000, seed=5)
    rng = np.random.RandomState(5)  # one stream: training order first, then test order
    np.testing.assert_array_equal(y_train, rng.permutation(11))
    np.testing.assert_array_equal(y_test, rng.permutation(5))
    for seq, label in zip(x_train, y_train, strict=True):
        assert seq == ([1] + [label + 4] * 3 if label < 10 else [1, 4, 5])
    (x_train2, _), _ = imdb.load_data(num_words=1000, seed=5)
    assert list(x_train2) == list(x_train)


def test_imdb_get_word_index(home, server, monkeypatch):
    (server / "imdb_word_index.json").write_text('{"the": 1, "and": 2}')
    serve_folder(monkeypatch, imdb, server, _WORD_INDEX_HASH="imdb_word_index.json")
    assert keras.datasets.imdb.get_word_index() == {"the": 1, "and": 2}


def test_malicious_imdb_npz_is_refused_without_running(home, server, monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    npz_with_pickle_member(server / "imdb.npz", "x_train",
                           pickle.dumps(RunsCommand(f"touch {marker}"), protocol=3))
    serve_folder(monkeypatch, imdb, server, _FILE_HASH="imdb.npz")
    with pytest.raises(pickle.UnpicklingError, match="Refusing to deserialize `posix.system`"):
        imdb.load_data()
    assert not marker.exists()


def test_npz_pickle_must_be_an_array(tmp_path):
    npz_with_pickle_member(tmp_path / "x.npz", "x", pickle.dumps([1, 2, 3]))
    with pytest.raises(pickle.UnpicklingError, match="Expected a NumPy array .* found list"):
        load_npz(tmp_path / "x.npz")
    npz_with_pickle_member(tmp_path / "y.npz", "x", pickle.dumps({"a": eval}, protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to deserialize `builtins.eval`"):
        load_npz(tmp_path / "y.npz")


def test_reuters(home, server, monkeypatch):
    arrays = write_reuters(server / "reuters.npz", n=15)
    serve_folder(monkeypatch, reuters, server, _FILE_HASH="reuters.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.reuters.load_data(num_words=1000)
    assert len(x_train) == 12 and len(x_test) == 3  # int(15 * 0.8)
    assert x_train.dtype == object
    order = np.random.RandomState(113).permutation(15)
    assert_same(np.concatenate([y_train, y_test]), arrays["y"][order])
    expected = [[1] + [w + 3 for w in arrays["x"][i]] for i in order]
    assert [list(s) for s in np.concatenate([x_train, x_test])] == expected

    (x_train, _), (x_test, _) = reuters.load_data(test_split=0.4, num_words=10, skip_top=4)
    assert len(x_train) == 9 and len(x_test) == 6
    assert all(w == 2 or 4 <= w < 10 for s in x_train for w in s)
    (x_train, _), (x_test, _) = reuters.load_data(maxlen=5)
    assert all(len(s) < 5 for s in list(x_train) + list(x_test))


def test_reuters_word_index_and_label_names(home, server, monkeypatch):
    (server / "reuters_word_index.json").write_text('{"said": 1}')
    serve_folder(monkeypatch, reuters, server, _WORD_INDEX_HASH="reuters_word_index.json")
    assert reuters.get_word_index() == {"said": 1}
    names = reuters.get_label_names()
    assert isinstance(names, tuple) and len(names) == 46
    assert names[:4] == ("cocoa", "grain", "veg-oil", "earn") and names[-1] == "lead"
