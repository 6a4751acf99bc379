"""Helper package for the living review of IVIG in refractory immune-mediated disease.

The data in ``data/`` is the single source of truth; this package loads and validates it, computes the
statistics, draws the charts and formats the tables and citations that the book shows.
"""

__version__ = "0.1.0"
