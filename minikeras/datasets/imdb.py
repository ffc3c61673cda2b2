"""IMDB: 50,000 movie reviews labelled positive (1) or negative (0), each a list of word indices.

Words are indexed by frequency in the training set (1 = the most frequent word, as in
``get_word_index()``), so "the 10,000 most common words" is ``num_words=10000``. ``load_data``
shifts every index up by ``index_from`` (3) to make room for 0 (padding), ``start_char`` (1) and
``oov_char`` (2).

The file ``imdb.npz`` stores the reviews as object arrays of lists (they have different lengths),
which NumPy can only save as a pickle. Keras 3.15 and minikeras read it with a restricted
unpickler (``npz_utils.load_npz``), never with ``allow_pickle=True``.
"""

import numpy as np

from minikeras.datasets import npz_utils
from minikeras.datasets._common import limit_vocabulary, remove_long_seq
from minikeras.utils.file_utils import get_file

_ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"  # sha256
_WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # md5


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: 25,000 reviews each. x: an object array of lists
    of ints; y: the 0/1 labels.

    Args (as in Keras):
        num_words: keep the ``num_words`` most frequent words; the others become ``oov_char``.
            (With the shift, kept indices are below ``num_words``.) None keeps all.
        skip_top: the ``skip_top`` most frequent indices also become ``oov_char``.
        maxlen: drop the reviews whose length (with the start mark) is ``maxlen`` or more.
        seed: the seed of the shuffle of the training set, then of the test set.
        start_char: put before every review (None: nothing).
        oov_char: replaces dropped words (None: they are removed instead).
        index_from: added to every word index.
    """
    path = get_file(fname=path, origin=f"{_ORIGIN_FOLDER}imdb.npz", file_hash=_FILE_HASH)
    f = npz_utils.load_npz(path)
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]

    rng = np.random.RandomState(seed)  # one generator: the test shuffle continues the stream
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train = [list(x) for x in x_train]
        x_test = [list(x) for x in x_test]

    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")

    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)

    idx = len(x_train)
    x_train, y_train = np.array(xs[:idx], dtype="object"), labels[:idx]
    x_test, y_test = np.array(xs[idx:], dtype="object"), labels[idx:]
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="imdb_word_index.json"):
    """``{word: index}``, 1 for the most frequent word. Add ``index_from`` (3) to match the
    sequences of ``load_data()``."""
    path = get_file(fname=path, origin=f"{_ORIGIN_FOLDER}imdb_word_index.json",
                    file_hash=_WORD_INDEX_HASH)
    import json  # imported here, not at the top: ``import minikeras`` stays fast

    with open(path) as f:
        return json.load(f)
