"""Source listings for the site: the code of a refimpl function, read from the package.

A page calls `source_listing` on the op it explains and prints the result, so the
code a reader sees is the code that ran, never a pasted copy. ``notes`` point out which
line computes which term of the page's formula; each note names a piece of code that
must occur on exactly one line of the listing, so a note that stops matching fails the
build instead of pointing at the wrong line.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Mapping

__all__ = ["source_lines", "source_listing"]


def source_lines(obj: Callable[..., object]) -> list[str]:
    """The source of ``obj`` (a function, or a method), dedented, its docstring left out.

    Decorators stay: ``@has_fast_kernel`` says where the call may go instead.

    Example:
        >>> from refimpl.functional import relu
        >>> source_lines(relu)[:2]
        ['@has_fast_kernel', 'def relu(input: Tensor, inplace: bool = False) -> Tensor:']
    """
    obj = inspect.unwrap(obj)
    source = textwrap.dedent(inspect.getsource(obj))
    lines = source.splitlines()
    node = ast.parse(source).body[0]
    body = getattr(node, "body", [])
    first = body[0] if body else None
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    if docstring and isinstance(first.value.value, str):  # type: ignore[union-attr]
        del lines[first.lineno - 1 : first.end_lineno]  # type: ignore[union-attr]
    return lines


def source_listing(
    obj: Callable[..., object],
    notes: Mapping[str, str] | None = None,
    *,
    title: str | None = None,
) -> str:
    """Markdown for a page: ``obj``'s source with line numbers, and what each noted line does.

    ``notes`` maps a piece of code to what it computes (a formula term, in the page's
    Markdown and math). Each piece must occur on exactly one line of the listing;
    those lines are highlighted, and a table after the code gives line, code and note.

    Raises:
        ValueError: a note's code occurs on no line, or on more than one.

    Example:
        >>> from refimpl.functional import relu
        >>> print(source_listing(relu, {"torch.where": "$\\\\max(x, 0)$"}).splitlines()[0])
        ```python linenums="1" hl_lines="5" title="refimpl.functional.relu"
    """
    lines = source_lines(obj)
    name = title or f"{inspect.unwrap(obj).__module__.rsplit('.', 1)[0]}.{obj.__qualname__}"
    rows = []
    for code, note in (notes or {}).items():
        found = [n for n, line in enumerate(lines, 1) if code in line]
        if len(found) != 1:
            where = "no line" if not found else f"lines {found}"
            raise ValueError(f"the note for {code!r} matches {where} of the source of {name}")
        code_only = lines[found[0] - 1].split("  #")[0].strip()  # the line, less its comment
        rows.append((found[0], code_only, note))
    rows.sort()
    highlighted = " ".join(str(n) for n, _, _ in rows)
    marks = f' hl_lines="{highlighted}"' if rows else ""
    fence = f'```python linenums="1"{marks} title="{name}"'
    parts = [fence, *lines, "```"]
    if rows:
        parts += ["", "| line | code | computes |", "|---:|---|---|"]
        parts += [f"| {n} | `{code.replace('|', '&#124;')}` | {note} |" for n, code, note in rows]
    return "\n".join(parts)
