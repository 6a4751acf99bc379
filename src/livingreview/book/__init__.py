"""What the book's pages import: one object per kind of page."""

from livingreview.book.chapter import Chapter, Review, data_dictionary
from livingreview.book.selection import Selection

__all__ = ["Chapter", "Review", "Selection", "data_dictionary"]
