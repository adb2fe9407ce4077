"""The dashboard's queries: the database file (:mod:`.connection`), the aggregated snapshot (:mod:`.snapshot`),
filters as SQL (:mod:`.where`) and one module of page queries per page (:mod:`.overview` …).

Read-only, parameterised SQL, polars results, cached per database file version.
"""
