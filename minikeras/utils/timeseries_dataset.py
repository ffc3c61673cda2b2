"""timeseries_dataset_from_array: sliding windows over a time series, in batches
(``keras.utils.timeseries_dataset_from_array``).

Window ``i`` starts at ``start_index + i * sequence_stride`` and takes ``sequence_length``
steps, ``sampling_rate`` apart::

    window_i = data[s_i : s_i + sequence_length * sampling_rate : sampling_rate]
    target_i = targets[s_i]                      s_i = start_index + i * sequence_stride

Keras returns a ``tf.data.Dataset``; minikeras returns a ``PyDataset`` of the same batches
(``fit``, ``evaluate`` and ``predict`` take it; ``list(ds)`` or ``ds[i]`` gives the batches).
"""

import numpy as np

from minikeras.utils.py_dataset import PyDataset


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Windows of ``data`` (timesteps first) and, unless ``targets`` is None, the target of each
    window (the target at its first step): batches ``(windows, targets)`` or ``windows``.

    Only timesteps in ``[start_index, end_index)`` are used; ``batch_size=None`` gives one window
    per item, unbatched. ``shuffle=True`` shuffles the windows' start positions with
    ``np.random.RandomState(seed)``, exactly as Keras does; Keras's tf.data then also shuffles
    locally (a buffer of ``8 * batch_size`` windows), which minikeras does not: the same windows
    come out, not in the same order. ``format`` ("tf" or "grain") is checked and ignored.
    """
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= len(data):
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length "
                             f"{len(data)}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= len(data):
            raise ValueError("`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {len(data)}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= len(data):
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {len(data)}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')

    start_index = 0 if start_index is None else start_index
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    start_positions = np.arange(0, num_seqs, sequence_stride,
                                dtype="int32" if num_seqs < 2147483647 else "int64")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(start_positions)
    data = np.asarray(data)[start_index:end_index]
    if targets is not None:
        targets = np.asarray(targets)[start_index:end_index]
    return TimeseriesDataset(data, targets, start_positions, sequence_length, sampling_rate,
                             batch_size)


class TimeseriesDataset(PyDataset):
    """The windows made by ``timeseries_dataset_from_array``, cut on demand, batch by batch."""

    def __init__(self, data, targets, start_positions, sequence_length, sampling_rate,
                 batch_size):
        super().__init__()
        self.data, self.targets = data, targets
        self.start_positions = start_positions
        self.offsets = np.arange(sequence_length) * sampling_rate  # a window's steps
        self.batch_size = batch_size

    def __len__(self):
        if self.batch_size is None:
            return len(self.start_positions)
        return -(-len(self.start_positions) // self.batch_size)  # the last batch may be short

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        if self.batch_size is None:
            starts = self.start_positions[index]
        else:
            starts = self.start_positions[index * self.batch_size:(index + 1) * self.batch_size]
        windows = self.data[np.add.outer(starts, self.offsets)]
        if self.targets is None:
            return windows
        return windows, self.targets[starts]
