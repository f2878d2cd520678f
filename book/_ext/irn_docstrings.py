"""Sphinx extension of the irn book: docstrings of the library read as their authors wrote them.

irn's docstrings follow the NumPy convention (numpydoc renders their sections; tests/test_docs.py
checks them). Two things in plain-text docstrings would otherwise trip reStructuredText and,
with ``-W``, fail the build:

* ``|x|`` (an absolute value, a set size) is rST's substitution syntax: every ``|`` outside an
  inline literal is escaped, so it shows as written.
* A docstring not yet in NumPy style (no section such as ``Parameters`` underlined with dashes;
  ``tests/test_docs.py`` lists them and the list only shrinks) is shown as preformatted text,
  exactly as written, instead of being parsed as rST it was not written for.

Reads every docstring before numpydoc (priority 400 < 500) and replaces a plain one after it (600).
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"^\s*-{3,}\s*$")
_LITERAL = re.compile(r"(``.+?``)")
_CODE_OBJECTS = {"function", "method", "class", "exception"}


def _is_numpy_style(lines: list[str]) -> bool:
    """True when some line is underlined with dashes (a NumPy section heading)."""
    return any(_SECTION.match(line) and previous.strip()
               for previous, line in zip(lines, lines[1:]))


def _escape_bars(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(part if part.startswith("``") else part.replace("|", r"\|") for part in parts)


def mark(app, what, name, obj, options, lines: list[str]) -> None:
    """Before numpydoc: escape bars; remember a docstring of code that is not in NumPy style."""
    if not lines:
        return
    if what in _CODE_OBJECTS and not _is_numpy_style(lines):
        app.env.irn_plain = getattr(app.env, "irn_plain", {})
        app.env.irn_plain[name] = list(lines)
        return
    lines[:] = [_escape_bars(line) for line in lines]


def preformat(app, what, name, obj, options, lines: list[str]) -> None:
    """After numpydoc: show a remembered plain docstring exactly as written, as preformatted text."""
    plain = getattr(app.env, "irn_plain", {}).pop(name, None)
    if plain is not None:
        lines[:] = ["::", ""] + ["    " + line if line.strip() else "" for line in plain] + [""]


def setup(app):
    app.connect("autodoc-process-docstring", mark, priority=400)
    app.connect("autodoc-process-docstring", preformat, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
