"""Step 08: overfitting, and two remedies: Dropout and EarlyStopping.

A network with far more weights than training examples can learn the noise in those examples
by heart. Its training loss keeps falling while its loss on examples it has not seen (the
validation set) turns and rises: it has overfit.

    validation_split=0.3    the last 30% of the data is held out and scored after each epoch
    Dropout(rate)           while training, each unit's output is zeroed with probability rate
                            and the survivors are scaled by 1 / (1 - rate); at prediction time
                            it does nothing. No unit can rely on one particular other unit.
    EarlyStopping           stop when val_loss has not improved for `patience` epochs, and
                            (restore_best_weights=True) go back to the best epoch's weights

The data: 40 noisy samples of y = sin(x) + noise with noise variance 0.25, so even the perfect
curve scores an MSE of about 0.25 on new samples. A training loss far below that is memorised
noise. The 12 validation samples are few and they choose EarlyStopping's epoch, so the final
verdict comes from 500 fresh test samples. With this little data the numbers move with the seed;
the pattern (no dropout worst on the test set) is the lesson.

Run:  python examples/08_dropout_overfitting.py
"""

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(8)

rng = np.random.default_rng(8)
x = rng.uniform(-3, 3, size=(40, 1)).astype("float32")
y = (np.sin(x) + rng.normal(0, 0.5, size=(40, 1))).astype("float32")
# Fresh samples from the same source, never used while training or choosing: the test set.
x_test = rng.uniform(-3, 3, size=(500, 1)).astype("float32")
y_test = (np.sin(x_test) + rng.normal(0, 0.5, size=(500, 1))).astype("float32")
EPOCHS = 300


def big_network(dropout_rate):
    """Two hidden layers of 128 ReLU units (about 17 000 weights for 28 training samples)."""
    keras.utils.set_random_seed(8)  # the same starting weights for every run
    layers = [keras.Input(shape=(1,))]
    for _ in range(2):
        layers.append(keras.layers.Dense(128, activation="relu"))
        if dropout_rate:
            layers.append(keras.layers.Dropout(dropout_rate))
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


RUNS = {
    "no dropout": (0.0, []),
    "Dropout(0.5)": (0.5, []),
    "Dropout + EarlyStopping": (0.5, [keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=30, restore_best_weights=True)]),
}
histories, finals = {}, {}
for name, (rate, callbacks) in RUNS.items():
    model = big_network(rate)
    history = model.fit(x, y, batch_size=16, epochs=EPOCHS, validation_split=0.3, verbose=0,
                        callbacks=callbacks)
    histories[name] = history.history
    # Test loss of the weights the model ends with (for EarlyStopping: the restored best ones).
    finals[name] = model.evaluate(x_test, y_test, verbose=0)
    print(f"trained {name!r}: {len(history.history['loss'])} epochs")

# Side by side: training loss / validation loss of each run at a few epochs.
print(f"\n{'epoch':>5} | " + " | ".join(f"{name:^23}" for name in RUNS))
print(f"{'':>5} | " + " | ".join(f"{'train':>11} {'val':>11}" for _ in RUNS))
for epoch in (1, 10, 25, 50, 100, 200, 300):
    cells = []
    for name in RUNS:
        logs = histories[name]
        cells.append(f"{logs['loss'][epoch - 1]:11.4f} {logs['val_loss'][epoch - 1]:11.4f}"
                     if epoch <= len(logs["loss"]) else f"{'(stopped)':>23}")
    print(f"{epoch:>5} | " + " | ".join(cells))

true_curve = float(np.mean((np.sin(x_test) - y_test) ** 2))
print(f"\nTest loss on 500 new samples (the true curve sin(x) itself scores {true_curve:.4f}):")
for name, logs in histories.items():
    best = int(np.argmin(logs["val_loss"]))
    print(f"  {name:<24} {finals[name]:.4f}   (best epoch {best + 1}: "
          f"{logs['val_loss'][best]:.4f}; last training loss {logs['loss'][-1]:.4f})")
print("Training loss below the noise level while val_loss climbs is overfitting:\n"
      "dropout slows it down, early stopping keeps the best epoch.")
