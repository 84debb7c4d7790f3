"""Where one training epoch of the reference (or the tuned) network spends its time, per step.

    python benchmarks/profile_epoch.py [--n-samples 60000] [--batch-size 64] [--tuned]

Times every layer's forward and backward pass (a conv and the max pooling
computed with it as one step count as one row), the loss and the optimizer
over whole epochs of Fashion-MNIST (random images of the same shape when the
data is not installed) and prints a table, slowest first.
"""

import argparse
import time
from collections import defaultdict

import numpy as np
from reference import reference_classifier, training_images, tuned_classifier

from skcnn._layers import ConvMaxPool2D, SoftmaxCrossEntropy


def timed(method, totals, key):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = method(*args, **kwargs)
        totals[key] += time.perf_counter() - start
        return result

    return wrapper


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=None, help="64, or 128 with --tuned")
    parser.add_argument("--tuned", action="store_true", help="the tuned model of reference.py")
    args = parser.parse_args()
    if args.batch_size is None:
        args.batch_size = 128 if args.tuned else 64

    X, y = training_images(args.n_samples)
    make = tuned_classifier if args.tuned else reference_classifier
    clf = make(batch_size=args.batch_size, max_iter=1)
    totals = defaultdict(float)

    # Fit on a few samples to build the network, then time an epoch of the real loop.
    clf.fit(X[:64], y[:64])
    network = clf.network_
    names = dict(zip(map(id, network.layers), network.names))
    for step in network.steps:
        if isinstance(step, ConvMaxPool2D):  # a conv (norm) and pooling as one step
            fused = (
                [step.conv, step.pool] if step.norm is None else [step.conv, step.norm, step.pool]
            )
            name = "+".join(names[id(layer)] for layer in fused) + " (fused)"
        else:
            name = f"{names[id(step)]} {step}"
        step.forward = timed(step.forward, totals, (name, "forward"))
        step.backward = timed(step.backward, totals, (name, "backward"))
    optimizer = clf._make_optimizer(network.params)
    optimizer.update = timed(optimizer.update, totals, ("optimizer", "update"))
    loss = SoftmaxCrossEntropy()
    loss.forward = timed(loss.forward, totals, ("loss", "forward"))
    loss.backward = timed(loss.backward, totals, ("loss", "backward"))

    X = X.reshape(len(X), 28, 28, 1)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(X))
    start = time.perf_counter()
    for begin in range(0, len(X), args.batch_size):
        index = order[begin : begin + args.batch_size]
        batch_start = time.perf_counter()
        X_batch, y_batch = X[index], y[index]
        totals[("batch", "gather")] += time.perf_counter() - batch_start
        loss.forward(network.forward(X_batch, training=True), y_batch)
        network.backward(loss.backward())
        optimizer.update(network.params, network.grads)
    elapsed = time.perf_counter() - start

    print(
        f"One epoch of {len(X)} images, batch {args.batch_size}: {elapsed:.2f} s, "
        f"{len(X) / elapsed:.0f} images/s"
    )
    width = max(len(name) for name, _ in totals) + 2
    print(f"{'where':<{width}}{'pass':<10}{'seconds':>9}{'share':>8}")
    for (name, kind), seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"{name:<{width}}{kind:<10}{seconds:9.3f}{seconds / elapsed:8.1%}")


if __name__ == "__main__":
    main()
