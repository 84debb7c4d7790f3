"""Stochastic optimizers: each updates a list of parameter arrays in place.

The arrays are the layers' own (``Network.params``), so an update is seen by
the network without copying anything back.
"""

import numpy as np

from .kernels import accelerator


class SGD:
    """Stochastic gradient descent with momentum, optionally Nesterov's.

    Parameters
    ----------
    params : list of ndarray
        The arrays to update; used for the shapes of the velocities.
    learning_rate : float, default=0.1
    momentum : float, default=0.9
    nesterov : bool, default=True

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, -2.0])
    >>> SGD([w], learning_rate=0.5, momentum=0.0).update([w], [np.array([1.0, 1.0])])
    >>> w
    array([ 0.5, -2.5])
    """

    def __init__(self, params, learning_rate=0.1, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        lr, mu = self.learning_rate, self.momentum
        for param, grad, velocity in zip(params, grads, self.velocities):
            # v <- mu v - lr g ;  p <- p + v   (Nesterov: p <- p + mu v - lr g)
            velocity *= mu
            velocity -= lr * grad
            if self.nesterov:
                param += mu * velocity - lr * grad
            else:
                param += velocity

    def get_state(self):
        """What :meth:`set_state` needs to go on exactly: plain values and arrays."""
        return {"learning_rate": self.learning_rate, "velocities": list(self.velocities)}

    def set_state(self, state):
        """Go on from a state of :meth:`get_state` (of the same parameters)."""
        self.learning_rate = state["learning_rate"]
        for velocity, saved in zip(self.velocities, state["velocities"], strict=True):
            velocity[...] = saved

    def __repr__(self):
        return (
            f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum}, "
            f"nesterov={self.nesterov})"
        )


class Adam:
    """Adam (Kingma and Ba, 2014).

    Parameters
    ----------
    params : list of ndarray
    learning_rate : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, -2.0])
    >>> Adam([w], learning_rate=0.1).update([w], [np.array([3.0, -0.5])])
    >>> w.round(6)  # the first step moves each weight by the learning rate
    array([ 0.9, -1.9])
    """

    def __init__(self, params, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.first_moments = [np.zeros_like(p) for p in params]
        self.second_moments = [np.zeros_like(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]

    def update(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # Bias corrections of both moments folded into the step size.
        step = float(self.learning_rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        compiled = accelerator()
        for param, grad, m, v, scratch in zip(
            params, grads, self.first_moments, self.second_moments, self._scratch
        ):
            if compiled is not None and param.flags.c_contiguous and grad.flags.c_contiguous:
                # One pass where numba is installed, the same arithmetic.
                to = param.dtype.type
                compiled.adam_update(
                    param, np.asarray(grad, dtype=param.dtype), m, v, to(b1), to(1 - b1),
                    to(b2), to(1 - b2), to(self.epsilon), to(step),
                )  # fmt: skip
                continue
            # m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2   (no temporaries)
            m *= b1
            m += np.multiply(grad, 1 - b1, out=scratch)
            v *= b2
            np.square(grad, out=scratch)
            scratch *= 1 - b2
            v += scratch
            # p <- p - step m / (sqrt(v) + eps)
            np.sqrt(v, out=scratch)
            scratch += self.epsilon
            np.divide(m, scratch, out=scratch)
            scratch *= step
            param -= scratch

    def get_state(self):
        """What :meth:`set_state` needs to go on exactly: plain values and arrays."""
        return {
            "learning_rate": self.learning_rate,
            "t": self.t,
            "first_moments": list(self.first_moments),
            "second_moments": list(self.second_moments),
        }

    def set_state(self, state):
        """Go on from a state of :meth:`get_state` (of the same parameters)."""
        self.learning_rate, self.t = state["learning_rate"], state["t"]
        for moments, saved in [
            (self.first_moments, state["first_moments"]),
            (self.second_moments, state["second_moments"]),
        ]:
            for moment, saved_moment in zip(moments, saved, strict=True):
                moment[...] = saved_moment

    def __repr__(self):
        return (
            f"Adam(learning_rate={self.learning_rate}, beta_1={self.beta_1}, "
            f"beta_2={self.beta_2}, epsilon={self.epsilon})"
        )
