"""Write one day of each source system's extracts, in the system's own format and quirks.

Rows are turned into text a column and a chunk at a time (``simulator.text``), so a city of millions streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator import quirks as q
from simulator.cases import STEP_STATUS
from simulator.text import concat, csv_lines, joined, json_number, json_records, json_string, pick, write_csv

CHUNK_ROWS = 250_000
VOIDED = "已作废"
Advance = Callable[[int], None]


def _chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    for begin in range(0, len(frame), rows):
        yield frame.iloc[begin : begin + rows]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_pages(folder: Path, stem: str, records: Iterator[pa.Array], total: int, page_size: int) -> None:
    """Paged API responses, ``page_size`` records each, from record chunks that are multiples of a page."""
    pages = max(1, -(-total // page_size))
    page = 0
    for chunk in records:
        for begin in range(0, max(len(chunk), 1), page_size):
            page += 1
            head = (
                f'{{"code": 0, "msg": "success", "data": {{"page": {page}, "pageSize": {page_size}, '
                f'"pages": {pages}, "total": {total}, "records": ['
            )
            body = joined(chunk.slice(begin, page_size), ", ")
            _write(folder / f"{stem}_page_{page:04d}.json", head.encode() + body.to_pybytes() + b"]}}")


def repeated(lines: pa.Array, twice: np.ndarray) -> pa.Array:
    """The lines with each one flagged ``twice`` written again right after itself, as a glitching export
    repeats a row (``Messiness.duplicate_row``)."""
    if not twice.any():
        return lines
    return lines.take(pa.array(np.repeat(np.arange(len(lines)), 1 + twice.astype(np.int64))))


def party(folder: Path, orgs: pd.DataFrame, members: pd.DataFrame, advance: Advance) -> None:
    """党员信息管理系统: GBK CSV with Chinese headers and Windows line endings, as its export button makes."""
    header = [
        "组织编码",
        "组织名称",
        "组织类别",
        "上级组织编码",
        "所在区划代码",
        "所在网格编码",
        "统一社会信用代码",
        "成立日期",
        "更新时间",
    ]

    def org_lines():
        for o in _chunks(orgs):
            founded = q.date_text(o["founded_on"], np.full(len(o), 2))
            columns = [o[c] for c in ("org_code", "org_name", "org_type", "parent_org_code", "division_code")]
            credit_code = q.credit_code_text(o["credit_code"], o["credit_code_style"].to_numpy())
            updated = q.timestamp_text(o["updated_at"])
            yield csv_lines([*columns, o["grid_code"], credit_code, founded, updated], "\r\n")
            advance(len(o))

    write_csv(folder / "organizations.csv", header, org_lines(), "gbk", "\r\n")

    def member_lines():
        for m in _chunks(members):
            style = m["style"].to_numpy()
            rule = m["dirty_rule"].to_numpy()
            id_text = pick(
                rule == "id_number:valid_id_number",
                q.wrong_check_digit(m["id_number"]),
                m["id_number"],
            )
            lowered = concat(
                pc.utf8_slice_codeunits(id_text, 0, 17),
                pc.utf8_lower(pc.utf8_slice_codeunits(id_text, 17, 18)),
            )
            id_text = pick(m["lower_x"].to_numpy(), lowered, id_text)
            phone = pick(m["no_phone"].to_numpy(), "", q.phone_text(m["phone"], style))
            wide = m["fullwidth"].to_numpy()
            id_text, phone = pick(wide, q.fullwidth(id_text), id_text), pick(wide, q.fullwidth(phone), phone)
            columns = [
                m["member_id"],
                m["full_name"],
                m["gender"],
                m["ethnicity"],
                q.date_text(m["birth_date"], style),
                id_text,
                phone,
                q.date_text(m["joined_on"], style + 1),
                m["member_category"],
                m["employment_status"],
                pick(rule == "org_code:references", q.unknown_code(m["org_code"], 0, "Z"), m["org_code"]),
                q.timestamp_text(m["updated_at"]),
            ]
            yield repeated(csv_lines(columns, "\r\n"), m["repeated"].to_numpy())
            advance(len(m))

    header = [
        "党员编号",
        "姓名",
        "性别",
        "民族",
        "出生日期",
        "公民身份号码",
        "手机号码",
        "入党日期",
        "党员类别",
        "工作状态",
        "所在组织编码",
        "更新时间",
    ]
    write_csv(folder / "members.csv", header, member_lines(), "gbk", "\r\n")


def _resident_records(
    residents: pd.DataFrame, positions: np.ndarray, rows: int, advance: Advance
) -> Iterator[pa.Array]:
    for begin in range(0, len(positions), rows):
        r = residents.iloc[positions[begin : begin + rows]]
        style = r["style"].to_numpy()
        id_card = pick(r["masked"].to_numpy(), q.masked_id(r["id_number"]), r["id_number"])
        yield json_records(
            {
                "residentId": json_string(r["resident_id"]),
                "name": json_string(r["written_name"]),
                "gender": json_string(r["gender"]),
                "birthDate": json_string(q.date_text(r["birth_date"], style)),
                "idCard": json_string(id_card),
                "mobile": json_string(q.phone_text(r["phone"], style)),
                "communityCode": json_string(r["community_code"]),
                "address": json_string(r["address"]),
                "updateTime": json_string(q.timestamp_text(r["updated_at"])),
            }
        )
        advance(len(r))


def _order_events(orders: pd.DataFrame) -> np.ndarray:
    """Per order its received, dispatched, completed and called-back times (NaT: never called back)."""
    received = orders["received_at"].to_numpy()
    dispatched = received + np.timedelta64(1, "h")
    return np.stack(
        [received, dispatched, orders["completed_at"].to_numpy(), orders["callback_at"].to_numpy()]
    )


def _changed_orders(orders: pd.DataFrame, cutoff: np.datetime64, day_start: np.datetime64) -> np.ndarray:
    """Positions of the orders with an event in [``day_start``, ``cutoff``)."""
    events = _order_events(orders)
    happened = events < cutoff
    return np.flatnonzero(happened.any(axis=0) & (happened & (events >= day_start)).any(axis=0))


def _order_records(o: pd.DataFrame, cutoff: np.datetime64) -> pa.Array:
    """The orders ``o`` as the API sends them at ``cutoff``."""
    events = _order_events(o)
    happened = events < cutoff
    done = happened[2]
    # the result once the caller was called back, or 未回访 from completion when they will not be
    result_known = happened[3] | (done & np.isnat(events[3]))
    forwarded = (o["forwarded_case_no"].to_numpy() != "") & (o["forwarded_at"].to_numpy() < cutoff)
    latest = np.where(happened, events, np.datetime64(0, "ms")).max(axis=0)  # NaT would win a max
    # an order forwarded to a grid (dispatched as it is forwarded) is 已转办 until it completes
    status = np.where(done, "已办结", np.where(forwarded, "已转办", np.where(happened[1], "办理中", "受理")))
    null = pa.nulls(len(o), pa.large_string())
    return json_records(
        {
            "orderNo": json_string(o["order_no"]),
            "receivedTime": json_number(pa.array(q.epoch_ms(o["received_at"]))),
            "callerPhone": json_string(o["caller_phone"]),
            "orderType": json_string(o["order_type"]),
            "category": json_string(o["category"]),
            "communityCode": json_string(o["community_code"]),
            "handlingUnit": json_string(o["handling_unit"]),
            "deadline": json_string(q.timestamp_text(o["deadline_at"])),
            "finishTime": json_string(pick(done, q.timestamp_text(o["completed_at"]), null)),
            "satisfaction": json_string(pick(result_known, o["callback_result"], null)),
            "callbackTime": json_string(pick(happened[3], q.timestamp_text(o["callback_at"]), null)),
            "gridCaseNo": json_string(pick(forwarded, o["forwarded_case_no"], null)),
            "status": json_string(pa.array(status)),
            "updateTime": json_string(q.timestamp_text(latest)),
        }
    )


def gov(
    folder: Path,
    residents: pd.DataFrame,
    present: np.ndarray,
    orders: pd.DataFrame,
    cutoff: np.datetime64,
    day_start: np.datetime64,
    page_size: int,
    advance: Advance,
) -> None:
    """政务服务: a paged JSON API; the ``present`` residents (row positions) as a snapshot, 12345 orders
    changed since ``day_start``."""
    rows = max(1, CHUNK_ROWS // page_size) * page_size
    records = _resident_records(residents, present, rows, advance)
    write_pages(folder, "residents", records, len(present), page_size)
    changed = _changed_orders(orders, cutoff, day_start)
    chunks = (  # the first drop carries a year of orders: a chunk at a time
        _order_records(orders.iloc[changed[begin : begin + rows]], cutoff)
        for begin in range(0, max(len(changed), 1), rows)  # an empty extract is still one page
    )
    write_pages(folder, "hotline_orders", chunks, len(changed), page_size)
    advance(len(orders))


def _grids_geojson(grids: pd.DataFrame) -> bytes:
    """Thousands of features, not millions: built as objects so the float text stays ``json.dumps``'s."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "gridCode": g.grid_code,
                "gridName": g.grid_name,
                "communityCode": g.community_code,
                "communityName": g.community_name,
                "streetName": g.street_name,
                "areaM2": g.area_m2,
                "households": g.households,
                "population": g.population,
                "updatedAt": stamp,
            },
            "geometry": json.loads(g.geometry),
        }
        for g, stamp in zip(
            grids.itertuples(), q.timestamp_text(grids["updated_at"]).to_pylist(), strict=True
        )
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def city(
    folder: Path,
    grids: pd.DataFrame,
    workers: pd.DataFrame,
    cases: pd.DataFrame,
    steps: pd.DataFrame,
    delivered: np.ndarray,
    cutoff: np.datetime64,
    day_start: np.datetime64,
    advance: Advance,
) -> None:
    """网格化管理: GeoJSON grids and UTF-8 CSV workers (with BOM), each stamped with its last change; cases and
    steps that reached the extract (``delivered``, per step) since ``day_start``; a voided case is an update
    with status 已作废 and its ``deleted_at``."""
    _write(folder / "grids.geojson", _grids_geojson(grids))
    lines = csv_lines(
        [
            workers["worker_id"],
            workers["full_name"],
            workers["phone"],
            q.grid_code_text(workers["grid_code"], workers["style"].to_numpy()),
            workers["worker_type"],
            q.timestamp_text(workers["updated_at"]),
        ],
        "\n",
    )
    lines = repeated(lines, workers["repeated"].to_numpy())
    header = ["worker_id", "name", "phone", "grid_code", "worker_type", "updated_at"]
    write_csv(folder / "grid_workers.csv", header, [lines], "utf-8", "\n", bom=True)

    case_index = steps["case_index"].to_numpy()
    done = delivered < cutoff
    today = done & (delivered >= day_start)
    voided_at = cases["voided_at"].to_numpy()
    voided_today = (voided_at < cutoff) & (voided_at >= day_start)
    done_per_case = np.bincount(case_index[done], minlength=len(cases))
    changed = np.flatnonzero((np.bincount(case_index[today], minlength=len(cases)) > 0) | voided_today)
    first_step = np.concatenate([[0], np.cumsum(np.bincount(case_index, minlength=len(cases)))[:-1]])
    last_step = first_step[changed] + done_per_case[changed] - 1
    last = steps.iloc[last_step]
    last_delivered = delivered[last_step]

    def case_lines():
        for begin in range(0, len(changed), CHUNK_ROWS):
            c = cases.iloc[changed[begin : begin + CHUNK_ROWS]]
            step = last.iloc[begin : begin + CHUNK_ROWS]
            closed = (step["step"] == "结案").to_numpy()
            rule = c["dirty_rule"].to_numpy()
            voided = c["voided_at"].to_numpy() < cutoff
            status = pa.array(step["step"].map(STEP_STATUS).to_numpy().astype(str))
            changed_at = np.where(
                voided, c["voided_at"].to_numpy(), last_delivered[begin : begin + CHUNK_ROWS]
            )
            reported = pick(rule == "reported_at:not_null", "未知", q.timestamp_text(c["reported_at"]))
            unknown_grid = rule == "grid_code:references"
            grid_code = pick(unknown_grid, q.unknown_code(c["grid_code"], 12, "9999"), c["grid_code"])
            columns = [
                c["case_no"],
                q.grid_code_text(grid_code, c["style"].to_numpy()),
                c["case_origin"],
                c["category"],
                c["item"],
                c["reporter_phone"],
                c["hotline_order_no"],
                reported,
                q.timestamp_text(c["deadline_at"]),
                pick(closed, q.timestamp_text(c["closed_at"]), ""),
                pick(voided, VOIDED, status),
                pick(closed, c["resolved_level"], ""),
                pick(voided, q.timestamp_text(c["voided_at"]), ""),
                q.timestamp_text(changed_at),
            ]
            yield csv_lines(columns, "\n")
            advance(len(c))

    header = [
        "case_no",
        "grid_code",
        "source",
        "category",
        "item",
        "reporter_phone",
        "hotline_order_no",
        "reported_at",
        "deadline_at",
        "closed_at",
        "status",
        "resolved_level",
        "deleted_at",
        "updated_at",
    ]
    write_csv(folder / "cases.csv", header, case_lines(), "utf-8", "\n")

    rows = np.flatnonzero(today)
    case_no = pa.array(cases["case_no"])

    def step_lines():
        for begin in range(0, len(rows), CHUNK_ROWS * 4):
            s = steps.iloc[rows[begin : begin + CHUNK_ROWS * 4]]
            columns = [
                case_no.take(pa.array(s["case_index"].to_numpy())),
                pa.array(s["step_seq"].to_numpy()).cast(pa.large_string()),
                s["step"],
                q.timestamp_text(s["occurred_at"]),
                s["actor"],
            ]
            yield csv_lines(columns, "\n")

    write_csv(
        folder / "case_steps.csv",
        ["case_no", "step_seq", "step", "occurred_at", "actor"],
        step_lines(),
        "utf-8",
        "\n",
    )
