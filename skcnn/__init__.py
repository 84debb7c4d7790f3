"""skcnn: convolutional neural networks for scikit-learn, on NumPy and SciPy."""

from ._classifier import CNNClassifier
from ._regressor import CNNRegressor
from ._version import __version__

#: What ``skops.io.load(file, trusted=TRUSTED_TYPES)`` must trust, beyond the
#: types skops trusts by default, to load any fitted skcnn estimator (alone
#: or in a scikit-learn Pipeline, after skcnn's transformers): skcnn's
#: estimator classes, nothing else.
TRUSTED_TYPES = (
    "skcnn._classifier.CNNClassifier",
    "skcnn._regressor.CNNRegressor",
    "skcnn.preprocessing.Spectrogram",
    "skcnn.preprocessing.TextVectorizer",
)

__all__ = ["CNNClassifier", "CNNRegressor", "TRUSTED_TYPES", "__version__"]
