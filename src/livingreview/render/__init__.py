"""What readers see: numbers and prose, tables, citations, charts, the PRISMA diagram, RIS and reports of
changes; every piece of data escaped. No statistics are computed here."""
