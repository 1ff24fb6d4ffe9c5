"""tools/notebooks.py without a build: a page split into cells, links, titles, Colab."""

from __future__ import annotations

import markdown
import pytest

from tools import notebooks

PAGE = """# Title

Prose with a [link](../reference/shapes.md#refimpl.shapes.conv_output_size).

```python exec="on" session="demo" source="above" result="text"
x = 2
print(x + 1)
```

```python
shown_but_not_run = True
```

=== "A tab"

    Indented prose inside the tab.

    ```python exec="on" session="demo" html="1"
    print("<b>%d</b>" % x)
    ```
"""


def test_split_page_keeps_order_and_only_executed_blocks_become_code():
    parts = notebooks.split_page(PAGE)
    assert [kind for kind, _ in parts] == ["markdown", "code", "markdown", "code"]
    assert parts[1][1] == "x = 2\nprint(x + 1)"
    assert parts[3][1] == 'print("<b>%d</b>" % x)'
    assert "shown_but_not_run = True" in parts[2][1]


def test_tabs_become_bold_titles_and_their_bodies_are_not_code():
    text = notebooks.plain_markdown('=== "A tab"\n\n    Indented prose.\n\nAfter.')
    assert text.splitlines()[0] == "**A tab**"
    assert "\nIndented prose." in text and "    Indented" not in text


def test_relative_links_become_site_addresses():
    text = notebooks.absolute_links(
        "[a](../reference/shapes.md#x) [b](index.md) [c](https://e.org/a.md)",
        "convolution/arithmetic.md",
        "https://o.github.io/r/",
    )
    assert "(https://o.github.io/r/reference/shapes/#x)" in text
    assert "(https://o.github.io/r/convolution/)" in text
    assert "(https://e.org/a.md)" in text


def test_capture_records_each_blocks_output_during_conversion():
    md = markdown.Markdown(
        extensions=["pymdownx.superfences", "tools.notebooks"],
        extension_configs={
            "pymdownx.superfences": {
                "custom_fences": [
                    {
                        "name": "python",
                        "class": "python",
                        "validator": __import__("markdown_exec").validator,
                        "format": __import__("markdown_exec").formatter,
                    }
                ]
            }
        },
    )
    md.convert(PAGE)
    capture = notebooks.LAST
    assert capture is not None and "# Title" in capture.markdown
    assert [(r.output, r.html) for r in capture.runs] == [("3\n", False), ("<b>2</b>\n", True)]
    book = notebooks.notebook(
        capture,
        "demo/page.md",
        "https://o.github.io/r/",
        "https://github.com/o/r",
        "torch==2.13.0",
        "Demo",
    )
    code = [c for c in book.cells if c.cell_type == "code"]
    assert "git+https://github.com/o/r" in code[0].source and "torch==2.13.0" in code[0].source
    assert code[1].outputs[0]["text"] == "3\n"
    assert code[2].outputs[0]["data"]["text/html"] == "<b>2</b>\n"
    assert [c.id for c in book.cells] == [f"cell-{i}" for i in range(len(book.cells))]


def test_a_block_that_did_not_run_fails_the_notebook():
    capture = notebooks.Capture(PAGE, [notebooks.Run("x = 2\nprint(x + 1)", "3\n", False)])
    with pytest.raises(ValueError, match="2 executed blocks in the page, 1 recorded runs"):
        notebooks.notebook(capture, "p.md", "/", "https://github.com/o/r", "torch==2.13.0", "P")


def test_colab_links_only_for_github():
    assert notebooks.colab_url("https://github.com/o/r", "a/b/b.ipynb") == (
        "https://colab.research.google.com/github/o/r/blob/notebooks/a/b/b.ipynb"
    )
    assert notebooks.colab_url("https://gitlab.com/o/r", "a.ipynb") is None
    assert notebooks.notebook_name("convolution/arithmetic.md") == "arithmetic.ipynb"
    assert notebooks.notebook_name("index.md") == "index.ipynb"
