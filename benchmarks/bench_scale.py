"""The scale suite: skcnn against PyTorch on networks beyond the reference one.

    python benchmarks/bench_scale.py [--repeats 3] [--threads 2] [--quick] [--curve]
        [--memory] [--compile-cost]

For every network of the suite (the reference network on Fashion-MNIST, a
VGG-style network at 32x32x3 and 64x64x3, the FCN and the ResNet for series
of Wang et al. 2017 at length 512, a ResNet-8 at 32x32x3), in one process
and one run, four contenders take turns in every repeat, with the same batch
size (64), optimizer (Adam), float32 and threads:

- ``skcnn``: ``conv_algorithm="auto"`` with the compiled accelerator (numba);
- ``skcnn NumPy``: the same, the accelerator out of reach (as without numba);
- ``torch channels_last``: PyTorch as its users run a CNN on a CPU,
  ``channels_last`` model and input, ``inference_mode`` for prediction;
- ``torch NCHW``: PyTorch's defaults, ``no_grad`` for prediction.

Training is one epoch (images per second, the fit's whole time for skcnn),
prediction over as many other images (the best of two passes: batches of 64
and 256 for PyTorch, skcnn's own batching twice). Each ratio is the median of the
ratios of single repeats, each of which ran the contenders back to back,
with their range: the machine is shared and its speed drifts.

Also: the conv steps' FLOP rate during a training epoch of the VGG-style
networks, counting the im2col FLOPs of every conv (a Winograd step included:
the FLOPs it replaces), against this machine's float32 GEMM rate; each
compiled kernel's rate against a plain copy of the same bytes (a kernel that
fell back to scalar code would show); ``--curve``: images per second against
image size for the VGG-style network; ``--memory``: peak resident memory of
a training run, from the same baseline (after imports and data), each
contender in a fresh process; ``--compile-cost``: the first fit in a fresh
process with an empty numba cache, and with the cache filled.

Writes ``scale.json``, ``scale.md`` and, with matplotlib, ``scale_curve.png``
to ``--out``.
"""

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from bench_fashion_mnist import _timed, conv_flop_rate, gemm_rate, torch_network
from reference import REFERENCE_LAYERS, peak_resident_mb, reference_classifier, training_images
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import skcnn
from skcnn._engine import kernels, winograd
from skcnn._engine.base import walk
from skcnn._engine.conv import Conv2D
from skcnn.architectures import resnet

try:
    import torch
    from torch import nn
except ImportError:  # the PyTorch columns need it
    torch = None

BATCH_SIZE = 64
CONTENDERS = ("skcnn", "skcnn NumPy", "torch channels_last", "torch NCHW")


# --- the networks, in skcnn's specs and in PyTorch ------------------------------


def vgg_layers():
    return ("conv:32:3", "relu", "conv:32:3", "relu", "maxpool:2",
            "conv:64:3", "relu", "conv:64:3", "relu", "maxpool:2", "dense:256", "relu")  # fmt: skip


FCN_LAYERS = ("conv:128:8", "bn", "relu", "conv:256:5", "bn", "relu",
              "conv:128:3", "bn", "relu", "gap")  # fmt: skip


def resnet8_layers():
    def block(width):
        return ("residual", (f"conv:{width}:3", "bn", "relu", f"conv:{width}:3", "bn"))

    return ("conv:16:3", "bn", "relu", block(16), "relu", "maxpool:2",
            block(32), "relu", "maxpool:2", block(64), "relu", "gap")  # fmt: skip


def torch_vgg(size):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * (size // 4) ** 2, 256), nn.ReLU(), nn.Linear(256, 10),
    )  # fmt: skip


def _series_layers(two_d):
    """(conv, norm) of 1-D series: Conv1d, or (1, k) Conv2d on (n, channels, 1, length)."""

    def conv(cin, cout, k):
        if two_d:
            return nn.Conv2d(cin, cout, (1, k), padding="same")
        return nn.Conv1d(cin, cout, k, padding="same")

    return conv, nn.BatchNorm2d if two_d else nn.BatchNorm1d


def _series_head(two_d, channels):
    pool = nn.AdaptiveAvgPool2d(1) if two_d else nn.AdaptiveAvgPool1d(1)
    return [pool, nn.Flatten(), nn.Linear(channels, 10)]


def torch_fcn(two_d):
    conv, norm = _series_layers(two_d)
    return nn.Sequential(
        conv(3, 128, 8), norm(128), nn.ReLU(), conv(128, 256, 5), norm(256), nn.ReLU(),
        conv(256, 128, 3), norm(128), nn.ReLU(), *_series_head(two_d, 128),
    )  # fmt: skip


class _SeriesBlock(nn.Module if torch is not None else object):
    """A block of skcnn.architectures.resnet: three convs of 8, 5 and 3 taps."""

    def __init__(self, two_d, cin, cout):
        super().__init__()
        conv, norm = _series_layers(two_d)
        self.body = nn.Sequential(
            conv(cin, cout, 8), norm(cout), nn.ReLU(), conv(cout, cout, 5), norm(cout), nn.ReLU(),
            conv(cout, cout, 3), norm(cout),
        )  # fmt: skip
        self.shortcut = (
            nn.Identity() if cin == cout else nn.Sequential(conv(cin, cout, 1), norm(cout))
        )

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def torch_series_resnet(two_d):
    return nn.Sequential(
        _SeriesBlock(two_d, 3, 64), _SeriesBlock(two_d, 64, 128), _SeriesBlock(two_d, 128, 128),
        *_series_head(two_d, 128),
    )  # fmt: skip


class _Residual(nn.Module if torch is not None else object):
    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout),
        )  # fmt: skip
        # skcnn's shortcut="auto": a 1x1 projection with batch norm where channels change
        self.shortcut = (
            nn.Identity()
            if cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout))
        )

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def torch_resnet8():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), _Residual(16, 16),
        nn.MaxPool2d(2), _Residual(16, 32), nn.MaxPool2d(2), _Residual(32, 64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )  # fmt: skip


def networks(quick):
    """name -> (skcnn layers, padding, sample shape, torch model maker, training samples)."""
    n = 256 if quick else None
    return {
        "reference 28x28x1": (REFERENCE_LAYERS, "valid", (28, 28, 1), lambda cl: torch_network(),
                              n or 4096),
        "VGG-style 32x32x3": (vgg_layers(), "same", (32, 32, 3), lambda cl: torch_vgg(32),
                              n or 1024),
        "VGG-style 64x64x3": (vgg_layers(), "same", (64, 64, 3), lambda cl: torch_vgg(64),
                              n or 512),
        "FCN series 512x3": (FCN_LAYERS, "same", (1, 512, 3), torch_fcn, n or 512),
        "ResNet-8 32x32x3": (resnet8_layers(), "same", (32, 32, 3), lambda cl: torch_resnet8(),
                             n or 1024),
        "ResNet series 512x3": (resnet(), "same", (1, 512, 3), torch_series_resnet, n or 512),
    }  # fmt: skip


def is_series(name):
    """Whether the network is one for series (Conv1d in PyTorch's NCHW contender)."""
    return "series" in name


def images(name, shape, n_samples, seed=0):
    """Fashion-MNIST for the reference network; random images elsewhere (speed alone)."""
    if name.startswith("reference"):
        X, y = training_images(n_samples)
        return X.reshape(-1, *shape), y.astype(np.int64)
    rng = np.random.RandomState(seed)
    return rng.uniform(0, 1, (n_samples, *shape)).astype(np.float32), rng.randint(0, 10, n_samples)


# --- the contenders ----------------------------------------------------------------


@contextlib.contextmanager
def accelerator(on):
    """The compiled accelerator within reach, or out of it as without numba."""
    if on:
        yield
    else:
        with mock.patch.object(kernels, "accelerator_available", lambda: False):
            yield


def skcnn_rates(layers, padding, X, y, X_test, on):
    with accelerator(on):
        clf = reference_classifier(layers=layers, padding=padding, max_iter=1,
                                   n_iter_no_change=10, batch_size=BATCH_SIZE)  # fmt: skip
        train = len(X) / _timed(lambda: clf.fit(X, y))
        predict = max(len(X_test) / _timed(lambda: clf.predict_proba(X_test)) for _ in range(2))
    algorithms = [layer.algorithm_ for _, layer in walk(clf.network_) if isinstance(layer, Conv2D)]
    return train, predict, clf, algorithms


def to_torch(X, channels_last, one_d):
    """NHWC float32 to what the PyTorch model takes."""
    t = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 3, 1, 2)))
    if one_d:
        return t[:, :, 0, :].contiguous()
    return t.contiguous(memory_format=torch.channels_last) if channels_last else t.contiguous()


def torch_rates(make, X, y, X_test, channels_last, series):
    torch.manual_seed(0)
    net = make(channels_last) if series else make(None)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    one_d = series and not channels_last
    X_t, y_t = to_torch(X, channels_last, one_d), torch.from_numpy(y.astype(np.int64))
    test = to_torch(X_test, channels_last, one_d)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        net.train()
        order = torch.randperm(len(X_t))
        for begin in range(0, len(X_t), BATCH_SIZE):
            index = order[begin : begin + BATCH_SIZE]
            optimizer.zero_grad()
            loss_fn(net(X_t[index]), y_t[index]).backward()
            optimizer.step()

    train = len(X) / _timed(epoch)
    net.eval()
    context = torch.inference_mode if channels_last else torch.no_grad

    def predict(batch):
        with context():
            for begin in range(0, len(test), batch):
                torch.softmax(net(test[begin : begin + batch]), dim=1)

    rate = max(len(test) / _timed(lambda b=b: predict(b)) for b in (64, 256))
    return train, rate


def run_network(name, spec, repeats):
    layers, padding, shape, make, n_train = spec
    X, y = images(name, shape, n_train)
    X_test, _ = images(name, shape, n_train, seed=1)
    series = is_series(name)
    # Warm-up: numba's kernels loaded (or compiled), PyTorch's first calls.
    skcnn_rates(layers, padding, X[:128], y[:128], X_test[:128], True)
    rates = {c: {"train": [], "predict": []} for c in CONTENDERS}
    algorithms = {}
    if torch is not None:
        torch_rates(make, X[:128], y[:128], X_test[:128], True, series)
    for repeat in range(repeats):
        for contender in CONTENDERS:
            if contender.startswith("torch"):
                if torch is None:
                    continue
                train, predict = torch_rates(make, X, y, X_test, "channels_last" in contender,
                                             series)  # fmt: skip
            else:
                train, predict, clf, used = skcnn_rates(layers, padding, X, y, X_test,
                                                        contender == "skcnn")  # fmt: skip
                algorithms[contender] = used
            rates[contender]["train"].append(train)
            rates[contender]["predict"].append(predict)
        print(f"  {name}, repeat {repeat + 1}: " + ", ".join(
            f"{c} {r['train'][-1]:.0f}/{r['predict'][-1]:.0f}" for c, r in rates.items()
            if r["train"]))  # fmt: skip
    result = {"samples": n_train, "rates": rates, "algorithms": algorithms, "ratios": {}}
    for ours in ("skcnn", "skcnn NumPy"):
        for theirs in ("torch channels_last", "torch NCHW"):
            if not rates[theirs]["train"]:
                continue
            for key in ("train", "predict"):
                paired = [a / b for a, b in zip(rates[ours][key], rates[theirs][key])]
                result["ratios"][f"{ours} / {theirs} {key}"] = {
                    "median": statistics.median(paired), "min": min(paired), "max": max(paired),
                }  # fmt: skip
    if name.startswith("VGG"):
        with accelerator(True):
            clf = skcnn_rates(layers, padding, X[:128], y[:128], X_test[:128], True)[2]
            flops, _ = conv_flop_rate(clf, X, BATCH_SIZE)
        with accelerator(False):
            clf = skcnn_rates(layers, padding, X[:128], y[:128], X_test[:128], False)[2]
            flops_numpy, _ = conv_flop_rate(clf, X, BATCH_SIZE)
        result["conv_gflops"] = {"skcnn": flops / 1e9, "skcnn NumPy": flops_numpy / 1e9}
    return result


# --- the compiled kernels against a memory copy -------------------------------------


def kernel_rates(repeats=5):
    """GB/s of each tile transform (the bytes of its tile array) and of np.copyto of as many.

    One thread; the tiles of a VGG-style layer, 64 images of 32x32x64, F(4x4, 3x3).
    """
    compiled = winograd._compiled()
    rng = np.random.RandomState(0)
    x = rng.standard_normal((64, 34, 34, 64)).astype(np.float32)
    tiles = 64 * 8 * 8
    V = np.empty((36, tiles, 64), np.float32)
    M = rng.standard_normal((36, tiles, 64)).astype(np.float32)
    out = np.empty((64, 32, 32, 64), np.float32)
    bias = np.zeros(64, np.float32)
    source, target = np.empty_like(V), np.empty_like(V)
    runs = {
        "input tiles (B^T d B)": (lambda: compiled.tiles_in(x, compiled.BT4, 4, 8, 8, V, 0),
                                  V.nbytes),
        "output tiles (A^T M A)": (lambda: compiled.tiles_out(M, compiled.AT4, 4, 8, 8, 0, bias,
                                                              out, False), M.nbytes),
        "np.copyto, as many bytes": (lambda: np.copyto(target, source), V.nbytes),
    }  # fmt: skip
    with threadpool_limits(1):
        result = {}
        for name, (run, nbytes) in runs.items():
            run()
            result[name] = nbytes / min(_timed(run) for _ in range(repeats)) / 1e9
    return result


# --- images per second against image size ---------------------------------------------


def curve(sizes, n_train=256):
    rows = []
    for size in sizes:
        shape = (size, size, 3)
        X, y = images("curve", shape, n_train)
        X_test = X
        row = {"size": size}
        for on, label in ((True, "skcnn"), (False, "skcnn NumPy")):
            skcnn_rates(vgg_layers(), "same", X[:64], y[:64], X_test[:64], on)
            row[label] = skcnn_rates(vgg_layers(), "same", X, y, X_test, on)[:2]
        if torch is not None:
            make = lambda cl, s=size: torch_vgg(s)  # noqa: E731
            for cl, label in ((True, "torch channels_last"), (False, "torch NCHW")):
                row[label] = torch_rates(make, X, y, X_test, cl, False)
        print(f"  size {size}: " + ", ".join(
            f"{k} {v[0]:.0f}/{v[1]:.0f}" for k, v in row.items() if k != "size"))  # fmt: skip
        rows.append(row)
    return rows


# --- memory and compilation, each in a fresh process ----------------------------------


def memory_child(name, contender, n_samples):
    """Peak resident memory of one training epoch, in MB above the baseline after data."""
    layers, padding, shape, make, _ = networks(False)[name]
    X, y = images(name, shape, int(n_samples))
    baseline = peak_resident_mb(reset=True)
    if contender.startswith("torch"):
        torch_rates(make, X, y, X[:64], "channels_last" in contender, is_series(name))
    else:
        skcnn_rates(layers, padding, X, y, X[:64], contender == "skcnn")
    return peak_resident_mb() - baseline


def in_child(*args, env=None):
    command = [sys.executable, __file__, *args]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def compile_child():
    """Seconds of a first fit of the VGG-style network on 64 images, compilation included."""
    X, y = images("compile", (32, 32, 3), 64)
    start = time.perf_counter()
    skcnn_rates(vgg_layers(), "same", X, y, X[:8], True)
    return time.perf_counter() - start


# --- the run -----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="256 images a network")
    parser.add_argument("--networks", nargs="*", help="names of networks (default: all)")
    parser.add_argument("--curve", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-samples", type=int, default=2000)
    parser.add_argument("--compile-cost", action="store_true")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if torch is not None:
        torch.set_num_threads(args.threads)
    if args.child:
        with threadpool_limits(limits=args.threads):
            if args.child[0] == "memory":
                print(json.dumps(memory_child(*args.child[1:])))
            else:
                print(json.dumps(compile_child()))
        return
    if torch is None:
        print("PyTorch is not installed: its columns stay empty (pip install torch==2.13.0).")
    results = {
        "command": "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:]),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "threads": args.threads,
            "load_average": os.getloadavg(),
        },  # fmt: skip
        "versions": {
            "skcnn": skcnn.__version__,
            "numpy": np.__version__,
            "torch": torch.__version__ if torch is not None else None,
        },  # fmt: skip
        "accelerator": winograd.accelerator_available(),
        "networks": {},
    }
    with threadpool_limits(limits=args.threads):
        results["gemm_gflops"] = gemm_rate() / 1e9
        for name, spec in networks(args.quick).items():
            if args.networks and not any(w in name for w in args.networks):
                continue
            results["networks"][name] = run_network(name, spec, args.repeats)
        if results["accelerator"]:
            results["kernels_gb_per_s"] = kernel_rates()
        if args.curve:
            results["curve"] = curve([16, 32, 48, 64, 96] if not args.quick else [16, 48])
    if args.memory:
        results["memory_mb"] = {
            name: {c: in_child("--child", "memory", name, c, str(args.memory_samples),
                               "--threads", str(args.threads))
                   for c in CONTENDERS if torch is not None or not c.startswith("torch")}
            for name in ("VGG-style 64x64x3", "ResNet-8 32x32x3")
        }  # fmt: skip
    if args.compile_cost and results["accelerator"]:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            cold = in_child("--child", "compile", env=env)
            warm = in_child("--child", "compile", env=env)
        results["first_fit_seconds"] = {"empty numba cache": cold, "cache filled": warm}
    results["machine"]["load_average_after"] = os.getloadavg()
    report = markdown(results)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "scale.md").write_text(report)
    if args.curve:
        plot(results["curve"], args.out / "scale_curve.png")


def markdown(results):
    lines = [
        f"Command: `{results['command']}` ({results['machine']['threads']} threads; load "
        f"average {results['machine']['load_average'][0]:.1f} before, "
        f"{results['machine']['load_average_after'][0]:.1f} after: a shared machine)",
        "",
        "Median (range) of the per-repeat ratios of images per second, above 1: skcnn is "
        "faster. `skcnn`: with the accelerator; `NumPy`: without.",
        "",
        "| network | against | skcnn training | skcnn prediction | NumPy training "
        "| NumPy prediction |",
        "|---|---|---:|---:|---:|---:|",
    ]

    def cell(ratios, key):
        r = ratios.get(key)
        return "n/a" if r is None else f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"

    for name, result in results["networks"].items():
        for theirs in ("torch channels_last", "torch NCHW"):
            keys = [
                f"{ours} / {theirs} {key}"
                for ours in ("skcnn", "skcnn NumPy")
                for key in ("train", "predict")
            ]
            cells = [cell(result["ratios"], key) for key in keys]
            lines.append(f"| {name} | {theirs} | " + " | ".join(cells) + " |")
    lines += ["", "Images per second (medians), training / prediction:", "",
              "| network | " + " | ".join(CONTENDERS) + " | conv algorithms (skcnn) |",
              "|---|" + "---:|" * len(CONTENDERS) + "---|"]  # fmt: skip
    for name, result in results["networks"].items():
        cells = []
        for contender in CONTENDERS:
            rates = result["rates"][contender]
            cells.append(
                f"{statistics.median(rates['train']):.0f} / "
                f"{statistics.median(rates['predict']):.0f}"
                if rates["train"]
                else "n/a"
            )
        used = ", ".join(result["algorithms"].get("skcnn", []))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {used} |")
    lines += ["", f"float32 GEMM rate: {results['gemm_gflops']:.0f} GFLOP/s."]
    for name, result in results["networks"].items():
        if "conv_gflops" in result:
            g = result["conv_gflops"]
            lines.append(
                f"{name}: conv steps while training {g['skcnn']:.0f} GFLOP/s with the "
                f"accelerator, {g['skcnn NumPy']:.0f} without (im2col FLOPs), "
                f"{g['skcnn'] / results['gemm_gflops']:.0%} and "
                f"{g['skcnn NumPy'] / results['gemm_gflops']:.0%} of the GEMM rate."
            )
    if "kernels_gb_per_s" in results:
        lines += ["", "Compiled kernels, one thread, GB/s of the tile array each writes "
                  "(input) or reads (output):", ""]  # fmt: skip
        lines += [f"- {k}: {v:.1f} GB/s" for k, v in results["kernels_gb_per_s"].items()]
    if "curve" in results:
        lines += ["", "VGG-style network, images per second (training / prediction):", "",
                  "| size | " + " | ".join(CONTENDERS) + " |",
                  "|---:|" + "---:|" * len(CONTENDERS)]  # fmt: skip
        for row in results["curve"]:
            cells = [f"{row[c][0]:.0f} / {row[c][1]:.0f}" if c in row else "n/a"
                     for c in CONTENDERS]  # fmt: skip
            lines.append(f"| {row['size']} | " + " | ".join(cells) + " |")
    if "memory_mb" in results:
        lines += ["", "Peak resident memory of a training epoch, MB above the baseline after "
                  "imports and data:", ""]  # fmt: skip
        for name, row in results["memory_mb"].items():
            lines.append(f"- {name}: " + ", ".join(f"{c} {v:.0f}" for c, v in row.items()))
    if "first_fit_seconds" in results:
        f = results["first_fit_seconds"]
        lines += ["", f"First fit (VGG-style, 64 images) in a fresh process: "
                  f"{f['empty numba cache']:.1f} s with an empty numba cache, "
                  f"{f['cache filled']:.1f} s from the cache."]  # fmt: skip
    return "\n".join(lines) + "\n"


def plot(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot.")
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    sizes = [row["size"] for row in rows]
    for ax, index, title in ((axes[0], 0, "training"), (axes[1], 1, "prediction")):
        for contender in CONTENDERS:
            if contender in rows[0]:
                ax.plot(sizes, [row[contender][index] for row in rows], marker="o",
                        label=contender)  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("image size (pixels a side)")
        ax.set_ylabel("images per second")
        ax.set_title(f"VGG-style network, {title}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
