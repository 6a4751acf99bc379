"""Scheduled searches of bibliographic databases (``livingreview search``): the saved PubMed query of
``data/protocol.csv`` run through NCBI E-utilities, its results deduplicated against the ledger and recorded
in ``searches.csv``, ``search_results.csv``, ``records.csv`` and ``search_runs.csv``.

One job per module: ``pubmed_xml`` reads E-utilities' XML answers, ``pubmed`` sends the requests
(Biopython's ``Bio.Entrez``) and splits a date window PubMed cannot list at once, ``matching`` finds a fetched
record in the ledger, ``rows`` lays out the new rows, ``run`` plans a run, runs it and stages the files it
changes. Nothing here prints; ``livingreview.cli.search`` reports and writes.
"""
