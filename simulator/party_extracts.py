"""The party system's exports of transfers, 双报到 registrations and volunteer service: GBK CSV with Chinese
headers and Windows line endings like its rosters, with the system's quirks written a column at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator import quirks as q
from simulator.drops import CHUNK_ROWS
from simulator.party_activity import PartyActivity, recorded_between
from simulator.text import csv_lines, pick, strings, write_csv

ENCODING, NEWLINE = "gbk", "\r\n"
UNREADABLE_DATE = "不详"
HOURS_IN_WORDS = {
    0.5: "半小时",
    1.0: "一小时",
    1.5: "一个半小时",
    2.0: "两小时",
    3.0: "三小时",
    4.0: "四小时",
}


def _wide(frame: pd.DataFrame, values) -> pa.Array:
    """The rows flagged ``fullwidth`` typed with full-width digits."""
    return pick(frame["fullwidth"].to_numpy(), q.fullwidth(values), strings(values))


def _dirty(frame: pd.DataFrame, rule: str) -> np.ndarray:
    return (frame["dirty_rule"] == rule).to_numpy()


def _optional_date(frame: pd.DataFrame, column: str) -> pa.Array:
    values = frame[column].to_numpy().astype("datetime64[D]")
    missing = np.isnat(values)
    shaped = q.date_text(np.where(missing, np.datetime64("2000-01-01"), values), frame["style"].to_numpy())
    return pick(missing, "", shaped)


def _optional_int(series: pd.Series) -> pa.Array:
    return strings(series.astype("string").fillna(""))


def _write(path: Path, header: list[str], frame: pd.DataFrame, columns) -> None:
    chunks = (
        csv_lines(columns(frame.iloc[i : i + CHUNK_ROWS]), NEWLINE) for i in range(0, len(frame), CHUNK_ROWS)
    )
    write_csv(path, header, chunks, ENCODING, NEWLINE)


def _transfer_columns(t: pd.DataFrame) -> list:
    effective = q.date_text(t["effective_on"], t["style"].to_numpy())
    return [
        t["transfer_no"],
        _wide(t, t["member_id"]),
        t["from_org_code"],
        t["to_org_code"],
        pick(_dirty(t, "effective_on:not_null"), UNREADABLE_DATE, effective),
        t["transfer_type"],
        q.timestamp_text(t["updated_at"]),
    ]


def _registration_columns(r: pd.DataFrame) -> list:
    registered = q.date_text(r["registered_on"], r["style"].to_numpy())
    return [
        r["registration_id"],
        r["registrant_kind"],
        r["member_id"],
        r["org_code"],
        _wide(r, r["community_code"]),
        pick(_dirty(r, "registered_on:not_null"), UNREADABLE_DATE, registered),
        _optional_int(r["report_year"]),
        _optional_date(r, "report_submitted_on"),
        _optional_int(r["activities_count"]),
        q.timestamp_text(r["updated_at"]),
    ]


def _service_columns(s: pd.DataFrame) -> list:
    hours = s["hours"].to_numpy()
    in_words = np.asarray(list(HOURS_IN_WORDS.values()))[np.searchsorted(list(HOURS_IN_WORDS), hours)]
    phone = q.phone_text(s["phone"], s["style"].to_numpy())
    return [
        s["record_no"],
        s["activity_id"],
        q.date_text(s["served_on"], s["style"].to_numpy()),
        s["community_code"],
        s["member_id"],
        s["full_name"],
        _wide(s, phone),
        pick(_dirty(s, "hours:not_null"), in_words, np.char.mod("%g", hours)),
        strings(s["points"].astype(str)),
        q.timestamp_text(s["updated_at"]),
    ]


TRANSFER_HEADER = ["转接编号", "党员编号", "转出组织编码", "转入组织编码", "生效日期", "转接类型", "更新时间"]
REGISTRATION_HEADER = [
    "报到编号",
    "报到类型",
    "党员编号",
    "组织编码",
    "报到社区代码",
    "报到日期",
    "报告年度",
    "报告提交日期",
    "活动次数",
    "更新时间",
]
SERVICE_HEADER = [
    "记录编号",
    "活动编号",
    "服务日期",
    "服务社区代码",
    "党员编号",
    "姓名",
    "手机号码",
    "服务时长",
    "积分",
    "更新时间",
]


def write(folder: Path, activity: PartyActivity, since: np.datetime64 | None, cutoff: np.datetime64) -> int:
    """One day's extracts: transfers and volunteer service recorded since ``since`` (everything on record,
    when None), and the registrations made by ``cutoff`` as a snapshot. Returns the rows written."""
    transfers = recorded_between(activity.transfers, since, cutoff)
    _write(folder / "member_transfers.csv", TRANSFER_HEADER, transfers, _transfer_columns)
    registered = activity.registrations[activity.registrations["registered_on"].to_numpy() < cutoff]
    _write(folder / "dual_registrations.csv", REGISTRATION_HEADER, registered, _registration_columns)
    service = recorded_between(activity.service, since, cutoff)
    _write(folder / "volunteer_service.csv", SERVICE_HEADER, service, _service_columns)
    return len(transfers) + len(registered) + len(service)
