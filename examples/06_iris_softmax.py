"""Step 06: more than two classes: softmax and categorical cross-entropy (the iris flowers).

Each flower has four measurements (sepal and petal length and width, in cm) and is one of three
species. The network ends in three units, one per species; softmax turns their scores z into
probabilities that add up to 1, and the loss looks at the probability of the true class:

    softmax:  p_i = e^(z_i) / Σ_j e^(z_j)
    one-hot:  species 2 -> y = [0, 0, 1]          (keras.utils.to_categorical)
    loss:     L = -Σ_i y_i log p_i = -log p_true  (categorical cross-entropy)

The data (Fisher's iris, 150 flowers) ships in examples/data/iris.csv and is read with NumPy.

Run:  python examples/06_iris_softmax.py
"""

from pathlib import Path

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(6)
np.set_printoptions(precision=4, suppress=True)

# Step 1: read the CSV: four numeric columns, then the species name.
CSV = Path(__file__).with_name("data") / "iris.csv"
features = np.loadtxt(CSV, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3), dtype="float32")
names = np.loadtxt(CSV, delimiter=",", skiprows=1, usecols=4, dtype=str)
species = sorted(set(names.tolist()))
labels = np.array([species.index(name) for name in names])
print(f"Step 1: {features.shape[0]} flowers, {features.shape[1]} measurements, "
      f"species {species}")

# Step 2: one-hot labels, a shuffled train/validation split (the file is sorted by species).
y = keras.utils.to_categorical(labels, num_classes=3)
print(f"\nStep 2: label {labels[120]} ({names[120]}) -> one-hot {y[120]}")
order = np.random.default_rng(6).permutation(len(features))
train, val = order[:120], order[120:]
x_train, y_train, x_val, y_val = features[train], y[train], features[val], y[val]
print(f"  {len(train)} flowers to train on, {len(val)} held back for validation")

# Step 3: softmax by hand on made-up scores, to see what the last layer does.
z = np.array([2.0, 1.0, 0.1])
p = np.exp(z) / np.exp(z).sum()
print(f"\nStep 3: softmax({z}) = {p}, sum = {p.sum():.4f}")
print(f"  the same with keras.ops.softmax: {np.asarray(keras.ops.softmax(z))}")
print(f"  if the true class is the first: loss = -log {p[0]:.4f} = {-np.log(p[0]):.4f}")

# Step 4: the network. Normalization standardizes the four measurements (learned from the
# training flowers); one hidden layer; three softmax outputs.
normalizer = keras.layers.Normalization()
normalizer.adapt(x_train)
model = keras.Sequential([
    keras.Input(shape=(4,)),
    normalizer,
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
              loss="categorical_crossentropy", metrics=["accuracy"])
loss, accuracy = model.evaluate(x_val, y_val, verbose=0)
print(f"\nStep 4: untrained: validation loss {loss:.4f} (log 3 = {np.log(3):.4f}), "
      f"accuracy {accuracy:.3f}")

# Step 5: train, watching the validation set at the end of each epoch.
history = model.fit(x_train, y_train, batch_size=16, epochs=60,
                    validation_data=(x_val, y_val), verbose=0)
print("\nStep 5: training with Adam(0.01), batch size 16")
for epoch in (0, 9, 29, 59):
    logs = {key: values[epoch] for key, values in history.history.items()}
    print(f"  epoch {epoch + 1:2d}: loss {logs['loss']:.4f} accuracy {logs['accuracy']:.3f} | "
          f"val_loss {logs['val_loss']:.4f} val_accuracy {logs['val_accuracy']:.3f}")

# Step 6: what the trained network says about three validation flowers.
print("\nStep 6: predictions (probabilities per species)")
probabilities = model.predict(x_val[:3], verbose=0)
for flower, probs, truth in zip(x_val[:3], probabilities, y_val[:3], strict=True):
    print(f"  {flower} -> {probs} -> {species[probs.argmax()]:<10} "
          f"(true: {species[truth.argmax()]})")

loss, accuracy = model.evaluate(x_val, y_val, verbose=0)
print(f"\nValidation accuracy: {accuracy:.3f} ({round(accuracy * len(val))}/{len(val)} flowers), "
      f"loss {loss:.4f}")
