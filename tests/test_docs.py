"""The README's code and the examples run as written.

The gallery examples (``examples/plot_*.py``) run once, in the documentation
build (sphinx-gallery stops it at the first error); here they are checked for
the gallery's format, and run only with ``SKCNN_RUN_GALLERY=1``. The other
examples run here.
"""

import ast
import importlib.util
import os
import re
import runpy
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

from skcnn.datasets import load_fashion_mnist

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
GALLERY = [path for path in EXAMPLES if path.name.startswith("plot_")]
RUN_GALLERY = os.environ.get("SKCNN_RUN_GALLERY") == "1"


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 3
    pytest.importorskip("matplotlib").use("Agg")  # the README draws pictures
    monkeypatch.chdir(tmp_path)  # the README saves a model file
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["model"].score(namespace["X_test"], namespace["y_test"]) > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, monkeypatch):
    if path in GALLERY:
        if not RUN_GALLERY:
            pytest.skip("run by the documentation build; SKCNN_RUN_GALLERY=1 runs it here")
        pytest.importorskip("matplotlib").use("Agg")
    if path.name == "dask_fashion_mnist.py":
        pytest.importorskip("dask_ml")
        pytest.importorskip("distributed")
        try:
            load_fashion_mnist("test")
        except FileNotFoundError:
            pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
        monkeypatch.setenv("SKCNN_EXAMPLE_N_SAMPLES", "3000")  # the first 3,000 images
    monkeypatch.chdir(path.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runpy.run_path(str(path), run_name="__main__")


@pytest.mark.parametrize("path", GALLERY, ids=[p.name for p in GALLERY])
def test_gallery_example_format(path):
    """A title docstring (text, then a line of "=") and ``# %%`` cells with prose."""
    source = path.read_text()
    tree = ast.parse(source)
    title, underline = ast.get_docstring(tree).strip().splitlines()[:2]
    assert title and set(underline) == {"="} and len(underline) >= len(title)
    assert source.count("# %%") >= 2


def test_link_checker_finds_broken_internal_links(tmp_path, capsys):
    """docs/check_links.py, which .ci/run runs on the built documentation."""
    spec = importlib.util.spec_from_file_location("check_links", ROOT / "docs" / "check_links.py")
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    (tmp_path / "index.html").write_text(
        '<a href="page.html#there">fine</a> <a href="page.html#nowhere">no anchor</a> '
        '<a href="gone.html">no file</a> <a href="https://example.org/x">another site</a> '
        '<img src="_images/a.png"> <a href="api/">a folder</a>'
    )
    (tmp_path / "page.html").write_text(
        '<h1 id="there">Title</h1> <a href="#there">here</a> <a href="../out.html">out</a>'
    )
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.png").write_bytes(b"")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "index.html").write_text("<p>API</p>")
    found = {(page.name, link, why) for page, link, why in checker.broken_links(tmp_path)}
    assert found == {
        ("index.html", "page.html#nowhere", "no anchor #nowhere"),
        ("index.html", "gone.html", "no such file"),
        ("page.html", "../out.html", "points outside the documentation"),
    }
    # and the estimators' API pages, which the HTML repr links to, are missing here
    assert checker.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "no API page" in out and "skcnn.CNNClassifier.html" in out
    assert out.strip().endswith("5 broken internal links in 3 pages")
