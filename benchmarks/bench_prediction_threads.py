"""Prediction with its batches shared among threads against the same batches in sequence.

    python benchmarks/bench_prediction_threads.py [--seconds 60] [--n-samples 10000]

In one process, the two ways take turns on the test images of Fashion-MNIST
(random images of the same shape when the data is not installed) with the
reference network: one thread with BLAS on all the cores, then as many
threads as BLAS may use, each with BLAS on one core (what ``predict`` does).
Prints every round, then the mean rates and the range of the per-round ratios:
this shared machine's speed drifts, so only rounds run back to back compare.
"""

import argparse
import time
import warnings

import numpy as np
from reference import reference_classifier, training_images
from sklearn.exceptions import ConvergenceWarning

from skcnn._engine import parallel


def rate(predict, X):
    start = time.perf_counter()
    predict(X)
    return len(X) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--n-samples", type=int, default=10000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = training_images(args.n_samples, subset="test")
    clf = reference_classifier(max_iter=1).fit(X[:1000], y[:1000])
    network, images = clf.network_, X.reshape(-1, 28, 28, 1)
    batch = max(2, network.predict_batch_size(images.dtype.itemsize))

    def in_sequence(images):  # what predict did before it shared the batches
        return parallel._forward_batches(images, network.steps, batch)

    print(f"{parallel.available_threads()} threads; images/s in sequence, then shared")
    rounds = []
    end = time.time() + args.seconds
    while time.time() < end:
        rounds.append((rate(in_sequence, images), rate(network.predict, images)))
        print(f"{rounds[-1][0]:8.0f} {rounds[-1][1]:8.0f}  {rounds[-1][1] / rounds[-1][0]:.2f}x")
    sequence_rates, shared_rates = np.array(rounds).T
    ratios = shared_rates / sequence_rates
    print(
        f"mean {sequence_rates.mean():.0f} in sequence, {shared_rates.mean():.0f} shared: "
        f"{shared_rates.mean() / sequence_rates.mean():.2f}x; per round {ratios.min():.2f}-"
        f"{ratios.max():.2f}x over {len(ratios)} rounds"
    )


if __name__ == "__main__":
    main()
