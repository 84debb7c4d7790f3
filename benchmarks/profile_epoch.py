"""Where one training epoch of a network spends its time, per step.

    python benchmarks/profile_epoch.py [--n-samples 60000] [--batch-size 64]
        [--tuned | --network NAME]

The network is the reference one, the tuned one (``--tuned``) or one of the
scale suite's (``--network``, a name of ``bench_scale.py`` such as
``"VGG-style 32x32x3"``, on random images of its shape).

The epoch trains as ``fit`` does, with its :class:`~skcnn._training.Trainer`:
the shards of every batch run on as many threads as BLAS may use. Times every
step's forward and backward pass (a conv and the max pooling computed with it
as one step count as one row) in every thread, the loss and the optimizer,
over a whole epoch of Fashion-MNIST (random images of the same shape when the
data is not installed), and prints a table, slowest first.

Shares are of the epoch's core time (its wall time times the threads). A
step's seconds are summed over the threads that ran it; the loss, the
optimizer run on one thread while the others wait, so they count once per
thread. What remains is the rest of the step: gathering the batch, adding
up the shards' gradients, handing shards to threads, Python.
"""

import argparse
import time
from collections import defaultdict

import numpy as np
from reference import reference_classifier, training_images, tuned_classifier

from skcnn._engine.fusion import ConvMaxPool2D
from skcnn._engine.losses import SoftmaxCrossEntropy
from skcnn._training import Trainer


def timed(method, times, key):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = method(*args, **kwargs)
        times.append((key, time.perf_counter() - start))  # list.append: safe across threads
        return result

    return wrapper


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=None, help="64, or 128 with --tuned")
    parser.add_argument("--tuned", action="store_true", help="the tuned model of reference.py")
    parser.add_argument("--network", help="a network of bench_scale.py's suite, by name")
    args = parser.parse_args()
    if args.batch_size is None:
        args.batch_size = 128 if args.tuned else 64

    if args.network:
        from bench_scale import images, networks

        layers, padding, shape, _, _ = networks(False)[args.network]
        X, y = images(args.network, shape, args.n_samples)
        clf = reference_classifier(
            layers=layers, padding=padding, batch_size=args.batch_size, max_iter=1
        )
    else:
        X, y = training_images(args.n_samples)
        X = X.reshape(len(X), 28, 28, 1)
        make = tuned_classifier if args.tuned else reference_classifier
        clf = make(batch_size=args.batch_size, max_iter=1)
    times = []  # (key, seconds) of every timed call, from any thread

    # Fit on a few samples to build the network, then time an epoch of the real loop.
    clf.fit(X[:64], y[:64])
    network = clf.network_
    names = dict(zip(map(id, network.layers), network.names))
    step_names = []
    for step in network.steps:
        if isinstance(step, ConvMaxPool2D):  # a conv (norm) and pooling as one step
            fused = (
                [step.conv, step.pool] if step.norm is None else [step.conv, step.norm, step.pool]
            )
            step_names.append("+".join(names[id(layer)] for layer in fused) + " (fused)")
        else:
            step_names.append(f"{names[id(step)]} {type(step).__name__}")
    optimizer = clf._make_optimizer(network.params)
    optimizer.update = timed(optimizer.update, times, ("optimizer", "update"))

    def timed_loss():
        loss = SoftmaxCrossEntropy()
        loss.forward = timed(loss.forward, times, ("loss", "forward"))
        loss.backward = timed(loss.backward, times, ("loss", "backward"))
        return loss

    trainer = Trainer(
        network,
        timed_loss,
        optimizer,
        batch_size=args.batch_size,
        random_state=np.random.RandomState(0),
    )
    with trainer:
        # One untimed batch makes the replicas that run the shards; then time them all.
        trainer.train_step(X[: args.batch_size], y[: args.batch_size])
        times.clear()
        for replica in trainer.parallel.replicas:
            for name, step in zip(step_names, replica.steps):
                step.forward = timed(step.forward, times, (name, "forward"))
                step.backward = timed(step.backward, times, (name, "backward"))
        threads = trainer.parallel.training_threads
        start = time.perf_counter()
        trainer.run_epoch(X, y)
        elapsed = time.perf_counter() - start

    totals = defaultdict(float)
    for key, seconds in times:
        totals[key] += seconds
    for key in [key for key in totals if key[0] in ("optimizer", "loss")]:
        totals[key] *= threads  # one thread works, the others wait
    core_seconds = elapsed * threads
    rest = "rest: batches, adding shards, threads, Python"
    totals[(rest, "")] = core_seconds - sum(totals.values())
    print(
        f"One epoch of {len(X)} images, batch {args.batch_size}, {threads} thread(s): "
        f"{elapsed:.2f} s, {len(X) / elapsed:.0f} images/s"
    )
    width = max(len(name) for name, _ in totals) + 2
    print(f"{'where':<{width}}{'pass':<10}{'core s':>9}{'share':>8}")
    for (name, kind), seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"{name:<{width}}{kind:<10}{seconds:9.3f}{seconds / core_seconds:8.1%}")


if __name__ == "__main__":
    main()
