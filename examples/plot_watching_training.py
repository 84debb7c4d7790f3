"""
Watching a fit: verbose, callbacks and notebooks
================================================

Three ways to follow a CNN while it trains, from the simplest: ``verbose``
prints, scikit-learn's callbacks (experimental in scikit-learn 1.9) record
scores and draw a progress bar, and in a notebook the estimator's HTML
display links every parameter to its documentation.

The callbacks need scikit-learn >= 1.9 and, for the progress bar, `rich
<https://rich.readthedocs.io>`_: ``pip install ".[progress]"`` from a clone
of the repository installs both.
"""

# %%
# ``verbose``: a line per epoch
# -----------------------------
# ``verbose=1`` (or ``True``) prints the loss and time of every epoch, and
# why training stops. ``verbose=2`` adds a line inside every epoch that
# lasts longer than a quarter of a second: batches done, images per second
# and the time left, redrawn in place (the digits below train too fast for
# it to show).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skcnn import CNNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

clf = CNNClassifier(input_shape=(8, 8), filters=(16,), max_iter=4, verbose=1, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 4 epochs: on purpose
    clf.fit(X_train, y_train)

# %%
# Callbacks: a score after every epoch
# ------------------------------------
# ``set_callbacks`` attaches callbacks to an estimator; every epoch of a
# skcnn fit is a task they see. ``ScoringMonitor`` scores the model on the
# training data at the end of every epoch (here its accuracy) and keeps a
# log per fit; ``ProgressBar`` draws a bar of the epochs (in a terminal or a
# notebook it moves while the fit runs).
monitor = ScoringMonitor(scoring="accuracy")
clf = CNNClassifier(input_shape=(8, 8), filters=(16,), max_iter=12, random_state=0)
clf.set_callbacks(ProgressBar(), monitor)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.fit(X_train, y_train)

log = monitor.get_logs()  # the log of the most recent fit
epochs = [row for row in log.data if row["task_name"] == "epoch"]
accuracy = [row["accuracy"] for row in epochs]
print("training accuracy after each epoch:", np.round(accuracy, 3))

# %%
# The log and the estimator's own ``loss_curve_`` side by side:
fig, (loss_ax, score_ax) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
loss_ax.plot(range(1, clf.n_iter_ + 1), clf.loss_curve_, "o-")
loss_ax.set(xlabel="epoch", ylabel="training loss", title="loss_curve_")
score_ax.plot(range(1, len(accuracy) + 1), accuracy, "o-", color="C1")
score_ax.set(xlabel="epoch", ylabel="training accuracy", title="ScoringMonitor")
for ax in (loss_ax, score_ax):
    ax.xaxis.get_major_locator().set_params(integer=True)
plt.show()

# %%
# In a notebook
# -------------
# A cell that ends with an estimator shows it as a diagram, as every
# scikit-learn estimator does. Unfold "Parameters": every name links to its
# entry in the API reference (hover over it for the description), the
# parameters set by hand come first, and a fitted model lists its fitted
# attributes too. The "?" icon opens the estimator's page.
clf
