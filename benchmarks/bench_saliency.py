"""What an exact saliency map costs next to a prediction of the same images.

    python benchmarks/bench_saliency.py [--seconds 30] [--batch 1 64]

In one process, on the reference network (briefly fitted) and Fashion-MNIST
test images (random images of the same shape when the data is not
installed), in float64 as :class:`skcnn.inspection.SaliencyDisplay` computes:
the prediction pass (``Network.predict``) and the input gradient of the
predicted class's logit (:func:`skcnn._engine.attribution.score_gradient`:
a prediction pass, a caching pass and the backward pass) take turns on the
same batch. Prints the median of the per-round time ratios and their range:
this shared machine's speed drifts, so only rounds run back to back compare.
"""

import argparse
import time
import warnings

import numpy as np
from reference import reference_classifier, training_images
from sklearn.exceptions import ConvergenceWarning

from skcnn._engine.attribution import score_gradient


def seconds(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = training_images(2000, subset="test")
    clf = reference_classifier(max_iter=1).fit(X[:1000], y[:1000])
    network = clf._load_network(np.float64)
    for size in args.batch:
        images = X[1000 : 1000 + size].reshape(-1, 28, 28, 1).astype(np.float64)
        scores = network.predict(images)
        weights = np.zeros_like(scores)
        weights[np.arange(len(scores)), scores.argmax(axis=1)] = 1.0
        rounds = []
        end = time.time() + args.seconds / len(args.batch)
        while time.time() < end:
            predict = seconds(network.predict, images)
            gradient = seconds(score_gradient, network, images, weights)
            rounds.append((predict, gradient))
        predict, gradient = np.array(rounds).T
        ratios = gradient / predict
        print(
            f"batch {size:3d}: predict {np.median(predict) * 1e3:7.2f} ms, saliency "
            f"{np.median(gradient) * 1e3:7.2f} ms: {np.median(ratios):.2f}x the prediction "
            f"(median of {len(ratios)} rounds, range {ratios.min():.2f}-{ratios.max():.2f}x)"
        )


if __name__ == "__main__":
    main()
