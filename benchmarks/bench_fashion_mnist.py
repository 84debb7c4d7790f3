"""skcnn side by side with PyTorch and MLPClassifier on Fashion-MNIST.

    python benchmarks/bench_fashion_mnist.py [--quick] [--throughput-only] [--threads 2]

In one process and one run:

1. Throughput of the reference network (see ``reference.py``), skcnn and
   PyTorch taking turns, ``--repeats`` times each, same batch size, optimizer,
   float32 and thread count: training images per second over whole epochs,
   and prediction images per second (eval mode, batched; the best of three
   passes each: PyTorch with batches of 64, 256 and 1000, skcnn with its own
   batching). Reports the medians over the repeats and, since this shared
   machine's speed drifts, the median of the ratios of single repeats, each
   of which runs the two libraries back to back. PyTorch is optional; without
   it those rows are skipped with a message.
2. The conv layers' FLOP rate during a training epoch of skcnn, as a fraction
   of this machine's float32 matrix-multiplication rate.
3. Accuracy against fit time on the full data: skcnn's ``CNNClassifier``
   (the reference network, and the tuned one of ``reference.py``) and
   scikit-learn's ``MLPClassifier``, each fit in a fresh process that also
   reports its peak resident memory.

Prints a table of ratios and writes ``results.json``, ``results.md`` and,
with matplotlib, ``accuracy_vs_time.png`` to ``--out``.
"""

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from reference import REFERENCE_LAYERS, reference_classifier, training_images
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import skcnn
from skcnn._engine.conv import Conv2D
from skcnn._engine.fusion import ConvMaxPool2D
from skcnn._engine.losses import SoftmaxCrossEntropy
from skcnn._training import Trainer

try:
    import torch
except ImportError:  # optional: only for the side-by-side rows
    torch = None


# --- skcnn ---------------------------------------------------------------------


def skcnn_train_rate(X, y, epochs, batch_size):
    clf = reference_classifier(max_iter=epochs, batch_size=batch_size, n_iter_no_change=epochs)
    start = time.perf_counter()
    clf.fit(X, y)
    return len(X) * epochs / (time.perf_counter() - start), clf


def skcnn_predict_rate(clf, X, passes=3):
    """The best of ``passes`` timed passes, as many as PyTorch gets (one per batch size)."""
    return max(len(X) / _timed(lambda: clf.predict_proba(X)) for _ in range(passes))


def conv_flop_rate(clf, X, batch_size):
    """FLOP/s of the conv layers over one instrumented training epoch of ``clf``.

    The epoch trains as ``fit`` does (:class:`~skcnn._training.Trainer`, on
    shards of each batch on every thread). The conv steps' time is summed
    over the threads and divided by their number: the wall time of the conv
    work with every core on it. A conv computed together with the max pooling
    after it (``ConvMaxPool2D``) is timed with that pooling, and counts the
    FLOPs of the conv positions it computes: those the pooling reads.
    """
    network = clf.network_
    params = network.params
    optimizer = clf._make_optimizer(params)
    spent = []  # seconds of every conv call, from whichever thread made it

    flops = 0
    for index, step in enumerate(network.steps):
        if isinstance(step, ConvMaxPool2D):
            conv, positions = (
                step.conv,
                np.prod(step.output_shape[:2]) * np.prod(step.pool.pool_size),
            )
        elif isinstance(step, Conv2D):
            conv, positions = step, np.prod(step.output_shape[:2])
        else:
            continue
        per_product = 2 * positions * np.prod(conv.weights.shape)  # one GEMM
        # forward, dL/dW, and dL/dX except for the first layer
        flops += per_product * (3 if index > 0 else 2)

    def timed(method):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = method(*args, **kwargs)
            spent.append(time.perf_counter() - start)  # list.append: safe across threads
            return result

        return wrapper

    # On the classes: the replicas of the network that run the shards are copies.
    originals = {cls: (cls.forward, cls.backward) for cls in (Conv2D, ConvMaxPool2D)}
    for cls, (forward, backward) in originals.items():
        cls.forward, cls.backward = timed(forward), timed(backward)
    y = np.zeros(len(X), dtype=int)
    X = X.reshape(len(X), *clf.input_shape_)
    trainer = Trainer(network, SoftmaxCrossEntropy, optimizer, batch_size=batch_size)
    try:
        with trainer:
            trainer.run_epoch(X, y)
            threads = trainer.parallel.training_threads
    finally:
        for cls, (forward, backward) in originals.items():
            cls.forward, cls.backward = forward, backward
    seconds = sum(spent) / threads
    return flops * len(X) / seconds, seconds


def fit_in_child(model, max_iter, threads):
    """One full-data fit of ``reference.py``, in a fresh process: its time and peak memory."""
    command = [sys.executable, str(Path(__file__).parent / "reference.py"), model]
    command += ["--threads", str(threads)]
    if max_iter is not None:
        command += ["--max-iter", str(max_iter)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def gemm_rate(size=2048, repeats=5):
    a = np.random.RandomState(0).standard_normal((size, size)).astype(np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size**3 / best


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- PyTorch -------------------------------------------------------------------


def torch_network():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def torch_train_rate(X, y, epochs, batch_size):
    torch.manual_seed(0)
    net = torch_network()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X.reshape(-1, 1, 28, 28)), torch.from_numpy(y)
    net.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X_t))
        for begin in range(0, len(X_t), batch_size):
            index = order[begin : begin + batch_size]
            optimizer.zero_grad()
            loss_fn(net(X_t[index]), y_t[index]).backward()
            optimizer.step()
    return len(X) * epochs / (time.perf_counter() - start), net


def torch_predict_rate(net, X, batch_size):
    X_t = torch.from_numpy(X.reshape(-1, 1, 28, 28))
    net.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for begin in range(0, len(X_t), batch_size):
            torch.softmax(net(X_t[begin : begin + batch_size]), dim=1)
    return len(X) / (time.perf_counter() - start)


# --- the run -------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--throughput-samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--accuracy-max-iter", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="small sizes, no full-data fits")
    parser.add_argument(
        "--throughput-only", action="store_true", help="no full-data fits (steps 1 and 2)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    if args.quick:
        args.throughput_samples, args.repeats = 2000, 1

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if torch is not None:
        torch.set_num_threads(args.threads)
    else:
        print("PyTorch is not installed: skipping its rows (pip install torch==2.13.0).")

    results = {
        "command": "python benchmarks/bench_fashion_mnist.py"
        + (" --quick" if args.quick else "")
        + (" --throughput-only" if args.throughput_only else ""),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "threads": args.threads,
            "blas": [(i["internal_api"], i.get("architecture")) for i in threadpool_info()],
        },
        "versions": {
            "skcnn": skcnn.__version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__ if torch is not None else None,
        },
        "reference_layers": REFERENCE_LAYERS,
    }

    with threadpool_limits(limits=args.threads):
        # The full-data fits load their own data, in their own processes.
        X_small, y_small = training_images(args.throughput_samples)
        X_test, _ = training_images(10000, subset="test")

        rates = {"skcnn_train": [], "skcnn_predict": [], "torch_train": [], "torch_predict": []}
        for repeat in range(args.repeats):  # the two libraries take turns
            rate, clf = skcnn_train_rate(X_small, y_small, args.epochs, args.batch_size)
            rates["skcnn_train"].append(rate)
            rates["skcnn_predict"].append(skcnn_predict_rate(clf, X_test))
            if torch is not None:
                rate, net = torch_train_rate(X_small, y_small, args.epochs, args.batch_size)
                rates["torch_train"].append(rate)
                rates["torch_predict"].append(
                    max(torch_predict_rate(net, X_test, b) for b in (64, 256, 1000))
                )
            print(
                f"repeat {repeat + 1}: "
                + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rates.items() if v)
            )
        results["throughput"] = {k: statistics.median(v) for k, v in rates.items() if v}
        results["repeats"] = rates
        if torch is not None:
            # The machine's speed drifts (it is shared): each repeat's ratio compares
            # the two libraries run back to back, under the same conditions.
            results["paired_ratios"] = {
                key: [
                    ours / theirs
                    for ours, theirs in zip(rates[f"skcnn_{key}"], rates[f"torch_{key}"])
                ]
                for key in ("train", "predict")
            }

        flop_rate, conv_seconds = conv_flop_rate(clf, X_small, args.batch_size)
        peak = gemm_rate()
        results["conv_flops"] = {
            "conv_gflops": flop_rate / 1e9,
            "gemm_gflops": peak / 1e9,
            "fraction_of_gemm": flop_rate / peak,
        }

        fits = []
        if not (args.quick or args.throughput_only):
            for model, max_iter in [
                ("reference", args.accuracy_max_iter),
                ("tuned", None),
                ("mlp", None),
            ]:
                fit = fit_in_child(model, max_iter, args.threads)
                fits.append(fit)
                print(
                    f"{fit['model']}: accuracy {fit['test_accuracy']:.4f}, "
                    f"fit {fit['fit_seconds']:.0f} s, peak memory {fit['peak_rss_mb']:.0f} MB "
                    f"({fit['fit_peak_rss_mb']:.0f} MB while fitting)"
                )
        results["accuracy_vs_time"] = fits

    report = markdown(results)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "results.md").write_text(report)
    plot(fits, args.out / "accuracy_vs_time.png")


def markdown(results):
    t = results["throughput"]
    lines = [
        f"Command: `{results['command']}` ({results['machine']['threads']} threads, "
        f"{results['machine']['processor']})",
        "",
        f"Medians of {len(results['repeats']['skcnn_train'])} repeats; the last column is "
        "the median (and range) of the ratios of the repeats, each of which runs the two "
        "libraries back to back.",
        "",
        "| measure | skcnn | PyTorch | ratio of medians | ratio per repeat |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label in [("train", "training images/s"), ("predict", "prediction images/s")]:
        ours, theirs = t[f"skcnn_{key}"], t.get(f"torch_{key}")
        if theirs:
            paired = results["paired_ratios"][key]
            ratios = (
                f"{ours / theirs:.2f}x | {statistics.median(paired):.2f}x "
                f"({min(paired):.2f}-{max(paired):.2f})"
            )
        else:
            ratios = "n/a | n/a"
        torch_rate = f"{theirs:.0f}" if theirs else "n/a"  # n/a: PyTorch not installed
        lines.append(f"| {label} | {ours:.0f} | {torch_rate} | {ratios} |")
    c = results["conv_flops"]
    lines += [
        "",
        f"Conv layers while training: {c['conv_gflops']:.1f} GFLOP/s, "
        f"{c['fraction_of_gemm']:.0%} of this machine's float32 GEMM rate "
        f"({c['gemm_gflops']:.0f} GFLOP/s).",
    ]
    if results["accuracy_vs_time"]:
        lines += [
            "",
            "Each fit ran in a process of its own. Peak memory: the most that process held "
            "(loading and converting the data included), and the most while it fitted.",
            "",
            "| model | test accuracy | fit time (s) | peak memory (MB) | while fitting (MB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for fit in results["accuracy_vs_time"]:
            lines.append(
                f"| {fit['model']} | {fit['test_accuracy']:.4f} | {fit['fit_seconds']:.0f} "
                f"| {fit['peak_rss_mb']:.0f} | {fit['fit_peak_rss_mb']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def plot(fits, path):
    if not fits:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot.")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for fit in fits:
        ax.scatter(fit["fit_seconds"], fit["test_accuracy"], s=60)
        ax.annotate(
            fit["model"],
            (fit["fit_seconds"], fit["test_accuracy"]),
            textcoords="offset points",
            xytext=(6, -12),
            fontsize=8,
        )
    ax.set_xlabel("fit time (s)")
    ax.set_ylabel("Fashion-MNIST test accuracy")
    ax.set_title("Accuracy against fit time")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
