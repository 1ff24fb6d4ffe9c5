"""The site: a strict build, live outputs on every page, math rendered, the API documented.

The build runs once per test run (a subprocess, as ``tools/dev.py build`` runs it, shared
with the browser tests: tests/site_build.py); the tests then read the built HTML next to
the Markdown sources.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

import refimpl
from refimpl import functional, models, shapes, training
from refimpl.models import small
from tests.docs_blocks import DOCS, FENCE, Sessions, blocks, is_executed, options, pages
from tests.site_build import SiteBuild, generator
from tools.mathml import latex_to_mathml, mathml_text, styled_letter

# What a MkDocs hook makes (tools/docs_hooks.py, tools/serve_hooks.py): Zensical runs none
mkdocs_only = pytest.mark.skipif(
    generator() != "mkdocs", reason="made by MkDocs hooks, which Zensical does not run (README)"
)
SEARCH_INDEX = {"mkdocs": "search/search_index.json", "zensical": "search.json"}

ROOT = DOCS.parent
HAND_TYPED = [
    re.compile(p)
    for p in (
        r"torch\.Size\(\[",
        r"(?<![.\w])tensor\(\[",  # a printed tensor, not a torch.tensor([...]) call
        r"Parameter containing",
        r"<bound method",
        r"kernel_size=\(\d+, \d+\), stride=\(",  # a Conv2d printout
        r"^\s*\(\w+\): [A-Z]\w+\(",  # a child line of a printed module
        r"eps=1e-05, momentum=",  # a batch-norm printout
    )
]


@pytest.fixture(scope="session")
def site(site_build: SiteBuild) -> Path:
    return site_build.check()


def search_entries(site: Path) -> list[dict[str, str]]:
    """The search index's entries (location, title, text), whichever generator wrote it."""
    import json

    index = json.loads((site / SEARCH_INDEX[generator()]).read_text(encoding="utf-8"))
    return index["docs"] if "docs" in index else index["items"]


def built_page(site: Path, page: Path) -> str:
    """The HTML MkDocs writes for ``page`` (``a/b.md`` becomes ``a/b/index.html``)."""
    relative = page.relative_to(DOCS).with_suffix("")
    folder = relative.parent if relative.name == "index" else relative
    return (site / folder / "index.html").read_text(encoding="utf-8")


def page_text(markup: str) -> str:
    """The visible text of a page (tags dropped, entities decoded)."""
    body = markup.split('<article class="md-content__inner md-typeset">', 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", "", body))


PAGES = pages()
IDS = [str(p.relative_to(DOCS)) for p in PAGES]


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page_id in IDS:
        if not page_id.startswith("reference/index"):
            assert page_id in nav, f"{page_id} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_traceback_and_no_unrendered_math(site, page):
    markup = built_page(site, page)
    assert "Traceback (most recent call last)" not in markup
    assert 'class="arithmatex"' not in markup, "a formula was not converted to MathML"
    source = page.read_text(encoding="utf-8")
    if re.search(r"\$[^$\s][^$]*\$", re.sub(r"```.*?```", "", source, flags=re.S)):
        assert "<math" in markup, "the page has formulas but no MathML"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_hand_typed_output(page):
    """Printed shapes, tensors and module printouts may only come from executed blocks."""
    offenders, fence = [], None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if match and fence is None:
            fence = (match["fence"], is_executed(options(match["attrs"])))
            continue
        if match and fence is not None and match["fence"] == fence[0] and not match["lang"]:
            fence = None
            continue
        if fence is not None and fence[1]:
            continue
        offenders += [f"{page.name}:{number}: {line.strip()}" for p in HAND_TYPED if p.search(line)]
    assert offenders == []


def test_sessions_are_private_to_a_page():
    owner: dict[str, Path] = {}
    for page in PAGES:
        for block in blocks(page):
            if block.session:
                assert owner.setdefault(block.session, page) == page, (
                    f"session {block.session!r} is used by {owner[block.session]} and {page}"
                )


def _tokens(text: str) -> list[str]:
    """Words and numbers of printed text (a Markdown table's ``---`` rule is not a word)."""
    return [t for t in re.findall(r"[A-Za-z0-9_.+-]{2,}", text) if re.search(r"[A-Za-z0-9]", t)]


@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks(p)], ids=[i for p, i in zip(PAGES, IDS) if blocks(p)]
)
def test_blocks_run_and_their_output_is_on_the_page(request, page):
    """Re-run the page's blocks here; what each prints must be what the built page shows.

    The blocks run first and the built site is asked for only then, so a test that starts
    while the build runs waits for it only once its blocks are done.
    """
    sessions = Sessions()
    outputs = []
    for block in blocks(page):
        try:
            outputs.append((block, sessions.run(block)))
        except Exception as error:  # name the page and block in the failure
            pytest.fail(f"{block.where}: block raised {type(error).__name__}: {error}")
    text = page_text(built_page(request.getfixturevalue("site"), page))
    for block, output in outputs:
        if block.options.get("result"):
            assert output.strip(), f"{block.where}: prints nothing, so result= shows an empty box"
            for line in output.splitlines():
                assert line.strip() in text, f"{block.where}: printed line not on page: {line!r}"
        else:
            # printed Markdown: a fence's info string (language, options) is not shown
            shown = re.sub(r"^[ \t]*(`{3,}|~{3,}).*$", "", output, flags=re.M)
            rendered = html.unescape(re.sub(r"<[^>]+>", " ", shown))
            missing = [t for t in _tokens(rendered) if t not in text]
            assert not missing, f"{block.where}: printed text not on page: {missing[:5]}"


@pytest.mark.parametrize(
    "page, module",
    [
        ("reference/modules.md", refimpl),
        ("reference/functional.md", functional),
        ("reference/fast.md", refimpl.fast),
        ("reference/shapes.md", shapes),
        ("reference/models.md", models),
        ("reference/training.md", training),
        ("reference/training.md", small),
    ],
)
def test_every_public_name_is_documented(site, page, module):
    markup = built_page(site, DOCS / page)
    names = [n for n in module.__all__ if not (module is refimpl and n[0].islower())]
    prefix = "refimpl.modules" if module is refimpl else module.__name__
    missing = [n for n in names if f'id="{prefix}.{n}"' not in markup]
    assert missing == []


@mkdocs_only
def test_a_build_from_the_execution_cache_equals_a_fresh_one(site, second_site_build):
    """The second build replayed every page's outputs (tools/exec_cache.py); same bytes."""
    again = second_site_build.check()
    executed = [p for p in PAGES if blocks(p)]
    counts = r"execution cache: (\d+) pages replayed, (\d+) executed"
    summary = re.search(counts, second_site_build.output)
    assert summary is not None, second_site_build.output
    assert (int(summary[1]), int(summary[2])) == (len(executed), 0)
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    differ = [str(f) for f in files if (site / f).read_bytes() != (again / f).read_bytes()]
    assert differ == [], f"differ between the fresh and the cached build: {differ[:5]}"


# ---------------------------------------------------------------------------------------
# Internal links and anchors of the built site


class _Links(HTMLParser):
    """The ids (and ``name``s) of a page, and the addresses its links and images point to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.ids.add(str(values[key]))
        target = values.get("href") if tag == "a" else values.get("src") if tag == "img" else None
        if target is not None:
            self.targets.append(target)


def _parse(path: Path, cache: dict[Path, _Links]) -> _Links:
    if path not in cache:
        cache[path] = _Links()
        cache[path].feed(path.read_text(encoding="utf-8"))
    return cache[path]


def _site_url(site: Path) -> str:
    """The address the site was built for: the shortest address in its sitemap."""
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    return min(re.findall(r"<loc>([^<]+)</loc>", sitemap), key=len)


def test_internal_links_and_anchors_resolve(site):
    """Every link into the site reaches a built file, and its #fragment is an id there."""
    base = _site_url(site)
    root = urlsplit(base)
    parsed: dict[Path, _Links] = {}
    broken: list[str] = []
    checked = 0
    for document in sorted(site.rglob("*.html")):
        relative = document.relative_to(site).as_posix()
        # 404.html is served for any missing address, so its links are absolute (site_url)
        page_url = urljoin(base, relative)
        for target in _parse(document, parsed).targets:
            address = urlsplit(urljoin(page_url, target))
            if address.scheme not in {"http", "https"}:
                continue  # mailto:, data:, javascript:
            if address.netloc != root.netloc or not address.path.startswith(root.path):
                continue  # another site
            checked += 1
            path = unquote(address.path[len(root.path) :])
            file = site / path
            if path.endswith("/") or path == "" or file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                broken.append(f"{relative}: {target} (no file {file.relative_to(site)})")
                continue
            fragment = unquote(address.fragment)
            if fragment and file.suffix == ".html" and fragment not in _parse(file, parsed).ids:
                broken.append(f"{relative}: {target} (no id {address.fragment!r})")
    assert checked > 100, f"only {checked} internal links found: is the parser still right?"
    assert broken == [], "broken internal links:\n" + "\n".join(broken)


# ---------------------------------------------------------------------------------------
# Failure UX: a block that raises fails the build, and the failure says where


BROKEN_PAGE = """# A broken page

Prose before the blocks.

```python exec="on"
print("this block runs")
```

```python exec="on"
measured = 7
assert measured == 8, f"the claim no longer holds: {measured} != 8"
```
"""


def _broken_docs(tmp_path: Path) -> Path:
    """A throwaway docs folder: markdown-exec, the project's hooks, one page that raises."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the broken page](broken-page.md).\n")
    (docs / "broken-page.md").write_text(BROKEN_PAGE)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: failure ux\n"
        "plugins: [markdown-exec]\n"
        f"hooks: [{ROOT / 'tools' / 'docs_hooks.py'}]\n"
        "markdown_extensions:\n"
        "  - pymdownx.superfences\n"
        "  - pymdownx.arithmatex: {generic: true}\n"
    )
    return docs


@pytest.fixture(scope="module")
def broken_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    folder = tmp_path_factory.mktemp("broken")
    _broken_docs(folder)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(folder / "site")],
        cwd=folder,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_raising_block_fails_the_strict_build_naming_page_and_block(broken_build):
    returncode, output = broken_build
    assert returncode != 0, output
    assert "Aborted with 1 warnings in strict mode" in output, output
    # tools/docs_hooks.py prefixes markdown-exec's warning with the page
    assert "broken-page.md: markdown_exec: Execution of python code block" in output, output
    # the failing block's code and the error it raised
    assert "assert measured == 8" in output, output
    assert "AssertionError: the claim no longer holds: 7 != 8" in output, output
    # the block that ran fine is not blamed
    assert 'print("this block runs")' not in output, output


def test_a_raising_block_is_named_by_page_and_line_in_the_rerun(tmp_path, monkeypatch):
    """The pytest re-run names the page and the fence's line, in its message and traceback."""
    import tests.docs_blocks

    docs = _broken_docs(tmp_path)
    monkeypatch.setattr(tests.docs_blocks, "DOCS", docs)
    found = blocks(docs / "broken-page.md")
    assert [b.line for b in found] == [5, 9]
    sessions = Sessions()
    assert sessions.run(found[0]) == "this block runs\n"
    with pytest.raises(AssertionError, match="7 != 8") as raised:
        sessions.run(found[1])
    assert found[1].where == "broken-page.md:9"
    assert raised.traceback[-1].frame.code.raw.co_filename == "broken-page.md:9"


def test_every_page_is_in_the_search_index(site):
    indexed = {d["location"].split("#")[0] for d in search_entries(site)}
    for page in PAGES:
        relative = page.relative_to(DOCS).with_suffix("")
        folder = relative.parent if relative.name == "index" else relative
        location = "" if str(folder) == "." else f"{folder.as_posix()}/"
        assert location in indexed, f"{page} is not in the search index"


@pytest.mark.skipif(generator() != "mkdocs", reason="Zensical ignores data-search-exclude")
def test_search_index_holds_prose_not_code(site):
    """Code, printed outputs, tables and figures stay out of the search index (every first
    visit loads it)."""
    import gzip
    import json

    raw = (site / "search" / "search_index.json").read_bytes()
    docs = json.loads(raw)["docs"]
    assert not [d["location"] for d in docs if "<pre" in d["text"]], "a code block was indexed"
    pooling = " ".join(d["text"] for d in docs if d["location"].startswith("pooling/"))
    assert "ceil_mode" in pooling  # the prose
    assert "Download notebook" not in pooling  # the notebook links
    assert "(rows.view(-1," not in pooling  # a source listing's table of lines
    indexed = {d["location"].split("#")[0] for d in docs}
    for page in PAGES:  # every page is still found by its words
        relative = page.relative_to(DOCS).with_suffix("")
        folder = relative.parent if relative.name == "index" else relative
        location = "" if str(folder) == "." else f"{folder.as_posix()}/"
        assert location in indexed, f"{page} is not in the search index"
    words = " ".join(d["text"] for d in docs)
    assert "ceil_mode" in words and "running_var" in words  # inline code in prose stays
    assert len(gzip.compress(raw)) < 80_000, f"{len(gzip.compress(raw)):,} bytes gzipped"


# ---------------------------------------------------------------------------------------
# What a reader meets first (the browser tests check the same pages as laid out)

SPHINX_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|obj|exc):`")


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_sphinx_role_shows_literally(site, page):
    shown = SPHINX_ROLE.findall(page_text(built_page(site, page)))
    assert shown == []


def test_refimpl_docstrings_use_markdown_cross_references():
    """Docstrings are Markdown for mkdocstrings: ``[`name`][]``, not ``:func:`name```."""
    offenders = [
        f"{path}: {match}"
        for path in sorted((ROOT / "refimpl").rglob("*.py"))
        for match in SPHINX_ROLE.findall(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_api_examples_are_console_code(site):
    """Every ``>>>`` on an API page is a prompt in highlighted console code."""
    for name in ("modules", "functional", "fast", "shapes", "models", "training"):
        markup = built_page(site, DOCS / "reference" / f"{name}.md")
        # a function's own source (show_source) holds its docstring as a string: not an example
        markup = re.sub(
            r'<details class="mkdocstrings-source">.*?</details>', "", markup, flags=re.S
        )
        prompts = markup.count("&gt;&gt;&gt;")
        highlighted = markup.count('<span class="gp">&gt;&gt;&gt; </span>')
        assert prompts > 0 and highlighted == prompts, f"{name}: {highlighted} of {prompts}"
        assert "<blockquote>" not in markup, name


def _exec_sources(page: Path) -> list[str]:
    return [
        str(block.options.get("source", ""))
        for block in blocks(page)
        if block.options.get("source")
    ]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_output_is_framed_and_results_come_first(page):
    """Shown code puts its output in a labelled frame (source="block") or, tabbed, puts the
    result tab first (source="tabbed-right"), so a reader and a printout see results."""
    assert {s for s in _exec_sources(page)} <= {"block", "tabbed-right"}


@pytest.mark.parametrize(
    "page, titles",
    [
        ("architectures/googlenet.md", ["Inception block"]),
        (
            "architectures/resnet.md",
            [
                "Residual block with a 1x1 convolution shortcut",
                "Residual block with an identity shortcut",
                "ResNeXt block, 8 groups in its 3x3 convolution",
            ],
        ),
        ("architectures/densenet.md", ["Dense block of 2 conv blocks"]),
        ("architectures/regnet.md", ["ResNeXt block, 5 groups in its 3x3 convolution"]),
        (
            "architectures/mobilenet.md",
            [
                "Inverted residual block, expansion 6, no shortcut",
                "Inverted residual block, expansion 6, identity shortcut",
            ],
        ),
        ("architectures/convnext.md", ["ConvNeXt block, 7x7 depthwise convolution"]),
    ],
)
def test_block_diagrams_are_on_their_pages(site, page, titles):
    markup = built_page(site, DOCS / page)
    for title in titles:
        assert re.search(rf'<title id="fig-\w+-title">{re.escape(title)}</title>', markup), title


def test_mathml_bold_letters_are_bold_code_points():
    """Chromium ignores mathvariant="bold": bold symbols must be the bold characters."""
    mathml = latex_to_mathml(r"\boldsymbol{\gamma} \mathbf{x} \boldsymbol{\hat\mu}", False, "t")
    assert "mathvariant" not in mathml
    assert "\N{MATHEMATICAL BOLD ITALIC SMALL GAMMA}" in mathml
    assert "\N{MATHEMATICAL BOLD ITALIC SMALL MU}" in mathml
    assert styled_letter("bold", "\N{GREEK CAPITAL LETTER OMEGA}") == (
        "\N{MATHEMATICAL BOLD CAPITAL OMEGA}"
    )
    assert styled_letter("bold-italic", "z") == "\N{MATHEMATICAL BOLD ITALIC SMALL Z}"


def test_mathml_operator_names_and_functions_are_spaced_as_in_tex():
    bn = latex_to_mathml(r"\operatorname{BN}(x)", False, "t")
    assert "<mi>BN</mi><mo" in bn  # an identifier: no operator space before "("
    ln = latex_to_mathml(r"\ln 10", False, "t")
    assert '<mi>ln</mi><mspace width="0.1667em"></mspace><mn>10</mn>' in ln


@pytest.mark.parametrize(
    "latex, text",
    [
        (r"\sqrt{\hat{\sigma}^2 + \epsilon}", "√(σ̂² + ϵ)"),
        (r"\frac{a + b}{2}", "(a + b)/2"),
        (r"\lfloor (n - k + s) / s \rfloor", "⌊(n − k + s)/s⌋"),
        (r"x_{i}^{k}", "x_i^k"),
    ],
)
def test_formulas_as_plain_text(latex, text):
    mathml = latex_to_mathml(latex, False, "t")
    assert mathml_text(mathml[mathml.index("<math") : mathml.rindex("</math>") + 7]) == text


def test_toc_and_search_index_have_no_latex_source(site):

    raw = re.compile(r"\\\(|\\\[|\\frac|\\sqrt|\$")
    assert [d["location"] for d in search_entries(site) if raw.search(d["title"] + d["text"])] == []
    errata = built_page(site, DOCS / "errata.md")
    toc = re.findall(
        r'<a href="#epsilon" class="md-nav__link">\s*<span class="md-ellipsis">\s*(.*?)\s*</span>',
        errata,
        re.S,
    )
    toc = [re.sub(r"<[^>]+>", "", title).strip() for title in toc]  # Zensical nests a span
    assert toc and all(title == "Batch norm divides by √(σ̂² + ϵ)" for title in toc)


# ---------------------------------------------------------------------------------------
# Notebooks, repository links and the shape explorers in the built site


def _notebook_of(site: Path, page: Path) -> Path:
    relative = page.relative_to(DOCS).with_suffix("")
    if relative.name == "index":
        return site / relative.parent / f"{relative.parent.name or 'index'}.ipynb"
    return site / relative / f"{relative.name}.ipynb"


@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks(p)], ids=[i for p, i in zip(PAGES, IDS) if blocks(p)]
)
def test_page_links_its_notebook_with_this_builds_outputs(site, page):
    """The notebook: the page's blocks in order, outputs that the page shows, an install cell."""
    import nbformat

    markup = built_page(site, page)
    path = _notebook_of(site, page)
    link = re.search(r'"notebook-links"[^>]*><a href="([^"]+)" download>Download notebook', markup)
    assert link, "no notebook link under the title"
    here = path.parent.relative_to(site).as_posix()  # the page's folder, where it sits
    assert posixpath.normpath(posixpath.join(here, link[1])) == posixpath.normpath(
        posixpath.join(here, path.name)
    )
    assert "colab.research.google.com/github/" in markup
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert "install" in code[0].metadata["tags"] and "git+https://" in code[0].source
    assert "torch==" in code[0].source
    assert [c.source for c in code[1:]] == [b.code.strip("\n") for b in blocks(page)]
    text = _tokens(page_text(markup))
    for cell, block in zip(code[1:], blocks(page)):
        if block.options.get("result") and cell.outputs:
            printed = _tokens(cell.outputs[0]["text"])
            assert printed and all(t in text for t in printed[:20]), (
                f"{block.where}: the notebook's output is not the page's"
            )


def test_api_entries_link_to_their_source_lines(site):
    markup = built_page(site, DOCS / "reference" / "modules.md")
    links = re.findall(
        r'<h2 id="(refimpl[\w.]+)" class="doc doc-heading">.*?'
        r'class="api-source" href="[^"]+/blob/main/([^"#]+)#L(\d+)-L(\d+)"',
        markup,
        flags=re.S,
    )
    assert len(links) >= 5, "API entries without source links"
    for dotted, path, start, end in links:
        lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        name = dotted.rsplit(".", 1)[-1]
        heading = next(l for l in lines[int(start) - 1 :] if not l.lstrip().startswith("@"))
        assert re.match(rf"\s*(class|def) {name}\b", heading), (dotted, path, start)
        assert int(start) <= int(end) <= len(lines)


def test_pages_link_to_their_source_for_editing(site):
    markup = built_page(site, DOCS / "convolution" / "arithmetic.md")
    edit = re.search(r'<a href="([^"]+)"[^>]*rel="edit"', markup)
    assert edit and edit[1].endswith("/edit/main/docs/convolution/arithmetic.md"), edit
    assert 'data-md-component="source"' not in markup, "the header would call the host's API"


def test_explorer_script_ships_with_the_explorer_pages_only(site):
    import gzip

    script = site / "javascripts" / "explorer.js"
    size = len(gzip.compress(script.read_bytes(), 9))
    assert size < 20_000, f"explorer.js is {size} bytes gzipped"
    explorers = {"convolution/arithmetic.md": ["conv"], "pooling/pooling.md": ["pool", "adaptive"]}
    for page in sorted(DOCS.rglob("*.md")):
        markup = built_page(site, page)
        kinds = explorers.get(page.relative_to(DOCS).as_posix(), [])
        # inside the content, where instant navigation runs it
        assert markup.count("javascripts/explorer.js") == (1 if kinds else 0), page
        for kind in kinds:
            assert f'data-explorer="{kind}"' in markup


def test_name_and_whitespace_tokens_are_plain_text_drawn_in_the_code_colour(site):
    """tools/lean_html.py drops these spans: the theme must draw names as plain code."""
    from tools.lean_html import drop_plain_spans

    stylesheets = "".join(p.read_text(encoding="utf-8") for p in site.glob("assets/**/*.css"))
    assert "--md-code-hl-name-color:var(--md-code-fg-color)" in stylesheets
    assert not re.search(r"\.highlight \.w\b", stylesheets)
    listings = 0
    for page in PAGES:
        markup = built_page(site, page)
        assert '<span class="n">' not in markup and '<span class="w">' not in markup, page
        listings += markup.count('<span class="k">')
    assert listings > 100  # the pages still have highlighted listings
    sample = '<span class="k">def</span><span class="w"> </span><span class="n">f</span>'
    assert drop_plain_spans(sample) == '<span class="k">def</span> f'


def test_every_bare_table_is_in_a_box_of_its_own(site):
    from tools.lean_html import box_tables

    bare = re.compile(r"<table(?![^>]*\bclass=)[^>]*>")  # what Material wraps at load
    boxed = re.compile(r'<div class="table-box"><table(?![^>]*\bclass=)[^>]*>')
    tables = 0
    for page in PAGES:
        markup = built_page(site, page)
        tables += len(bare.findall(markup))
        assert len(bare.findall(markup)) == len(boxed.findall(markup)), page
    assert tables > 20
    once = box_tables("<p>a</p><table><tr><td>1</td></tr></table>")
    assert once == '<p>a</p><div class="table-box"><table><tr><td>1</td></tr></table></div>'
    assert box_tables(once) == once  # a page around a block's output boxes nothing twice
