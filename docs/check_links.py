"""Find broken internal links in the built HTML documentation, without a network.

``python docs/check_links.py docs/_build/html`` reads every page, follows
every relative ``href`` and ``src`` (links to other sites are left alone),
and checks that the file exists and, for ``page.html#anchor``, that the page
has an element of that ``id``. It also checks that the API pages the HTML
repr of an estimator links to (``skcnn._docs.doc_link_template``) are
there. It prints every broken link and exits with 1 if there is one.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    """The links and the anchors (ids and names) of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.anchors = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.anchors.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.links.append(attrs[key])


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def broken_links(root):
    """``(page, link, why)`` for every internal link of the HTML under ``root`` that fails."""
    root = Path(root).resolve()
    cache, broken = {}, []
    pages = [p for p in root.rglob("*.html") if p.relative_to(root).parts[0] != "_static"]
    for page_path in sorted(pages):  # (_static holds the theme's templates, no pages)
        for link in _parse(page_path, cache).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue  # another site: not checked here
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path))
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(root):
                broken.append((page_path, link, "points outside the documentation"))
            elif not target.exists():
                broken.append((page_path, link, "no such file"))
            elif (
                parts.fragment
                and target.suffix == ".html"
                and unquote(parts.fragment) not in _parse(target, cache).anchors
            ):
                broken.append((page_path, link, f"no anchor #{parts.fragment}"))
    return broken


def missing_api_pages(root):
    """The API pages that the estimators' HTML repr links to but that were not built."""
    from skcnn import CNNClassifier, CNNRegressor
    from skcnn._docs import doc_link_template

    template = doc_link_template()
    base = template[: template.index("api/")]
    missing = []
    for estimator in (CNNClassifier(), CNNRegressor()):
        page = Path(root) / estimator._get_doc_link()[len(base) :]
        if not page.exists():
            missing.append(page)
    return missing


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python docs/check_links.py BUILT_HTML_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    if not (root / "index.html").exists():
        print(f"{root} holds no built documentation (no index.html)", file=sys.stderr)
        return 2
    problems = [
        f"{page.relative_to(root.resolve())}: {link} ({why})"
        for page, link, why in broken_links(root)
    ] + [f"no API page {page} for the HTML repr's links" for page in missing_api_pages(root)]
    for problem in problems:
        print(problem)
    n_pages = sum(1 for p in root.rglob("*.html") if "_static" not in p.parts)
    print(f"{len(problems)} broken internal links in {n_pages} pages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
