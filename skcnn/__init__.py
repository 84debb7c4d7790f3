"""skcnn: convolutional neural networks for scikit-learn, on NumPy and SciPy."""

from ._classifier import CNNClassifier

__version__ = "0.1.0"

__all__ = ["CNNClassifier", "__version__"]
