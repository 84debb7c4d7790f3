"""CNNRegressor on real images: single and multiple outputs."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from skcnn import CNNRegressor

pytestmark = pytest.mark.slow  # every test trains the default network on 1,200 digits


def targets(X):
    """Brightness of the left and of the top half of every 8x8 digit, standardized."""
    images = X.reshape(-1, 8, 8)
    raw = np.column_stack([images[:, :, :4].mean(axis=(1, 2)), images[:, :4].mean(axis=(1, 2))])
    return (raw - 0.30) / 0.067  # about zero mean and unit variance on the digits


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    reg = CNNRegressor(input_shape=(8, 8), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X[:1200], targets(X[:1200]))
    return reg


def test_multi_output_regression(digits, fitted):
    X, _ = digits
    prediction = fitted.predict(X[1200:])
    assert prediction.shape == (len(X) - 1200, 2) and fitted.n_outputs_ == 2
    assert r2_score(targets(X[1200:]), prediction) > 0.9
    assert fitted.coefs_[-1].shape[1] == 2


def test_single_output_is_1d_and_scores_r2(digits):
    X, y = digits
    reg = CNNRegressor(input_shape=(8, 8), early_stopping=True, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X[:1200], targets(X[:1200])[:, 0])
    assert reg.predict(X[1200:]).shape == (len(X) - 1200,)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert reg.score(X[1200:], targets(X[1200:])[:, 0]) > 0.9


def test_regressor_round_trip_and_partial_fit(digits, fitted):
    X, _ = digits
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    loaded.partial_fit(X[:100], targets(X[:100]))
    assert loaded.n_iter_ == fitted.n_iter_ + 1
    with pytest.raises(ValueError, match="y has 1 outputs, but CNNRegressor was fitted on 2"):
        loaded.partial_fit(X[:100], targets(X[:100])[:, 0])
