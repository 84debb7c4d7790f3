"""
Text: which language a word is from its letters
===============================================

"Schmetterling", "farfalla", "papillon", "mariposa", "butterfly": the
letters alone tell the language. A TextCNN (Kim, 2014) reads a word as a
sequence of characters: an embedding gives every character a learned
vector, convolutions of several widths side by side find the letter
groups of each language (``"sch"``, ``"gli"``, ``"eau"``, ``"ñ"``), a global
max pooling keeps how strongly each was found anywhere in the word, and the
output layer votes.

:class:`skcnn.preprocessing.TextVectorizer` turns the strings into padded
sequences of character ids in the pipeline, so the model trains on raw
strings. The words are 2,000 per language drawn from the word lists Debian
ships (packages wamerican, wfrench, wngerman, witalian, wspanish), words in
two lists left out: :func:`skcnn.datasets.load_words`.
"""

# %%
# The words
# ---------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcnn import CNNClassifier
from skcnn.datasets import LANGUAGES, load_words
from skcnn.inspection import SaliencyDisplay
from skcnn.preprocessing import TextVectorizer

words, language = load_words()
rng = np.random.default_rng(0)
for lang in LANGUAGES:
    print(f"{lang:>8}: {', '.join(rng.choice(words[language == lang], 6))}")
words_train, words_test, y_train, y_test = train_test_split(
    words, language, train_size=3000, test_size=2000, stratify=language, random_state=0
)

# %%
# From strings to ids
# -------------------
# The vocabulary is learned in ``fit``: every character of the training words,
# the most frequent first (id 2 and on). Id 0 pads the words to 16 characters,
# id 1 stands for a character never seen in training; a longer word keeps its
# first 16.
vectorizer = TextVectorizer("char", max_length=16).fit(words_train)
print(vectorizer.n_tokens_, "ids, padding and unknown included")
print(vectorizer.transform(["schmetterling", "farfalla"]))

# %%
# A TextCNN
# ---------
# ``"embedding:16"`` turns every id into 16 learned numbers (padding into zeros);
# three branches of 32 convolutions, 2, 3 and 4 characters wide, each followed by
# a ReLU and a global max pooling, put their 96 features side by side for the
# output layer. The embedding learns the size of its table from the ids it is
# trained on, and an X of ids gets no scale warning: ids are not measurements.
branches = ("parallel", *((f"conv:32:{width}", "relu", "gmp") for width in (2, 3, 4)))
model = make_pipeline(
    vectorizer,
    CNNClassifier(
        layers=("embedding:16", branches),
        learning_rate_init=0.003,
        batch_size=32,
        max_iter=8,
        random_state=0,
    ),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 8 epochs: enough here
    model.fit(words_train, y_train)
print(f"test accuracy: {model.score(words_test, y_test):.3f} (chance: 0.2)")
model[-1].network_

# %%
# Which languages it confuses
# ---------------------------
ConfusionMatrixDisplay.from_estimator(model, words_test, y_test, colorbar=False)
plt.show()

# %%
# Words it never saw
# ------------------
# Made-up words and the probability the model gives each language.
made_up = ["schnurbelung", "pettinarello", "fromagerie", "desayunador", "thoughtfully"]
proba = model.predict_proba(made_up)
for word, p in zip(made_up, proba):
    best = np.argsort(p)[::-1][:2]
    guesses = ", ".join(f"{model.classes_[i]} {p[i]:.2f}" for i in best)
    print(f"{word:>14}: {guesses}")

# %%
# Which letters decide
# --------------------
# :class:`~skcnn.inspection.SaliencyDisplay` colours every letter by its
# share in the score of the predicted language: red letters raise it, blue
# ones lower it. An embedding has no gradient with respect to its ids, so
# the share is taken at the embedding's output, the gradient times the
# letter's vector (``method="gradient_x_input"``), summed over its 16
# numbers; the padding, all zeros, has none. Given the pipeline and a word,
# the display turns the word into ids as the pipeline does; ``tokens=`` the
# word labels the positions with its letters. The first test word of each
# language:
fig, axes = plt.subplots(len(LANGUAGES), 1, figsize=(6, 5.5), layout="constrained")
for ax, lang in zip(axes, LANGUAGES):
    word = words_test[np.flatnonzero(y_test == lang)[0]]
    display = SaliencyDisplay.from_estimator(
        model, word, tokens=word[:16], method="gradient_x_input", ax=ax, colorbar=False
    )
    ax.set_title(f"{word} ({lang}): {display.target_name}", fontsize=10)

# %%
# The letters that decide are those a reader would point at: the ``é`` of
# the French word, the closing ``i`` of the Italian plural and the ``zi``
# before it, the ``d`` of the English "-ed", the ``w`` and the ``g`` of the
# German word, the ending ``-ora`` of the Spanish one. Most other letters
# count for little, and some speak for another language (blue). Each word
# has its own scale: its strongest letter is drawn most opaque.
