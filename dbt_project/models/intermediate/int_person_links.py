"""人员归并链接: each person record's real person, by ID number then Splink (see warehouse.person_resolution).

A full build resolves every record; a night after it resolves again only the records it must
(warehouse.person_delta) and keeps every other row. Rows of records that are gone are deleted by the
model's post-hook. Every row written carries the run that wrote it (``resolution_run``: 1 for a full build,
one more for each later run that wrote rows): int_person_identities takes in only the rows of runs after its
own. A number, not a time, so that two builds from the same batches are the same table.
"""

import json

import pyarrow as pa

from warehouse.person_delta import resolve_changes
from warehouse.person_resolution import LINK_COLUMNS, resolve


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["record_source", "record_key"],
    )
    records = dbt.ref("int_person_records")
    trained = dbt.ref("int_person_match_model").df()
    match_model = json.loads(trained["model_json"].iloc[0]) if len(trained) else None
    if not dbt.is_incremental:
        links, run = resolve(session, records.sql_query(), match_model), 1
    else:
        previous = (
            f"select record_source || '|' || record_key as record_id, {', '.join(LINK_COLUMNS)} "
            f"from {dbt.this}"
        )
        changes = resolve_changes(session, records.sql_query(), previous, match_model)
        links = pa.Table.from_pandas(changes, preserve_index=False)
        run = session.sql(f"select coalesce(max(resolution_run), 0) + 1 from {dbt.this}").fetchall()[0][0]
    return links.append_column("resolution_run", pa.repeat(pa.scalar(run, pa.int64()), links.num_rows))
