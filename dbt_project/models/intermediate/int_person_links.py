"""人员归并链接: each person record's real person, by ID number then Splink (see warehouse.person_resolution)."""

from warehouse.person_resolution import resolve


def model(dbt, session):
    dbt.config(materialized="table")
    return resolve(dbt.ref("int_person_records").df())
