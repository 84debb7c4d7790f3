"""skcnn: convolutional neural networks for scikit-learn, on NumPy and SciPy."""

from ._classifier import CNNClassifier
from ._regressor import CNNRegressor

__version__ = "0.1.0"

__all__ = ["CNNClassifier", "CNNRegressor", "__version__"]
