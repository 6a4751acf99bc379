"""The bibliography style of the book: pybtex's ``plain``, except that an entry whose page showed no authors,
year or journal says so in brackets instead of failing (the review never invents them).

Registered as the pybtex formatting style ``livingreview`` when ``livingreview.book.sphinx`` is loaded.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.formatting.unsrt import date, pages
from pybtex.style.template import field, first_of, join, optional, optional_field, sentence, tag, words

NAME = "livingreview"


class Style(PlainStyle):
    def get_article_template(self, e):
        volume_and_pages = first_of[
            optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]],
            words["pages", pages],
        ]
        authors = self.format_names("author") if e.persons.get("author") else sentence["[authors not shown]"]
        journal = tag("em")[field("journal")] if "journal" in e.fields else "[journal not shown]"
        when = date if "year" in e.fields else "[year not shown]"
        return toplevel[
            authors,
            self.format_title(e, "title"),
            sentence[journal, optional[volume_and_pages], when],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]


def register() -> None:
    register_plugin("pybtex.style.formatting", NAME, Style, force=True)
