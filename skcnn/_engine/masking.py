"""Series of unequal length: padded to one length, with a mask of where they are.

A batch of padded series ``(n, 1, length, channels + 1)`` carries its mask
as its last channel: 1 where a series has a value, 0 where it is padding.
The mask travels with the samples wherever a batch goes (shuffling,
shards, augmentation), and :class:`MaskedSteps` reads it:

* the padded positions are zeros at the input and after every step of the
  network's main sequence, so that a convolution near the end of a series
  sees zeros there, as its ``"same"`` padding would give it alone;
* batch normalization (in that sequence) computes its batch statistics over
  the positions of the series only;
* a step that changes the length (a stride, a pooling) changes the mask
  with it: position ``j`` of an output of ``m`` positions from ``w``
  stands for the inputs ``[j w / m, (j + 1) w / m)`` and holds the series
  where one of them does (``ceil(length / s)`` positions for a stride
  ``s`` that divides ``w``);
* global pooling averages (or maximizes) over the positions of the series
  only; after it the outputs are flat, and the mask has done its work.

So the network must end its spatial layers in global pooling
(:func:`masking_problem` says where it does not). A series padded among
longer ones gets the output it would get alone from a network of stride-1
convolutions with ``"same"`` padding and batch normalizations (the FCN),
and training does not depend on how much padding a batch has. Inside a
residual block the mask applies to the block's output only: its layers
also see the padded positions, as what the block's first layers make of
the zeros, and so do the statistics of its batch normalizations.
"""

import numpy as np

from .kernels import column_sums
from .normalization import BatchNorm
from .pooling import GlobalAvgPool2D, GlobalMaxPool2D, _GlobalPool


def split(X):
    """The data channels of a padded batch (contiguous) and its mask ``(n, 1, length, 1)``."""
    return np.ascontiguousarray(X[..., :-1]), X[..., -1:]


def resample(mask, width):
    """The mask of an output of ``width`` positions, from the mask of its input.

    >>> m = np.array([1, 1, 1, 1, 1, 0, 0, 0.0]).reshape(1, 1, 8, 1)
    >>> resample(m, 4).ravel().tolist(), resample(m, 3).ravel().tolist()
    ([1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0])
    """
    length = mask.shape[2]
    if width == length:
        return mask
    starts = np.arange(width) * length // width
    return np.maximum.reduceat(mask, starts, axis=2)


def masking_problem(steps):
    """Why a network of ``steps`` cannot take padded series, or ``None`` where it can."""
    for step in steps:
        if isinstance(step, _GlobalPool):
            return None
        if step.output_shape is not None and len(step.output_shape) == 1:
            return (
                f"{step} makes the padded series flat before any global pooling, so that "
                f"the padding would count as data"
            )
    return "no global pooling ends its convolutions, so that the padding would count as data"


class MaskedSteps:
    """The steps of a network, run on a padded batch whose last channel is its mask.

    ``forward`` and ``backward`` as those of a layer; what ``backward``
    needs (the mask after every step, the masked pooling's gradient) is
    kept by a training ``forward``.
    """

    def __init__(self, steps):
        self.steps = steps
        self._saved = self._input_mask = None

    def forward(self, X, training=False):
        X, mask = split(X)
        X = X * mask  # the padding is zeros, whatever the batch holds there
        self._input_mask = mask if training else None
        saved = []  # per step: its output's mask, or the backward of a masked pooling
        for step in self.steps:
            if mask is None:
                X = step.forward(X, training=training)
                saved.append(None)
            elif isinstance(step, _GlobalPool):
                X, pool_backward = masked_global_pool(step, X, mask)
                saved.append(pool_backward)
                mask = None
            elif type(step) is BatchNorm and training:
                X, norm_backward = masked_batch_norm(step, X, mask)
                X = X * mask
                saved.append((mask, norm_backward))
            else:
                X = step.forward(X, training=training)
                mask = resample(mask, X.shape[2])
                X = X * mask  # the padded positions back to zero
                saved.append(mask)
        self._saved = saved if training else None
        return X

    def backward(self, grad_out, need_input_grad=True):
        saved, self._saved = self._saved, None
        for index in range(len(self.steps) - 1, -1, -1):
            need = need_input_grad or index > 0
            kept = saved[index]
            if callable(kept):  # the masked global pooling
                grad_out = kept(grad_out) if need else None
                continue
            if isinstance(kept, tuple):  # the masked batch normalization
                mask, norm_backward = kept
                grad_out = norm_backward(grad_out * mask, need)
                continue
            if kept is not None:
                grad_out = grad_out * kept  # out = step(x) m:  dL/dstep = dL/dout m
            grad_out = self.steps[index].backward(grad_out, need_input_grad=need)
        if grad_out is None:
            return None
        grad_out = grad_out * self._input_mask
        # No gradient flows to the mask channel: it is no input of the network.
        return np.concatenate([grad_out, np.zeros_like(grad_out[..., :1])], axis=3)


def masked_global_pool(pool, X, mask):
    """Global pooling of ``X`` ``(n, 1, length, channels)`` over the positions ``mask`` holds.

    Returns the pooled ``(n, channels)`` and the function that gives
    dL/dX from dL/d(pooled).
    """
    if isinstance(pool, GlobalAvgPool2D):
        counts = mask.sum(axis=(1, 2))  # (n, 1): the positions of every series
        out = (X * mask).sum(axis=(1, 2)) / counts

        def backward(grad_out):
            # dL/dx = dL/dout m / (positions held), the same at every held position
            return mask * (grad_out / counts)[:, np.newaxis, np.newaxis, :]

        return out, backward
    if isinstance(pool, GlobalMaxPool2D):
        flat = np.where(mask > 0, X, -np.inf).reshape(len(X), -1, X.shape[-1])
        argmax = flat.argmax(axis=1)  # the first maximum: where the gradient goes

        def backward(grad_out):
            # dL/dx = dL/dout at the channel's largest held value, 0 elsewhere
            n, channels = grad_out.shape
            grad_in = np.zeros((n, flat.shape[1], channels), dtype=grad_out.dtype)
            grad_in[np.arange(n)[:, np.newaxis], argmax, np.arange(channels)] = grad_out
            return grad_in.reshape(X.shape)

        return flat.max(axis=1), backward
    raise TypeError(f"{pool} is no global pooling a mask applies to.")


def masked_batch_norm(norm, X, mask):
    """A training pass of the :class:`BatchNorm` ``norm`` whose statistics count the series only.

    The mean and variance of every channel are those of the positions
    ``mask`` holds, so that the padding of a batch changes nothing; the
    running averages follow them. Returns the output and the function that
    gives dL/dX (and sets ``norm``'s gradients) from dL/d(output).
    """
    channels = X.shape[-1]
    rows, weights = X.reshape(-1, channels), mask.reshape(-1, 1)
    # Over the whole batch, where shards of it train apart (norm.batch_totals).
    count, sums = norm.batch_totals(np.array([weights.sum()]), column_sums(rows * weights))
    n = float(count[0])
    mean = sums / n
    x_hat = X - mean
    centred = x_hat.reshape(-1, channels) * weights
    (squares,) = norm.batch_totals(np.einsum("ij,ij->j", centred, centred))
    var = squares / n
    inv_std = 1 / np.sqrt(var + norm.epsilon)
    x_hat *= inv_std
    norm.update_running_stats(mean, var, n)
    out = x_hat * norm.weights
    out += norm.bias

    def backward(grad_out, need_input_grad):
        # grad_out is zero at the padding (the output is masked after the layer).
        grad_rows = grad_out.reshape(-1, channels)
        # dL/dgamma = sum dL/dy * x_hat ;  dL/dbeta = sum dL/dy   (over the series)
        norm.grad_weights = np.einsum("ij,ij->j", grad_rows, x_hat.reshape(-1, channels))
        norm.grad_bias = column_sums(grad_rows)
        if not need_input_grad:
            return None
        # dL/dx = gamma / std * (dL/dy - m (mean(dL/dy) + x_hat mean(dL/dy * x_hat))),
        # the means over the n positions the mask m holds
        grad_weights, grad_bias = norm.batch_totals(norm.grad_weights, norm.grad_bias)
        correction = mask * (grad_bias + x_hat * grad_weights) / n
        return (grad_out - correction) * (norm.weights * inv_std)

    return out, backward
