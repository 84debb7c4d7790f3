"""scikit-learn's own estimator checks, in full."""

import pytest
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from skcnn import CNNClassifier, CNNRegressor

# Minibatch training visits repeated samples in other batches than their
# weighted twin, so the two fits differ; with one full batch they must not
# (test_sample_weight_equivalence_full_batch below).
MINIBATCH_REASON = (
    "minibatch SGD/Adam with shuffling: a weighted sample and its repeats fall in "
    "different batches; the full-batch configuration passes this check"
)


@parametrize_with_checks(
    [CNNClassifier(random_state=0), CNNRegressor(random_state=0)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": MINIBATCH_REASON
    },
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [CNNClassifier, CNNRegressor])
def test_sample_weight_equivalence_full_batch(Estimator):
    estimator = Estimator(
        batch_size=10_000, shuffle=False, dtype="float64", max_iter=20, random_state=0
    )
    check_sample_weight_equivalence_on_dense_data(Estimator.__name__, estimator)
