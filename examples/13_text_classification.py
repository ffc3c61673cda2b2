"""Step 13: text in, a verdict out. Words become numbers, then vectors, then one probability.

A network only does arithmetic, so text is turned into numbers in three steps:

    TextVectorization   "a great, fun film" -> [4, 17, 9, 6, 0, 0]   lowercase, strip
                        punctuation, split on spaces, one integer per word (its place in a
                        vocabulary learnt by `adapt`), 0 pads every review to the same length
    Embedding(V, 8)     each integer -> a row of a (V, 8) table of weights, learnt like any
                        other weight: words used alike end up with alike rows
    GlobalAveragePooling1D   the mean of a review's word vectors; with mask_zero=True the
                        padding 0s are left out of the mean, so a short review is not diluted

and a sigmoid neuron reads the mean vector: P(positive) = σ(mean · w + b), as in step 02.

The reviews are made up here (no download): a few positive and negative words scattered among
neutral ones. The model is fed raw strings: TextVectorization is its first layer.

Run:  python examples/13_text_classification.py
"""

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(13)
rng = np.random.default_rng(13)

POSITIVE = ["great", "fun", "moving", "brilliant", "charming", "superb", "delightful"]
NEGATIVE = ["dull", "boring", "awful", "clumsy", "tedious", "weak", "messy"]
NEUTRAL = ["the", "film", "plot", "a", "story", "actors", "was", "and", "ending", "music",
           "script", "it", "really", "quite", "scenes"]


def review(positive):
    """A few neutral words and one to three opinion words, in a random order."""
    opinion = rng.choice(POSITIVE if positive else NEGATIVE, size=rng.integers(1, 4))
    words = [*rng.choice(NEUTRAL, size=rng.integers(3, 9)), *opinion]
    rng.shuffle(words)
    return " ".join(words).capitalize() + rng.choice([".", "!", "..."])


labels = rng.integers(0, 2, size=600).astype("float32")
texts = np.array([review(bool(label)) for label in labels])
first = str(texts[0])
print(f"{len(texts)} reviews, e.g. {first!r} -> {'positive' if labels[0] else 'negative'}")

vectorize = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=12)
vectorize.adapt(texts[:500])  # the vocabulary comes from the training reviews only
vocabulary = vectorize.get_vocabulary()
print(f"Vocabulary: {len(vocabulary)} entries: '' (padding), [UNK] (unknown), then by count: "
      f"{vocabulary[2:8]}...")
print(f"{first!r} -> {np.asarray(vectorize([first]))[0].tolist()}")

model = keras.Sequential([
    keras.Input(shape=(1,), dtype="string"),
    vectorize,                                                   # (12,) word numbers
    keras.layers.Embedding(vectorize.vocabulary_size(), 8, mask_zero=True),  # (12, 8)
    keras.layers.GlobalAveragePooling1D(),                       # (8,) the mean word vector
    keras.layers.Dense(1, activation="sigmoid"),                 # P(positive)
])
model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
              metrics=["accuracy"])
model.summary()
history = model.fit(texts[:500], labels[:500], batch_size=32, epochs=15, verbose=0,
                    validation_data=(texts[500:], labels[500:]))
loss = history.history["loss"]
print(f"Training loss {loss[0]:.4f} -> {loss[-1]:.4f}")
print(f"Validation accuracy: {history.history['val_accuracy'][-1]:.3f}")

for text in ["A brilliant and charming story!", "The plot was tedious and the actors weak.",
             "Quite the film."]:
    p = float(model.predict(np.array([text]), verbose=0)[0, 0])
    print(f"  P(positive) = {p:.2f}  for {text!r}")
