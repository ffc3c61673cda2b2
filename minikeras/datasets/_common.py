"""Helpers shared by several datasets, written as Keras writes them: the seeded shuffle and
train/test cut of the housing datasets, and the length and vocabulary filters of the text
datasets."""

import numpy as np


def check_test_split(test_split):
    if not (0 <= test_split < 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split}. "
                         "It must be between 0 and 1 (exclusive of 1).")


def shuffle_and_split(x, y, test_split, seed):
    """Shuffle with ``np.random.RandomState(seed)`` (Keras's generator, so the same seed gives the
    same order as Keras), then the first ``int(n * (1 - test_split))`` rows are for training."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def remove_long_seq(maxlen, seq, label):
    """Keep only the sequences shorter than ``maxlen`` (strictly, as Keras), with their labels."""
    new_seq, new_label = [], []
    for x, y in zip(seq, label, strict=True):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def limit_vocabulary(seqs, num_words, skip_top, oov_char):
    """Keep the word indices in ``[skip_top, num_words)``; the others become ``oov_char``, or are
    dropped when it is None. Without ``num_words`` the largest index is the limit (and so, as in
    Keras, counts as out of range itself)."""
    if not num_words:
        num_words = max(max(x) for x in seqs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in seqs]
    return [[w for w in x if skip_top <= w < num_words] for x in seqs]
