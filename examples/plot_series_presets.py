"""
Time series: the papers' networks in a grid search, series of unequal length
============================================================================

Motion sensors, spoken vowels: series of several channels, held the way aeon
and sktime hold them, ``(n_cases, n_channels, n_timepoints)``. Stated with
``input_layout="ncl"``, they need no reshaping; the FCN and the ResNet of
Wang et al. (2017) are one line each (:mod:`skcnn.architectures`), and a
grid search picks between them like between any other values. Series of
unequal length train as they are.

The data sets ship with aeon (``pip install aeon``), with their standard
train/test splits.
"""

# %%
# BasicMotions: four activities, six channels
# -------------------------------------------
# Accelerometer and gyroscope (x, y and z each) of a watch, 100 time steps,
# while walking, resting, running or playing badminton: 40 training cases.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_basic_motions, load_japanese_vowels
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skcnn import CNNClassifier
from skcnn.architectures import fcn, resnet
from skcnn.inspection import SaliencyDisplay

# A few epochs, on purpose: the fits end before the loss stops improving.
warnings.simplefilter("ignore", ConvergenceWarning)

X_train, y_train = load_basic_motions(split="train")
X_test, y_test = load_basic_motions(split="test")
print(X_train.shape)  # (n_cases, n_channels, n_timepoints)

fig, axes = plt.subplots(1, 4, figsize=(11, 2.6), sharey=True, layout="constrained")
for ax, activity in zip(axes, np.unique(y_train)):
    case = X_train[np.flatnonzero(y_train == activity)[0]]
    ax.plot(case[:3].T, lw=1)  # the accelerometer's three channels
    ax.set_title(activity, fontsize=10)
    ax.set_xlabel("time step")
_ = axes[0].set_ylabel("acceleration")

# %%
# The FCN or the ResNet?
# ----------------------
# Every series is standardized on its own (each channel to mean 0 and
# standard deviation 1), as the UCR archive's series are, in a pipeline
# step. The presets take their sizes as arguments: smaller networks than the
# papers' (128-256-128 filters, 64-128-128 for the ResNet) for 40 cases, and
# 20 epochs where the papers train for 1500 to 2000.


def standardize(X):
    return (X - X.mean(axis=-1, keepdims=True)) / (X.std(axis=-1, keepdims=True) + 1e-8)


pipeline = make_pipeline(
    FunctionTransformer(standardize),
    CNNClassifier(
        input_layout="ncl",
        max_iter=20,
        batch_size=8,
        learning_rate_init=0.005,
        random_state=0,
    ),
)
search = GridSearchCV(
    pipeline,
    {"cnnclassifier__layers": [fcn(filters=(16, 32, 16)), resnet(filters=(8, 16, 16))]},
    cv=3,
)
search.fit(X_train, y_train)
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    name = "resnet" if "residual" in str(params["cnnclassifier__layers"]) else "fcn"
    print(f"{name}: cross-validated accuracy {score:.3f}")
print(f"test accuracy of the best: {search.score(X_test, y_test):.3f}")

# %%
# The network it picked, its convolutions along time across all six
# channels, ending in the global average pooling:
print(search.best_estimator_[-1].network_)

# %%
# Japanese vowels: series of unequal length
# -----------------------------------------
# Nine speakers say "ae": 12 cepstral coefficients per frame, 7 to 29 frames.
# aeon holds such a collection as a list of ``(12, n_frames)`` arrays. The
# FCN takes it as it is: the series are padded to the longest, and the mask
# that comes with them keeps the padding out of the batch normalization and
# the global pooling. Test series longer than any training one are fine too,
# since the network ends in global pooling.
X_train, y_train = load_japanese_vowels(split="train")
X_test, y_test = load_japanese_vowels(split="test")
lengths = [x.shape[1] for x in X_train]
print(f"{len(X_train)} series of 12 channels, {min(lengths)} to {max(lengths)} frames")

vowels = CNNClassifier(
    layers=fcn(filters=(32, 64, 32)), input_layout="ncl", max_iter=15, random_state=0
)
vowels.fit(X_train, y_train)
print(f"test accuracy: {vowels.score(X_test, y_test):.3f}")

# %%
# Where the evidence is
# ---------------------
# :class:`~skcnn.inspection.SaliencyDisplay` draws, behind a series, which
# time steps moved the score of the class the network predicts: the
# gradient of the score times the input (``method="gradient_x_input"``),
# summed over the six channels, red where a step raises the score, blue
# where it lowers it. Given the pipeline, it standardizes the series as the
# pipeline does, and explains the input the network sees: a step at a
# channel's mean (0) counts for nothing. One test series of each activity,
# for the network the search picked:
X_motions, y_motions = load_basic_motions(split="test")
fig, axes = plt.subplots(2, 2, figsize=(11, 5), sharex=True, layout="constrained")
for ax, activity in zip(axes.ravel(), np.unique(y_motions)):
    case = X_motions[np.flatnonzero(y_motions == activity)[0]]
    display = SaliencyDisplay.from_estimator(
        search.best_estimator_, case, method="gradient_x_input", ax=ax, colorbar=False
    )
    ax.set_title(f"{activity}: {display.target_name}", fontsize=10)
    ax.get_legend().remove()
sensors = [f"{sensor} {axis}" for sensor in ("accel.", "gyro.") for axis in "xyz"]
_ = fig.legend(display.lines_, sensors, loc="outside right center", fontsize="small")

# %%
# Badminton is recognized by its strokes: the few sharp swings, and nothing
# in between. Running and walking are recognized all along, every step of
# the stride adding a little. The watch of "standing" has one jolt, at the
# start, and that jolt speaks against standing (blue); the stillness after
# it, near the mean, adds next to nothing either way. Each panel has its own
# scale: its strongest time step is drawn most opaque.
