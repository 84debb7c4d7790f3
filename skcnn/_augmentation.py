"""Train-time augmentation: pure functions of a batch and a random stream."""

import numpy as np


def shift_and_flip(X, rng, shift=0, flip=False):
    """Random shifts and left-right flips of a batch of images (or signals).

    Each sample moves by its own random offset of up to ``shift`` pixels
    along each axis (only along the length for signals, images of height
    1), the uncovered border repeating the edge pixels; with ``flip``, half
    the samples (at random) are mirrored left-right.

    Parameters
    ----------
    X : ndarray of shape (n_samples, height, width, channels)
    rng : RandomState
        Draws the offsets and the flips.
    shift : int, default=0
    flip : bool, default=False

    Returns
    -------
    X_augmented : ndarray of shape (n_samples, height, width, channels)
        A new array; ``X`` itself is never changed. ``X`` itself when
        neither is asked for.
    """
    if not shift and not flip:
        return X
    n, height, width, _ = X.shape
    if flip:
        mirrored = rng.random_sample(n) < 0.5
        X = np.where(mirrored[:, None, None, None], X[:, :, ::-1], X)
    if shift:
        shift_y = shift if height > 1 else 0
        dy = rng.randint(-shift_y, shift_y + 1, n)
        dx = rng.randint(-shift, shift + 1, n)
        padded = np.pad(X, [(0, 0), (shift_y, shift_y), (shift, shift), (0, 0)], "edge")
        X = np.empty_like(X)
        # out[i, r, c] = in[i, r - dy_i, c - dx_i]: one slice per distinct offset
        for oy, ox in set(zip(dy.tolist(), dx.tolist())):
            same = (dy == oy) & (dx == ox)
            top, left = shift_y - oy, shift - ox
            X[same] = padded[same, top : top + height, left : left + width]
    return X
