"""Will you pass the class? The tutorial's first network, trained end to end.

Two inputs per student: lectures attended (0-10) and points on the last exam (0-8). A hidden
layer of 3 sigmoid neurons, one sigmoid output: the probability of passing. Untrained, its
answer for you (4 lectures, 5 points) is a guess from random weights; after gradient descent on
the class history it has learned from the students before you.
"""

import numpy as np

import minikeras as keras

SCALE = np.array([10.0, 8.0], dtype="float32")  # divide by the maximum: inputs in [0, 1]
YOU = np.array([[4.0, 5.0]], dtype="float32")


def class_history(n=400, seed=0):
    """Past students: who attended more and scored higher tended to pass (seeded, synthetic)."""
    rng = np.random.default_rng(seed)
    lectures = rng.integers(0, 11, size=n).astype("float32")
    points = rng.uniform(0, 8, size=n).astype("float32")
    score = 0.5 * lectures + 0.8 * points - 5.0
    passed = rng.random(n) < 1 / (1 + np.exp(-2.0 * score))
    return np.stack([lectures, points], axis=1), passed.astype("float32")[:, None]


def build_model():
    return keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(3, activation="sigmoid", name="hidden"),
        keras.layers.Dense(1, activation="sigmoid", name="output"),
    ])


def main(epochs=30, verbose=1):
    keras.utils.set_random_seed(42)
    x, y = class_history()
    model = build_model()
    model.summary()
    before = float(model.predict(YOU / SCALE, verbose=0)[0, 0])
    print(f"\nBefore training: P(you pass) = {before:.3f}  (random weights: it knows nothing)\n")

    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x / SCALE, y, batch_size=32, epochs=epochs, verbose=verbose)

    loss, accuracy = model.evaluate(x / SCALE, y, verbose=0)
    after = float(model.predict(YOU / SCALE, verbose=0)[0, 0])
    print(f"\nFinal accuracy on the class history: {accuracy:.3f} (loss {loss:.4f})")
    print(f"After training:  P(you pass) = {after:.3f}  (4 lectures, 5 points)")
    return model, before, after, accuracy
