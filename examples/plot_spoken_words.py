"""
Sound: spoken digits as spectrograms
====================================

A CNN hears a sound through a picture of it: a spectrogram, how loud every
frequency is (across) at every moment (down). :class:`skcnn.preprocessing.
Spectrogram` makes one per clip, and the CNN after it in a pipeline reads it
as a one-channel image.

The sound is synthesized speech, not recordings of people: no recorded
speech data set ships in a Python package. The words "zero" to "nine" were
spoken by `espeak-ng <https://github.com/espeak-ng/espeak-ng>`_, a speech
synthesizer, with 14 synthetic speakers (an English accent, a voice, a
pitch and a speed each), and stored at 8,000 Hz, telephone quality:
:func:`skcnn.datasets.load_spoken_digits` reads them, and
``tools/make_datasets.py spoken-digits`` makes them again where espeak-ng
is installed (``apt-get install espeak-ng``). The model is tested on 4
speakers it never heard, in noise.
"""

# %%
# The clips
# ---------
# 140 waveforms of different lengths (0.24 to 0.71 s), the digit spoken, and
# who speaks.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from skcnn import CNNClassifier
from skcnn.datasets import DIGITS, load_spoken_digits
from skcnn.inspection import SaliencyDisplay
from skcnn.preprocessing import Spectrogram

X, y, speaker = load_spoken_digits()
rate = 8000
print(f"{len(X)} clips by {len(set(speaker))} speakers, such as {speaker[0]!r}")

# %%
# Speakers the model never hears in training
# ------------------------------------------
# Splitting by speaker keeps every voice on one side: the test asks whether the
# model learned the words, not the voices. Training gets every clip three times,
# each delayed by up to 0.1 s and in white noise (25 dB below the speech), so that
# the network cannot learn where a word starts or the silence between words; the
# test clips get noise too.
train, test = next(GroupShuffleSplit(1, test_size=4, random_state=0).split(X, y, speaker))
rng = np.random.default_rng(0)


def noisy(clips, copies):
    out = []
    for clip in clips:
        for _ in range(copies):
            delayed = np.concatenate([np.zeros(rng.integers(0, rate // 10)), clip])
            out.append(delayed + rng.normal(0, 0.02, len(delayed)))
    return out


X_train, y_train = noisy([X[i] for i in train], 3), np.repeat(y[train], 3)
X_test, y_test = noisy([X[i] for i in test], 1), y[test]

# %%
# From waveforms to spectrograms
# ------------------------------
# Windows of 25 ms (200 samples) every 15 ms, the power of each window's spectrum
# in 24 mel bands (the mel scale spaces bands as the ear tells pitches apart), in
# decibels, standardized band by band. ``duration=0.8`` pads every clip with
# silence (or crops it) to 0.8 s, so that every spectrogram has the same 52 rows.
spectrogram = Spectrogram(rate, duration=0.8, window_length=200, hop_length=120, n_mels=24)
images = spectrogram.fit_transform(X_train)
print(images.shape, "(clips, time frames, mel bands)")

fig, axes = plt.subplots(2, 3, figsize=(9, 4.5), layout="constrained", height_ratios=(1, 2))
for column, digit in enumerate(("three", "seven", "eight")):
    i = int(np.flatnonzero(y_train == digit)[0])
    axes[0, column].plot(np.arange(len(X_train[i])) / rate, X_train[i], lw=0.5)
    axes[0, column].set(title=digit, xlim=(0, 0.8), yticks=[])
    axes[1, column].imshow(
        images[i].T,
        origin="lower",
        aspect="auto",
        extent=(0, 0.8, 0, 24),
        cmap="magma",
    )
    axes[1, column].set(xlabel="time (s)")
axes[1, 0].set(ylabel="mel band")
fig.suptitle("Waveforms (top) and their mel spectrograms (bottom)")

# %%
# The pipeline
# ------------
# The CNN gets ``(52, 24)`` images: two conv blocks, and the output layer. 15
# epochs do (the loss still falls a little, which scikit-learn's
# ConvergenceWarning would say).
model = make_pipeline(
    spectrogram,
    CNNClassifier(
        filters=(16, 32),
        hidden_layer_sizes=(),
        learning_rate_init=0.003,
        batch_size=16,
        max_iter=15,
        random_state=0,
    ),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X_train, y_train)
print(f"accuracy on 4 new speakers: {model.score(X_test, y_test):.2f} (chance: 0.10)")

# %%
# Which digits it confuses
# ------------------------
ConfusionMatrixDisplay.from_estimator(
    model, X_test, y_test, labels=list(DIGITS), colorbar=False, xticks_rotation=45
)
plt.show()

# %%
# A clip at another rate
# ----------------------
# The spectrogram reads sound at 8,000 Hz. A clip recorded at another rate,
# given as a ``(waveform, rate)`` pair (as ``soundfile.read`` gives them) or
# with ``sampling_rate=``, is refused rather than read at the wrong
# frequencies: resample it first (:func:`scipy.signal.resample_poly`).
try:
    model.predict([(X_test[0], 16000)])
except ValueError as error:
    print(error)

# %%
# Where the evidence is
# ---------------------
# :class:`~skcnn.inspection.SaliencyDisplay` shows which cells of a
# spectrogram moved the score of the predicted digit: the gradient of that
# score with respect to every cell, red where more energy would raise it,
# blue where it would lower it. Given the pipeline and a clip, it makes the
# spectrogram as the pipeline does and explains what the network sees;
# ``transpose=True`` draws it as above, time across and the low mel bands
# at the bottom. Three test clips, by speakers the model never heard:
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), sharey=True, layout="constrained")
frame = spectrogram.hop_length / rate  # seconds from one row of the spectrogram to the next
seconds = np.arange(0, 0.8, 0.2)
for ax, digit in zip(axes, ("three", "seven", "eight")):
    i = int(np.flatnonzero(y_test == digit)[0])
    display = SaliencyDisplay.from_estimator(
        model, X_test[i], ax=ax, colorbar=False, transpose=True
    )
    ax.set_aspect("auto")
    ax.set_title(f"{digit}: {display.target_name}", fontsize=10)
    ax.set(xticks=seconds / frame, xticklabels=[f"{t:.1f}" for t in seconds], xlabel="time (s)")
_ = axes[0].set(yticks=[0, 6, 12, 18, 23], ylabel="mel band")

# %%
# The evidence sits in a few patches while the word sounds, a tenth of a
# second or so long, in a few bands each: where the energy of the word's
# sounds lies, or rises and falls. The padding after the word counts for
# nothing, the noise around it for little. Each panel has its own scale: its
# strongest cell is drawn most opaque.
