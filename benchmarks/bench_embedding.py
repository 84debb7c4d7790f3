"""The embedding's backward pass: ways to sum gradient rows by token id, side by side.

dL/dW[t] sums the rows of dL/d(output) at the positions that hold id ``t``.
Contenders, each on the same ids and rows, taking turns within every repeat:

- ``sparse``: a (n_ids x positions) CSR matrix of ones times the rows (what
  ``skcnn._engine.embedding`` uses);
- ``bincount``: one ``np.bincount(ids, weights=column)`` per column;
- ``add.at``: ``np.add.at(out, ids, rows)`` on whole rows;
- ``sort``: sort the ids, then ``np.add.reduceat`` on the sorted rows.

The shapes are those of a TextCNN batch: 128 words of 24 characters (about
60 character ids) and 128 sentences of 64 words (5,000 word ids), vectors of
16 and 64 entries, float32. Prints the median of the per-repeat ratios to
``sparse`` with their range.

    python benchmarks/bench_embedding.py [--repeats 15]
"""

import argparse
import time

import numpy as np

from skcnn._engine.embedding import _sum_rows_by_id


def by_add_at(ids, rows, n_ids):
    out = np.zeros((n_ids, rows.shape[1]), dtype=rows.dtype)
    np.add.at(out, ids, rows)
    return out


def by_bincount(ids, rows, n_ids):
    out = np.empty((n_ids, rows.shape[1]), dtype=rows.dtype)
    for j in range(rows.shape[1]):
        out[:, j] = np.bincount(ids, weights=rows[:, j], minlength=n_ids)
    return out


def by_sort(ids, rows, n_ids):
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out = np.zeros((n_ids, rows.shape[1]), dtype=rows.dtype)
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


CONTENDERS = {
    "sparse": _sum_rows_by_id,
    "bincount": by_bincount,
    "add.at": by_add_at,
    "sort": by_sort,
}


def best_of(function, args, inner=5):
    times = []
    for _ in range(inner):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = [
        ("chars", 128 * 24, 60, 16),
        ("chars", 128 * 24, 60, 64),
        ("words", 128 * 64, 5000, 16),
        ("words", 128 * 64, 5000, 64),
    ]
    print("Shared 2-core machine: timings are noisy; ratios are per repeat, contenders alternate.")
    print(f"{'case':<28}" + "".join(f"{name:>24}" for name in CONTENDERS))
    for label, n_positions, n_ids, dim in cases:
        ids = rng.integers(0, n_ids, n_positions)
        rows = rng.standard_normal((n_positions, dim)).astype(np.float32)
        reference = by_add_at(ids, rows, n_ids)
        for function in CONTENDERS.values():
            np.testing.assert_allclose(function(ids, rows, n_ids), reference, rtol=1e-4, atol=1e-4)
        ratios = {name: [] for name in CONTENDERS}
        base = []
        for repeat in range(args.repeats):
            names = list(CONTENDERS)
            if repeat % 2:
                names.reverse()
            times = {name: best_of(CONTENDERS[name], (ids, rows, n_ids)) for name in names}
            base.append(times["sparse"])
            for name in CONTENDERS:
                ratios[name].append(times[name] / times["sparse"])
        cells = []
        for name in CONTENDERS:
            r = np.array(ratios[name])
            cells.append(f"{np.median(r):.2f}x ({r.min():.2f}-{r.max():.2f})")
        case = f"{label} {n_positions}x{dim}, {n_ids} ids"
        print(f"{case:<28}" + "".join(f"{c:>24}" for c in cells))
        print(f"{'':<28}sparse median {np.median(base) * 1e3:.2f} ms")
    print("Cells: time relative to sparse (median of per-repeat ratios, with range).")


if __name__ == "__main__":
    main()
