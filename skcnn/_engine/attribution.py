"""Input gradients: how the network's scores move with every input value.

The gradient of an output score with respect to the input (a saliency map,
see :class:`skcnn.inspection.SaliencyDisplay`) comes from the network's own
backward pass. That pass needs what a training pass keeps, but a training
pass computes another function than prediction where a layer acts
differently in training: dropout zeroes inputs at random, batch
normalization standardizes with the statistics of the batch (and updates
its running averages). :func:`score_gradient` runs the training pass with
those layers acting as in prediction, so that the gradient is that of the
scores ``predict`` computes, exactly.
"""

from contextlib import contextmanager

import numpy as np

from .base import walk
from .normalization import BatchNorm
from .regularization import Dropout


class _PredictingBatchNorm(BatchNorm):
    """Batch normalization with the running statistics, keeping what backward needs."""

    def forward(self, X, training=False):
        out = super().forward(X, training=False)  # the arithmetic of prediction
        if training:
            self._inv_std = 1 / np.sqrt(self.running_var + self.epsilon)
            self._x_hat = (X - self.running_mean) * self._inv_std
        return out

    def backward(self, grad_out, need_input_grad=True):
        channels = grad_out.shape[-1]
        grad_rows = grad_out.reshape(-1, channels)
        # y = x_hat gamma + beta with fixed statistics:
        # dL/dgamma = sum dL/dy x_hat ;  dL/dbeta = sum dL/dy ;  dL/dx = dL/dy gamma / std
        self.grad_weights = np.einsum("ij,ij->j", grad_rows, self._x_hat.reshape(-1, channels))
        self.grad_bias = grad_rows.sum(axis=0)
        grad_in = grad_out * (self.weights * self._inv_std) if need_input_grad else None
        self._x_hat = self._inv_std = None
        return grad_in


class _PredictingDropout(Dropout):
    """Dropout that drops nothing, as in prediction: the identity, forward and backward."""

    def forward(self, X, training=False):
        return super().forward(X, training=False)


#: The layers whose training pass computes another function than prediction, and
#: the classes that compute prediction's in a training pass.
_AS_IN_PREDICTION = {BatchNorm: _PredictingBatchNorm, Dropout: _PredictingDropout}


@contextmanager
def predicting(network):
    """Within the block, training passes of ``network`` compute what prediction does.

    Every dropout drops nothing and every batch normalization standardizes
    with its running statistics (and leaves them as they are), while
    keeping what their backward passes need. The layers are themselves
    again after the block.
    """
    swapped = [
        (layer, type(layer)) for _, layer in walk(network) if type(layer) in _AS_IN_PREDICTION
    ]
    for layer, kind in swapped:
        layer.__class__ = _AS_IN_PREDICTION[kind]
    try:
        yield network
    finally:
        for layer, kind in swapped:
            layer.__class__ = kind


def score_gradient(network, X, weights):
    """The gradient of weighted output scores with respect to the input.

    ``S = sum(weights * scores)``, with the scores as prediction computes
    them; a one-hot row of ``weights`` picks one score of its sample. In
    prediction every sample is scored on its own, so row ``i`` of the
    gradient is that of sample ``i``'s weighted scores alone.

    Parameters
    ----------
    network : Network
        Built and initialized; float64 parameters give exact gradients.
    X : ndarray of shape (n_samples, *network.input_shape)
    weights : ndarray of shape (n_samples, *network.output_shape)

    Returns
    -------
    scores : ndarray of shape (n_samples, *network.output_shape)
        The network's outputs, as prediction gives them.
    gradient : ndarray
        dS/dX, of the shape of ``X``; or, where the first layer has no input
        gradient (``has_input_gradient`` false: an embedding of token ids),
        dS/d(its output), of the shape of that output.
    inputs : ndarray
        What ``gradient`` is with respect to: ``X``, or the first layer's output.

    Raises
    ------
    ValueError
        If a layer after the first has no input gradient, or a layer's
        training pass computes another function than prediction (a layer of
        one's own that adds noise in training): its gradient is not that of
        the predicted scores.
    """
    steps = network.steps
    at_first_output = not steps[0].has_input_gradient
    blocked = [
        name
        for name, layer in walk(network)
        if not layer.has_input_gradient and layer is not steps[0]
    ]
    if blocked:
        raise ValueError(
            f"the input gradient cannot pass {', '.join(blocked)}: a layer without input "
            f"gradient (an embedding) can only come first."
        )
    names = {id(layer): name for name, layer in walk(network)}
    inputs = X
    with predicting(network):
        out = X
        for index, step in enumerate(steps):
            predicted = step.forward(out, training=False)
            out = step.forward(out, training=True)
            if not np.allclose(out, predicted, rtol=1e-9, atol=1e-12 * np.abs(predicted).max()):
                raise ValueError(
                    f"layer {names.get(id(step), step)!r} computes another function in "
                    f"training than in prediction, so its backward pass gives no gradient of "
                    f"the predicted scores."
                )
            if index == 0 and at_first_output:
                inputs = np.array(out)
        scores = np.array(out)  # a training pass may return arrays it reuses
        grad = np.asarray(weights, dtype=scores.dtype)
        for index in range(len(steps) - 1, 0, -1):
            grad = steps[index].backward(grad, need_input_grad=True)
        # The first step frees what it kept either way.
        first = steps[0].backward(grad, need_input_grad=not at_first_output)
    return scores, np.array(grad if at_first_output else first), inputs
