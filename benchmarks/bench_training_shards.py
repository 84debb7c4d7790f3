"""Training on shards of every batch, in threads, against whole batches with BLAS threads.

    python benchmarks/bench_training_shards.py [--rounds 3] [--n-samples 10000]

For a few networks on Fashion-MNIST (random images of the same shape when the
data is not installed), the two ways take turns, one epoch each, in one
process: whole batches, BLAS sharing each matrix product among the cores;
and shards of 32 samples, each thread running its own shards through the
whole network with BLAS on one core (``skcnn._engine.parallel.DataParallel``). Prints
the median rates, the median and range of the per-round ratios (this shared
machine's speed drifts, so only rounds run back to back compare) and which
way ``fit`` takes for the network (see ``skcnn._engine.parallel.shard_size``).
"""

import argparse
import time
import warnings

import numpy as np
from reference import REFERENCE_LAYERS, reference_classifier, training_images
from sklearn.exceptions import ConvergenceWarning

from skcnn import CNNClassifier
from skcnn._engine import parallel

NETWORKS = {  # name: (layers, batch size); 'same' padding but for the reference
    "reference": (REFERENCE_LAYERS, 64),
    "reference, batches of 256": (REFERENCE_LAYERS, 256),
    "reference with dropout": ((*REFERENCE_LAYERS, "dropout:0.25"), 64),
    "two small convs": (
        ("conv:16:3", "relu", "maxpool:2", "conv:32:3", "relu", "maxpool:2", "dense:64", "relu"),
        64,
    ),
    "one small conv": (("conv:8:3", "relu", "maxpool:2"), 64),
    "conv and a large dense layer": (("conv:32:3", "relu", "maxpool:2", "dense:128", "relu"), 64),
    "MLP": (("dense:256", "relu", "dense:128", "relu"), 64),
}


def classifier(layers, batch_size):
    if layers[:3] == REFERENCE_LAYERS[:3]:  # 'valid' padding
        return reference_classifier(layers=layers, max_iter=1, batch_size=batch_size)
    return CNNClassifier(
        layers=layers, input_shape=(28, 28), max_iter=1, batch_size=batch_size, random_state=0
    )


def epoch_rate(layers, batch_size, X, y, shards):
    """Images per second of one epoch, with shards of ``shards`` samples (0: whole batches)."""
    original = parallel.shard_size
    parallel.shard_size = lambda network: shards
    try:
        clf = classifier(layers, batch_size)
        start = time.perf_counter()
        clf.fit(X, y)
        return len(X) / (time.perf_counter() - start)
    finally:
        parallel.shard_size = original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=10000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = training_images(args.n_samples)

    print(f"{parallel.available_threads()} threads, {len(X)} images, {args.rounds} rounds")
    print(f"{'network':<30}{'whole':>8}{'shards':>8}  {'shards/whole':<20}fit takes")
    for name, (layers, batch_size) in NETWORKS.items():
        rounds = [
            [epoch_rate(layers, batch_size, X, y, shards) for shards in (0, 32)]
            for _ in range(args.rounds)
        ]
        whole, sharded = np.array(rounds).T
        ratios = sharded / whole
        network = classifier(layers, batch_size).fit(X[:batch_size], y[:batch_size]).network_
        n_shards = len(parallel.shard_bounds(batch_size, parallel.shard_size(network))) - 1
        print(
            f"{name:<30}{np.median(whole):8.0f}{np.median(sharded):8.0f}  "
            f"{np.median(ratios):.2f}x ({ratios.min():.2f}-{ratios.max():.2f})   "
            + (f"{n_shards} shards a batch" if n_shards > 1 else "whole batches"),
            flush=True,
        )


if __name__ == "__main__":
    main()
