"""Formulas as MathML, converted while the page's Markdown is converted.

``pymdownx.arithmatex`` (generic mode) finds the formulas and wraps them as
``<span class="arithmatex">\\(...\\)</span>`` (inline) or
``<div class="arithmatex">\\[...\\]</div>`` (display). :class:`MathMLExtension`
(``tools.mathml`` under ``markdown_extensions`` in ``mkdocs.yml``) converts each to MathML
with ``latex2mathml`` as the last step of every conversion, so pages carry finished math:
nothing is typeset in the browser, no script or font is fetched, and instant navigation
has nothing to re-run. Being a Python-Markdown extension, it runs the same under MkDocs
and under Zensical. A formula that does not convert fails the build.

:func:`mathml_text` and :func:`title_text` give a formula as one line of plain text, for
the table of contents and the search index.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import Any

from latex2mathml.converter import convert
from markdown import Extension, Markdown

INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
DISPLAY = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)


def latex_to_mathml(latex: str, display: bool, where: str) -> str:
    """MathML for one formula; ``alttext`` keeps the source for search and assistive tech."""
    source = html.unescape(latex).strip()
    try:
        mathml = convert(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises many types; all mean "bad formula"
        raise ValueError(f"{where}: cannot convert formula {source!r}: {error}") from error
    mathml = polish_mathml(mathml)
    alt = html.escape(source, quote=True)
    mathml = mathml.replace("<math ", f'<math alttext="{alt}" ', 1)
    if display:
        # focusable: a formula wider than the screen scrolls, by keyboard too
        return f'<div class="math-display" tabindex="0">{mathml}</div>'
    return f'<span class="math-inline">{mathml}</span>'


# Mathematical Alphanumeric Symbols: the first capital and small letter of each alphabet.
# Chromium implements MathML Core, which ignores ``mathvariant`` except "normal" on a
# single-letter <mi>, so bold letters must be the bold code points themselves.
_STYLED = {
    "bold": {"A": 0x1D400, "a": 0x1D41A, "\u0391": 0x1D6A8, "\u03b1": 0x1D6C2},
    "bold-italic": {"A": 0x1D468, "a": 0x1D482, "\u0391": 0x1D71C, "\u03b1": 0x1D736},
}
# Greek capitals run Α..Ω (U+0391..U+03A9) and smalls α..ω (U+03B1..U+03C9), 25 slots
# each, in the same order in the styled alphabets (U+03A2's slot holds capital theta
# symbol, the small final sigma keeps its place), so one offset maps a letter.
_RANGES = {"A": ("A", 26), "a": ("a", 26), "\u0391": ("\u0391", 25), "\u03b1": ("\u03b1", 25)}
STYLED_MI = re.compile(r'<mi mathvariant="(bold|bold-italic)">([^<]+)</mi>')
OPERATOR_NAME = re.compile(r"<mo>([A-Za-z]{2,})</mo>")
# \ln, \log, \exp... followed by their argument: TeX sets a thin space between them.
FUNCTION_THEN_ARGUMENT = re.compile(r"(<mi>(?:ln|log|exp|sin|cos|tan|det|dim)</mi>)(?=<m[in]>)")


def styled_letter(variant: str, letter: str) -> str | None:
    """``letter`` in the bold or bold-italic alphabet, or None if it has no styled form."""
    for first, (start, count) in _RANGES.items():
        offset = ord(letter) - ord(start)
        if 0 <= offset < count:
            return chr(_STYLED[variant][first] + offset)
    return None


def _style(match: re.Match[str]) -> str:
    variant, content = match.group(1), html.unescape(match.group(2))
    styled = [styled_letter(variant, c) for c in content]
    if any(c is None for c in styled):
        return match.group(0)
    return f"<mi>{''.join(c for c in styled if c)}</mi>"


def polish_mathml(mathml: str) -> str:
    """What latex2mathml leaves to the renderer, made explicit for MathML Core.

    Bold letters become bold code points (Chromium draws ``mathvariant="bold"`` in plain
    weight); ``\\operatorname{BN}`` becomes an identifier, not an operator with an
    operator's spacing ("BN (x)"); a thin space follows ``\\ln`` before its argument.
    """
    mathml = STYLED_MI.sub(_style, mathml)
    mathml = OPERATOR_NAME.sub(r"<mi>\1</mi>", mathml)
    return FUNCTION_THEN_ARGUMENT.sub(r'\1<mspace width="0.1667em"></mspace>', mathml)


def render_math(content: str, where: str = "page") -> str:
    content = DISPLAY.sub(lambda m: latex_to_mathml(m.group(1), True, where), content)
    return INLINE.sub(lambda m: latex_to_mathml(m.group(1), False, where), content)


# ---------------------------------------------------------------------------------------
# Formulas as plain text, for the table of contents and the search index

MATHML = "{http://www.w3.org/1998/Math/MathML}"
ACCENTS = {"^": "\u0302", "\u02c6": "\u0302", "~": "\u0303", "\u00af": "\u0304", "\u203e": "\u0304"}
SUPERSCRIPTS = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def _grouped(text: str) -> str:
    return text if len(text) == 1 or text.isalnum() else f"({text})"


def _linear_sup(base: str, sup: str) -> str:
    if sup and all(c in "0123456789+-" for c in sup):
        return base + sup.translate(SUPERSCRIPTS)
    return f"{base}^{_grouped(sup)}"


def _linear(element: ET.Element) -> str:
    tag = element.tag.removeprefix(MATHML)
    parts = [_linear(child) for child in element]
    if tag in {"mi", "mn", "mo", "mtext", "ms"}:
        token = (element.text or "").strip()
        return {"\u2061": "", "\u2062": ""}.get(token, token)
    if tag == "mspace":
        return " "
    if tag == "msqrt":
        return "√" + _grouped("".join(parts))
    if tag == "mroot":
        return f"{parts[1]}√{_grouped(parts[0])}"
    if tag == "mfrac":
        return f"{_grouped(parts[0])}/{_grouped(parts[1])}"
    if tag == "msup":
        return _linear_sup(parts[0], parts[1])
    if tag == "msub":
        return f"{parts[0]}_{_grouped(parts[1])}"
    if tag == "msubsup":
        return _linear_sup(f"{parts[0]}_{_grouped(parts[1])}", parts[2])
    if tag in {"mover", "munder"} and len(parts) == 2:
        accent = ACCENTS.get(parts[1]) if tag == "mover" else None
        return parts[0] + accent if accent else f"{parts[0]}{parts[1]}"
    return "".join(parts)


def mathml_text(mathml: str) -> str:
    """A formula as one line of Unicode text (``\\sqrt{\\hat\\sigma^2}`` is ``√(σ̂²)``).

    Plain text is all a table of contents or a search result can show; flattening the
    MathML's tokens instead would drop the square root and the fraction bars.
    """
    text = _linear(ET.fromstring(mathml))  # latex2mathml writes XML: numeric entities only
    return re.sub(r"\s*([=+−<>≤≥⊙·×])\s*", r" \1 ", text).strip()


LATEX_IN_TITLE = re.compile(r"\\\((.*?)\\\)|\$(.+?)\$")


def title_text(title: str, where: str = "page") -> str:
    """A heading's table-of-contents title with each formula as plain text."""

    def plain(match: re.Match[str]) -> str:
        latex = html.unescape(match.group(1) or match.group(2))
        mathml = convert(latex, display="inline")
        return html.escape(mathml_text(polish_mathml(mathml)), quote=False)

    return LATEX_IN_TITLE.sub(plain, title)


def plain_toc(tokens: list[dict[str, Any]]) -> None:
    """Each formula of a heading as plain text in Python-Markdown's ``toc_tokens``.

    The table of contents (MkDocs and Zensical read it from these tokens) can only show
    text; left alone it would show the LaTeX source.
    """
    for token in tokens:
        token["name"] = title_text(token["name"])
        token["html"] = title_text(INLINE.sub(lambda m: rf"\({m[1]}\)", token["html"]))
        plain_toc(token.get("children", []))


class MathMLExtension(Extension):
    """Every formula arithmatex marked, as MathML, in the converted HTML.

    The conversion wraps ``Markdown.convert``: it must see the finished HTML, after every
    postprocessor, and not the headings' inner HTML that the ``toc`` extension runs
    through the postprocessors to make the table of contents.
    """

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        convert = md.convert

        def convert_with_math(source: str) -> str:
            converted = render_math(convert(source))
            plain_toc(getattr(md, "toc_tokens", []))
            return converted

        md.convert = convert_with_math


def makeExtension(**kwargs: Any) -> MathMLExtension:  # noqa: N802 (Python-Markdown's name)
    return MathMLExtension(**kwargs)
