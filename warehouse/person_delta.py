"""A night's person resolution from last night's: only the records it must are resolved again.

A record is resolved again when it is new or its features changed (``feature_digest``), when a record of its
person changed or is gone (the person is taken apart: the links that held it together may have been that
record's), or when it is a grid worker whose one namesake resident in the community is not the one it was
joined to (``NAMESAKES_SQL`` gives another answer tonight). The model of the last full build
(``int_person_match_model``) scores the pairs the blocking rules give that touch one of those records,
against every record; the clustering then starts from the kept persons, so a new link may join two of them,
and never puts two ID numbers in one person. A night with no such record scores nothing.

Every other record keeps its row, and with it its anchor: the pseudonym of an unchanged person stays.
"""

from __future__ import annotations

import logging
import time

import duckdb
import pandas as pd
import pyarrow as pa

from warehouse.person_resolution import (
    BLOCKING_KEYS,
    FEATURES_SQL,
    LINK_COLUMNS,
    NAMESAKES_SQL,
    PAIRS_SCHEMA,
    cluster,
    score_pairs,
)

log = logging.getLogger(__name__)

# Records whose features are new or changed since last night, by record_id.
CHANGED_SQL = """
select f.record_id from features as f
left join previous as p using (record_id)
where p.feature_digest is distinct from f.feature_digest
"""

GONE_SQL = "select record_id from previous anti join features using (record_id)"

# Grid workers not joined by the model whose person no longer agrees with tonight's namesake: one is
# tonight, another or none was last night.
STALE_NAMESAKES_SQL = """
select w.record_id from previous as w
left join namesakes as n on n.worker = w.record_id
left join previous as r on r.record_id = n.resident
where w.record_id like 'city.grid_workers|%'
    and w.resolved_by in ('single', 'namesake_in_community')
    and case when n.worker is null then w.resolved_by = 'namesake_in_community'
             else w.resolved_by = 'single' or r.person_anchor is distinct from w.person_anchor end
"""

# Everyone in a person that holds a changed, gone or stale record, and those records themselves.
TOUCHED_SQL = """
with seeds as (
    select record_id from changed
    union select record_id from stale
),
taken_apart as (
    select distinct p.person_anchor from previous as p
    where p.record_id in (select record_id from seeds union select record_id from gone)
)
select record_id from seeds
union
select p.record_id from previous as p
where p.person_anchor in (select person_anchor from taken_apart)
    and p.record_id not in (select record_id from gone)
"""

# Each name's share among all records (Splink's term frequencies), for the names of the records scored.
NAME_FREQUENCIES_SQL = """
select full_name, cast(count(*) as double) / (select count(full_name) from features) as tf_full_name
from features
where full_name in (select full_name from features semi join touched using (record_id))
group by full_name
"""

# The kept persons tonight's records join (by a pair, by ID number or as a grid worker's namesake), with
# the records resolved again: each kept record with its person's anchor and the probability that joined it.
INVOLVED_SQL = """
with joined_persons as (
    select p.person_anchor from previous as p
    where p.record_id in (select record_id from pair_ends)
    union select 'id:' || f.full_id from features as f semi join touched using (record_id)
    union select p.person_anchor from namesakes as n
        join previous as p on p.record_id = n.resident
        where n.worker in (select record_id from touched)
),
kept_joined as (
    select record_id from previous
    where person_anchor in (select person_anchor from joined_persons)
        and record_id not in (select record_id from touched)
        and record_id not in (select record_id from gone)
)
select f.*, p.person_anchor as kept_anchor, p.match_probability as kept_probability
from features as f
left join previous as p on p.record_id = f.record_id and f.record_id in (select record_id from kept_joined)
where f.record_id in (select record_id from touched union select record_id from kept_joined)
"""


def _reachable_sql() -> str:
    """The records a touched one can meet through a blocking rule, marked ``touched`` or not."""
    meets = "\nunion\n".join(
        f"""select f.record_id from features as f semi join (
            select {", ".join(keys)} from features semi join touched using (record_id)
        ) using ({", ".join(keys)})"""
        for keys in BLOCKING_KEYS
    )
    return f"""
    with reachable as ({meets})
    select f.*, f.record_id in (select record_id from touched) as touched
    from features as f semi join reachable using (record_id)
    """


TEMP_TABLES = ("features", "namesakes", "changed", "gone", "stale", "touched", "involved")


def resolve_changes(
    con: duckdb.DuckDBPyConnection, records: str, previous: str, model: dict | None
) -> pd.DataFrame:
    """The rows of int_person_links that change tonight. ``records`` is a query of int_person_records and
    ``previous`` one of last night's rows (LINK_COLUMNS and record_id), both run on ``con`` (the warehouse):
    only what is resolved again leaves the database. Rows of records that are gone are not returned: the
    caller deletes them."""
    con.execute(f"create or replace temp view records as {records}")
    con.execute(f"create or replace temp view previous as {previous}")
    try:
        return _resolve_changes(con, model)
    finally:
        for table in TEMP_TABLES:
            con.execute(f"drop table if exists temp.{table}")
        con.unregister("pair_ends")
        con.execute("drop view if exists temp.previous")
        con.execute("drop view if exists temp.records")


def _resolve_changes(con: duckdb.DuckDBPyConnection, model: dict | None) -> pd.DataFrame:
    started = time.perf_counter()
    con.execute(f"create or replace temp table features as {FEATURES_SQL}")
    con.execute(f"create or replace temp table namesakes as {NAMESAKES_SQL}")
    con.execute(f"create or replace temp table changed as {CHANGED_SQL}")
    con.execute(f"create or replace temp table gone as {GONE_SQL}")
    con.execute(f"create or replace temp table stale as {STALE_NAMESAKES_SQL}")
    con.execute(f"create or replace temp table touched as {TOUCHED_SQL}")
    total, changed, gone, stale, touched, unsettled = con.execute(
        "select (select count(*) from features), (select count(*) from changed), (select count(*) from gone),"
        " (select count(*) from stale), (select count(*) from touched),"
        " (select count(*) from features where full_id is null)"
    ).fetchall()[0]
    log.info(
        "person resolution: %d of %d records new or changed, %d gone, %d grid workers' namesakes changed; "
        "%d records to resolve again",
        changed,
        total,
        gone,
        stale,
        touched,
    )
    if not touched:
        log.info("person resolution: nothing to resolve again; no pairs scored")
        return con.sql(f"select {', '.join(LINK_COLUMNS)} from previous limit 0").df()
    pairs = PAIRS_SCHEMA.empty_table()
    if model and total > 1 and unsettled:
        reachable = con.sql(_reachable_sql()).df()
        frequencies = con.sql(NAME_FREQUENCIES_SQL).df()
        pairs = score_pairs(reachable, model, frequencies)
        log.info(
            "person resolution: %d records scored against %d: %d pairs",
            touched,
            len(reachable),
            pairs.num_rows,
        )
    con.register(
        "pair_ends",
        pa.table(
            {"record_id": pa.chunked_array([*pairs["left"].chunks, *pairs["right"].chunks], pa.string())}
        ),
    )
    con.execute(f"create or replace temp table involved as {INVOLVED_SQL}")
    involved = con.sql("select * from involved").df()
    kept = involved[involved["kept_anchor"].notna()].rename(
        columns={"kept_anchor": "person_anchor", "kept_probability": "match_probability"}
    )
    namesakes = dict(
        con.sql("select * from namesakes where worker in (select record_id from involved)").fetchall()
    )
    links = cluster(involved, pairs, namesakes, kept)
    log.info("person resolution: %d rows written in %.1f s", len(links), time.perf_counter() - started)
    return links
