"""Small displayable blocks for pages: a note where there is nothing to show, several figures, raw HTML."""

from __future__ import annotations

import html


class Note:
    """A short statement shown where a table or chart has nothing to show (e.g. fewer than two reports)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="lr-note">{html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return self.text


class Figures:
    """Several charts shown one after the other."""

    def __init__(self, figures: list):
        self.figures = figures

    def _repr_html_(self) -> str:
        return "".join(f._repr_html_() for f in self.figures)

    def __repr__(self) -> str:
        return "\n".join(repr(f) for f in self.figures)


class Html:
    """Markup built by this package (every piece of data in it already escaped), with a plain-text form."""

    def __init__(self, text: str, plain: str = ""):
        self.text, self.plain = text, plain

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.plain or self.text
