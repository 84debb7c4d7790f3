"""Scratch arrays that training steps reuse from batch to batch."""

import math

import numpy as np


class Workspace:
    """Scratch arrays that one training batch after another reuses, by name.

    A training step's large intermediates (im2col columns, phase arrays,
    outputs and gradients) are megabytes per batch. Allocated afresh every
    batch, they may come back from the system as new pages, which the kernel
    maps and zeroes on first touch: up to 600 page faults a batch on the
    benchmark network, depending on the allocator's history in the process.
    A buffer kept from one batch to the next costs none, and one large
    enough for the largest batch also serves the smaller last one.

    A training step is not thread-safe anyway; prediction uses no workspace
    (see :data:`FRESH`), so that predicting from several threads is.
    """

    def __init__(self):
        self._buffers = {}

    def empty(self, name, shape, dtype):
        """An uninitialized C-contiguous array, the same memory as last time for ``name``."""
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)

    def clear(self):
        """Hand the memory back."""
        self._buffers.clear()

    @property
    def nbytes(self):
        return sum(buffer.nbytes for buffer in self._buffers.values())


class _Fresh:
    """The workspace of no reuse: a new array every time."""

    @staticmethod
    def empty(name, shape, dtype):
        return np.empty(shape, dtype=dtype)


#: Allocates a new array for every request; the default of the kernels.
FRESH = _Fresh()
