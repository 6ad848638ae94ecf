"""人员匹配模型: the Splink model person resolution scores pairs with, trained on every record on a full build
and kept by the nights after it (see warehouse.person_resolution and warehouse.person_delta)."""

import json

import pandas as pd

from warehouse.person_resolution import features_of, needs_model, train_model


def model(dbt, session):
    dbt.config(materialized="incremental")
    none = pd.DataFrame(
        {"trained_on_records": pd.Series(dtype="int64"), "model_json": pd.Series(dtype="string")}
    )
    records = dbt.ref("int_person_records")
    if dbt.is_incremental and session.execute(f"select count(*) from {dbt.this}").fetchall()[0][0]:
        return none
    features = features_of(records.to_arrow_table())
    if not needs_model(features):
        return none
    return pd.DataFrame(
        {"trained_on_records": [len(features)], "model_json": [json.dumps(train_model(features))]}
    )
