"""ModelCheckpoint during a real ``fit`` (NumPy only).

A linear model ``y = x @ kernel + bias`` is trained by SGD with momentum, one batch per epoch;
a recorder placed after the checkpoint notes the weights and the checkpoint files at each epoch
end. Every file the checkpoint wrote is then loaded back and must hold the weights (and predict
``x @ kernel + bias``) of the epoch that wrote it. With ``save_best_only`` a file is (re)written
only at the epochs whose ``val_loss`` beats every earlier one, and left untouched otherwise.
"""

import hashlib
import os

import numpy as np
import pytest

import minikeras
from minikeras import callbacks, layers, saving

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
FORMATS = [".keras", ".h5", ".weights.h5"]
EPOCHS = 8
TRUE_KERNEL = np.array([[1.0], [-2.0], [0.5]])


@pytest.fixture(autouse=True)
def _fresh():
    minikeras.backend.clear_session()


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    x_val = rng.normal(size=(16, 3)).astype("float32")
    y, y_val = (x @ TRUE_KERNEL).astype("float32"), (x_val @ TRUE_KERNEL).astype("float32")
    return (x, y), (x_val, y_val)


def make_model():
    """SGD(0.2, momentum=0.8) overshoots: val_loss falls, rises for a while, then falls again
    (checked in ``improving_epochs``), so ``save_best_only`` has both cases to handle."""
    model = minikeras.Sequential([minikeras.Input((3,)),
                                  layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=minikeras.optimizers.SGD(0.2, momentum=0.8), loss="mse")
    return model


class Recorder(callbacks.Callback):
    """At each epoch end: the weights, and for every file in ``folder`` its inode, mtime and a hash
    of its bytes."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder
        self.weights, self.files = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.files.append({name: file_state(self.folder / name)
                           for name in sorted(os.listdir(self.folder))})


def file_state(path):
    stat = os.stat(path)
    return stat.st_ino, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def fit_with_checkpoint(tmp_path, data, filepath, **kwargs):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    save_weights_only = filepath.endswith(".weights.h5")
    checkpoint = callbacks.ModelCheckpoint(str(folder / filepath),
                                           save_weights_only=save_weights_only, **kwargs)
    recorder = Recorder(folder)
    model = make_model()
    history = model.fit(*data[0], validation_data=data[1], batch_size=32, epochs=EPOCHS,
                        shuffle=False, verbose=0, callbacks=[checkpoint, recorder])
    return folder, history.history["val_loss"], recorder


def load(path):
    """``load_model``, or ``load_weights`` into a new model whose optimizer is built (Keras
    restores an optimizer's state only into a built one)."""
    if not str(path).endswith(".weights.h5"):
        return saving.load_model(path)
    model = make_model()
    model.optimizer.build(model.trainable_variables)
    model.load_weights(path)
    return model


def assert_holds_epoch(path, recorder, epoch, x):
    """The file at ``path`` has the weights of ``epoch`` (0-based), predicts with them, and has
    the optimizer's state of that epoch (one step per epoch)."""
    model = load(path)
    kernel, bias = recorder.weights[epoch]
    for loaded, expected in zip(model.get_weights(), recorder.weights[epoch], strict=True):
        np.testing.assert_array_equal(loaded, expected)
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-6,
                               atol=1e-6)
    assert int(model.optimizer.iterations.numpy()) == epoch + 1


def improving_epochs(val_losses):
    """The 0-based epochs whose val_loss is below every earlier one."""
    best, improving = np.inf, []
    for epoch, value in enumerate(val_losses):
        if value < best:
            best = value
            improving.append(epoch)
    # Meaningful only if some epoch does not improve and a later one does (a gap before the last).
    assert improving[-1] > len(improving) - 1
    return improving


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_epoch_is_saved_under_its_formatted_name(tmp_path, data, suffix):
    folder, val_losses, recorder = fit_with_checkpoint(
        tmp_path, data, "model-{epoch:02d}-{val_loss:.2f}" + suffix)
    names = [f"model-{epoch + 1:02d}-{value:.2f}{suffix}" for epoch, value in enumerate(val_losses)]
    assert sorted(os.listdir(folder)) == sorted(names)
    for epoch, name in enumerate(names):
        assert name in recorder.files[epoch]  # written at that epoch's end
        assert_holds_epoch(folder / name, recorder, epoch, data[1][0])


@pytest.mark.parametrize("suffix", FORMATS)
def test_save_best_only_rewrites_one_file_only_on_improvement(tmp_path, data, suffix):
    folder, val_losses, recorder = fit_with_checkpoint(tmp_path, data, "best" + suffix,
                                                       save_best_only=True)
    improving = improving_epochs(val_losses)
    states = [files["best" + suffix] for files in recorder.files]
    for epoch in range(1, EPOCHS):
        if epoch in improving:  # a new file (atomic replace) with other weights
            assert states[epoch][2] != states[epoch - 1][2]
        else:  # not touched: same inode, same mtime, same bytes
            assert states[epoch] == states[epoch - 1]
    assert os.listdir(folder) == ["best" + suffix]
    assert_holds_epoch(folder / ("best" + suffix), recorder, improving[-1], data[1][0])


@pytest.mark.parametrize("suffix", FORMATS)
def test_save_best_only_with_the_epoch_in_the_name_keeps_each_improvement(tmp_path, data,
                                                                          suffix):
    folder, val_losses, recorder = fit_with_checkpoint(tmp_path, data, "best-{epoch:02d}" + suffix,
                                                       save_best_only=True)
    improving = improving_epochs(val_losses)
    assert sorted(os.listdir(folder)) == [f"best-{epoch + 1:02d}{suffix}" for epoch in improving]
    for epoch in improving:
        path = folder / f"best-{epoch + 1:02d}{suffix}"
        assert_holds_epoch(path, recorder, epoch, data[1][0])
        assert recorder.files[epoch][path.name] == file_state(path)  # never rewritten later


def test_a_monitor_missing_from_the_logs_saves_every_epoch_with_a_warning(tmp_path, data):
    with pytest.warns(UserWarning, match="Can save best model only with val_accuracy available"):
        folder, _, recorder = fit_with_checkpoint(tmp_path, data, "m-{epoch}.keras",
                                                  monitor="val_accuracy", mode="max",
                                                  save_best_only=True)
    assert sorted(os.listdir(folder)) == sorted(f"m-{epoch}.keras" for epoch in range(1, 9))
    assert_holds_epoch(folder / "m-8.keras", recorder, EPOCHS - 1, data[1][0])
