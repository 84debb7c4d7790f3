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


# The checks of scikit-learn's suite (tests/test_common.py) that train the
# default network for many epochs or on many datasets.
SLOW_ESTIMATOR_CHECKS = (
    "check_classifiers_train",
    "check_dtype_object",
    "check_regressor_data_not_an_array",
    "check_regressors_int",
    "check_regressors_train",
    "check_sample_weight_equivalence_on_dense_data",
)


def pytest_collection_modifyitems(items):
    """Mark the slow estimator checks ``slow``, as the slow tests are marked."""
    for item in items:
        if getattr(item, "originalname", None) == "test_sklearn_compatible_estimator" and any(
            f"-{check}" in item.name for check in SLOW_ESTIMATOR_CHECKS
        ):
            item.add_marker(pytest.mark.slow)
