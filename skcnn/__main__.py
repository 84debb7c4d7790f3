"""``python -m skcnn``: train a CNN on the digits that ship with scikit-learn.

Prints the network, one line per epoch, the test accuracy and the time.
"""

import argparse
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from . import CNNClassifier, __version__


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skcnn",
        description="Train a CNNClassifier on scikit-learn's 8x8 digits and report accuracy.",
    )
    parser.add_argument("--max-iter", type=int, default=200, help="maximum epochs (200)")
    parser.add_argument("--seed", type=int, default=0, help="random_state (0)")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=args.seed
    )
    clf = CNNClassifier(
        input_shape=(8, 8), max_iter=args.max_iter, random_state=args.seed, verbose=True
    )
    print(f"skcnn {__version__}: {len(X_train)} training and {len(X_test)} test digits, 8x8")
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(clf.network_)
    print(f"Test accuracy: {clf.score(X_test, y_test):.4f}")
    print(f"Fit time: {seconds:.1f} s for {clf.n_iter_} epochs")
    return clf


if __name__ == "__main__":
    main()
