"""Sphinx configuration for the skcnn documentation."""

import os
from pathlib import Path

from sphinx_gallery.sorting import ExplicitOrder

import skcnn

project = "skcnn"
author = "The skcnn developers"
copyright = "2026, The skcnn developers"
release = version = skcnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
numpydoc_show_class_members = False
autosummary_generate = False  # the pages of docs/api/ are written by hand
exclude_patterns = ["_build", "_intersphinx"]
templates_path = ["_templates"]

# --- HTML: the scientific Python theme, the version in the navigation bar ----
html_theme = "pydata_sphinx_theme"
html_title = f"skcnn {version}"
html_theme_options = {
    "logo": {"text": f"skcnn {version}"},
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # The examples use the width for their code and printouts; their sections
    # are few, and the list of examples stays on the left.
    "secondary_sidebar_items": {"*": ["page-toc"], "api/*": ["page-toc"], "auto_examples/*": []},
}
html_static_path = ["_static"]
html_css_files = ["skcnn.css"]
# Room for code (see _static/skcnn.css): the top-level pages have no section
# navigation to show on the left, and a class's page keeps "On this page" (its
# methods) without the list of the other pages (the API reference lists them).
# The examples keep the list of examples.
html_sidebars = {"*": [], "api/*": []}
html_show_sourcelink = False

# --- links to the other projects' documentation ------------------------------
# The inventories are stored in _intersphinx/ (see SOURCES.txt there): the
# build needs no network, and the links go to the published pages.
_inventories = Path(__file__).parent / "_intersphinx"
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", str(_inventories / "sklearn.inv")),
    "scipy": ("https://docs.scipy.org/doc/scipy/", str(_inventories / "scipy.inv")),
    "joblib": ("https://joblib.readthedocs.io/en/stable/", str(_inventories / "joblib.inv")),
}

# --- the gallery --------------------------------------------------------------
# The gallery runs every examples/plot_*.py (once: pytest only checks their
# format) and stops the build at the first error. The other scripts of
# examples/ are not part of it. SKCNN_GALLERY_RUN=0 builds a quick draft
# without running them (without -W: the pages that show their figures warn).
# The examples come in the order of a story: what a CNN does, then how to
# tune and watch one, then other kinds of input, then a larger data set.
GALLERY_ORDER = [
    "plot_xo.py",
    "plot_digits_grid_search.py",
    "plot_watching_training.py",
    "plot_signal_1d.py",
    "plot_series_presets.py",
    "plot_spoken_words.py",
    "plot_word_language.py",
    "plot_multichannel.py",
    "plot_fashion_mnist.py",
]
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # (matched against bare file names and against paths)
    "ignore_pattern": r"(^|/)(?!plot_)[^/]*\.py$",
    "plot_gallery": os.environ.get("SKCNN_GALLERY_RUN", "1") != "0",
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "download_all_examples": False,
    # (the wildcard stands for the scripts outside the gallery, which it sorts too)
    "within_subsection_order": ExplicitOrder([*GALLERY_ORDER, "*"]),
    "min_reported_time": 1,
    # A cell's last value shows only as HTML (an estimator's diagram), never as
    # text such as "<skcnn.inspection.FilterDisplay object at ...>"
    "capture_repr": ("_repr_html_",),
    # "Examples using ..." on the API pages
    "doc_module": ("skcnn",),
    "backreferences_dir": "gen_modules/backreferences",
}
