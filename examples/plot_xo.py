"""
X's and O's: how a CNN sees
===========================

The classic explanation of convolutional neural networks (Brandon Rohrer's
"How do Convolutional Neural Networks work?") teaches a network to tell an X
from an O, wherever and however it is drawn. This example does exactly that
and looks inside the fitted network: its filters, the feature maps of one
image after every layer, and the final vote.
"""

# %%
# The data: X's and O's, drawn badly on purpose
# ---------------------------------------------
# :func:`skcnn.datasets.make_xo` draws 9x9 images with pixels of 1 on the
# stroke and -1 elsewhere, each letter shifted, shrunk, rotated and bent at
# random. A computer comparing pixels one by one with a perfect X would be
# lost: the same letter lands on different pixels every time.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skcnn import CNNClassifier
from skcnn.datasets import make_xo
from skcnn.inspection import FeatureMapDisplay, FilterDisplay, LossCurveDisplay

X, y = make_xo(600, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fig, axes = plt.subplots(2, 8, figsize=(9, 2.8), layout="constrained")
for ax, image, label in zip(axes.flat, X_train, y_train):
    ax.imshow(image, cmap="gray_r", vmin=-1, vmax=1)
    ax.set_title(label)
    ax.set_axis_off()
_ = fig.suptitle("Training images: pixels are 1 (black) on the stroke, -1 (white) elsewhere")

# %%
# A small network
# ---------------
# One convolution layer with 4 filters of 3x3 pixels, ReLU, max pooling over
# 2x2 windows, and the output layer: two neurons, one per class, each a
# weighted vote of every pixel of the pooled maps. ``padding="valid"`` slides
# the filters only where they fit inside the image (7x7 positions on 9x9):
# padding with zeros would add a border that is neither stroke (1) nor
# background (-1). ``print`` shows the
# layers and their output shapes (the engine runs ReLU after pooling: the
# same result, cheaper).
clf = CNNClassifier(
    filters=(4,),
    kernel_size=3,
    pool_size=2,
    padding="valid",
    hidden_layer_sizes=(),
    learning_rate_init=0.01,
    max_iter=40,
    early_stopping=True,
    random_state=0,
)
clf.fit(X_train, y_train)
print(clf.network_)
print(f"Test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Training
# --------
# Backpropagation adjusts every weight a little after every batch of images,
# to make the loss (how wrong the votes are) smaller. ``early_stopping`` holds
# out 10% of the training images and stops when their accuracy stops
# improving.
LossCurveDisplay.from_estimator(clf)

# %%
# Filters: the features the network learned
# -----------------------------------------
# A convolution filter is a small image of weights: it is slid over every
# position of the input, and at each position the pixels under it are
# multiplied by its weights and summed. Where the input looks like the filter
# the sum is large. Red weights want the stroke (1) there, blue ones want the
# background (-1). Learned filters are rarely as clean as hand-drawn ones,
# but diagonal pieces (X's) and corners (O's) show; the feature maps below
# tell which filter responds to what.
FilterDisplay.from_estimator(clf, layer="conv1")

# %%
# Feature maps: where each feature matches
# ----------------------------------------
# One X from the test set, through every layer. Each row is one layer, each
# small image one channel:
#
# * ``conv1``: one map per filter, red where the filter matches the image,
#   blue where the image is its opposite;
# * ``relu1``: negative values become 0 (white); only the matches remain;
# * ``maxpool1``: each 2x2 window keeps its largest value: the map shrinks,
#   and a match that moves by a pixel still counts, which is what makes the
#   network tolerant to shifts.
x_index = np.flatnonzero(y_test == "X")[0]
FeatureMapDisplay.from_estimator(clf, X_test[x_index])

# %%
# The same for an O: other filters light up.
o_index = np.flatnonzero(y_test == "O")[0]
FeatureMapDisplay.from_estimator(clf, X_test[o_index])

# %%
# Voting
# ------
# The output layer gives each class a score: a weighted sum of every pixel
# of the pooled maps (these weights are the votes, learned like the filters).
# Softmax turns the scores into probabilities.
fig, axes = plt.subplots(1, 2, figsize=(7, 2.5), layout="constrained", sharey=True)
for ax, index in zip(axes, (x_index, o_index)):
    proba = clf.predict_proba(X_test[index : index + 1])[0]
    ax.barh(clf.classes_, proba, color=["C1", "C0"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(f"a test image of an {y_test[index]}")
fig.suptitle("The votes, after softmax")
plt.show()
