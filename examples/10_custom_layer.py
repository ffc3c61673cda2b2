"""Step 10: write your own layer, and your own training loop.

A layer is a class with weights and a `call`. This one is the dense layer of the tutorials,
written out: `y = σ(x W + b)`.

    class MyDenseLayer(keras.layers.Layer)
        build(input_shape)   creates W: (input_dim, units) and b: (units,) with add_weight
        call(inputs)         returns ops.sigmoid(ops.matmul(inputs, W) + b)

Because `call` uses `keras.ops`, a GradientTape records it and can differentiate it: no
backward code is needed. The training loop that `fit` runs for us is written out too:

    for each epoch, for each batch:
        with GradientTape() as tape:
            loss = loss_fn(y, model(x))                  forward, recorded
        grads = tape.gradient(loss, weights)            backward (the chain rule)
        optimizer.apply(grads, weights)                 w := w - η dJ/dw

Run:  python examples/10_custom_layer.py
"""

import numpy as np

import minikeras as keras
from minikeras import ops
from minikeras.demos.student_network import SCALE, YOU, build_model, class_history

keras.utils.set_random_seed(10)


class MyDenseLayer(keras.layers.Layer):
    """A fully connected layer with a sigmoid: y = σ(x W + b)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        # Weights are made when the layer first sees an input, so the input size is known.
        self.W = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="glorot_uniform", name="W")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, inputs):
        z = ops.matmul(inputs, self.W) + self.b
        return ops.sigmoid(z)


# Step 1: the pass/fail network of step 03, made of our layer.
model = keras.Sequential([keras.Input(shape=(2,)), MyDenseLayer(3), MyDenseLayer(1)])
print("Step 1: weights", [(w.path, w.shape) for w in model.trainable_weights])

# Step 2: the training loop, by hand: shuffled batches of 32, SGD, binary cross-entropy.
x, y = class_history()
x = x / SCALE
loss_fn = keras.losses.BinaryCrossentropy()
optimizer = keras.optimizers.SGD(learning_rate=1.0)
rng = np.random.default_rng(10)
print("\nStep 2: training with a hand-written GradientTape loop")
for epoch in range(1, 41):
    order = rng.permutation(len(x))
    batch_losses = []
    for start in range(0, len(x), 32):
        batch = order[start:start + 32]
        with keras.GradientTape() as tape:
            loss = loss_fn(y[batch], model(x[batch]))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        batch_losses.append(float(loss) * len(batch))
    if epoch in (1, 10, 20, 40):
        print(f"  epoch {epoch:2d}: mean loss {sum(batch_losses) / len(x):.4f}")

accuracy = float(np.mean((np.asarray(model(x)) > 0.5) == y))
you_pass = float(model(YOU / SCALE)[0, 0])
print(f"  accuracy on the class: {accuracy:.3f}, P(you pass) = {you_pass:.3f}")

# Step 3: our layer is the same as Dense(units, activation="sigmoid"): give a Dense model the
# weights we trained, and it predicts the same numbers.
dense_model = build_model()
dense_model.set_weights(model.get_weights())
difference = np.abs(dense_model.predict(x, verbose=0) - np.asarray(model(x))).max()
assert difference < 1e-6, difference
print(f"\nStep 3: Dense model with our trained weights: largest prediction difference "
      f"{difference:.1e}")
print(f"MyDenseLayer trained by hand: accuracy {accuracy:.3f}, same predictions as Dense")
