"""tools/docs_hooks.py: what MkDocs' search plugin is handed, and what the page gets back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tools import docs_hooks
from tools.mathml import latex_to_mathml

PAGE = (
    "<p>Pooling keeps {formula} per window.</p>\n"
    '<div class="highlight"><pre><span></span><code>print(42)</code></pre></div>\n'
    '<svg viewBox="0 0 10 10"><svg><text>inner</text></svg><text>outer</text></svg>\n'
    '<table><tr><td><autoref identifier="torch.Tensor">Tensor</autoref></td></tr></table>\n'
    "<p>After the table.</p>\n"
)


def test_search_reads_a_stand_in_and_the_page_gets_its_markup_back():
    formula = latex_to_mathml(r"\max_{i} x_i", False, "t")
    page = PAGE.format(formula=formula)
    marked = docs_hooks.exclude_code_from_search(page)
    stand_in = docs_hooks._searchable(marked, "pooling.md")
    # a formula is its text; code and drawings are left out; a table with a cross-reference
    # stays, since mkdocs-autorefs resolves it after this hook and before the search plugin
    assert "<math" not in stand_in and "max" in stand_in
    assert "print(42)" not in stand_in and "inner" not in stand_in and "outer" not in stand_in
    assert '<autoref identifier="torch.Tensor">' in stand_in
    assert stand_in.endswith("<p>After the table.</p>\n")
    restored = SimpleNamespace(content=stand_in, file=SimpleNamespace(src_uri="pooling.md"))
    docs_hooks.on_page_context(None, page=restored)
    assert restored.content == marked


def test_an_unclosed_element_is_an_error_not_a_truncated_page():
    with pytest.raises(ValueError, match="<pre> at offset 3 is never closed"):
        docs_hooks._element_end("<p><pre>code", "pre", 3)
