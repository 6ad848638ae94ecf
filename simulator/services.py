"""The gov system's service side: resident units (驻区单位), the service-item list and service applications.

Everything is drawn a column at a time from its own random stream (``build``), so adding it leaves the rest
of the city as it was; ``write_day`` writes a day's extracts: the units and applications as paged JSON, the
item list as the XLSX export with its merged two-level header.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.xml.constants import ARC_CORE as CORE_PROPERTIES
from openpyxl.xml.functions import tostring

from simulator import kpis
from simulator import quirks as q
from simulator.drops import write_pages
from simulator.presets import Messiness, Preset
from simulator.text import as_str, concat, json_number, json_records, json_string, padded, pick, strings

# GB 32100: registration authority + entity type, by the unit types the gov system records.
UNIT_TYPES = {"机关": "11", "事业单位": "12", "国有企业": "91", "民营企业": "91", "社会组织": "52"}
_UNIT_TYPE_SHARE = [0.05, 0.15, 0.1, 0.6, 0.1]
_UNIT_NAMES = {
    "机关": ["税务所", "司法所", "市场监督管理所", "人力资源和社会保障服务站", "派出所"],
    "事业单位": ["第一中学", "实验小学", "中心医院", "图书馆", "社区卫生服务中心"],
    "国有企业": ["供电分公司", "燃气有限公司", "公交客运分公司", "自来水有限公司", "建设投资有限公司"],
    "民营企业": ["科技有限公司", "商贸有限公司", "物业服务有限公司", "餐饮管理有限公司", "建材有限公司"],
    "社会组织": ["志愿者协会", "养老服务中心", "书画协会", "社会工作服务中心", "慈善会"],
}
_BRANDS = list("华金星东瑞恒广汇博安海港宏远鑫泰盛和新兴")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_USCC_WEIGHTS = np.array([3**i % 31 for i in range(17)])
_ORG_CODE_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])  # GB 11714 organization code

DEPARTMENTS = (
    "民政局",
    "人力资源和社会保障局",
    "医疗保障局",
    "公安分局",
    "市场监督管理局",
    "住房和城乡建设局",
)
DEPARTMENTS += ("卫生健康局", "教育局", "残疾人联合会", "税务局")
_ITEM_ACTIONS = ("申请", "办理", "登记", "变更", "补领", "查询", "备案", "认定")
_ITEM_SUBJECTS = (
    "居住证",
    "低保",
    "医保参保",
    "灵活就业",
    "个体工商户",
    "老年人优待证",
    "残疾人证",
    "房屋租赁",
)
_ITEM_SUBJECTS += ("生育登记", "新生儿落户", "退休审批", "临时救助", "公租房", "学籍", "社保卡", "营业执照")
PROMISED_DAYS = np.array([0, 1, 3, 5, 7, 10, 15, 20])
CHANNELS = ("窗口", "网上", "移动端")
# A kiosk channel added after the contract was agreed: not a code the contract knows.
UNKNOWN_CHANNEL = "自助终端"
STATUSES = ("已提交", "已受理", "已办结")
EVENTS = ("submitted_at", "accepted_at", "completed_at")  # in the order they happen
CHUNK_ROWS = 100_000
TRUTH_ROW_GROUP = 1024 * 1024  # pyarrow's default row group: the file is as one ``to_parquet`` writes it

# The item list's two-level header as the export writes it: a group spans its columns, a lone column spans rows.
ITEM_HEADER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("序号", ()),
    ("事项信息", ("事项编码", "事项名称", "实施部门")),
    ("办理要求", ("承诺时限(工作日)", "是否网办", "最多跑一次")),
    ("更新时间", ()),
)


@dataclass
class Services:
    units: pd.DataFrame  # one row per source record; ``unit_index`` is the real unit, shared by duplicates
    items: pd.DataFrame
    # the applicant by position, ``person_pos`` in ``residents`` or ``unit_pos`` in ``units`` (-1: the other
    # kind); ``applicants`` gives their columns for as many rows at a time as are written
    applications: pd.DataFrame
    residents: pd.DataFrame  # the gov system's residents (the world's frame, not a copy)


APPLICANT_COLUMNS = ("person_id", "resident_id", "id_number", "phone", "credit_code")


def with_applicants(services: Services, apps: pd.DataFrame) -> pd.DataFrame:
    """``apps`` with the applicant's columns in place of its positions: a person's ids and phone, a unit's
    credit code, null for the other kind."""
    person, unit = apps["person_pos"].to_numpy(), apps["unit_pos"].to_numpy()
    columns = {c: _take(services.residents[c], person) for c in APPLICANT_COLUMNS[:-1]}
    columns["credit_code"] = _take(services.units["credit_code"], unit)
    at = apps.columns.get_loc("person_pos")
    apps = apps.drop(columns=["person_pos", "unit_pos"])
    for offset, (name, values) in enumerate(columns.items()):
        apps.insert(at + offset, name, values.set_axis(apps.index))
    return apps


def credit_codes(rng: np.random.Generator, prefixes: np.ndarray, divisions: np.ndarray) -> np.ndarray:
    """Valid unified social credit codes: authority + type, 6-digit division, organization code (8 digits and
    its GB 11714 check character), then the GB 32100 check character (mod 31)."""
    n = len(prefixes)
    body = rng.choice(10**8, n, replace=False)
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    org_check = 11 - (digits * _ORG_CODE_WEIGHTS).sum(axis=1) % 11  # 10 is written X, 11 is written 0
    org_check = np.where(org_check == 10, USCC_ALPHABET.index("X"), np.where(org_check == 11, 0, org_check))
    head = np.char.add(prefixes.astype(str), divisions.astype(str)).astype("S8").view(np.uint8).reshape(n, 8)
    values = np.concatenate([head - ord("0"), digits, org_check[:, None]], axis=1)
    check = (31 - (values * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    alphabet = np.array(list(USCC_ALPHABET))
    chars = alphabet[np.concatenate([values, check[:, None]], axis=1)]
    return chars.view("<U18").ravel()


def wrong_check_character(codes: pd.Series) -> pa.Array:
    """The credit codes with their check character replaced by another of the alphabet."""
    last = codes.str[-1].map(USCC_ALPHABET.index).to_numpy()
    wrong = np.array(list(USCC_ALPHABET))[(last + 1 + np.arange(len(codes)) % 29) % 31]
    return concat(strings(codes.str[:17]), pa.array(wrong, pa.large_string()))


def _units(rng: np.random.Generator, preset: Preset, communities: pd.DataFrame, start: date, mess: Messiness):
    per = preset.units_per_community
    community = communities.loc[communities.index.repeat(per)].reset_index(drop=True)
    n = len(community)
    kind = rng.choice(len(UNIT_TYPES), n, p=_UNIT_TYPE_SHARE)
    unit_type = np.array(list(UNIT_TYPES))[kind]
    prefix = np.array(list(UNIT_TYPES.values()))[kind]
    template = np.array([_UNIT_NAMES[k] for k in UNIT_TYPES])[kind, rng.integers(0, 5, n)]
    brand = np.char.add(
        np.array(_BRANDS)[rng.integers(0, len(_BRANDS), n)],
        np.array(_BRANDS)[rng.integers(0, len(_BRANDS), n)],
    )
    name = np.where(
        np.isin(unit_type, ["机关", "事业单位"]),
        np.char.add(community["community_name"].to_numpy().astype(str), template),
        np.char.add(np.char.add("大连", brand), template),
    )
    units = pd.DataFrame(
        {
            "unit_index": np.arange(n),
            "credit_code": credit_codes(rng, prefix, community["district_code"].to_numpy()),
            "unit_name": name,
            "unit_type": unit_type,
            "community_code": community["community_code"],
            "address": as_str(
                concat(community["community_name"], strings(pa.array(rng.integers(1, 300, n))), "号")
            ),
            "contact_phone": as_str(concat("0411-8", padded(rng.integers(0, 10**7, n), 7))),
            "updated_at": np.datetime64(start, "s") - rng.integers(1, 400, n).astype("timedelta64[D]"),
        }
    )
    units["dirty_rule"] = np.where(
        q.exactly(rng, n, mess.bad_credit_code), "credit_code:valid_credit_code", ""
    )
    # A clean unit registered a second time (another clerk, another spelling): resolved by its credit code.
    again = units[q.exactly(rng, n, mess.duplicate_unit) & (units["dirty_rule"] == "")].copy()
    again["unit_name"] = again["unit_name"] + " "
    again["updated_at"] = again["updated_at"] + np.timedelta64(1, "D")
    units = pd.concat([units, again], ignore_index=True)
    units.insert(0, "unit_id", as_str(padded(np.arange(len(units)), 7, "DW")))
    style = rng.random(len(units))
    units["style"] = np.where(
        style < mess.credit_code_lowercase,
        1,
        np.where(style < mess.credit_code_lowercase + mess.credit_code_fullwidth, 2, 0),
    )
    return units


def _items(rng: np.random.Generator, preset: Preset, start: date, mess: Messiness) -> pd.DataFrame:
    n = preset.service_items
    subject = np.array(_ITEM_SUBJECTS)[rng.integers(0, len(_ITEM_SUBJECTS), n)]
    action = np.array(_ITEM_ACTIONS)[rng.integers(0, len(_ITEM_ACTIONS), n)]
    online = rng.random(n) < 0.6
    items = pd.DataFrame(
        {
            "item_code": as_str(padded(np.sort(rng.choice(10**8, n, replace=False)), 8, "SX")),
            "item_name": np.char.add(subject, action),
            "department": np.array(DEPARTMENTS)[rng.integers(0, len(DEPARTMENTS), n)],
            "promised_working_days": PROMISED_DAYS[rng.integers(0, len(PROMISED_DAYS), n)],
            "online": online,
            "one_visit": online | (rng.random(n) < 0.5),
            "updated_at": np.datetime64(start, "s") - rng.integers(1, 200, n).astype("timedelta64[D]"),
        }
    )
    items["date_as_text"] = q.flags(rng, n, mess.xlsx_date_as_text)
    items["dirty_rule"] = np.where(
        q.exactly(rng, n, mess.item_without_promise), "promised_working_days:not_null", ""
    )
    return items


def _applications(
    rng: np.random.Generator,
    preset: Preset,
    start: date,
    days: int,
    residents: pd.DataFrame,
    units: pd.DataFrame,
    items: pd.DataFrame,
    mess: Messiness,
) -> pd.DataFrame:
    span = preset.history_days + days
    day = np.repeat(np.arange(span), rng.poisson(preset.service_applications_per_day, span))
    n = len(day)
    first = np.datetime64(start, "s") - np.timedelta64(preset.history_days, "D")
    submitted = (
        first + day.astype("timedelta64[D]") + rng.integers(8 * 3600, 18 * 3600, n).astype("timedelta64[s]")
    )
    item = rng.integers(0, len(items), n)
    online = items["online"].to_numpy()[item]
    channel = np.where(online, np.where(rng.random(n) < 0.6, 1, 2), 0)
    wait = np.where(channel == 0, rng.integers(300, 3600, n), rng.integers(3600, 48 * 3600, n))
    accepted = submitted + wait.astype("timedelta64[s]")
    promised = items["promised_working_days"].to_numpy()[item]
    # Working days taken: most within the promise, some late; the same day counts as 0.
    taken = np.where(
        rng.random(n) < 0.85, (rng.random(n) * (promised + 1)).astype(int), promised + rng.integers(1, 4, n)
    )
    accepted_day = accepted.astype("datetime64[D]")
    done_day = np.busday_offset(accepted_day, taken, roll="backward")
    clock = rng.integers(9 * 3600, 17 * 3600, n).astype("timedelta64[s]")
    completed = np.where(
        taken == 0, accepted + rng.integers(600, 4 * 3600, n).astype("timedelta64[s]"), done_day + clock
    )
    completed = np.maximum(completed, accepted + np.timedelta64(60, "s"))

    by_unit = rng.random(n) < 0.15
    settled = np.flatnonzero(residents["arrival_day"].to_numpy() == 0)
    person = settled[rng.integers(0, len(settled), n)]
    clean_units = np.flatnonzero((units["dirty_rule"] == "").to_numpy() & ~units["unit_index"].duplicated())
    unit = clean_units[rng.integers(0, len(clean_units), n)]
    one_visit = items["one_visit"].to_numpy()[item]
    submitted_day = strings(pc.strftime(pa.array(submitted), "%Y%m%d"))
    applications = pd.DataFrame(
        {
            "application_no": as_str(concat("BJ", submitted_day, padded(np.arange(n), 7))),
            "item_code": items["item_code"].to_numpy()[item],
            "applicant_type": np.where(by_unit, "单位", "个人"),
            "person_pos": np.where(by_unit, -1, person).astype(np.int32),
            "unit_pos": np.where(by_unit, unit, -1).astype(np.int32),
            "channel": np.array(CHANNELS)[channel],
            "submitted_at": submitted.astype("datetime64[ms]"),
            "accepted_at": accepted.astype("datetime64[ms]"),
            "completed_at": completed.astype("datetime64[ms]"),
            "visits": np.where(channel == 0, 1 + np.where(one_visit, 0, rng.integers(0, 3, n)), 0),
            "community_code": as_str(
                pick(
                    by_unit,
                    strings(units["community_code"]).take(unit),
                    strings(residents["community_code"]).take(person),
                )
            ),
        }
    )
    applications["masked"] = q.flags(rng, n, mess.masked_id)
    applications["style"] = rng.integers(0, 4, n).astype(np.int8)  # a byte a row: millions of rows
    applications["dirty_rule"] = np.where(q.exactly(rng, n, mess.unknown_channel), "channel:in_set", "")
    return applications


def _take(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """``column`` at row positions ``rows`` as Arrow-backed text, null where a position is -1."""
    missing = rows < 0
    values = strings(column).take(pa.array(np.where(missing, 0, rows)))
    return as_str(pc.if_else(pa.array(missing), pa.scalar(None, pa.large_string()), values))


def build(
    rng: np.random.Generator,
    preset: Preset,
    start: date,
    days: int,
    communities: pd.DataFrame,
    residents: pd.DataFrame,
    mess: Messiness,
) -> Services:
    units = _units(rng, preset, communities, start, mess)
    items = _items(rng, preset, start, mess)
    applications = _applications(rng, preset, start, days, residents, units, items, mess)
    return Services(units, items, applications, residents)


def unit_organization_codes(
    rng: np.random.Generator, orgs: pd.DataFrame, units: pd.DataFrame, recorded_share: float, mess: Messiness
) -> tuple[np.ndarray, np.ndarray]:
    """The credit code the party system records for each resident unit's organization (``U`` + community +
    number n: the community's n-th unit), "" for other organizations and where it is not recorded; and the
    style it is typed in (1 lower case, 2 full-width)."""
    first = units[~units["unit_index"].duplicated()]
    number = first.groupby("community_code", sort=False).cumcount() + 1
    by_org = pd.Series(
        first["credit_code"].to_numpy(), index="U" + first["community_code"] + as_str(padded(number, 3))
    )
    by_org = by_org[(first["dirty_rule"] == "").to_numpy()]  # a unit whose code is garbled is never loaded
    codes = orgs["org_code"].map(by_org).fillna("").to_numpy()
    codes = np.where(rng.random(len(orgs)) < recorded_share, codes, "")
    style = rng.random(len(orgs))
    lower, wide = mess.credit_code_lowercase, mess.credit_code_lowercase + mess.credit_code_fullwidth
    return codes, np.where(style < lower, 1, np.where(style < wide, 2, 0)).astype(np.int8)


def _credit_code_text(codes: pd.Series, style: np.ndarray, dirty: np.ndarray) -> pa.Array:
    return q.credit_code_text(pick(dirty, wrong_check_character(codes), codes), style)


def _unit_records(units: pd.DataFrame) -> pa.Array:
    return json_records(
        {
            "unitId": json_string(units["unit_id"]),
            "creditCode": json_string(
                _credit_code_text(
                    units["credit_code"], units["style"].to_numpy(), (units["dirty_rule"] != "").to_numpy()
                )
            ),
            "unitName": json_string(units["unit_name"]),
            "unitType": json_string(units["unit_type"]),
            "communityCode": json_string(units["community_code"]),
            "address": json_string(units["address"]),
            "contactPhone": json_string(units["contact_phone"]),
            "updateTime": json_string(q.timestamp_text(units["updated_at"])),
        }
    )


def _changed(apps: pd.DataFrame, cutoff: np.datetime64, day_start: np.datetime64) -> np.ndarray:
    """Positions of the applications with an event in [``day_start``, ``cutoff``)."""
    events = np.stack([apps[c].to_numpy() for c in EVENTS])
    happened = events < cutoff
    return np.flatnonzero(happened.any(axis=0) & (happened & (events >= day_start)).any(axis=0))


def _application_records(a: pd.DataFrame, cutoff: np.datetime64) -> pa.Array:
    """The applications ``a`` as the API sends them at ``cutoff``: status and times as far as they happened."""
    events = np.stack([a[c].to_numpy() for c in EVENTS])
    happened = events < cutoff
    latest = np.where(happened, events, np.datetime64(0, "ms")).max(axis=0)
    status = np.where(happened[2], STATUSES[2], np.where(happened[1], STATUSES[1], STATUSES[0]))
    null = pa.nulls(len(a), pa.large_string())
    person = (a["applicant_type"] == "个人").to_numpy()
    id_card = pick(a["masked"].to_numpy(), q.masked_id(a["id_number"].fillna("")), a["id_number"].fillna(""))
    channel = pick((a["dirty_rule"] != "").to_numpy(), UNKNOWN_CHANNEL, a["channel"])
    return json_records(
        {
            "applyNo": json_string(a["application_no"]),
            "itemCode": json_string(a["item_code"]),
            "applicantType": json_string(a["applicant_type"]),
            "residentId": json_string(pick(person, a["resident_id"].fillna(""), null)),
            "idCard": json_string(pick(person, id_card, null)),
            "mobile": json_string(
                pick(person, q.phone_text(a["phone"].fillna(""), a["style"].to_numpy()), null)
            ),
            "creditCode": json_string(pick(~person, a["credit_code"].fillna(""), null)),
            "channel": json_string(channel),
            "submitTime": json_number(pa.array(q.epoch_ms(a["submitted_at"]))),
            "acceptTime": json_string(pick(happened[1], q.timestamp_text(a["accepted_at"]), null)),
            "finishTime": json_string(pick(happened[2], q.timestamp_text(a["completed_at"]), null)),
            "visits": json_number(pa.array(np.where(happened[2], a["visits"].to_numpy(), 0))),
            "status": json_string(pa.array(status)),
            "communityCode": json_string(a["community_code"]),
            "updateTime": json_string(q.timestamp_text(latest)),
        }
    )


def write_item_list(path: Path, items: pd.DataFrame, exported: datetime) -> None:
    """The list as its export looks: a merged title row naming the export time, a two-level merged header,
    then one row per item. The file's own times are the export time too, so the same export is the same bytes."""
    title = f"大连市便民服务事项清单（导出时间：{exported:%Y-%m-%d %H:%M}）"
    book = Workbook()
    book.properties.created = book.properties.modified = exported
    sheet = book.active
    sheet.title = "便民服务事项清单"
    width = sum(max(1, len(leaves)) for _, leaves in ITEM_HEADER)
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    column = 1
    for top, leaves in ITEM_HEADER:
        sheet.cell(2, column, top).font = Font(bold=True)
        if leaves:
            sheet.merge_cells(
                start_row=2, start_column=column, end_row=2, end_column=column + len(leaves) - 1
            )
            for offset, leaf in enumerate(leaves):
                sheet.cell(3, column + offset, leaf).font = Font(bold=True)
        else:
            sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
        sheet.cell(2, column).alignment = Alignment(horizontal="center", vertical="center")
        column += max(1, len(leaves))
    yes_no = np.array(["否", "是"])
    updated = items["updated_at"].dt.to_pydatetime()
    as_text = [f"{t:%Y/%-m/%-d %H:%M}" for t in updated]
    rows = zip(
        range(1, len(items) + 1),
        items["item_code"],
        items["item_name"],
        items["department"],
        np.where(items["dirty_rule"] != "", None, items["promised_working_days"]).tolist(),
        yes_no[items["online"].to_numpy().astype(int)],
        yes_no[items["one_visit"].to_numpy().astype(int)],
        np.where(items["date_as_text"], as_text, updated).tolist(),
        strict=True,
    )
    for row in rows:
        sheet.append([v.item() if isinstance(v, np.generic) else v for v in row])
    saved = io.BytesIO()
    book.save(saved)
    book.properties.modified = exported  # saving stamped it with the current time, as it does each part
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            entry.date_time = exported.timetuple()[:6]
            data = source.read(entry.filename)
            if entry.filename == CORE_PROPERTIES:
                data = tostring(book.properties.to_tree())
            target.writestr(entry, data)


def write_day(
    services: Services,
    folder: Path,
    cutoff: np.datetime64,
    day_start: np.datetime64,
    page_size: int,
) -> None:
    """One day's gov service extracts: unit and item snapshots, applications changed since ``day_start``."""
    units = services.units
    records = _unit_records(units)
    write_pages(folder, "resident_units", iter([records]), len(records), page_size)
    exported = cutoff.astype("datetime64[s]").item() + timedelta(hours=1)  # exported at 01:00 after the day
    write_item_list(folder / "service_items.xlsx", services.items, exported)
    changed = _changed(services.applications, cutoff, day_start)
    rows = max(1, CHUNK_ROWS // page_size) * page_size  # whole pages per chunk
    chunks = (
        _application_records(
            with_applicants(services, services.applications.iloc[changed[begin : begin + rows]]), cutoff
        )
        for begin in range(0, max(len(changed), 1), rows)  # an empty extract is still one page
    )
    write_pages(folder, "service_applications", chunks, len(changed), page_size)


def _write_applications(services: Services, apps: pd.DataFrame, path: Path) -> None:
    """The applications with their applicants, a row group at a time: the same file ``to_parquet`` writes,
    without the applicant text of millions of rows held at once."""
    writer = None
    for begin in range(0, max(len(apps), 1), TRUTH_ROW_GROUP):
        table = pa.Table.from_pandas(
            with_applicants(services, apps.iloc[begin : begin + TRUTH_ROW_GROUP]), preserve_index=False
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def applicant_records(services: Services, start: date, cutoff: np.datetime64) -> pd.DataFrame:
    """One person record per application a resident submitted by ``cutoff``, as person_records lists them
    (unit applications name no person); an application quarantined for its channel carries its rule."""
    apps = services.applications
    apps = apps[(apps["submitted_at"] < cutoff) & (apps["applicant_type"] == "个人")]
    submitted = apps["submitted_at"].to_numpy().astype("datetime64[D]")
    return pd.DataFrame(
        {
            "system": "gov",
            "entity": "service_applicants",
            "record_key": apps["application_no"],
            "person_id": _take(services.residents["person_id"], apps["person_pos"].to_numpy()).to_numpy(),
            "dirty_rule": apps["dirty_rule"],
            "first_day": (submitted - np.datetime64(start, "D")).astype(int),
        }
    )


def write_truth(services: Services, start: date, cutoff: np.datetime64, folder: Path) -> dict[str, int]:
    """The records as they really are at ``cutoff``, which are dirty and by which rule, and the service KPI
    computed from them (``kpis.service_daily``); returns the record counts for the summary."""
    units = services.units.drop(columns=["style"])
    units.to_parquet(folder / "resident_units.parquet", index=False)
    items = services.items.drop(columns=["date_as_text"])
    items.to_parquet(folder / "service_items.parquet", index=False)
    apps = services.applications.drop(columns=["masked", "style"])
    submitted = apps["submitted_at"].to_numpy() < cutoff
    if not submitted.all():  # no copy of millions of rows when all of them are in
        apps = apps[submitted]
    for column in ("accepted_at", "completed_at"):
        apps[column] = apps[column].where(apps[column] < cutoff)
    _write_applications(services, apps, folder / "service_applications.parquet")
    kpis.service_daily(apps, items).to_parquet(folder / "kpis_service_daily.parquet", index=False)
    return {
        "gov.resident_units": len(units),
        "gov.service_items": len(items),
        "gov.service_applications": len(apps),
    }
