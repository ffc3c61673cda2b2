"""Step 07: the loss landscape, and the path gradient descent takes across it.

A one-neuron model has two parameters, the bias w0 and the weight w1:

    ŷ = σ(w0 + w1·x)        J(w0, w1) = binary cross-entropy over the data set

Every point (w0, w1) of the plane gives one value of J: a landscape. Gradient descent starts at
some point, asks which way is uphill (the gradient ∇J = (dJ/dw0, dJ/dw1)), and steps the other
way:  (w0, w1) := (w0, w1) - η ∇J.  Repeating that walks it down into the valley.

We evaluate J with the model itself over a grid, print a text contour map with the path drawn
on it, and (with --plot, if matplotlib is installed) save the same picture as a PNG.

Run:  python examples/07_loss_landscape.py [--plot [FILE.png]]
"""

import argparse

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(7)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--plot", nargs="?", const="loss_landscape.png", metavar="FILE.png",
                    help="also save the landscape as a PNG (needs matplotlib)")
args = parser.parse_args()

# Step 1: data. One input (hours of study, centred), pass/fail labels with some overlap, so that
# the lowest point of the landscape lies at finite weights.
rng = np.random.default_rng(7)
x = rng.normal(0, 1, size=(120, 1)).astype("float32")
y = (rng.random((120, 1)) < 1 / (1 + np.exp(-(0.8 + 2.0 * x)))).astype("float32")

model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, activation="sigmoid")])
bce = keras.losses.BinaryCrossentropy()


def move_to(w0, w1):
    """Give the neuron bias w0 and weight w1 (a Dense kernel is (inputs, units): here (1, 1))."""
    model.set_weights([np.array([[w1]], dtype="float32"), np.array([w0], dtype="float32")])


def J(w0, w1):
    """The model's loss with bias w0 and weight w1."""
    move_to(w0, w1)
    return float(bce(y, model(x)))


# Step 2: the landscape on a grid: w0 (bias) across, w1 (weight) up.
w0_grid = np.linspace(-4, 4, 61)
w1_grid = np.linspace(-4, 6, 25)
landscape = np.array([[J(w0, w1) for w0 in w0_grid] for w1 in w1_grid])
low = np.unravel_index(landscape.argmin(), landscape.shape)
print(f"Step 2: J over a {len(w1_grid)}x{len(w0_grid)} grid: from {landscape.min():.3f} "
      f"(near w0={w0_grid[low[1]]:.2f}, w1={w1_grid[low[0]]:.2f}) to {landscape.max():.2f}")

# Step 3: gradient descent from a poor start, full batch, recording where it is after each step.
start = (-3.5, -3.0)
move_to(*start)
path = [start]


def remember_position(epoch, logs):
    kernel, bias = model.get_weights()
    path.append((float(bias[0]), float(kernel[0, 0])))


model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="binary_crossentropy")
model.fit(x, y, batch_size=len(x), epochs=40, shuffle=False, verbose=0,
          callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=remember_position)])
print(f"\nStep 3: 40 steps of gradient descent (η = 1.0) from w0={start[0]}, w1={start[1]}")
for step in (0, 1, 2, 5, 10, 20, 40):
    w0, w1 = path[step]
    print(f"  step {step:2d}: w0 = {w0:6.3f}, w1 = {w1:6.3f}, J = {J(w0, w1):.4f}")

# Step 4: the text contour map. Darker characters are higher loss; S is the start, o the path,
# E where it ended. The levels are spaced on a log scale so the valley floor shows detail.
SHADES = " .:-=+*#%@"
levels = np.log(landscape)
levels = (levels - levels.min()) / (levels.max() - levels.min())
canvas = [[SHADES[min(int(v * len(SHADES)), len(SHADES) - 1)] for v in row] for row in levels]


def cell(w0, w1):
    column = int(round((w0 - w0_grid[0]) / (w0_grid[1] - w0_grid[0])))
    row = int(round((w1 - w1_grid[0]) / (w1_grid[1] - w1_grid[0])))
    return min(max(row, 0), len(w1_grid) - 1), min(max(column, 0), len(w0_grid) - 1)


for w0, w1 in path[1:-1]:
    row, column = cell(w0, w1)
    canvas[row][column] = "o"
for mark, (w0, w1) in (("S", path[0]), ("E", path[-1])):
    row, column = cell(w0, w1)
    canvas[row][column] = mark
print("\nStep 4: the landscape J(w0, w1), w1 up, w0 across")
for w1, row in zip(w1_grid[::-1], canvas[::-1], strict=True):
    print(f"  w1={w1:5.2f} |{''.join(row)}|")
left, right = f"{w0_grid[0]:g}", f"{w0_grid[-1]:g}"
print(" " * 11 + "|" + left + "w0 (bias)".center(len(w0_grid) - len(left) - len(right)) + right
      + "|")

# Step 5 (optional): the same as a picture.
if args.plot:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n--plot needs matplotlib: pip install matplotlib")
    else:
        figure, axes = plt.subplots(figsize=(7, 5))
        contours = axes.contourf(w0_grid, w1_grid, landscape, levels=30, cmap="viridis")
        figure.colorbar(contours, label="J(w0, w1)")
        axes.plot(*zip(*path, strict=True), "o-", color="white", markersize=3)
        axes.set(xlabel="w0 (bias)", ylabel="w1 (weight)", title="Gradient descent on J(w0, w1)")
        figure.savefig(args.plot, dpi=100)
        print(f"\nSaved the picture to {args.plot}")

end_w0, end_w1 = path[-1]
print(f"\nGradient descent went from J = {J(*start):.4f} to J = {J(end_w0, end_w1):.4f} "
      f"(grid minimum {landscape.min():.4f})")
