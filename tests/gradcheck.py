"""Central finite differences, the independent reference for every backward pass."""

import numpy as np

from skcnn._engine.gradcheck import numerical_gradient

__all__ = ["check_layer_gradients", "numerical_gradient"]


def check_layer_gradients(layer, X, rng, rtol=1e-6, atol=1e-8, training=False):
    """Compare a built, initialized layer's backward pass with finite differences.

    The scalar is ``L = sum(forward(X) * R)`` for a fixed random ``R``, so
    dL/d(output) = R, and the layer must return dL/dX and fill dL/d(params).
    ``training`` differentiates the training forward pass (batch
    normalization's batch statistics) instead of the prediction one.
    """
    R = rng.standard_normal(layer.forward(X).shape)

    def loss():
        return float(np.sum(layer.forward(X, training=training) * R))

    layer.forward(X, training=True)
    grad_X = layer.backward(R.copy())
    np.testing.assert_allclose(grad_X, numerical_gradient(loss, X), rtol=rtol, atol=atol)
    for param, grad in zip(layer.params, layer.grads):
        np.testing.assert_allclose(grad, numerical_gradient(loss, param), rtol=rtol, atol=atol)
