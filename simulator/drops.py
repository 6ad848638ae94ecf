"""Write one day of each source system's extracts, in the system's own format and quirks."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from simulator import quirks as q
from simulator.cases import STEP_STATUS


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str, bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n" if encoding != "utf-8" else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _pages(folder: Path, stem: str, records: list[dict], page_size: int) -> None:
    pages = max(1, -(-len(records) // page_size))
    for page in range(1, pages + 1):
        chunk = records[(page - 1) * page_size : page * page_size]
        body = {
            "code": 0,
            "msg": "success",
            "data": {
                "page": page,
                "pageSize": page_size,
                "pages": pages,
                "total": len(records),
                "records": chunk,
            },
        }
        _write(folder / f"{stem}_page_{page:04d}.json", json.dumps(body, ensure_ascii=False).encode())


def party(folder: Path, orgs: pd.DataFrame, members: pd.DataFrame, updated: datetime) -> None:
    """党员信息管理系统: GBK CSV with Chinese headers and Windows line endings, as its export button makes."""
    org_rows = [
        [
            o.org_code,
            o.org_name,
            o.org_type,
            o.parent_org_code,
            o.division_code,
            o.grid_code,
            q.date_text(o.founded_on, 2),
            q.timestamp_text(updated),
        ]
        for o in orgs.itertuples()
    ]
    header = [
        "组织编码",
        "组织名称",
        "组织类别",
        "上级组织编码",
        "所在区划代码",
        "所在网格编码",
        "成立日期",
        "更新时间",
    ]
    _write(folder / "organizations.csv", _csv_bytes(header, org_rows, "gbk"))
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
    rows = []
    for m in members.itertuples():
        id_text = q.wrong_check_digit(m.id_number) if m.dirty_rule else m.id_number
        phone = "" if m.no_phone else q.phone_text(m.phone, m.style)
        if m.lower_x:
            id_text = id_text[:-1] + id_text[-1].lower()
        if m.fullwidth:
            id_text, phone = q.fullwidth(id_text), q.fullwidth(phone)
        rows.append(
            [
                m.member_id,
                m.full_name,
                m.gender,
                m.ethnicity,
                q.date_text(m.birth_date, m.style),
                id_text,
                phone,
                q.date_text(m.joined_on, m.style + 1),
                m.member_category,
                m.employment_status,
                m.org_code,
                q.timestamp_text(updated),
            ]
        )
    _write(folder / "members.csv", _csv_bytes(header, rows, "gbk"))


def gov(
    folder: Path, residents: pd.DataFrame, orders: pd.DataFrame, cutoff: datetime, page_size: int
) -> None:
    """政务服务: a paged JSON API; residents as a snapshot, 12345 orders changed during the day."""
    records = [
        {
            "residentId": r.resident_id,
            "name": q.traditional(r.full_name) if r.traditional else r.full_name,
            "gender": r.gender,
            "birthDate": q.date_text(r.birth_date, r.style),
            "idCard": q.masked_id(r.id_number) if r.masked else r.id_number,
            "mobile": q.phone_text(r.phone, r.style),
            "communityCode": r.community_code,
            "address": r.address,
            "updateTime": q.timestamp_text(r.updated_at),
        }
        for r in residents.itertuples()
    ]
    _pages(folder, "residents", records, page_size)
    day_start = cutoff - timedelta(days=1)
    changed = []
    for o in orders.itertuples():
        dispatched = o.received_at + timedelta(hours=1)
        events = [t for t in (o.received_at, dispatched, o.completed_at) if t < cutoff]
        if not events or not any(t >= day_start for t in events):
            continue
        done = o.completed_at < cutoff
        forwarded = bool(o.forwarded_case_no) and o.forwarded_at < cutoff
        changed.append(
            {
                "orderNo": o.order_no,
                "receivedTime": q.epoch_ms(o.received_at),
                "callerPhone": o.caller_phone,
                "orderType": o.order_type,
                "category": o.category,
                "communityCode": o.community_code,
                "handlingUnit": o.handling_unit,
                "deadline": q.timestamp_text(o.deadline_at),
                "finishTime": q.timestamp_text(o.completed_at) if done else None,
                "satisfaction": o.satisfaction if done else None,
                "gridCaseNo": o.forwarded_case_no if forwarded else None,
                "status": "已办结" if done else ("办理中" if dispatched < cutoff else "受理"),
                "updateTime": q.timestamp_text(max(events)),
            }
        )
    _pages(folder, "hotline_orders", changed, page_size)


def city(
    folder: Path,
    grids: pd.DataFrame,
    workers: pd.DataFrame,
    cases: pd.DataFrame,
    steps: pd.DataFrame,
    cutoff: datetime,
    updated: datetime,
) -> None:
    """网格化管理: GeoJSON grids, UTF-8 CSV workers (with BOM), cases and steps changed during the day."""
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
                "updatedAt": q.timestamp_text(updated),
            },
            "geometry": json.loads(g.geometry),
        }
        for g in grids.itertuples()
    ]
    collection = {"type": "FeatureCollection", "features": features}
    _write(folder / "grids.geojson", json.dumps(collection, ensure_ascii=False).encode())

    rows = [
        [
            w.worker_id,
            w.full_name,
            w.phone,
            q.grid_code_text(w.grid_code, w.style),
            w.worker_type,
            q.timestamp_text(updated),
        ]
        for w in workers.itertuples()
    ]
    header = ["worker_id", "name", "phone", "grid_code", "worker_type", "updated_at"]
    _write(folder / "grid_workers.csv", _csv_bytes(header, rows, "utf-8", bom=True))

    day_start = cutoff - timedelta(days=1)
    done = steps[steps["occurred_at"] < cutoff]
    today = done[done["occurred_at"] >= day_start]
    last = done.sort_values(["case_no", "step_seq"]).groupby("case_no").tail(1).set_index("case_no")
    changed = cases[cases["case_no"].isin(today["case_no"])]
    rows = []
    for c in changed.itertuples():
        step = last.loc[c.case_no]
        closed = step["step"] == "结案"
        rows.append(
            [
                c.case_no,
                q.grid_code_text(c.grid_code, c.style),
                c.case_origin,
                c.category,
                c.item,
                c.reporter_phone,
                c.hotline_order_no,
                "未知" if c.dirty_rule else q.timestamp_text(c.reported_at),
                q.timestamp_text(c.deadline_at),
                q.timestamp_text(c.closed_at) if closed else "",
                STEP_STATUS[step["step"]],
                c.resolved_level if closed else "",
                q.timestamp_text(step["occurred_at"]),
            ]
        )
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
        "updated_at",
    ]
    _write(folder / "cases.csv", _csv_bytes(header, rows, "utf-8"))
    rows = [
        [s.case_no, s.step_seq, s.step, q.timestamp_text(s.occurred_at), s.actor] for s in today.itertuples()
    ]
    _write(
        folder / "case_steps.csv",
        _csv_bytes(["case_no", "step_seq", "step", "occurred_at", "actor"], rows, "utf-8"),
    )
