"""Step 03: will you pass the class? A network with one hidden layer.

Two inputs per student: lectures attended (0-10) and points on the last exam (0-8). Three
hidden sigmoid neurons, one sigmoid output, the probability of passing:

    h = σ(x W1 + b1)        W1: (2, 3), b1: (3,)
    ŷ = σ(h W2 + b2)        W2: (3, 1), b2: (1,)

The walk: (1) the class history, (2) the untrained network's answer for you (4 lectures,
5 points), worked out by hand, (3) how wrong it is: the binary cross-entropy loss, (4) training
with SGD on the students before you, (5) the answer again, (6) a look at the hidden layer
through a second model that stops there.

The data, the model and "you" come from `minikeras.demos.student_network`, the same network
that `python -m minikeras demo` trains.

Run:  python examples/03_student_network.py
"""

import numpy as np

import minikeras as keras
from minikeras.demos.student_network import SCALE, YOU, build_model, class_history

keras.utils.set_random_seed(1)
np.set_printoptions(precision=4, suppress=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# Step 1: the class history. Inputs are divided by their maximum (10 lectures, 8 points) so both
# lie in [0, 1]; example 05 shows why that matters.
x, y = class_history()
print(f"Step 1: {len(x)} past students, {y.mean():.0%} passed. The first three:")
for (lectures, points), passed in zip(x[:3], y[:3, 0], strict=True):
    print(f"  {lectures:2.0f} lectures, {points:4.1f} points -> {'pass' if passed else 'fail'}")
x_scaled, you = x / SCALE, YOU / SCALE

# Step 2: the untrained network, layer by layer, for you.
model = build_model()
W1, b1, W2, b2 = model.get_weights()
h = sigmoid(you @ W1 + b1)
p_you = sigmoid(h @ W2 + b2)
print(f"\nStep 2: untrained forward pass for you, x = {you.ravel()} (4/10, 5/8)")
print(f"  hidden h = σ(x W1 + b1) = {h.ravel()}")
print(f"  output ŷ = σ(h W2 + b2) = {p_you.ravel()}")
print(f"  model.predict agrees:     {model.predict(you, verbose=0).ravel()}")
print("  The weights are random: the network knows nothing about lectures or points yet.")
print("  You did pass (y = 1), so this answer is wrong.")

# Step 3: the loss. You passed (y = 1), so your loss is -log ŷ. Over the whole class the cost is
# the mean of every student's loss: J = -mean[y log ŷ + (1 - y) log(1 - ŷ)].
bce = keras.losses.BinaryCrossentropy()
print("\nStep 3: how wrong is it?")
print(f"  your loss  -log ŷ = {-np.log(p_you[0, 0]):.4f}")
print(f"  class cost J      = {float(bce(y, model(x_scaled))):.4f}  (a coin flip scores 0.6931)")

# Step 4: training. Each batch of 32 students: forward pass, loss, gradients by backpropagation,
# and one SGD step w := w - 1.0 · dJ/dw. Forty passes over the class (epochs).
print("\nStep 4: training with SGD(learning_rate=1.0) and binary cross-entropy")
model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="binary_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_scaled, y, batch_size=32, epochs=40, verbose=0)
for epoch in (0, 9, 19, 29, 39):
    print(f"  epoch {epoch + 1:2d}: loss {history.history['loss'][epoch]:.4f}, "
          f"accuracy {history.history['accuracy'][epoch]:.3f}")

# Step 5: ask again. The class history was drawn from P(pass) = σ(2(0.6·lectures + 0.9·points
# - 6.5)), which gives you σ(0.8) ≈ 0.69: the best a network can learn from this class is about
# that. (You sit close to the pass/fail border, so your answer moves with each SGD step.)
after = float(model.predict(you, verbose=0)[0, 0])
print("\nStep 5: the trained network (the rule behind the data says 0.69 for you)")
print(f"  your loss  -log ŷ = {-np.log(after):.4f}")
print(f"  class cost J      = {float(bce(y, model(x_scaled))):.4f}")
print(f"Before training: P(you pass) = {p_you[0, 0]:.3f}.  After training: P(you pass) = "
      f"{after:.3f}")

# Step 6: look inside. A built Sequential is also a graph of layer calls, so a second model can
# stop at the hidden layer and return its three activations (what the output neuron sees).
hidden_layer = keras.Model(inputs=model.inputs, outputs=model.layers[0].output)
W1, b1, _, _ = model.get_weights()
print("\nStep 6: the three hidden neurons, for a weak student, you, and a strong student")
for name, student in [("weak", [[2, 1]]), ("you", YOU), ("strong", [[9, 7]])]:
    h = hidden_layer.predict(np.asarray(student, "float32") / SCALE, verbose=0)[0]
    print(f"  {name:6s} h = {h}")
same = np.allclose(hidden_layer.predict(x_scaled, verbose=0), sigmoid(x_scaled @ W1 + b1),
                   atol=1e-6)
print(f"  hidden layer through keras.Model(model.inputs, layer.output) == σ(x W1 + b1): {same}")
