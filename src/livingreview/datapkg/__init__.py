"""The data package (``data/``) and ``references.bib`` as files: reading, checking, canonical form, comparing
two versions and the rules of a release. Never prints; ``livingreview.cli`` reports what it returns."""
