"""Damage one day of clean drops in one of the ways real extracts go wrong (DOMAIN.md, the ingest issue).

``mutate(drops, day, kind)`` edits the day's folder of one source system in place and returns the keys of
the records it touched (empty when the damage is to the file as a whole). Each kind damages exactly one
entity's extract, so everything else in the night stays clean. Used by the bad-input gauntlet and for demos:
``gridfusion-sim mutate --kind id_15_digit --date 2026-11-02``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from simulator import quirks as q

BOM = b"\xef\xbb\xbf"


def _one(quirk: Callable, *style) -> Callable[[str], str]:
    """A column-wise quirk of the simulator applied to one value."""
    return lambda value: quirk([value], *([s] for s in style))[0].as_py()


@dataclass
class CsvFile:
    """A CSV drop as its source wrote it, so an edit can be written back the same way."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    encoding: str
    bom: bool
    newline: str

    @classmethod
    def read(cls, path: Path) -> CsvFile:
        data = path.read_bytes()
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("gbk"), "gbk"
        rows = list(csv.reader(io.StringIO(text, newline="")))
        newline = "\r\n" if "\r\n" in text else "\n"
        return cls(path, rows[0], rows[1:], encoding, data.startswith(BOM), newline)

    def col(self, name: str) -> int:
        return self.header.index(name)

    def text(self, delimiter: str = ",") -> str:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=self.newline)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue()

    def write(self, encoding: str | None = None, bom: bool | None = None, delimiter: str = ",") -> None:
        data = self.text(delimiter).encode(encoding or self.encoding)
        self.path.write_bytes((BOM if (self.bom if bom is None else bom) else b"") + data)

    def edit(self, column: str, change: Callable[[str], str], where=lambda row: True, n: int = 2) -> tuple:
        """Change ``column`` in the first ``n`` rows matching ``where``; returns those rows' first fields. An
        exact repeat of a changed row (the export writes some rows twice) is changed the same way."""
        i, touched, changed = self.col(column), [], {}
        for row in self.rows:
            if tuple(row) in changed:
                row[i] = changed[tuple(row)]
            elif len(touched) < n and where(row):
                original = tuple(row)
                row[i] = changed[original] = change(row[i])
                touched.append(row[0])
        if not touched:
            raise LookupError(f"{self.path.name}: no row to mutate in column {column!r}")
        self.write()
        return tuple(touched)


def _pages(folder: Path, stem: str) -> list[Path]:
    return sorted(folder.glob(f"{stem}_page_*.json"))


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    document = json.loads(path.read_bytes())
    change(document)
    path.write_bytes(json.dumps(document, ensure_ascii=False).encode())


def _edit_records(folder: Path, stem: str, field: str, change: Callable[[object], object], n: int = 2):
    """Change ``field`` of the first ``n`` records of the first page; returns their first field's values."""
    touched = []

    def edit(document: dict) -> None:
        for record in document["data"]["records"][:n]:
            record[field] = change(record[field])
            touched.append(str(next(iter(record.values()))))

    _edit_json(_pages(folder, stem)[0], edit)
    return tuple(touched)


def _members(folder: Path) -> CsvFile:
    return CsvFile.read(folder / "members.csv")


def _born_in_1900s(f: CsvFile):
    i = f.col("公民身份号码")
    return lambda row: row[i][6:8] == "19" and row[i][-1].isdigit()


def _to_15_digits(id_number: str) -> str:
    """A first-generation (1984–1999) number: no century in the birth date, no check character."""
    return id_number[:6] + id_number[8:17]


def _excel_serial(text_date: str) -> str:
    parsed = datetime.strptime(text_date, "%Y-%m-%d") if "-" in text_date else None
    if parsed is None:
        raise LookupError(text_date)
    return str((parsed - datetime(1899, 12, 30)).days)


def _iso_dated(f: CsvFile, column: str):
    i = f.col(column)
    return lambda row: len(row[i]) == 10 and row[i][4] == "-"


def _shift_years(stamp: str, years: int) -> str:
    return str(int(stamp[:4]) + years) + stamp[4:]


def _first_columns(f: CsvFile, keep: Callable[[int, str], bool]) -> None:
    idx = [i for i, name in enumerate(f.header) if keep(i, name)]
    f.header = [f.header[i] for i in idx]
    f.rows = [[row[i] for i in idx] for row in f.rows]
    f.write()


# --- the kinds -------------------------------------------------------------------------------------------


def utf16_excel_text(folder: Path) -> tuple:
    """Excel's "Unicode text" export: UTF-16 with BOM, tab-delimited."""
    f = _members(folder)
    f.path.write_bytes(f.text(delimiter="\t").encode("utf-16"))
    return ()


def utf8_bom_instead_of_gbk(folder: Path) -> tuple:
    _members(folder).write(encoding="utf-8", bom=True)
    return ()


def bom_missing(folder: Path) -> tuple:
    CsvFile.read(folder / "grid_workers.csv").write(bom=False)
    return ()


def gbk_instead_of_utf8(folder: Path) -> tuple:
    CsvFile.read(folder / "cases.csv").write(encoding="gbk")
    return ()


def mixed_encoding(folder: Path) -> tuple:
    """Two exports glued together: the first half GBK, the rest UTF-8."""
    f = _members(folder)
    half = len(f.rows) // 2
    head, tail = f.rows[:half], f.rows[half:]
    f.rows = head
    first = f.text().encode("gbk")
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=f.newline).writerows(tail)
    f.path.write_bytes(first + buffer.getvalue().encode("utf-8"))
    return ()


def geojson_with_bom(folder: Path) -> tuple:
    path = folder / "grids.geojson"
    path.write_bytes(BOM + path.read_bytes())
    return ()


def truncated_csv(folder: Path) -> tuple:
    path = folder / "cases.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",", 0, len(data) // 2)])
    return ()


def truncated_json_page(folder: Path) -> tuple:
    path = _pages(folder, "residents")[1]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return ()


def empty_file(folder: Path) -> tuple:
    (folder / "case_steps.csv").write_bytes(b"")
    return ()


def header_only_snapshot(folder: Path) -> tuple:
    f = _members(folder)
    f.rows = []
    f.write()
    return ()


def header_only_worker_snapshot(folder: Path) -> tuple:
    """A snapshot that, read as it is, would say every grid worker left."""
    f = CsvFile.read(folder / "grid_workers.csv")
    f.rows = []
    f.write()
    return ()


def truncated_worker_snapshot(folder: Path) -> tuple:
    path = folder / "grid_workers.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",", 0, len(data) // 2)])
    return ()


def missing_column(folder: Path) -> tuple:
    f = CsvFile.read(folder / "cases.csv")
    _first_columns(f, lambda _, name: name != "item")
    return ()


def renamed_column(folder: Path) -> tuple:
    f = CsvFile.read(folder / "grid_workers.csv")
    f.header[f.col("phone")] = "mobile"
    f.write()
    return ()


def extra_column(folder: Path) -> tuple:
    f = CsvFile.read(folder / "cases.csv")
    f.header.append("remark")
    f.rows = [[*row, "备注"] for row in f.rows]
    f.write()
    return ()


def reordered_columns(folder: Path) -> tuple:
    f = _members(folder)
    order = list(reversed(range(len(f.header))))
    f.header = [f.header[i] for i in order]
    f.rows = [[row[i] for i in order] for row in f.rows]
    f.write()
    return ()


def column_type_change(folder: Path) -> tuple:
    """A source upgrade writes counts with their unit: ``21户``."""
    touched = []

    def edit(document: dict) -> None:
        for feature in document["features"][:2]:
            feature["properties"]["households"] = f"{feature['properties']['households']}户"
            touched.append(feature["properties"]["gridCode"])

    _edit_json(folder / "grids.geojson", edit)
    return tuple(touched)


def duplicate_rows(folder: Path) -> tuple:
    """A row exported twice, byte for byte: ingest drops the copy and counts it."""
    f = CsvFile.read(folder / "case_steps.csv")
    f.rows.append(list(f.rows[0]))
    f.write()
    return (f.rows[0][0],)


def differing_duplicate_rows(folder: Path) -> tuple:
    """A step sent twice under one key, the copy with another actor: which is right is unknown."""
    f = CsvFile.read(folder / "case_steps.csv")
    actor = f.col("actor")
    copy = list(f.rows[0])
    copy[actor] = "处置部门" if copy[actor] != "处置部门" else "网格员"
    f.rows.append(copy)
    f.write()
    return (f.rows[0][0],)


def duplicate_keys(folder: Path) -> tuple:
    f = CsvFile.read(folder / "cases.csv")
    f.rows[1][0] = f.rows[0][0]
    f.write()
    return (f.rows[0][0],)


def id_15_digit(folder: Path) -> tuple:
    f = _members(folder)
    return f.edit("公民身份号码", _to_15_digits, where=_born_in_1900s(f))


def bad_check_character(folder: Path) -> tuple:
    f = _members(folder)
    return f.edit("公民身份号码", _one(q.wrong_check_digit), where=_born_in_1900s(f))


def lowercase_x(folder: Path) -> tuple:
    f = _members(folder)
    i = f.col("公民身份号码")
    return f.edit("公民身份号码", str.lower, where=lambda row: row[i].endswith("X"))


def fullwidth_digits(folder: Path) -> tuple:
    f = _members(folder)
    f.edit("手机号码", _one(q.fullwidth), where=lambda row: row[f.col("手机号码")] != "")
    return f.edit("公民身份号码", _one(q.fullwidth))


def masked_id_where_full_required(folder: Path) -> tuple:
    f = _members(folder)
    return f.edit("公民身份号码", _one(q.masked_id), where=_born_in_1900s(f))


def stray_line_breaks(folder: Path) -> tuple:
    f = CsvFile.read(folder / "organizations.csv")
    return f.edit("组织名称", lambda name: f"{name[:4]}\r\n{name[4:]}\n")


def unbalanced_quote(folder: Path) -> tuple:
    """An opening quote that never closes, in the last column: the rest of the file is one field."""
    path = folder / "cases.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3][: lines[3].rindex(",") + 1] + '"' + lines[3][lines[3].rindex(",") + 1 :]
    path.write_text("\n".join(lines), encoding="utf-8")
    return ()


def wrong_delimiter(folder: Path) -> tuple:
    CsvFile.read(folder / "cases.csv").write(delimiter=";")
    return ()


def unparsable_dates(folder: Path) -> tuple:
    f = _members(folder)
    return f.edit("出生日期", lambda _: "不详")


def future_dates(folder: Path) -> tuple:
    f = CsvFile.read(folder / "cases.csv")
    i = f.col("closed_at")
    return f.edit("reported_at", lambda v: _shift_years(v, 10), where=lambda row: row[i] == "")


def excel_serial_dates(folder: Path) -> tuple:
    f = _members(folder)
    return f.edit("出生日期", _excel_serial, where=_iso_dated(f, "出生日期"))


def epoch_seconds(folder: Path) -> tuple:
    return _edit_records(folder, "hotline_orders", "receivedTime", lambda ms: int(ms) // 1000)


def phone_variants(folder: Path) -> tuple:
    f = CsvFile.read(folder / "grid_workers.csv")
    styles = iter((lambda d: f"0086 {d}", lambda d: f"+86-{d[:3]}-{d[3:7]}-{d[7:]}", _one(q.fullwidth)))
    return f.edit("phone", lambda d: next(styles)(d), n=3)


def grid_code_separators(folder: Path) -> tuple:
    f = CsvFile.read(folder / "cases.csv")
    styles = iter((lambda c: f"{c[:6]} {c[6:9]} {c[9:12]} {c[12:]}", _one(q.grid_code_text, 2)))
    i = f.col("grid_code")
    return f.edit("grid_code", lambda c: next(styles)(c), where=lambda row: row[i].isdigit())


def grid_code_missing_zeros(folder: Path) -> tuple:
    """Leading zeros of the inner segments dropped, with no separators left to tell the segments apart."""
    f = CsvFile.read(folder / "cases.csv")
    i = f.col("grid_code")
    return f.edit(
        "grid_code",
        lambda c: _one(q.grid_code_text, 2)(c).replace("-", ""),
        where=lambda row: row[i].isdigit(),
    )


def local_grid_name(folder: Path) -> tuple:
    f = CsvFile.read(folder / "grid_workers.csv")
    return f.edit("grid_code", lambda _: "白荡海社区第四网格", n=1)


def unknown_grid(folder: Path) -> tuple:
    f = CsvFile.read(folder / "cases.csv")
    return f.edit("grid_code", lambda c: c[:12] + "0099", n=1)


def json_page_missing(folder: Path) -> tuple:
    _pages(folder, "residents")[2].unlink()
    return ()


def json_pages_disagree(folder: Path) -> tuple:
    """Page 1 says there are fewer pages than were served."""
    _edit_json(_pages(folder, "residents")[0], lambda d: d["data"].update(pages=d["data"]["pages"] - 1))
    return ()


def json_total_mismatch(folder: Path) -> tuple:
    """A page lost a record on the way: the pages still agree, the total does not."""
    _edit_json(_pages(folder, "residents")[2], lambda d: d["data"]["records"].pop())
    return ()


def invalid_json(folder: Path) -> tuple:
    path = _pages(folder, "hotline_orders")[0]
    path.write_bytes(path.read_bytes().replace(b'"records": [', b'"records": [,', 1))
    return ()


def json_error_envelope(folder: Path) -> tuple:
    """The API answered its own error document with HTTP 200."""
    body = {"code": 500, "msg": "系统繁忙，请稍后重试", "data": None}
    _pages(folder, "hotline_orders")[0].write_bytes(json.dumps(body, ensure_ascii=False).encode())
    return ()


def invalid_polygon(folder: Path) -> tuple:
    """A self-intersecting ring (a bow tie) and a ring with longitude and latitude swapped."""
    touched = []

    def edit(document: dict) -> None:
        bowtie, swapped = document["features"][:2]
        ring = bowtie["geometry"]["coordinates"][0]
        ring[1], ring[2] = ring[2], ring[1]
        swapped["geometry"]["coordinates"] = [
            [[y, x] for x, y in r] for r in swapped["geometry"]["coordinates"]
        ]
        touched.extend(f["properties"]["gridCode"] for f in (bowtie, swapped))

    _edit_json(folder / "grids.geojson", edit)
    return tuple(touched)


def case_steps_shuffled(folder: Path) -> tuple:
    f = CsvFile.read(folder / "case_steps.csv")
    f.rows.reverse()
    f.write()
    return ()


def case_step_before_previous(folder: Path) -> tuple:
    """A later workflow step stamped a day before the step it follows."""
    f = CsvFile.read(folder / "case_steps.csv")
    seq, when = f.col("step_seq"), f.col("occurred_at")
    for previous, row in zip(f.rows, f.rows[1:], strict=False):
        if row[0] == previous[0] and int(row[seq]) == int(previous[seq]) + 1:
            stamp = datetime.fromisoformat(previous[when]) - timedelta(days=1)
            row[when] = f"{stamp:%Y-%m-%d %H:%M:%S}"
            f.write()
            return (f"{row[0]}+{row[seq]}",)
    raise LookupError("case_steps.csv: no two consecutive steps of one case")


def previous_day_file(folder: Path) -> tuple:
    """Yesterday's delta dropped again instead of today's."""
    yesterday = folder.parent / (date.fromisoformat(folder.name) - timedelta(days=1)).isoformat()
    shutil.copyfile(yesterday / "cases.csv", folder / "cases.csv")
    return ()


KINDS: dict[str, tuple[str, Callable[[Path], tuple]]] = {
    fn.__name__: (entity, fn)
    for entity, fn in (
        ("party.members", utf16_excel_text),
        ("party.members", utf8_bom_instead_of_gbk),
        ("city.grid_workers", bom_missing),
        ("city.cases", gbk_instead_of_utf8),
        ("party.members", mixed_encoding),
        ("city.grids", geojson_with_bom),
        ("city.cases", truncated_csv),
        ("gov.residents", truncated_json_page),
        ("city.case_steps", empty_file),
        ("party.members", header_only_snapshot),
        ("city.grid_workers", header_only_worker_snapshot),
        ("city.grid_workers", truncated_worker_snapshot),
        ("city.cases", missing_column),
        ("city.grid_workers", renamed_column),
        ("city.cases", extra_column),
        ("party.members", reordered_columns),
        ("city.grids", column_type_change),
        ("city.case_steps", duplicate_rows),
        ("city.case_steps", differing_duplicate_rows),
        ("city.cases", duplicate_keys),
        ("party.members", id_15_digit),
        ("party.members", bad_check_character),
        ("party.members", lowercase_x),
        ("party.members", fullwidth_digits),
        ("party.members", masked_id_where_full_required),
        ("party.organizations", stray_line_breaks),
        ("city.cases", unbalanced_quote),
        ("city.cases", wrong_delimiter),
        ("party.members", unparsable_dates),
        ("city.cases", future_dates),
        ("party.members", excel_serial_dates),
        ("gov.hotline_orders", epoch_seconds),
        ("city.grid_workers", phone_variants),
        ("city.cases", grid_code_separators),
        ("city.cases", grid_code_missing_zeros),
        ("city.grid_workers", local_grid_name),
        ("city.cases", unknown_grid),
        ("gov.residents", json_page_missing),
        ("gov.residents", json_pages_disagree),
        ("gov.residents", json_total_mismatch),
        ("gov.hotline_orders", invalid_json),
        ("gov.hotline_orders", json_error_envelope),
        ("city.grids", invalid_polygon),
        ("city.case_steps", case_steps_shuffled),
        ("city.case_steps", case_step_before_previous),
        ("city.cases", previous_day_file),
    )
}


def mutate(drops: Path, day: date, kind: str) -> tuple:
    """Apply one kind of damage to ``day``'s drops; returns the keys of the records it changed."""
    try:
        entity, damage = KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown mutation {kind!r}; known: {sorted(KINDS)}") from None
    return damage(drops / entity.split(".")[0] / day.isoformat())
