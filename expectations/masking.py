"""Personal data masked for what reviewers read: Data Docs, the quality summary, batch messages.

A reviewer needs to see what kind of wrong a value is (a check character, a length, a prefix), not whose it
is. Values of contract columns typed ``id_number``, ``phone`` and ``name`` keep their shape and a few
characters, as the source systems themselves mask them: ``210202********123X``, ``138****0000``, ``张*``.
Masking a masked value changes nothing. The quarantine, internal like staging, keeps the raw values.
"""

from __future__ import annotations

import json
from typing import Any

from ingest.contracts import Contract

PERSONAL_TYPES = ("id_number", "phone", "name")


def mask_id_number(value: str) -> str:
    """The address code and the last four characters (sequence and check character) of a long enough number."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) >= 12 else "*" * len(value)


def mask_phone(value: str) -> str:
    if value.startswith("+86"):
        return "+86" + mask_phone(value[3:])
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) >= 9 else "*" * len(value)


def mask_name(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else "*"


MASKS = {"id_number": mask_id_number, "phone": mask_phone, "name": mask_name}


def mask(column_type: str, value: Any) -> Any:
    """``value`` masked if ``column_type`` is personal; anything else (and a missing value) as it is."""
    if column_type not in MASKS or value is None or value == "":
        return value
    return MASKS[column_type](str(value))


def personal_columns(contract: Contract) -> dict[str, str]:
    """Canonical column name → type, for the contract's personal columns."""
    return {c.name: c.type for c in contract.columns if c.type in PERSONAL_TYPES}


def mask_raw_record(contract: Contract, raw: str) -> str:
    """A landed row's raw record (JSON keyed by the source's column names) with its personal values masked."""
    by_source = {c.source: c.type for c in contract.columns if c.type in PERSONAL_TYPES}
    record = json.loads(raw)
    return json.dumps({k: mask(by_source.get(k, ""), v) for k, v in record.items()}, ensure_ascii=False)


def _mask_unexpected(value: Any, columns: list[str], personal: dict[str, str]) -> Any:
    """One unexpected value of an expectation on ``columns``: a value, a (column → value) dict or a tuple."""
    if isinstance(value, dict):
        return {k: mask(personal.get(k, ""), v) for k, v in value.items()}
    if isinstance(value, list | tuple) and len(columns) > 1:
        return type(value)(mask(personal.get(c, ""), v) for c, v in zip(columns, value, strict=False))
    return mask(personal.get(columns[0], ""), value) if columns else value


def _columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def mask_validation(contract: Contract, validation) -> bool:
    """Mask, in place, the personal values a GX suite validation result lists as unexpected. Returns whether
    anything changed (so a stored result is rewritten only when needed)."""
    personal, changed = personal_columns(contract), False
    for result in validation.results:
        columns = _columns(result.expectation_config.kwargs)
        details = result.result or {}
        if not any(c in personal for c in columns):
            continue
        for key in ("unexpected_list", "partial_unexpected_list"):
            if key in details:
                masked = [_mask_unexpected(v, columns, personal) for v in details[key]]
                changed |= masked != details[key]
                details[key] = masked
        for count in details.get("partial_unexpected_counts") or []:
            masked = _mask_unexpected(count["value"], columns, personal)
            changed |= masked != count["value"]
            count["value"] = masked
    return changed
