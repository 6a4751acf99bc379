"""What the book's pages import: one object per kind of page.

``Chapter`` (a disease), ``Review`` (the landing page and the synthesis), ``Selection`` (searches,
screening, versions) and ``data_dictionary`` (the fields of the data package). Pages call these and
nothing else, so they stay prose plus a few calls.
"""

from livingreview.book.chapter import Chapter
from livingreview.book.dictionary import data_dictionary
from livingreview.book.review import Review
from livingreview.book.selection import Selection

__all__ = ["Chapter", "Review", "Selection", "data_dictionary"]
