"""Time the conv algorithms against each other and compare with the "auto" cost model.

    python benchmarks/calibrate_conv.py [--fit]

For every shape: the measured time of a training step (forward and backward)
of each algorithm, the model's times, and whether "auto" picked the faster.
The Winograd algorithms (3x3 kernels, stride 1) run where numba is
installed. The rates in ``skcnn/_engine/tuning.py`` are fitted to this
table; ``--fit`` prints the least-squares rates of the Winograd terms.
"""

import argparse
import time

import numpy as np

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    names = ["im2col", "fft"] + (sorted(WINOGRAD_TILES) if accelerator_available() else [])
    print(f"{'shape':<34}" + "".join(f"{n:>13}" for n in names) + "   model's times, auto")
    right, rows = 0, []
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
        for name in set(runs) & set(WINOGRAD_TILES):
            rows.append((*winograd_terms(x.shape[1:], weights.shape, WINOGRAD_TILES[name]),
                         measured[name] / n))  # fmt: skip
        shape = f"{n}x{height}x{width}x{channels} -> {filters}, {kernel[0]}x{kernel[1]}"
        cells = "".join(
            f"{measured[a] * 1e3:10.2f} ms" if a in measured else f"{'':>13}" for a in names
        )
        # Below WINOGRAD_MIN_CHANNELS the model prices no Winograd algorithm: "-".
        modelled = " ".join(f"{model[a] * n * 1e3:.1f}" if a in model else "-" for a in runs)
        print(f"{shape:<34}{cells}   {modelled}, {picked}{'' if ok else ' (slower)'}")
    print(f"auto picked the fastest algorithm (within 10%) for {right} of {len(SHAPES)} shapes")
    if args.fit and rows:
        terms = np.array(rows)
        # seconds = flops / FLOP_RATE + values / TRANSFORM_RATE, relative errors weighted alike
        design = terms[:, :2] / terms[:, 2:]
        inverse_rates, *_ = np.linalg.lstsq(design, np.ones(len(terms)), rcond=None)
        print(f"WINOGRAD_FLOP_RATE = {1 / inverse_rates[0]:.3g}")
        print(f"WINOGRAD_TRANSFORM_RATE = {1 / inverse_rates[1]:.3g}")


if __name__ == "__main__":
    main()
