"""Dropout."""

import numpy as np

from .base import Layer
from .specs import Float, register


@register
class Dropout(Layer):
    """Dropout: while training, zero each input with probability ``rate``.

    The kept inputs are scaled by ``1 / (1 - rate)``, so prediction (which
    drops nothing) sees the same expected values.

    Parameters
    ----------
    rate : float in [0, 1)
    """

    kind = "dropout"
    arguments = (Float("rate", low=0, high=1, closed="left", help="share of inputs zeroed"),)
    examples = ("dropout:0.5",)

    #: The scale of the next training pass, drawn beforehand (see :meth:`draw`),
    #: or ``None``: the pass draws its own.
    drawn = None

    def __init__(self, rate):
        self.rate = rate
        self._rng = None

    def initialize(self, rng, dtype, init):
        self.seed(rng)

    def seed(self, rng):
        """Draw this layer's own random stream from ``rng``."""
        self._rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))

    def get_rng_state(self):
        """The state of this layer's random stream: a tuple of plain values."""
        return self._rng.get_state()

    def set_rng_state(self, state):
        """Go on with the random stream of :meth:`get_rng_state`."""
        self._rng = np.random.RandomState()
        self._rng.set_state(state)

    def draw(self, shape, dtype):
        """What a training pass multiplies inputs of ``shape`` with: kept / (1 - rate).

        From this layer's stream, in the order of the samples: drawn for a
        whole batch, then split into shards of samples (as
        :class:`~skcnn._engine.parallel.DataParallel` does, into :attr:`drawn`), the
        shards hold the rows the whole batch would have drawn.
        """
        keep = self._rng.random_sample(shape) >= self.rate
        return keep.astype(dtype) / dtype.type(1 - self.rate)

    def forward(self, X, training=False):
        if not training or self.rate == 0:
            self._scale = None
            return X
        self._scale = self.draw(X.shape, X.dtype) if self.drawn is None else self.drawn
        self.drawn = None
        return X * self._scale

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        # dL/dx = dL/dout * mask / (1 - rate)
        grad_in = grad_out if self._scale is None else grad_out * self._scale
        self._scale = None
        return grad_in

    def __repr__(self):
        return f"Dropout(rate={self.rate})"
