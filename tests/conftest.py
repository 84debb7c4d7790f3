import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    """The 8x8 digits, scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def digits_small(digits):
    X, y = digits
    return X[:400], y[:400]


@pytest.fixture
def rng():
    return np.random.RandomState(0)


def _dask_ml_hyperband_is_broken():
    """dask-ml <= 2025.1.0's adaptive searches fail on dask >= 2025.3."""
    try:
        import dask
        import dask_ml
        from packaging.version import Version
    except ImportError:
        return False
    return Version(dask.__version__) >= Version("2025.3") and Version(
        dask_ml.__version__
    ) <= Version("2025.1.0")


@pytest.fixture
def xfail_if_hyperband_is_broken(request):
    """Expect HyperbandSearchCV to fail where dask-ml's known bug breaks it.

    Strict: once a dask-ml release fixes https://github.com/dask/dask-ml/issues/1016
    the test passes again, or it fails here and the condition must be updated.
    """
    if _dask_ml_hyperband_is_broken():
        request.applymarker(
            pytest.mark.xfail(
                raises=RuntimeError,
                strict=True,
                reason="dask-ml <= 2025.1.0 calls dask.persist inside its asynchronous "
                "Client, which dask >= 2025.3 refuses (dask/dask-ml#1016)",
            )
        )
