"""Time im2col against FFT convolution and compare with the "auto" cost model.

    python benchmarks/calibrate_conv.py

For every shape: the measured time of a training step (forward and backward)
of each algorithm, the model's times, and whether "auto" picked the faster.
The rates in ``skcnn/_engine/tuning.py`` are fitted to this table.
"""

import time

import numpy as np

from skcnn._engine.kernels import CONV_ALGORITHMS, algorithm_costs, resolve_algorithm

# (batch, height, width, channels, filters, kernel)
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


def main():
    rng = np.random.RandomState(0)
    print(f"{'shape':<36}{'im2col ms':>10}{'fft ms':>9}{'model im2col':>14}{'model fft':>11}  auto")
    right = 0
    for n, height, width, channels, filters, kernel in SHAPES:
        x = rng.standard_normal((n, height, width, channels)).astype(np.float32)
        weights = rng.standard_normal((*kernel, channels, filters)).astype(np.float32)
        measured = {a: step_seconds(a, x, weights) for a in ("im2col", "fft")}
        model = algorithm_costs(x.shape[1:], weights.shape, (1, 1))
        picked = resolve_algorithm("auto", x.shape[1:], weights.shape, (1, 1))
        ok = picked == min(measured, key=measured.get)
        right += ok
        shape = f"{n}x{height}x{width}x{channels} -> {filters}, {kernel[0]}x{kernel[1]}"
        print(
            f"{shape:<36}{measured['im2col'] * 1e3:10.2f}{measured['fft'] * 1e3:9.2f}"
            f"{model['im2col'] * n * 1e3:14.2f}{model['fft'] * n * 1e3:11.2f}  {picked}"
            f"{'' if ok else ' (slower)'}"
        )
    print(f"auto picked the faster algorithm for {right} of {len(SHAPES)} shapes")


if __name__ == "__main__":
    main()
