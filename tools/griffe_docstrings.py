"""A griffe extension for the API pages: docstrings as refimpl writes them, read as Markdown.

* ``Example:`` (singular) heads refimpl's doctest sections. Griffe's Google parser only
  knows ``Examples:``, and reads any other ``Word:`` heading as an admonition whose body
  is Markdown, where ``>>>`` becomes three nested blockquotes. The heading is read as
  ``Examples:``, so the prompts and outputs render as highlighted console code.
* A doctest written straight into the description (``>>>`` at the left margin, outside
  any section) is fenced as ``pycon``, for the same reason.
* A Sphinx role left in a docstring (``:func:`x```) would show literally. Roles become
  inline code; refimpl's docstrings use Markdown cross-references (``[`x`][]``) instead,
  and the docs tests check that no role reaches a page.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

EXAMPLE_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", re.M)
# a doctest at the left margin, up to the next blank line
BARE_DOCTEST = re.compile(r"^>>> .*(?:\n(?!\s*$).*)*", re.M)
SPHINX_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|obj|exc):`~?([\w.]+)`(?:\\ )?")


def markdown_docstring(text: str) -> str:
    text = EXAMPLE_HEADING.sub(r"\1Examples:", text)
    text = BARE_DOCTEST.sub(lambda m: f"```pycon\n{m.group(0)}\n```", text)
    return SPHINX_ROLE.sub(r"`\1`", text)


class RefimplDocstrings(Extension):
    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
