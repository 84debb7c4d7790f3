"""Losses: what training minimizes, with its gradient."""

import numpy as np


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


class SquaredError:
    """Half the mean squared error, the loss of regression (as in MLPRegressor).

    ``forward(pred, y, sample_weight=None)`` with ``pred`` and ``y`` of shape
    ``(n, n_outputs)`` returns ``sum_i w_i ||pred_i - y_i||^2 / (2 sum_i w_i)``
    divided by ``n_outputs``; ``backward()`` returns dL/dpred.
    """

    def forward(self, pred, y, sample_weight=None):
        self._diff, self._weight = pred - y, sample_weight
        per_sample = np.square(self._diff).mean(axis=1) / 2
        if sample_weight is None:
            return per_sample.mean()
        return np.dot(per_sample, sample_weight) / sample_weight.sum()

    def backward(self):
        n, n_outputs = self._diff.shape
        # dL/dpred = w (pred - y) / (sum(w) n_outputs)
        if self._weight is None:
            grad = self._diff / (n * n_outputs)
        else:
            grad = self._diff * (self._weight / (self._weight.sum() * n_outputs))[:, np.newaxis]
        self._diff = self._weight = None
        return grad

    def __repr__(self):
        return "SquaredError()"


def log_softmax(logits):
    """Row-wise ``log(softmax(logits))``, finite for any finite logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted
