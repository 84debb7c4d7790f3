"""The conv algorithms as test parameters: the compiled ones skip where numba is absent."""

import pytest

from skcnn._engine.kernels import CONV_ALGORITHMS
from skcnn._engine.winograd import WINOGRAD_TILES, accelerator_available

needs_numba = pytest.mark.skipif(
    not accelerator_available(), reason="the compiled accelerator needs numba: pip install numba"
)

#: Every algorithm; those of the accelerator marked to skip without numba.
ALGORITHM_PARAMS = [
    pytest.param(name, marks=needs_numba) if name in WINOGRAD_TILES else name
    for name in sorted(CONV_ALGORITHMS)
]
#: The algorithms of NumPy and SciPy that compute every stride, dilation and kernel.
NUMPY_ALGORITHMS = sorted(set(CONV_ALGORITHMS) - set(WINOGRAD_TILES) - {"shifted"})
