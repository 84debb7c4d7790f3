"""scikit-learn's own estimator checks, in full."""

import pytest
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from skcnn import CNNClassifier, CNNRegressor
from skcnn.preprocessing import Spectrogram, TextVectorizer

# Minibatch training visits repeated samples in other batches than their
# weighted twin, so the two fits differ; with one full batch they must not
# (test_sample_weight_equivalence_full_batch below).
MINIBATCH_REASON = (
    "minibatch SGD/Adam with shuffling: a weighted sample and its repeats fall in "
    "different batches; the full-batch configuration passes this check"
)


# This check's targets ignore the positive_only tag, which loss="poisson" sets.
NEGATIVE_TARGETS_REASON = (
    "the check draws targets of both signs whatever the positive_only tag; loss='poisson' "
    "refuses them with a ValueError that says why"
)

# The losses of regression, each on a small network (the checks are many).
SMALL = dict(filters=(4,), hidden_layer_sizes=(16,), random_state=0)


@parametrize_with_checks(
    [
        CNNClassifier(random_state=0),
        CNNRegressor(random_state=0),
        *(CNNRegressor(loss=loss, **SMALL) for loss in ("absolute_error", "huber", "poisson")),
    ],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": MINIBATCH_REASON,
        **(
            {"check_regressor_multioutput": NEGATIVE_TARGETS_REASON}
            if getattr(est, "loss", None) == "poisson"
            else {}
        ),
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


# The preprocessing transformers. The checks' data are short rows of random numbers:
# for Spectrogram, clips of a few samples at 100 Hz with windows of 2 samples. A
# TextVectorizer takes strings (its input tags say so), which none of the checks
# feed: scikit-learn runs only check_estimator_cloneable on it, and
# tests/test_preprocessing.py runs those that need no data.
ONE_SAMPLE_REASON = (
    "a clip of 1 sample is shorter than any window: the ValueError says so in samples and "
    "window_length, not in the words ('1 feature(s)') this check looks for"
)


@parametrize_with_checks(
    [
        Spectrogram(sampling_rate=100, window_length=2, hop_length=1, n_mels=None),
        Spectrogram(
            sampling_rate=100, window_length=2, n_mels=None, scale="log", standardize=False
        ),
        TextVectorizer(),
    ],
    expected_failed_checks=lambda est: (
        {"check_fit2d_1feature": ONE_SAMPLE_REASON} if isinstance(est, Spectrogram) else {}
    ),
)
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)
