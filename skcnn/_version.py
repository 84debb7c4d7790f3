"""The version of skcnn, stored in every pickled model to check it at loading."""

__version__ = "0.2.0.dev0"
