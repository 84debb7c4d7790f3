"""Sphinx configuration for the skcnn documentation."""

import skcnn

project = "skcnn"
author = "The skcnn developers"
release = version = skcnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
]
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
