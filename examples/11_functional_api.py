"""Step 11: the functional API: models that are graphs, not stacks.

`keras.Input` gives a symbolic tensor: a shape, no values. Calling a layer on it computes
nothing; it returns a new symbolic tensor and remembers the call. `keras.Model(inputs, outputs)`
follows those calls back from the outputs and runs them in order on real data:

    lectures ─► Dense(2) ─┐
                           concatenate ─► Dense(1, sigmoid) ─► P(pass)
    points   ─► Dense(2) ─┘

Here the tutorial's two numbers come in as two separate inputs, each with its own small layer,
and `fit` takes a list of two arrays. The model is saved to a `.keras` file and loaded back.

Run:  python examples/11_functional_api.py
"""

import os
import tempfile

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(11)

# The data: lectures attended (0-10) and points on the last exam (0-10); pass if both are good.
rng = np.random.default_rng(11)
lectures = rng.uniform(0, 10, size=(200, 1)).astype("float32")
points = rng.uniform(0, 10, size=(200, 1)).astype("float32")
passed = ((lectures + 2 * points) > 15).astype("float32")

# The graph, built by calling layers on symbolic tensors.
lectures_in = keras.Input(shape=(1,), name="lectures")
points_in = keras.Input(shape=(1,), name="points")
print("A symbolic tensor:", lectures_in)
h1 = keras.layers.Dense(2, activation="tanh", name="from_lectures")(lectures_in)
h2 = keras.layers.Dense(2, activation="tanh", name="from_points")(points_in)
merged = keras.layers.concatenate([h1, h2])
output = keras.layers.Dense(1, activation="sigmoid", name="pass_probability")(merged)
model = keras.Model(inputs=[lectures_in, points_in], outputs=output, name="two_inputs")
model.summary()

model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
              metrics=["accuracy"])
x = [lectures / 10, points / 10]  # one array per input, in model.inputs order
history = model.fit(x, passed, epochs=60, batch_size=32, verbose=0)
print(f"Loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}, "
      f"training accuracy {history.history['accuracy'][-1]:.2f}")

# A dict keyed by input name works too; then save, load, and ask the loaded model.
you = {"lectures": np.array([[0.4]], "float32"), "points": np.array([[0.5]], "float32")}
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "two_inputs.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
same = np.array_equal(loaded.predict(you, verbose=0), model.predict(you, verbose=0))
print(f"You (4 lectures, 5 points): P(pass) = {float(model.predict(you, verbose=0)[0, 0]):.3f}; "
      f"the loaded model agrees: {same}")
