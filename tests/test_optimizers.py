"""Optimizer updates against their closed forms."""

import numpy as np
import pytest

from skcnn._engine.optimizers import SGD, Adam


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_closed_form(nesterov):
    lr, mu = 0.1, 0.9
    param = np.array([1.0, -1.0])
    optimizer = SGD([param], learning_rate=lr, momentum=mu, nesterov=nesterov)
    grads = [np.array([0.5, 2.0]), np.array([-1.0, 1.0]), np.array([0.2, 0.0])]
    expected, velocity = param.copy(), np.zeros(2)
    for grad in grads:
        velocity = mu * velocity - lr * grad
        expected = expected + (mu * velocity - lr * grad if nesterov else velocity)
        optimizer.update([param], [grad])
        np.testing.assert_allclose(param, expected, rtol=1e-12)


def test_adam_closed_form():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    param = np.array([0.3, -0.7, 2.0])
    optimizer = Adam([param], lr, b1, b2, eps)
    expected, m, v = param.copy(), np.zeros(3), np.zeros(3)
    rng = np.random.RandomState(0)
    for t in range(1, 6):
        grad = rng.standard_normal(3)
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        expected = expected - lr * m_hat / (np.sqrt(v_hat) + eps)
        optimizer.update([param], [grad])
        # Folding the corrections into the step moves eps by sqrt(1 - b2^t): tiny.
        np.testing.assert_allclose(param, expected, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda p: SGD(p), lambda p: Adam(p)])
def test_updates_in_place_keep_dtype(make):
    param = np.ones(3, dtype=np.float32)
    optimizer = make([param])
    same = param
    optimizer.update([param], [np.full(3, 0.5, dtype=np.float32)])
    assert param is same and param.dtype == np.float32
    assert np.all(param < 1)
