"""Notebooks: the HTML repr links every parameter and fitted attribute to the API pages."""

import html
import inspect
import re
from urllib.parse import unquote

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import estimator_html_repr

from skcnn import CNNClassifier, CNNRegressor
from skcnn._docs import doc_link_template

# scikit-learn >= 1.8 links parameters and fitted attributes in the repr
pytest.importorskip("sklearn.utils._repr_html.params")
from sklearn.externals._numpydoc import docscrape  # noqa: E402

ESTIMATORS = [CNNClassifier, CNNRegressor]


def fragments(page_html, page):
    """{name: type} of the text fragments of the links to ``page``."""
    links = re.findall(r'href="([^"]+)"', page_html)
    found = {}
    for link in links:
        link = html.unescape(link)
        if link.startswith(page + "#:~:text="):
            name, _, kind = link[len(page + "#:~:text=") :].partition(",-")
            found[unquote(name)] = unquote(kind)
    return found


def documented(Estimator, section):
    """{name: type} of a numpydoc section of the estimator's docstring."""
    parsed = docscrape.NumpyDocString(inspect.getdoc(Estimator))
    return {entry.name: entry.type for entry in parsed[section]}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_parameter_links_to_its_own_entry(Estimator):
    estimator = Estimator()
    page = estimator._get_doc_link()
    assert page == doc_link_template().format(
        estimator_module="skcnn", estimator_name=Estimator.__name__
    )
    page_html = estimator_html_repr(estimator)
    assert f'href="{page}"' in page_html  # the "?" icon
    linked = fragments(page_html, page)
    # each with the type of its own entry, which the fragment finds on the page
    assert linked == {name: documented(Estimator, "Parameters")[name] for name in linked}
    assert set(linked) == set(estimator.get_params())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fitted_attributes_link_to_their_entries(digits_small):
    X, y = digits_small
    clf = CNNClassifier(input_shape=(8, 8), filters=(2,), hidden_layer_sizes=(), max_iter=1)
    clf.fit(X[:64], y[:64])
    linked = fragments(estimator_html_repr(clf), clf._get_doc_link())
    attributes = documented(CNNClassifier, "Attributes")
    fitted = {name for name in attributes if name != "feature_names_in_"}  # no DataFrame
    assert fitted <= set(linked)
    assert {name: linked[name] for name in attributes if name in linked} == {
        name: attributes[name] for name in attributes if name in linked
    }


def test_a_cnn_in_a_pipeline_links_too():
    pipe = make_pipeline(MinMaxScaler(), CNNClassifier(input_shape=(8, 8), max_iter=5))
    page = CNNClassifier()._get_doc_link()
    assert fragments(estimator_html_repr(pipe), page).keys() >= {"input_shape", "max_iter"}


@pytest.mark.parametrize(
    "version, folder", [("0.1.0", "stable"), ("1.2.3", "stable"), ("0.2.dev0", "latest")]
)
def test_released_versions_link_to_stable_others_to_latest(version, folder):
    template = doc_link_template(version)
    assert f"/en/{folder}/api/" in template
    assert template.endswith("api/{estimator_module}.{estimator_name}.html")
    assert template.count("{") == 2
