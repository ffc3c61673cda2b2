"""Step 09: three knobs of training: learning rate, batch size and epochs.

    learning rate η   how far each step goes:  w := w - η dJ/dw
    batch size B      how many examples each step's gradient averages over
    epochs E          how many times training passes over all N examples

One epoch makes ceil(N / B) steps, so training makes E · ceil(N / B) steps in all. Small batches
give many cheap, noisy steps; the whole data set as one batch gives one exact step per epoch.

We train the pass/fail network of step 03 (400 students) on a small grid of learning rates and
batch sizes for 20 epochs, and read the loss after 5 and after 20 epochs. Too small a learning
rate crawls; too large a one overshoots the valley and bounces around it.

Run:  python examples/09_learning_rate_batches_epochs.py
"""

import math

import numpy as np

import minikeras as keras
from minikeras.demos.student_network import SCALE, build_model, class_history

keras.utils.set_random_seed(9)

x, y = class_history()
x = x / SCALE
LEARNING_RATES = (0.01, 0.1, 1.0, 10.0)
BATCH_SIZES = (8, 32, 400)
EPOCHS = 20

losses = {}
for learning_rate in LEARNING_RATES:
    for batch_size in BATCH_SIZES:
        keras.utils.set_random_seed(9)  # the same starting weights and shuffles for each cell
        model = build_model()
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                      loss="binary_crossentropy")
        history = model.fit(x, y, batch_size=batch_size, epochs=EPOCHS, verbose=0)
        losses[learning_rate, batch_size] = history.history["loss"]

print(f"{len(x)} students; updates per epoch = ceil({len(x)} / batch size): "
      + ", ".join(f"B={b}: {math.ceil(len(x) / b)}" for b in BATCH_SIZES))
for epochs in (5, EPOCHS):
    print(f"\nLoss after {epochs} epochs (mean over the epoch's batches; 0.6931 = a coin flip)")
    print(f"{'':>10}" + "".join(f"{f'B={b}':>16}" for b in BATCH_SIZES))
    for learning_rate in LEARNING_RATES:
        row = "".join(f"{losses[learning_rate, b][epochs - 1]:9.4f} "
                      f"({epochs * math.ceil(len(x) / b):4d})" for b in BATCH_SIZES)
        print(f"{f'η={learning_rate}':>10}{row}")
print("(in brackets: the number of updates so far)")

best = min(losses, key=lambda key: losses[key][-1])
worst = max(losses, key=lambda key: losses[key][-1])
print("\nWhat to read in the tables:")
print("  - up to a point, a larger η or a smaller B means more progress in the same epochs;")
print("  - η=0.01 barely moves in 20 epochs: too small a step needs many more epochs;")
print("  - η=10 overshoots: it stays above η=1.0, and with B=400 it ends worse than a coin flip;")
print("  - B=400 (the whole class) makes only one update per epoch: more epochs needed.")
print(f"Best after {EPOCHS} epochs: η={best[0]}, B={best[1]} (loss {losses[best][-1]:.4f}); "
      f"worst: η={worst[0]}, B={worst[1]} (loss {losses[worst][-1]:.4f})")
assert np.isfinite(losses[best][-1])
