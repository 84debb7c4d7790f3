"""This working tree's skcnn against the skcnn of another commit, in one process.

    python benchmarks/bench_against_commit.py [--commit main] [--network reference]
        [--n-samples 10000] [--rounds 5]

The other commit's package is taken out with ``git archive`` and imported
under another name (its imports are relative), so both run in this process
on the same data and the same threads, taking turns: in every round each
version trains one epoch and predicts once, in alternating order. Prints the
images per second of both and the ratio (this tree / the commit) of every
round, then the median and the range of the ratios: above 1, this tree is
faster.
"""

import argparse
import importlib.util
import io
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from reference import REFERENCE_LAYERS, training_images
from sklearn.exceptions import ConvergenceWarning

import skcnn

ROOT = Path(__file__).resolve().parents[1]

NETWORKS = {
    "reference": dict(layers=REFERENCE_LAYERS, padding="valid", batch_size=64),
    "tuned": dict(
        filters=(32, 64), batch_norm=True, batch_size=128, learning_rate="cosine", alpha=0.001
    ),
}


def package_of_commit(commit, where):
    """The ``skcnn`` package of ``commit``, imported as ``skcnn_at_commit``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "skcnn"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    init = Path(where) / "skcnn" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "skcnn_at_commit", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["skcnn_at_commit"] = module
    spec.loader.exec_module(module)
    return module


def rates(package, params, X, y):
    """Training and prediction images per second of one epoch and one pass."""
    clf = package.CNNClassifier(max_iter=1, random_state=0, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    train = len(X) / (time.perf_counter() - start)
    start = time.perf_counter()
    clf.predict_proba(X)
    return train, len(X) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="main")
    parser.add_argument("--network", choices=sorted(NETWORKS), default="reference")
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    X, y = training_images(args.n_samples)
    X = X.reshape(len(X), 28, 28, 1)
    params = NETWORKS[args.network]
    with tempfile.TemporaryDirectory() as where:
        before = package_of_commit(args.commit, where)
        contenders = {"this tree": skcnn, args.commit: before}
        rates(skcnn, params, X[:256], y[:256])  # warm both up: imports, first allocations
        rates(before, params, X[:256], y[:256])
        print(f"{args.network} network, {len(X)} images, {args.rounds} rounds")
        print(f"{'round':>5}  {'':>10}  {'train/s':>9}  {'predict/s':>9}")
        ratios = []
        for round_ in range(args.rounds):
            order = list(contenders) if round_ % 2 == 0 else list(contenders)[::-1]
            measured = {name: rates(contenders[name], params, X, y) for name in order}
            for name in contenders:
                train, predict = measured[name]
                print(f"{round_ + 1:>5}  {name[:10]:>10}  {train:9.0f}  {predict:9.0f}")
            ratios.append(np.divide(measured["this tree"], measured[args.commit]))
    ratios = np.array(ratios)
    for column, what in enumerate(["training", "prediction"]):
        r = ratios[:, column]
        print(
            f"{what}: this tree / {args.commit} = {np.median(r):.2f}x "
            f"({r.min():.2f}-{r.max():.2f} over {len(r)} rounds)"
        )


if __name__ == "__main__":
    main()
