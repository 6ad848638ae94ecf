"""Exports for dashboards that read files rather than DuckDB: cases per street, from the published marts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.config import Paths

CASES_BY_STREET = """
    select g.district_name, g.street_name, count(*) as cases,
           count(*) filter (where c.is_closed) as closed,
           count(*) filter (where c.is_closed_on_time) as closed_on_time
    from marts.fct_case as c
    join marts.dim_grid as g using (grid_code)
    group by all
    order by all
"""


def export_cases_by_street(paths: Paths | None = None) -> Path:
    paths = paths or Paths.from_env()
    target = paths.reports / "exports" / "cases_by_street.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        con.sql(CASES_BY_STREET).write_csv(str(tmp))
    tmp.replace(target)
    return target
