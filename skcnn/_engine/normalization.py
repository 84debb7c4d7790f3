"""Batch normalization."""

import numpy as np

from .base import _WeightedLayer
from .kernels import accelerator, column_sums
from .specs import Float, register
from .workspace import FRESH, Workspace


@register
class BatchNorm(_WeightedLayer):
    """Batch normalization: standardize every channel, then scale and shift it.

    Training standardizes each channel (the last axis: the feature maps of
    images, the units of flat inputs) with the mean and variance of the batch,
    and keeps running averages of both; prediction uses the running averages,
    so a sample's output does not depend on its batch. Trained on shards of
    a batch in parallel threads, the shards add up their sums where they
    meet (:attr:`shard`): the statistics stay those of the whole batch.

    Parameters
    ----------
    momentum : float, default=0.1
        Weight of the newest batch in the running averages.
    epsilon : float, default=1e-5
        Added to the variance, so constant channels stay finite.

    Attributes
    ----------
    weights : ndarray of shape (channels,)
        The learned scale (gamma), initialized to 1.
    bias : ndarray of shape (channels,)
        The learned shift (beta), initialized to 0.
    running_mean, running_var : ndarray of shape (channels,)
        What prediction standardizes with (the variance unbiased).

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNorm()
    >>> layer.build((4, 4, 3))
    (4, 4, 3)
    >>> layer.initialize(np.random.RandomState(0), np.float64, "he")
    >>> out = layer.forward(np.random.RandomState(1).normal(5, 2, (8, 4, 4, 3)), training=True)
    >>> np.allclose(out.mean(axis=(0, 1, 2)), 0), np.allclose(out.std(axis=(0, 1, 2)), 1)
    (True, True)
    """

    kind = "batchnorm"
    aliases = ("bn", "batchnorm2d")
    arguments = (
        Float("momentum", 0.1, low=0, high=1, help="weight of the newest batch in the averages"),
        Float("epsilon", 1e-5, low=0, closed="neither", help="added to the variance"),
    )
    examples = ("batchnorm", "bn", "batchnorm:0.01")
    buffer_names = ("running_mean", "running_var")
    running_mean = running_var = None
    per_sample = False  # the statistics of the whole batch
    batch_sums = True
    #: ``(rendezvous, index)`` while a training pass runs on the shard ``index``
    #: of a batch (a :class:`~skcnn._engine.parallel.Rendezvous` where the
    #: shards add up their sums); ``None`` on a whole batch.
    shard = None

    def __init__(self, momentum=0.1, epsilon=1e-5):
        self.momentum = momentum
        self.epsilon = epsilon
        self.workspace = Workspace()

    def initialize(self, rng, dtype, init):
        channels = self.input_shape[-1]
        self.weights = np.ones(channels, dtype=dtype)
        self.bias = np.zeros(channels, dtype=dtype)
        self.running_mean = np.zeros(channels, dtype=dtype)
        self.running_var = np.ones(channels, dtype=dtype)

    def forward(self, X, training=False):
        compiled = accelerator()
        channels = X.shape[-1]
        if compiled is not None:
            X = np.ascontiguousarray(X)
        rows = X.reshape(-1, channels)
        if not training:
            # y = (x - mean) / sqrt(var + eps) * gamma + beta, as one scale and shift
            scale = self.weights / np.sqrt(self.running_var + self.epsilon)
            shift = self.bias - self.running_mean * scale
            if compiled is None:
                out = X * scale
                out += shift
            else:
                out = np.empty_like(X)
                compiled.scale_shift(rows, scale, shift, out.reshape(-1, channels))
            return out
        if compiled is None:
            out, mean, var = self._standardized(X, rows)
        else:
            out, mean, var = self._standardized_compiled(X, rows, compiled)
        self.update_running_stats(mean, var, self._n)
        return out

    def _standardized(self, X, rows):
        """The training output, by NumPy's passes; with the batch's mean and variance."""
        channels = X.shape[-1]
        count, sums = self.batch_totals(np.array([len(rows)]), column_sums(rows))
        n = self._n = int(count[0])
        mean = sums / n
        x_hat = X - mean  # centred, standardized in place below
        centred = x_hat.reshape(-1, channels)
        # No squared temporary; the squares about the whole batch's mean.
        (squares,) = self.batch_totals(np.einsum("ij,ij->j", centred, centred))
        var = squares / n
        self._inv_std = 1 / np.sqrt(var + self.epsilon)
        x_hat *= self._inv_std
        self._x_hat = x_hat
        out = x_hat * self.weights
        out += self.bias
        return out, mean, var

    def _standardized_compiled(self, X, rows, compiled):
        """:meth:`_standardized` by the compiled kernels: sums in float64, one pass each."""
        channels, dtype = X.shape[-1], X.dtype
        sums = np.empty(channels)
        compiled.column_totals(rows, sums)
        count, sums = self.batch_totals(np.array([len(rows)]), sums)
        n = self._n = int(count[0])
        mean = (sums / n).astype(dtype)
        squares = np.empty(channels)
        compiled.centred_squares(rows, mean, squares)
        (squares,) = self.batch_totals(squares)
        var = (squares / n).astype(dtype)
        self._inv_std = 1 / np.sqrt(var + self.epsilon)
        # Kept from batch to batch (fresh, they came back as new pages: a third of the time).
        workspace = self.workspace or FRESH  # (models saved before it have none)
        self._x_hat = workspace.empty("x_hat", X.shape, dtype)
        out = workspace.empty("out", X.shape, dtype)
        compiled.standardize(
            rows,
            mean,
            self._inv_std,
            self.weights,
            self.bias,
            self._x_hat.reshape(-1, channels),
            out.reshape(-1, channels),
        )
        return out, mean, var

    def batch_totals(self, *sums):
        """``sums`` (arrays) over the whole batch: as they are, or added up over its shards."""
        if self.shard is None:
            return sums
        rendezvous, index = self.shard
        return rendezvous.totals(index, sums)

    def update_running_stats(self, mean, var, n):
        """Move the running averages towards a batch's ``mean`` and ``var`` of ``n`` values
        a channel (the variance unbiased, as prediction uses it).

        Once a batch: of the shards of a batch, the first one moves them.
        """
        if self.shard is not None and self.shard[1] > 0:
            return
        momentum = self.running_mean.dtype.type(self.momentum)
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * mean
        self.running_var *= 1 - momentum
        self.running_var += momentum * var * (n / max(n - 1, 1))

    def backward(self, grad_out, need_input_grad=True):
        compiled = accelerator()
        channels = grad_out.shape[-1]
        if compiled is not None:
            grad_out = np.ascontiguousarray(grad_out)
        grad_rows = grad_out.reshape(-1, channels)
        x_hat = self._x_hat.reshape(-1, channels)
        # dL/dgamma = sum dL/dy * x_hat ;  dL/dbeta = sum dL/dy  (a shard's share of them)
        if compiled is None:
            sums = np.einsum("ij,ij->j", grad_rows, x_hat), column_sums(grad_rows)
        else:
            sums = np.empty(channels), np.empty(channels)
            compiled.gradient_totals(grad_rows, x_hat, *sums)
        dtype = grad_out.dtype
        self.grad_weights, self.grad_bias = (np.asarray(total, dtype=dtype) for total in sums)
        grad_in = None
        if need_input_grad:
            # dL/dx = gamma / std * (dL/dy - mean(dL/dy) - x_hat * mean(dL/dy * x_hat)),
            # the means over the whole batch
            n = self._n
            grad_weights, grad_bias = self.batch_totals(*sums)
            scale = self.weights * self._inv_std
            if compiled is None:
                grad_in = grad_out - grad_bias / n
                # x_hat is not needed after this: it holds the product, no temporary.
                grad_in -= np.multiply(self._x_hat, grad_weights / n, out=self._x_hat)
                grad_in *= scale
            else:
                grad_in = (self.workspace or FRESH).empty("grad_in", grad_out.shape, dtype)
                compiled.normalized_input_gradient(
                    grad_rows,
                    x_hat,
                    (grad_weights / n).astype(dtype),
                    (grad_bias / n).astype(dtype),
                    scale,
                    grad_in.reshape(-1, channels),
                )
        self._x_hat = self._inv_std = None
        return grad_in

    def __repr__(self):
        defaults = (self.momentum, self.epsilon) == (0.1, 1e-5)
        return "BatchNorm()" if defaults else super().__repr__()
