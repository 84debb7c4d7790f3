"""Time the conv algorithms against each other and compare with the "auto" cost model.

    python benchmarks/calibrate_conv.py [--fit]

For every shape: the measured time of a training step (forward and backward)
of each algorithm, the model's times, and whether "auto" picked the faster.
The Winograd algorithms (3x3 kernels, stride 1) run where numba is
installed. The rates in ``skcnn/_engine/tuning.py`` are fitted to this
table; ``--fit`` prints the least-squares rates of the shifted products' and
the Winograd algorithms' terms. ``--threads 1`` times each step on one
thread, as a shard of a training batch runs.
"""

import argparse
import time
from unittest import mock

import numpy as np
from threadpoolctl import threadpool_limits

from skcnn._engine import kernels
from skcnn._engine.kernels import CONV_ALGORITHMS, algorithm_costs, resolve_algorithm
from skcnn._engine.winograd import WINOGRAD_TILES, accelerator_available, covers

# (batch, height, width, channels, filters, kernel): padded inputs
SHAPES = [
    (64, 28, 28, 1, 32, (3, 3)),
    (64, 13, 13, 32, 64, (3, 3)),
    (64, 8, 8, 1, 32, (3, 3)),
    (64, 28, 28, 16, 32, (5, 5)),
    (32, 40, 100, 1, 16, (5, 5)),
    (64, 1, 200, 4, 16, (1, 25)),
    (32, 32, 32, 16, 32, (7, 7)),
    (32, 64, 64, 8, 16, (9, 9)),
    (32, 40, 100, 16, 16, (9, 9)),
    (16, 64, 64, 16, 16, (15, 15)),
    # 3x3 'same' layers of VGG-style networks and ResNets (32x32 and 64x64 images)
    (64, 34, 34, 3, 32, (3, 3)),
    (64, 34, 34, 32, 32, (3, 3)),
    (64, 18, 18, 32, 64, (3, 3)),
    (64, 18, 18, 64, 64, (3, 3)),
    (64, 10, 10, 64, 64, (3, 3)),
    (32, 66, 66, 3, 32, (3, 3)),
    (32, 66, 66, 32, 32, (3, 3)),
    (32, 34, 34, 64, 64, (3, 3)),
    (64, 34, 34, 16, 16, (3, 3)),
    (64, 30, 30, 8, 8, (3, 3)),
    # the FCN and the ResNet for series (length 512, 'same'), one shard each
    (32, 1, 519, 3, 128, (1, 8)),
    (32, 1, 516, 128, 256, (1, 5)),
    (32, 1, 514, 256, 128, (1, 3)),
    (32, 1, 519, 64, 64, (1, 8)),
    (32, 1, 516, 128, 128, (1, 5)),
    (32, 1, 512, 64, 128, (1, 1)),
]


def step_seconds(algorithm, x, weights, repeats=3):
    forward, backward = CONV_ALGORITHMS[algorithm]
    bias = np.zeros(weights.shape[-1], dtype=x.dtype)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out, saved = forward(x, weights, bias, (1, 1), True)
        backward(np.ones_like(out), saved, weights, (1, 1), x.shape, True)
        best = min(best, time.perf_counter() - start)
    return best


def winograd_terms(x_shape, weights_shape, m):
    """The two terms of the Winograd model per sample: product FLOPs, transformed values."""
    height, width, channels = x_shape
    filters = weights_shape[3]
    terms = -(-(height - 2) // m) * -(-(width - 2) // m) * (m + 2) ** 2
    return 6 * terms * channels * filters, 2 * terms * (channels + filters)


def shifted_terms(x_shape, weights_shape):
    """The two terms of the shifted model per sample: product FLOPs, values passed over."""
    height, width, _ = x_shape
    kh, kw, channels, filters = weights_shape
    padded, window = height * width, kh * kw
    return 6 * padded * window * channels * filters, padded * window * (filters + channels)


def fit(rows, names):
    """Least-squares rates of seconds = terms[0] / rate_0 + terms[1] / rate_1, relative errors."""
    terms = np.array(rows)
    design = terms[:, :2] / terms[:, 2:]
    inverse_rates, *_ = np.linalg.lstsq(design, np.ones(len(terms)), rcond=None)
    for name, inverse in zip(names, inverse_rates):
        print(f"{name} = {1 / inverse:.3g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        table(args)


def table(args):
    rng = np.random.RandomState(0)
    names = ["im2col", "shifted", "fft"]
    names += sorted(WINOGRAD_TILES) if accelerator_available() else []
    print(f"{'shape':<34}" + "".join(f"{n:>13}" for n in names) + "   model's times, auto")
    right, right_numpy, rows, shifted_rows = 0, 0, [], []
    for n, height, width, channels, filters, kernel in SHAPES:
        x = rng.standard_normal((n, height, width, channels)).astype(np.float32)
        weights = rng.standard_normal((*kernel, channels, filters)).astype(np.float32)
        runs = [
            a for a in names if a not in WINOGRAD_TILES or covers(weights.shape, (1, 1), (1, 1))
        ]
        for algorithm in runs:  # compiled once before timing
            step_seconds(algorithm, x[:2], weights, repeats=1)
        measured = {a: step_seconds(a, x, weights) for a in runs}
        model = algorithm_costs(x.shape[1:], weights.shape, (1, 1))
        picked = resolve_algorithm("auto", x.shape[1:], weights.shape, (1, 1))
        ok = measured[picked] <= 1.1 * min(measured.values())  # within the noise
        right += ok
        # and as without numba: the algorithms of NumPy alone
        with mock.patch.object(kernels, "accelerator_available", lambda: False):
            picked_numpy = resolve_algorithm("auto", x.shape[1:], weights.shape, (1, 1))
        numpy_times = [t for a, t in measured.items() if a not in WINOGRAD_TILES]
        ok_numpy = measured[picked_numpy] <= 1.1 * min(numpy_times)
        right_numpy += ok_numpy
        shifted_rows.append((*shifted_terms(x.shape[1:], weights.shape), measured["shifted"] / n))
        for name in set(runs) & set(WINOGRAD_TILES):
            rows.append((*winograd_terms(x.shape[1:], weights.shape, WINOGRAD_TILES[name]),
                         measured[name] / n))  # fmt: skip
        shape = f"{n}x{height}x{width}x{channels} -> {filters}, {kernel[0]}x{kernel[1]}"
        cells = "".join(
            f"{measured[a] * 1e3:10.2f} ms" if a in measured else f"{'':>13}" for a in names
        )
        # Below WINOGRAD_MIN_CHANNELS the model prices no Winograd algorithm: "-".
        modelled = " ".join(f"{model[a] * n * 1e3:.1f}" if a in model else "-" for a in runs)
        print(
            f"{shape:<34}{cells}   {modelled}, {picked}{'' if ok else ' (slower)'}; "
            f"NumPy: {picked_numpy}{'' if ok_numpy else ' (slower)'}"
        )
    print(f"auto picked the fastest algorithm (within 10%) for {right} of {len(SHAPES)} shapes")
    print(f"and, without the accelerator, the fastest of NumPy's for {right_numpy}")
    if args.fit:
        fit(shifted_rows, ("SHIFTED_FLOP_RATE", "SHIFTED_PASS_RATE"))
        if rows:
            fit(rows, ("WINOGRAD_FLOP_RATE", "WINOGRAD_TRANSFORM_RATE"))


if __name__ == "__main__":
    main()
