"""The built site as a reader sees it: every page in headless Chromium, served under a sub-path.

The site is built with ``SITE_URL=http://127.0.0.1:PORT/refimpl/`` (once per run, shared with
the docs tests: tests/site_build.py) and served from loopback
so that it lives at ``/refimpl/``, as it does on GitHub Pages; nothing is served at ``/``.
Every request the browser makes is routed through the test: one that leaves 127.0.0.1 is
aborted and reported. Chromium is Debian's package (``.ci/run`` installs it with apt),
driven by Playwright from PyPI; Playwright's own browser downloads are never used.

Where Chromium is missing the tests are skipped with the reason; under CI (``CI=true``)
they fail instead, so a green CI always means the browser ran.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.docs_blocks import DOCS, FENCE, pages
from tests.site_build import SUB_PATH, SiteBuild, generator, site_port, site_url

ROOT = DOCS.parent
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
TIMEOUT_MS = 15_000
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

PAGES = pages()
IDS = [str(p.relative_to(DOCS)) for p in PAGES]


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI, where a skipped browser test would hide a missing install."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run; .ci/run installs chromium)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------
# What the Markdown source says a page should show


def prose(markdown: str) -> str:
    """The Markdown without fenced blocks and inline code, where ``$`` is not math."""
    kept, fence = [], None
    for line in markdown.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence = match["fence"]
        elif fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
        else:
            kept.append(line)
    return re.sub(r"(`+).+?\1", "", "\n".join(kept), flags=re.S)


DISPLAY_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?![\s$])((?:\\.|[^\\$])+?)(?<!\s)\$")


def formulas_in_source(page: Path) -> int:
    """How many formulas arithmatex finds in ``page``: ``$$...$$`` blocks and ``$...$``."""
    text = prose(page.read_text(encoding="utf-8"))
    display = len(DISPLAY_MATH.findall(text))
    return display + len(INLINE_MATH.findall(DISPLAY_MATH.sub(" ", text)))


def has_code_blocks(page: Path) -> bool:
    return any(FENCE.match(line) for line in page.read_text(encoding="utf-8").splitlines())


def url_path(page: Path) -> str:
    """The page's address below the site root (``a/b.md`` is served as ``a/b/``)."""
    relative = page.relative_to(DOCS).with_suffix("")
    folder = relative.parent if relative.name == "index" else relative
    return "" if str(folder) == "." else f"{folder.as_posix()}/"


# ---------------------------------------------------------------------------------------
# The site: built for its address, served from loopback under SUB_PATH


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, and the site's 404.html for a missing one, as GitHub Pages answers."""

    not_found_page: Path

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        if code != 404 or not self.not_found_page.exists():
            super().send_error(code, message, explain)
            return
        body = self.not_found_page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


class SiteServer(http.server.ThreadingHTTPServer):
    # Every xdist worker that runs browser tests serves the same folder on the same port
    # (the site is built for that address): the kernel shares connections among them.
    allow_reuse_port = True
    daemon_threads = True


_SERVERS: dict[Path, http.server.ThreadingHTTPServer] = {}


@pytest.fixture(scope="module")
def base_url(site_build: SiteBuild) -> str:
    """The run's build (tests/site_build.py), made for this address and served there.

    The server starts once per process and serves until the process ends: pytest-xdist
    may tear a worker's fixtures down and set them up again between batches of tests,
    and a fresh server could not always bind the port while the browser's connections
    to the old one linger. Workers share the port (``SiteServer``).
    """
    site_build.check()
    if site_build.served not in _SERVERS:
        handler_class = type(
            "Handler", (SiteHandler,), {"not_found_page": site_build.site / "404.html"}
        )
        handler = functools.partial(handler_class, directory=str(site_build.served))
        server = SiteServer(("127.0.0.1", site_port()), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _SERVERS[site_build.served] = server
    return site_url()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (it is in the test extra)")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Problems:
    """Everything that went wrong while a page was open, recorded as it happened."""

    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    routed: list[str] = field(default_factory=list)  # every request the route saw
    expected_404: set[str] = field(default_factory=set)

    def assert_none(self) -> None:
        assert self.outside == [], f"requests leaving loopback: {self.outside}"
        assert self.failed == [], f"failed requests: {self.failed}"
        assert self.console == [], f"console errors: {self.console}"


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[tuple[Any, Problems]]:
    """A fresh context and page whose every request and console error is watched."""
    problems = Problems()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    context.set_default_timeout(TIMEOUT_MS)

    def route(route: Any) -> None:
        url = route.request.url
        problems.routed.append(url)
        if urlsplit(url).hostname != "127.0.0.1":
            problems.outside.append(url)
            route.abort("blockedbyclient")
        elif not urlsplit(url).path.startswith(SUB_PATH):
            problems.failed.append(f"outside the site's sub-path {SUB_PATH}: {url}")
            route.continue_()
        else:
            route.continue_()

    def on_response(response: Any) -> None:
        if zensical_favicon(response.url):
            return
        if response.status >= 400 and response.url not in problems.expected_404:
            problems.failed.append(f"{response.status} {response.url}")

    def on_console(message: Any) -> None:
        if zensical_favicon(message.location.get("url")):
            return
        if message.type == "error" and message.location.get("url") not in problems.expected_404:
            problems.console.append(f"{message.text} ({message.location.get('url')})")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.console.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda r: problems.failed.append(f"{r.failure} {r.url}"))
    page.on("response", on_response)
    try:
        yield page, problems
    finally:
        context.close()


MATH_BOXES = """
() => [...document.querySelectorAll("article math")].map(m => {
  const box = m.getBoundingClientRect();
  return {width: box.width, height: box.height, display: getComputedStyle(m).display,
          alt: m.getAttribute("alttext") || ""};
})
"""


SHOW_HIDDEN = """
() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  const style = document.createElement("style");
  style.id = "test-show-tabs";
  style.textContent =
    ".tabbed-set > .tabbed-content > .tabbed-block { display: block !important; }";
  document.head.append(style);
}
"""


def rendered_math(page: Any) -> list[dict[str, Any]]:
    """The page's formulas as laid out, with every tab and collapsed block shown."""
    page.evaluate(SHOW_HIDDEN)
    try:
        return page.evaluate(MATH_BOXES)
    finally:
        page.evaluate("document.getElementById('test-show-tabs').remove()")


def assert_math_typeset(page: Any, source: Path) -> None:
    boxes = rendered_math(page)
    expected = formulas_in_source(source)
    assert len(boxes) == expected, f"{len(boxes)} <math> elements, {expected} formulas in source"
    blank = [b["alt"] for b in boxes if not (b["width"] > 0 and b["height"] > 0)]
    assert blank == [], f"formulas with no size on screen: {blank[:5]}"
    # MathML Core layout, not unknown inline elements showing their text
    not_math = [b["alt"] for b in boxes if "math" not in b["display"]]
    assert not_math == [], f"formulas not laid out as MathML: {not_math[:5]}"


# The request every page makes after its load event: Material's instant navigation reads
# the sitemap. Waiting for it (rather than for the network to be idle for 500 ms) is faster
# and checks that it succeeds. The search index is not requested until the reader reaches
# for search (overrides/main.html): test_search_finds_the_pooling_page.
LATE_REQUEST = "/sitemap.xml"
SEARCH_INDEX = "/search/search_index.json"

# What differs under Zensical (tools/dev.py test --with zensical; README, "Two
# generators"): its own search index, which its search fetches with every page, and its
# own search dialog (in a shadow root, which Playwright's CSS locators enter).
ZENSICAL = generator() == "zensical"
if ZENSICAL:
    SEARCH_INDEX = "/search.json"
SEARCH_OPENER = ".md-search__button" if ZENSICAL else "input.md-search__input"
SEARCH_INPUT = "dialog[aria-label=Search] input[role=combobox]" if ZENSICAL else SEARCH_OPENER
SEARCH_HIT = "a[role=option]" if ZENSICAL else ".md-search-result__item > a"


def zensical_favicon(url: str | None) -> bool:
    """The request for the favicon that Zensical writes as a path, ``./data:...`` (README)."""
    return ZENSICAL and "/data:image/svg+xml," in (url or "")


def visit(page: Any, url: str) -> Any:
    """Open ``url`` and wait until the page is loaded and its late request is answered."""
    with page.expect_response(lambda r: urlsplit(r.url).path.endswith(LATE_REQUEST)):
        response = page.goto(url, wait_until="load")
    return response


TWO_FRAMES = """() => new Promise((resolve) =>
  requestAnimationFrame(() => requestAnimationFrame(resolve)))"""
VISIT_CODE_BLOCKS = """async () => {
  // Each listing brought to the screen, its tabs (and their parents' tabs) opened first;
  // then the tabs as they were.
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const opened = [...document.querySelectorAll("article .tabbed-set > input:checked")];
  for (const code of document.querySelectorAll("article pre > code")) {
    const closed = [];
    for (let block = code.closest(".tabbed-block"); block;
         block = block.parentElement.closest(".tabbed-block")) {
      closed.unshift(block);
    }
    for (const block of closed) {
      if (block.checkVisibility()) continue;
      const index = [...block.parentElement.children].indexOf(block);
      block.closest(".tabbed-set").querySelectorAll(":scope > input")[index].click();
    }
    code.scrollIntoView();
    await frame();
    await frame();
  }
  for (const input of opened) input.click();
  await frame();
}"""


def scheme(page: Any) -> str:
    return page.evaluate("document.body.getAttribute('data-md-color-scheme')")


def toggle_palette(page: Any) -> str:
    before = scheme(page)
    page.locator("form[data-refimpl-palette] label:visible").click()
    page.wait_for_function(
        "before => document.body.getAttribute('data-md-color-scheme') !== before", arg=before
    )
    return scheme(page)


# ---------------------------------------------------------------------------------------
# The tests


def test_search_finds_the_pooling_page(tab, base_url):
    """The index is fetched once the reader reaches for search, by click or by shortcut."""
    page, problems = tab
    for reach in ("click",) if ZENSICAL else ("click", "/"):
        visit(page, base_url)
        search = page.locator(SEARCH_INPUT)
        if reach == "click":
            page.locator(SEARCH_OPENER).click()
        else:
            page.keyboard.press(reach)
            page.wait_for_function("document.activeElement.matches('input.md-search__input')")
        search.press_sequentially("adaptive")
        hit = page.locator(f"{SEARCH_HIT}[href*='pooling/pooling/']").first
        hit.wait_for(state="visible")
        assert "Pooling" in hit.inner_text()
        # the worker's request went through the route too: the loopback guard sees it
        assert any(urlsplit(url).path.endswith(SEARCH_INDEX) for url in problems.routed)
        problems.routed.clear()
    problems.assert_none()


def test_a_search_result_opens_with_its_terms_highlighted(tab, base_url):
    page, problems = tab
    with page.expect_response(lambda r: urlsplit(r.url).path.endswith(SEARCH_INDEX)):
        visit(page, base_url + "pooling/pooling/?h=adaptive")
    page.locator("article mark", has_text="adaptive").first.wait_for()
    problems.assert_none()


def test_instant_navigation_keeps_the_page_and_typesets_math(tab, base_url):
    page, problems = tab
    visit(page, base_url)
    page.evaluate("window.__still_here = true")
    page.locator("a.md-tabs__link", has_text="Convolution").first.click()
    page.wait_for_url(f"{base_url}convolution/arithmetic/")
    page.locator("article h1", has_text="Convolution arithmetic").wait_for()
    assert page.evaluate("window.__still_here === true"), "the click reloaded the whole page"
    assert_math_typeset(page, DOCS / "convolution" / "arithmetic.md")
    page.go_back()
    page.wait_for_url(base_url)
    assert page.evaluate("window.__still_here === true")
    problems.assert_none()


def test_the_chosen_scheme_stays_across_pages_and_reloads(tab, base_url):
    """overrides/partials/palette.html and its script: a choice is kept where Material's
    start-up script applies it before the next page is drawn, through instant
    navigation and a full load alike, and the switch shows the way back."""
    page, problems = tab
    visit(page, base_url)
    assert scheme(page) == "default"  # the light preference of the context
    assert toggle_palette(page) == "slate"
    page.locator("a.md-tabs__link", has_text="Normalization").first.click()
    page.wait_for_url(f"{base_url}normalization/batch-norm/")
    page.locator("article h1", has_text="Batch normalization").wait_for()
    assert scheme(page) == "slate"
    visit(page, base_url + "architectures/googlenet/")
    assert scheme(page) == "slate"
    label = page.locator("form[data-refimpl-palette] label:visible")
    assert label.count() == 1 and label.get_attribute("title") == "Switch to light mode"
    assert toggle_palette(page) == "default"
    page.reload()
    assert scheme(page) == "default"
    problems.assert_none()


def test_404_is_styled_under_the_sub_path(tab, base_url):
    page, problems = tab
    missing = f"{base_url}no/such/page/"
    problems.expected_404.add(missing)
    response = visit(page, missing)
    assert response is not None and response.status == 404
    assert page.locator("article h1").inner_text().startswith("404")
    header = page.evaluate("getComputedStyle(document.querySelector('.md-header')).backgroundColor")
    assert header not in {"rgba(0, 0, 0, 0)", "transparent"}, "Material's stylesheet is missing"
    home = page.locator("a.md-header__button.md-logo").get_attribute("href")
    assert home is not None and urlsplit(home).path.startswith(SUB_PATH), home
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "404.png"))
    problems.assert_none()


def test_formulas_are_set_in_a_math_font(tab, base_url):
    """Display formulas use a font with a MATH table, so sums are large and brackets stretch."""
    page, problems = tab
    visit(page, base_url + "convolution/arithmetic/")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    tokens = cdp.send(
        "DOM.querySelectorAll",
        {"nodeId": root, "selector": "article .math-display math :is(mi, mo, mn)"},
    )["nodeIds"]
    assert tokens, "no display formula on the page"
    families = {
        font["familyName"]
        for node in tokens
        for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    }
    assert {f for f in families if "math" not in f.lower()} == set(), families
    problems.assert_none()


@pytest.mark.parametrize(
    "name, path", [("home", ""), ("convolution-arithmetic", "convolution/arithmetic/")]
)
def test_screenshot(tab, base_url, name, path):
    """Screenshots for a person to look at, kept by CI under artifacts/screenshots/."""
    page, problems = tab
    # 1200 pixels high: the arithmetic page's first display formula is on screen
    page.set_viewport_size({"width": 1280, "height": 1200})
    visit(page, base_url + path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
    problems.assert_none()


# ---------------------------------------------------------------------------------------
# What a reader meets first: blocks inside the column, output labelled, results first,
# API examples as console code, no LaTeX source in navigation or search

READER_CHECKS = """
() => {
  const wide = [];
  const blocks = ["pre > code", ".result", ".md-typeset__scrollwrap", ".tabbed-block"];
  for (const el of document.querySelectorAll(blocks.map(b => "article " + b).join(", "))) {
    if (el.scrollWidth > el.clientWidth + 1) {
      wide.push(`${el.className}: ${el.scrollWidth} > ${el.clientWidth}: `
                + (el.innerText || "").slice(0, 60));
    }
  }
  const unlabelled = [...document.querySelectorAll("article .result")]
    .filter(el => el.children.length > 0)
    .filter(el => getComputedStyle(el, "::before").content !== '"Output"')
    .map(el => (el.innerText || "").slice(0, 60));
  const tabs = [...document.querySelectorAll("article .tabbed-set")].map(set => {
    const labels = [...set.querySelectorAll(":scope > .tabbed-labels > label")];
    const checked = set.querySelector(":scope > input:checked");
    const first = set.querySelector(":scope > input");
    return {labels: labels.map(l => l.innerText.trim()), firstChecked: checked === first};
  });
  const prompts = [];
  const walker = document.createTreeWalker(document.querySelector("article"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.includes(">>>")) continue;
    const parent = node.parentElement;
    if (parent.closest("details.mkdocstrings-source")) continue;  // a function's own source
    prompts.push({inCode: !!parent.closest("pre > code"), prompt: parent.classList.contains("gp"),
                  text: node.textContent.slice(0, 60)});
  }
  const navText = [...document.querySelectorAll(".md-nav__link, .md-nav__title")]
    .map(el => el.textContent.trim());
  return {
    wide, unlabelled, tabs, prompts, navText, title: document.title,
    nestedQuotes: document.querySelectorAll("article blockquote blockquote").length,
  };
}
"""
RAW_LATEX = re.compile(r"\\\(|\\\[|\\frac|\\sqrt|\\hat|\\mathbf|\$")


# A first visit to any page, everything it fetches (the search worker included; the search
# index waits until the reader searches).
# The budget of a first visit (the heaviest page, convolution arithmetic, is about 120 KB).
MAX_REQUESTS = 10
MAX_GZIPPED_BYTES = 150_000
WEIGHTS = ROOT / "artifacts" / "page-weight"


@pytest.mark.parametrize("source", PAGES, ids=IDS)
def test_page_reads_cleanly(tab, base_url, site_build, source):
    """One visit per page, three sets of checks: the page works, it lays out for readers,
    and it is light."""
    page, problems = tab
    visit(page, base_url + url_path(source))
    assert_page_works(page, source)
    assert_layout_for_readers(page, source)
    problems.assert_none()
    held = [url for url in problems.routed if urlsplit(url).path.endswith(SEARCH_INDEX)]
    if ZENSICAL:  # its search fetches the index with every page: weighed apart, not budgeted
        kept = [u for u in problems.routed if u not in held and not zensical_favicon(u)]
        problems.routed[:] = kept
        held_weight = first_visit_weight(held, site_build.served)[1]
        (WEIGHTS / "zensical-search-index.txt").parent.mkdir(parents=True, exist_ok=True)
        (WEIGHTS / "zensical-search-index.txt").write_text(f"{held_weight} bytes gzipped\n")
    else:
        assert held == [], "the search index was loaded before the reader searched"
    requests, gzipped = first_visit_weight(problems.routed, site_build.served)
    WEIGHTS.mkdir(parents=True, exist_ok=True)  # for the record: artifacts/page-weight/
    (WEIGHTS / f"{url_path(source).strip('/').replace('/', '_') or 'home'}.txt").write_text(
        f"{source.relative_to(DOCS)}\t{requests} requests\t{gzipped} bytes gzipped\n"
    )
    assert requests <= MAX_REQUESTS, f"{requests} requests: {problems.routed}"
    assert gzipped <= MAX_GZIPPED_BYTES, f"{gzipped} bytes gzipped: {problems.routed}"


def first_visit_weight(urls: list[str], served: Path) -> tuple[int, int]:
    """Requests a visit made, and their bodies' size compressed as a server would (gzip -6).

    Each body is read from the served folder (a folder's address is its index.html).
    """
    total = 0
    for url in urls:
        path = served / unquote(urlsplit(url).path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        total += len(gzip.compress(path.read_bytes(), compresslevel=6))
    return len(urls), total


def assert_page_works(page: Any, source: Path) -> None:
    """No console error, no failed or outside request, math typeset, copy buttons, palette."""
    assert page.locator("article h1").count() >= 1, "the page has no heading"
    assert_math_typeset(page, source)
    if has_code_blocks(source):
        # content.lazy: a block gets its copy button once it has been near the screen
        page.evaluate(VISIT_CODE_BLOCKS)
        code = page.locator("article pre > code").count()
        buttons = page.locator("article pre button[data-clipboard-target]").count()
        assert code > 0 and buttons == code, f"{code} code blocks, {buttons} copy buttons"
        page.evaluate("window.scrollTo(0, 0)")
    assert scheme(page) == "default"
    assert toggle_palette(page) == "slate"
    assert toggle_palette(page) == "default"


def assert_layout_for_readers(page: Any, source: Path) -> None:
    """At 1280 px: nothing scrolls sideways, output is labelled, tabs open on the result,
    API examples are console code, and navigation shows no LaTeX source."""
    page.evaluate(SHOW_HIDDEN)
    found = page.evaluate(READER_CHECKS)
    assert found["wide"] == [], "blocks wider than their container at 1280 px"
    assert found["unlabelled"] == [], "output frames without their 'Output' label"
    for tabs in found["tabs"]:
        if "Result" in tabs["labels"]:  # markdown-exec's source/result tabs
            assert tabs["labels"][0] == "Result" and tabs["firstChecked"], tabs
    assert found["nestedQuotes"] == 0, "nested blockquotes (a >>> prompt read as Markdown?)"
    # printed source (inspect.getsource) holds docstring examples as strings: code, not prompts
    plain = [p["text"] for p in found["prompts"] if not p["inCode"]]
    assert plain == [], f"'>>>' outside code blocks: {plain[:3]}"
    if source.parent.name == "reference" and source.name != "index.md":
        assert found["prompts"], "an API page with no example"
        unhighlighted = [p["text"] for p in found["prompts"] if not p["prompt"]]
        assert unhighlighted == [], (
            f"API examples not highlighted as console code: {unhighlighted[:3]}"
        )
    latex = [t for t in [found["title"], *found["navText"]] if RAW_LATEX.search(t)]
    assert latex == [], f"LaTeX source in the title or navigation: {latex[:3]}"


def test_search_index_has_no_latex_source(tab, base_url):
    """Search titles and texts carry formulas as text (√(σ̂² + ϵ)), not as LaTeX source."""
    page, problems = tab
    visit(page, base_url)
    index = page.evaluate("url => fetch(url).then(r => r.json())", base_url + SEARCH_INDEX[1:])
    docs = index["items"] if ZENSICAL else index["docs"]
    entries = [(d["location"], d["title"] + " " + d["text"]) for d in docs]
    assert len(entries) > 50
    latex = [
        (where, RAW_LATEX.search(text)[0]) for where, text in entries if RAW_LATEX.search(text)
    ]
    assert latex == []
    titles = {d["location"]: d["title"] for d in docs}
    # Zensical titles a heading with its MathML's characters run together (σ^2+ϵ)
    assert ZENSICAL or titles["errata/#epsilon"] == "Batch norm divides by √(σ̂² + ϵ)"
    problems.assert_none()


def test_home_page_links_every_page_in_the_nav(tab, base_url):
    page, problems = tab
    visit(page, base_url)
    nav = page.evaluate(
        """() => [...document.querySelectorAll("nav.md-nav--primary a.md-nav__link[href]")]
                   .map(a => a.href).filter(h => !h.includes("#"))"""
    )
    linked = page.evaluate(
        """() => [...document.querySelectorAll("article a[href]")].map(a => a.href.split("#")[0])"""
    )
    pages = {url for url in nav if url != base_url}
    assert len(pages) == len(PAGES) - 1, sorted(pages)  # every page but the home page
    assert sorted(pages - set(linked)) == []
    problems.assert_none()


@pytest.mark.parametrize(
    "name, path, selector, figure_title",
    [
        ("api-reference", "reference/models/", "#refimpl\\.models\\.Inception", None),
        ("arithmetic-table", "convolution/arithmetic/", "#every-formula-against-real-layers", None),
        ("inception-diagram", "architectures/googlenet/", "figure", "Inception block"),
        ("resnext-diagram", "architectures/resnet/", "figure", "ResNeXt block"),
    ],
)
def test_reader_screenshots(tab, base_url, name, path, selector, figure_title):
    """Screenshots at 1280 px of what the reader fixes touched, for a person to look at."""
    page, problems = tab
    visit(page, base_url + path)
    target = page.locator(selector)
    if figure_title:
        target = target.filter(has=page.locator("svg > title", has_text=figure_title))
    target.first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -80)")  # below the sticky header
    page.evaluate(TWO_FRAMES)  # off-screen blocks are drawn once they come near
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
    problems.assert_none()


# The shape explorers (docs/javascripts/explorer.js) against refimpl.shapes and torch.nn

DRIVE_EXPLORER = """
([kind, configs]) => {
  const root = document.querySelector(`.explorer[data-explorer="${kind}"]`);
  const form = root.querySelector("form");
  const read = (name) => (root.querySelector(`[data-out="${name}"]`) || {}).textContent || "";
  return configs.map((config) => {
    for (const [name, value] of Object.entries(config)) {
      const input = form.elements.namedItem(name);
      if (input.type === "checkbox") input.checked = value;
      else input.value = String(value);
    }
    form.dispatchEvent(new Event("input", {bubbles: true}));
    return {shape: read("shape"), error: read("error"), bins: read("bins"),
            cells: root.querySelectorAll('[data-out="figure"] [data-role="output"]').length};
  });
}
"""


def torch_outcome(make: Any) -> tuple[str, str]:
    """``(shape, "")`` for what torch computes, or ``("", "Type: message")`` for what it raises."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'same' with an even kernel warns about a copy
            out = make()
    except (RuntimeError, ValueError) as error:
        return "", f"{type(error).__name__}: {error}"
    return str(tuple(out.shape)), ""


def shapes_outcome(compute: Any) -> int | None:
    try:
        return compute()
    except ValueError:
        return None


def conv_configs(count: int) -> list[dict[str, Any]]:
    import random

    rng = random.Random(15)
    modes = ["side", "total", "same", "valid"]
    configs = []
    for index in range(count):
        configs.append(
            {
                "mode": modes[index % 4],
                "n": rng.randint(1, 12),
                "k": rng.randint(1, 7),
                "p": rng.randint(0, 5),
                "s": rng.randint(1, 4),
                "d": rng.randint(1, 3),
            }
        )
    return configs


def expected_conv(config: dict[str, Any]) -> tuple[str, str, int | None]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    from refimpl import shapes

    n, k, p, s, d, mode = (config[key] for key in ("n", "k", "p", "s", "d", "mode"))
    x = torch.zeros(1, 1, n, n)
    if mode == "total":  # D2L's total: the odd row after, as 'same' does
        before, after = p // 2, p - p // 2
        shape, error = torch_outcome(
            lambda: nn.Conv2d(1, 1, k, stride=s, dilation=d)(F.pad(x, (before, after) * 2))
        )
        ours = shapes_outcome(lambda: shapes.conv_output_size(n, k, s, (before, after), d))
    else:
        padding: int | str = p if mode == "side" else mode
        shape, error = torch_outcome(
            lambda: nn.Conv2d(1, 1, k, stride=s, padding=padding, dilation=d)(x)
        )
        ours = shapes_outcome(lambda: shapes.conv_output_size(n, k, s, padding, d))
    return shape, error, ours


def pool_configs(count: int) -> list[dict[str, Any]]:
    import random

    rng = random.Random(16)
    return [
        {
            "n": rng.randint(1, 12),
            "k": rng.randint(1, 7),
            "p": rng.randint(0, 4),
            "s": rng.randint(1, 4),
            "d": rng.randint(1, 3),
            "ceil": bool(rng.getrandbits(1)),
        }
        for _ in range(count)
    ]


def expected_pool(config: dict[str, Any]) -> tuple[str, str, int | None]:
    import torch
    from torch import nn

    from refimpl import shapes

    n, k, p, s, d, ceil = (config[key] for key in ("n", "k", "p", "s", "d", "ceil"))
    shape, error = torch_outcome(
        lambda: nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)(
            torch.zeros(1, 1, n, n)
        )
    )
    ours = shapes_outcome(lambda: shapes.pool_output_size(n, k, s, p, d, ceil))
    return shape, error, ours


def torch_bins(n: int, out: int) -> list[tuple[int, int]]:
    """The bins torch's AdaptiveAvgPool1d uses, read from its weights on the unit vectors."""
    import torch
    from torch import nn

    weights = nn.AdaptiveAvgPool1d(out)(torch.eye(n).unsqueeze(1)).squeeze(1)  # (n, out)
    bins = []
    for column in weights.T:
        members = column.nonzero().flatten().tolist()
        bins.append((members[0], members[-1] + 1))
        assert members == list(range(members[0], members[-1] + 1))
    return bins


def ceil_overhang(kind: str, config: dict[str, Any]) -> bool:
    """A ceil_mode pooling whose kernel is longer than the padded input.

    torch still makes one window there (its first window starts in the padding and hangs
    past the end); refimpl.shapes.pool_output_size and refimpl's pooling layers raise
    instead. The explorer follows torch; refimpl's side is a known difference.
    """
    if kind != "pool" or not config["ceil"]:
        return False
    span = config["d"] * (config["k"] - 1) + 1
    return span > config["n"] + 2 * config["p"]


def compare(kind: str, config: dict[str, Any], seen: dict[str, Any], wanted: tuple) -> list[str]:
    shape, error, ours = wanted
    problems = []
    if error:
        if seen["error"] != error:
            problems.append(f"{kind} {config}: explorer says {seen['error']!r}, torch {error!r}")
        if ours is not None:
            problems.append(f"{kind} {config}: torch raises, refimpl.shapes gives {ours}")
    else:
        if seen["shape"] != shape or seen["error"]:
            problems.append(f"{kind} {config}: explorer {seen}, torch {shape}")
        if (ours is None and not ceil_overhang(kind, config)) or (
            ours is not None and str((1, 1, ours, ours)) != shape
        ):
            problems.append(f"{kind} {config}: refimpl.shapes gives {ours}, torch {shape}")
        drawn = int(shape.strip("()").split(", ")[-1]) ** 2
        if seen["cells"] != drawn:
            problems.append(f"{kind} {config}: {seen['cells']} output cells drawn, not {drawn}")
    return problems


def test_explorers_agree_with_shapes_and_torch(tab, base_url):
    """Hundreds of settings typed into the explorers: every shape, bin and error checked."""
    page, problems = tab
    found: list[str] = []
    compared = 0
    visit(page, base_url + "convolution/arithmetic/")
    configs = conv_configs(400)
    for config, seen in zip(configs, page.evaluate(DRIVE_EXPLORER, ["conv", configs])):
        found += compare("conv", config, seen, expected_conv(config))
        compared += 1
    visit(page, base_url + "pooling/pooling/")
    configs = pool_configs(300)
    for config, seen in zip(configs, page.evaluate(DRIVE_EXPLORER, ["pool", configs])):
        found += compare("pool", config, seen, expected_pool(config))
        compared += 1
    from refimpl import shapes

    sizes = [{"n": n, "out": o} for n in range(1, 25, 3) for o in range(1, 13, 2)]
    for config, seen in zip(sizes, page.evaluate(DRIVE_EXPLORER, ["adaptive", sizes])):
        bins = shapes.adaptive_bins(config["n"], config["out"])
        text = " ".join(f"[{a}, {b})" for a, b in bins)
        if seen["bins"] != text or bins != torch_bins(config["n"], config["out"]):
            found.append(f"adaptive {config}: explorer {seen['bins']!r}, refimpl.shapes {bins}")
        compared += 1
    print(f"explorer settings compared: {compared}")
    assert compared >= 500
    assert found == [], "\n".join(found[:20])
    problems.assert_none()


def explorer_state(page: Any, kind: str) -> tuple[str, str, str]:
    root = page.locator(f'.explorer[data-explorer="{kind}"]')
    return (
        root.locator('[data-out="shape"]').inner_text(),
        root.locator('[data-out="figure"]').inner_html(),
        root.locator('[data-out="error"]').inner_text(),
    )


def test_explorer_follows_the_keyboard_and_shows_torchs_error(tab, base_url):
    import torch
    from torch import nn

    page, problems = tab
    visit(page, base_url + "convolution/arithmetic/")
    root = page.locator('.explorer[data-explorer="conv"]')
    root.scroll_into_view_if_needed()
    shape, figure, error = explorer_state(page, "conv")
    assert shape == "(1, 1, 5, 5)" and error == "" and "<svg" in figure
    kernel = page.get_by_label("Kernel size k")
    kernel.focus()
    page.keyboard.press("ArrowUp")  # kernel 4 with padding 1: 5 + 2 - 4 + 1 = 4
    after = explorer_state(page, "conv")
    assert after[0] == "(1, 1, 4, 4)" and after[1] != figure
    page.keyboard.press("Tab")  # on to the padding select, by keyboard alone
    assert page.evaluate("document.activeElement.name") == "mode"
    # a kernel larger than the padded input: the explorer shows torch's own error
    page.get_by_label("Input size n").fill("3")
    page.get_by_label("Padding p").fill("0")
    kernel.fill("5")
    try:
        nn.Conv2d(1, 1, 5)(torch.zeros(1, 1, 3, 3))
    except RuntimeError as raised:
        wanted = f"RuntimeError: {raised}"
    shape, figure, error = explorer_state(page, "conv")
    assert error == wanted and "raises" in shape
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_label("Kernel size k").fill("3")
        root.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"explorer-{width}.png"
        root.screenshot(path=str(path))
        assert path.stat().st_size > 5_000
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the page scrolls sideways at {width} px"
    problems.assert_none()


def test_explorer_figure_is_there_without_javascript(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        for path, kind in (("convolution/arithmetic/", "conv"), ("pooling/pooling/", "adaptive")):
            page.goto(base_url + path, wait_until="load")
            root = page.locator(f'.explorer[data-explorer="{kind}"]')
            assert root.locator("figure svg").count() == 1, "no static figure"
            assert root.locator("form").is_hidden(), "controls shown that cannot work"
    finally:
        context.close()


# ---------------------------------------------------------------------------------------
# Accessibility: axe-core's WCAG 2.1 A and AA rules, every page, both colour schemes.
# Marked a11y (deselected by default: about 4 s a page and scheme here); .ci/run runs it
# as a stage of its own with -m a11y.

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_FAILING = {"serious", "critical"}
SCHEMES = {"light": "default", "dark": "slate"}  # the reader's preference -> Material's


def axe_script() -> Path:
    """axe-core's ``axe.min.js``, as pinned in tools/constraints.txt (axe-playwright-python)."""
    try:
        import axe_playwright_python
    except ImportError:
        unavailable("axe-playwright-python is not installed (it is in the test extra)")
    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


def axe_failures(result: dict[str, Any]) -> list[str]:
    """One line per serious or critical violation: rule, impact, node count, a few targets."""
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): "
        + "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:3])
        + f" -- {v['nodes'][0].get('failureSummary', '')[:300]!r}"
        for v in result["violations"]
        if v["impact"] in AXE_FAILING
    ]


@pytest.mark.a11y
@pytest.mark.parametrize("preference", SCHEMES)
@pytest.mark.parametrize("source", PAGES, ids=IDS)
def test_page_has_no_serious_accessibility_violation(browser, base_url, source, preference):
    script = axe_script()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=preference)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        visit(page, base_url + url_path(source))
        assert scheme(page) == SCHEMES[preference], "the page did not follow the preference"
        # Every block drawn, as a reader scrolling down meets it: off-screen blocks skip
        # layout (content-visibility in extra.css), and axe would measure their stand-ins.
        page.add_style_tag(content="* { content-visibility: visible !important; }")
        page.evaluate(TWO_FRAMES)
        page.add_script_tag(path=str(script))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})",
            AXE_TAGS,
        )
        assert result["testEngine"]["name"] == "axe-core"
        failures = axe_failures(result)
        assert failures == [], f"{url_path(source) or 'home'} ({preference}):\n" + "\n".join(
            failures
        )
    finally:
        context.close()
