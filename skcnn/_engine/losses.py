"""Losses: what training minimizes, with its gradient."""

import numpy as np
from scipy.special import expit, xlogy


class SoftmaxCrossEntropy:
    """Softmax over the class scores fused with the cross-entropy loss.

    ``forward(logits, y, sample_weight=None)`` returns the (weighted) mean
    loss of the batch, with ``y`` the class indices; ``backward()`` returns
    dL/dlogits = w (softmax - onehot) / sum(w), which is what fusing the two
    buys: no division by tiny probabilities.
    """

    def forward(self, logits, y, sample_weight=None):
        log_proba = log_softmax(logits)
        self._proba, self._y, self._weight = np.exp(log_proba), y, sample_weight
        losses = -log_proba[np.arange(len(y)), y]
        if sample_weight is None:
            return losses.mean()
        return np.dot(losses, sample_weight) / sample_weight.sum()

    def backward(self):
        grad = self._proba
        grad[np.arange(len(self._y)), self._y] -= 1
        if self._weight is None:
            grad /= len(self._y)
        else:
            grad *= (self._weight / self._weight.sum())[:, np.newaxis]
        self._proba = self._y = self._weight = None
        return grad

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


class _ElementwiseLoss:
    """A loss that is a mean over samples and outputs of ``element(pred, y)``.

    ``forward(pred, y, sample_weight=None)`` with ``pred`` and ``y`` of
    shape ``(n, n_outputs)`` returns ``sum_i w_i mean_j element(pred_ij,
    y_ij) / sum_i w_i``; ``backward()`` returns dL/dpred. Subclasses define
    ``_element(pred, y) -> (values, dvalues/dpred)``.
    """

    def forward(self, pred, y, sample_weight=None):
        values, self._slope = self._element(pred, y)
        self._weight = sample_weight
        per_sample = values.mean(axis=1)
        if sample_weight is None:
            return per_sample.mean()
        return np.dot(per_sample, sample_weight) / sample_weight.sum()

    def backward(self):
        n, n_outputs = self._slope.shape
        # dL/dpred = w element'(pred, y) / (sum(w) n_outputs)
        if self._weight is None:
            grad = self._slope / (n * n_outputs)
        else:
            grad = self._slope * (self._weight / (self._weight.sum() * n_outputs))[:, np.newaxis]
        self._slope = self._weight = None
        return grad

    def __repr__(self):
        return f"{type(self).__name__}()"


class SquaredError(_ElementwiseLoss):
    """Half the mean squared error, the loss of regression (as in MLPRegressor).

    ``(pred - y)^2 / 2``, averaged over the outputs and (weighted) over the
    samples; its gradient is ``pred - y``.
    """

    def _element(self, pred, y):
        diff = pred - y
        return np.square(diff) / 2, diff


class AbsoluteError(_ElementwiseLoss):
    """The mean absolute error: ``|pred - y|``, robust to outlying targets.

    Its gradient at ``pred == y`` is taken as 0 (a subgradient).
    """

    def _element(self, pred, y):
        diff = pred - y
        return np.abs(diff), np.sign(diff)


class Huber(_ElementwiseLoss):
    """The Huber loss: squared for small errors, absolute for large ones.

    ``d^2 / 2`` where ``|d| <= delta``, ``delta (|d| - delta / 2)`` beyond,
    for the error ``d = pred - y``; its gradient is ``d`` clipped to
    ``[-delta, delta]``.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss turns from squared to absolute.
    """

    def __init__(self, delta=1.0):
        self.delta = delta

    def _element(self, pred, y):
        diff = pred - y
        size = np.abs(diff)
        small = size <= self.delta
        values = np.where(small, diff * diff / 2, self.delta * (size - self.delta / 2))
        return values, np.clip(diff, -self.delta, self.delta)

    def __repr__(self):
        return f"Huber(delta={self.delta})"


class PoissonDeviance(_ElementwiseLoss):
    """Half the Poisson deviance of counts, on the log scale (as MLPRegressor's "poisson").

    The network's outputs ``s`` are log means: the mean is ``exp(s)``, and
    the loss ``y log(y / exp(s)) - y + exp(s)`` (0 where the mean is ``y``)
    has the gradient ``exp(s) - y``, as a log link gives.
    """

    def _element(self, pred, y):
        mean = np.exp(pred)
        return xlogy(y, y) - y * pred - y + mean, mean - y


class SigmoidBinaryCrossEntropy(_ElementwiseLoss):
    """A sigmoid on every output, fused with the binary cross-entropy: multilabel targets.

    ``y`` holds 0 or 1 per label; the loss of a score ``s`` is
    ``log(1 + exp(s)) - y s`` (finite for any finite ``s``), its gradient
    ``sigmoid(s) - y``.
    """

    def _element(self, pred, y):
        return np.logaddexp(0, pred) - y * pred, expit(pred) - y


def log_softmax(logits):
    """Row-wise ``log(softmax(logits))``, finite for any finite logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted
