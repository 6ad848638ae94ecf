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

import duckdb
import pandas as pd

from warehouse.person_resolution import (
    BLOCKING_KEYS,
    LINK_COLUMNS,
    NAMESAKES_SQL,
    cluster,
    needs_model,
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

NAME_FREQUENCIES_SQL = """
select full_name, cast(count(*) as double) / (select count(full_name) from features) as tf_full_name
from features where full_name is not null group by full_name
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


def resolve_changes(features: pd.DataFrame, previous: pd.DataFrame, model: dict | None) -> pd.DataFrame:
    """The rows of int_person_links that change tonight, given every record's ``features`` and last night's
    rows (``previous``: LINK_COLUMNS and record_id). Rows of records that are gone are not returned: the
    caller deletes them."""
    con = duckdb.connect()
    con.register("features", features)
    con.register("previous", previous)
    con.execute(f"create temp table namesakes as {NAMESAKES_SQL}")
    con.execute(f"create temp table changed as {CHANGED_SQL}")
    con.execute(f"create temp table gone as {GONE_SQL}")
    con.execute(f"create temp table stale as {STALE_NAMESAKES_SQL}")
    con.execute(f"create temp table touched as {TOUCHED_SQL}")
    counts = con.execute(
        "select (select count(*) from changed), (select count(*) from gone), (select count(*) from stale),"
        " (select count(*) from touched)"
    ).fetchall()[0]
    log.info(
        "person resolution: %d of %d records new or changed, %d gone, %d grid workers' namesakes changed; "
        "%d records to resolve again",
        counts[0],
        len(features),
        counts[1],
        counts[2],
        counts[3],
    )
    if not counts[3]:
        log.info("person resolution: nothing to resolve again; no pairs scored")
        return previous.iloc[0:0][LINK_COLUMNS]
    pairs = []
    if model and needs_model(features):
        reachable = con.sql(_reachable_sql()).df()
        pairs = score_pairs(reachable, model, con.sql(NAME_FREQUENCIES_SQL).df())
        log.info(
            "person resolution: %d records scored against %d: %d pairs", counts[3], len(reachable), len(pairs)
        )
    ends = [p.left for p in pairs] + [p.right for p in pairs]
    con.register("pair_ends", pd.DataFrame({"record_id": pd.Series(ends, dtype="string")}))
    # The kept persons tonight's records join: by a pair, by ID number or as a grid worker's namesake.
    con.execute(
        """
        create temp table involved as
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
    )
    involved = con.sql("select * from involved").df()
    kept = involved[involved["kept_anchor"].notna()].rename(
        columns={"kept_anchor": "person_anchor", "kept_probability": "match_probability"}
    )
    namesakes = dict(
        con.sql("select * from namesakes where worker in (select record_id from involved)").fetchall()
    )
    return cluster(involved, pairs, namesakes, kept)
