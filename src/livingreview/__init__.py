"""Helper package of the living review of IVIG in refractory immune-mediated disease.

The data in ``data/`` is the single source of truth; this package reads and checks it, computes the
statistics and renders what the book shows. It is layered; a module imports only from its own layer or the
ones below (``.importlinter`` states the contract, ``tests/test_architecture.py`` enforces it):

* ``cli``: the ``livingreview`` subcommands, one module each; the only code that prints, prompts or runs git;
* ``book``: what the pages import (``Chapter``, ``Review``, ``Selection``, ``data_dictionary``) and the
  Sphinx extension;
* ``render``: numbers, prose, tables, citations, charts and the PRISMA diagram, escaped; no statistics;
* ``evidence``: domain logic on data frames (reports, regimens, claims, a disease's analyses), and beside
  it ``search``: the saved PubMed search and its audit trail;
* ``stats`` (pure statistics on arrays) and ``datapkg`` (reading, checking and writing the data package);
* ``paths`` and ``errors``: every path, once, and the error users see.
"""

__version__ = "0.1.0"
