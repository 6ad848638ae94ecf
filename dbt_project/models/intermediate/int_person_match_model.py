"""人员匹配模型: the Splink model person resolution scores pairs with, trained on a full build (on every
record, or a fixed sample of them in a large city) and kept by the nights after it (see
warehouse.person_resolution and warehouse.person_delta)."""

import json

import pandas as pd

from warehouse.person_resolution import train


def model(dbt, session):
    dbt.config(materialized="incremental")
    none = pd.DataFrame(
        {"trained_on_records": pd.Series(dtype="int64"), "model_json": pd.Series(dtype="string")}
    )
    records = dbt.ref("int_person_records")
    if dbt.is_incremental and session.execute(f"select count(*) from {dbt.this}").fetchall()[0][0]:
        return none
    trained = train(session, records.sql_query())
    if trained is None:
        return none
    records_trained_on, match_model = trained
    return pd.DataFrame({"trained_on_records": [records_trained_on], "model_json": [json.dumps(match_model)]})
