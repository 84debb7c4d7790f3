"""Sphinx configuration for the skcnn documentation."""

import os

import skcnn

project = "skcnn"
author = "The skcnn developers"
release = version = skcnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
html_theme = "alabaster"

# The gallery runs every examples/plot_*.py (once: pytest only checks their
# format) and stops the build at the first error. The other scripts of
# examples/ are not part of it. SKCNN_GALLERY_RUN=0 builds a quick draft
# without running them (without -W: the pages that show their figures warn).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/(?!plot_)[^/]*\.py$",
    "plot_gallery": os.environ.get("SKCNN_GALLERY_RUN", "1") != "0",
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
}
