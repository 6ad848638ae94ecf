"""Great Expectations suites, derived from the entity contracts plus the domain's own rules.

Every expectation carries ``meta.rule`` (a stable id such as ``id_number:valid_id_number``) and
``meta.severity``:

* ``critical`` — the batch is rejected and never reaches the warehouse;
* ``warning``  — the offending rows go to quarantine with the rule that caught them, the rest loads.

A column that references another entity (``Column.references``) gets ``<column>:references``, a warning:
see ``expectations.references`` for which keys count as existing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column as RowColumn

from expectations.checks import (
    ExpectColumnValuesToBeNotAfter,
    ExpectColumnValuesToBeValidCnRic,
    ExpectColumnValuesToBeValidCnUscc,
    ExpectColumnValuesToBeValidPolygon,
    ExpectMulticolumnValuesToBeInStepOrder,
)
from expectations.references import helper_column
from ingest.contracts import Contract
from ingest.parse import READ_TYPES
from ingest.references import references

CRITICAL, WARNING = "critical", "warning"


def _meta(rule: str, severity: str) -> dict:
    return {"rule": rule, "severity": severity}


# Events in order, which a contract's column list cannot express: entity → (later, earlier) timestamps.
EVENT_ORDER = {
    "city.cases": ("closed_at", "reported_at"),
    "gov.hotline_orders": ("completed_at", "received_at"),
    "gov.service_applications": ("completed_at", "accepted_at"),
}


# Workflow steps that must happen in the order they are numbered: entity → (record, step number, time).
STEP_ORDER = {"city.case_steps": ("case_no", "step_seq", "occurred_at")}

# The column ``parse.unreadable`` adds for validation: the optional columns a row's source value failed for.
UNREADABLE = "_unreadable"


def _domain_rules(contract: Contract) -> list[gxe.Expectation]:
    found: list[gxe.Expectation] = []
    if contract.key in STEP_ORDER:
        record, step, when = STEP_ORDER[contract.key]
        found.append(
            ExpectMulticolumnValuesToBeInStepOrder(
                column_list=[record, step, when], meta=_meta(f"{when}:in_step_order", WARNING)
            )
        )
    if contract.key not in EVENT_ORDER:
        return found
    later, earlier = EVENT_ORDER[contract.key]
    return found + [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later,
            column_B=earlier,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta(f"{later}:after_{earlier}", WARNING),
        )
    ]


def _latest_possible(col_type: str, load_date: date) -> datetime:
    """No event in the extract of day D happened after D+1 (a day of slack for clocks and time zones): a
    date no later than D+1, a time no later than the midnight that ends it."""
    last_day = load_date + timedelta(days=1)
    return datetime.combine(last_day if col_type == "date" else last_day + timedelta(days=1), time())


def expectations_for(contract: Contract, load_date: date) -> list[gxe.Expectation]:
    found: list[gxe.Expectation] = []
    if contract.extract == "snapshot":
        found.append(gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=_meta("table:not_empty", CRITICAL)))
    key_rule = _meta(f"{'+'.join(contract.primary_key)}:unique", CRITICAL)
    if len(contract.primary_key) == 1:
        found.append(gxe.ExpectColumnValuesToBeUnique(column=contract.primary_key[0], meta=key_rule))
    else:
        found.append(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=list(contract.primary_key), meta=key_rule)
        )
    for col in contract.columns:
        if col.required:
            found.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=col.name, meta=_meta(f"{col.name}:not_null", WARNING)
                )
            )
        if col.code_set:
            found.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=col.name, value_set=list(col.code_set), meta=_meta(f"{col.name}:in_set", WARNING)
                )
            )
        if col.type == "id_number":
            found.append(
                ExpectColumnValuesToBeValidCnRic(
                    column=col.name,
                    allow_masked=col.masked_allowed,
                    meta=_meta(f"{col.name}:valid_id_number", WARNING),
                )
            )
        if col.type == "credit_code":
            found.append(
                ExpectColumnValuesToBeValidCnUscc(
                    column=col.name, meta=_meta(f"{col.name}:valid_credit_code", WARNING)
                )
            )
        if col.type in READ_TYPES and not col.required:
            found.append(
                gxe.ExpectColumnValuesToNotMatchRegex(
                    column=UNREADABLE,
                    regex=f"(?:^|,){col.name}(?:,|$)",
                    meta=_meta(f"{col.name}:parsable", WARNING),
                )
            )
        if col.type in ("date", "timestamp") and not col.may_be_future:
            found.append(
                ExpectColumnValuesToBeNotAfter(
                    column=col.name,
                    latest=_latest_possible(col.type, load_date),
                    meta=_meta(f"{col.name}:not_in_future", WARNING),
                )
            )
        if col.type == "geometry":
            found.append(
                ExpectColumnValuesToBeValidPolygon(
                    column=col.name, meta=_meta(f"{col.name}:valid_polygon", WARNING)
                )
            )
        if col.segments:
            found.append(
                gxe.ExpectColumnValueLengthsToEqual(
                    column=col.name, value=sum(col.segments), meta=_meta(f"{col.name}:code_width", WARNING)
                )
            )
    for reference in references(contract):
        found.append(
            gxe.ExpectColumnValuesToBeNull(
                column=helper_column(reference), meta=_meta(reference.rule, WARNING)
            )
        )
    return found + _domain_rules(contract)


# A batch that carried rows from the last snapshot (``ingest.carry``) marks with 1 in this column the rows
# whose verdict must be reached again; the rules of one row at a time check only those.
RECHECK = "_recheck"
# Rules over the whole batch: every row counts for them, carried or not.
WHOLE_BATCH = (
    gxe.ExpectTableRowCountToBeBetween,
    gxe.ExpectColumnValuesToBeUnique,
    gxe.ExpectCompoundColumnsToBeUnique,
    ExpectMulticolumnValuesToBeInStepOrder,
)
# Row rules whose verdict depends on the night as well as the row: the keys delivered so far, the load date.
NIGHT_DEPENDENT = ("references", "not_in_future")


def is_whole_batch(expectation: gxe.Expectation) -> bool:
    return isinstance(expectation, WHOLE_BATCH)


def whole_batch_columns(contract: Contract, load_date: date) -> list[str]:
    """The columns the whole-batch rules read (the key, the step order), always the key first."""
    columns = list(contract.primary_key)
    for expectation in expectations_for(contract, load_date):
        if is_whole_batch(expectation):
            named = getattr(expectation, "column_list", None) or [getattr(expectation, "column", None)]
            columns += [c for c in named if c and c not in columns]
    return columns


def build_suite(
    contract: Contract, load_date: date, rechecked_only: bool = False, rules: str = "all"
) -> gx.ExpectationSuite:
    """The entity's suite for a night; with ``rechecked_only`` its row rules check the ``RECHECK`` rows.
    ``rules`` picks ``all`` of them, only the ``whole_batch`` ones, or only the ``row`` ones."""
    suite = gx.ExpectationSuite(
        name=contract.key,
        meta={"contract_version": contract.version, "description": contract.description},
    )
    for expectation in expectations_for(contract, load_date):
        if rules != "all" and is_whole_batch(expectation) != (rules == "whole_batch"):
            continue
        if rechecked_only and not is_whole_batch(expectation):
            expectation.row_condition = RowColumn(RECHECK) == 1
        suite.add_expectation(expectation)
    return suite
