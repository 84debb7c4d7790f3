"""The version of skcnn, stored in every pickled model to check it at loading."""

__version__ = "0.1.0"
