"""The JSON page reader (DuckDB's JSON functions) against a plain-Python reading of the same pages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ingest.contracts import for_system, get
from ingest.readers import ExtractError, read_json_pages
from simulator.generate import generate

RESIDENTS = get("gov", "residents")


def python_reading(paths: list[Path], records_path: tuple[str, ...]) -> pd.DataFrame:
    """What the pages hold, by ``json.loads``: each value as ``str()`` of it, null or missing as empty."""
    rows, files, numbers = [], [], []
    for path in paths:
        records = json.loads(path.read_bytes().decode("utf-8-sig"))
        for key in records_path:
            records = records[key]
        rows += records
        files += [path.name] * len(records)
        numbers += range(1, len(records) + 1)
    columns = list(dict.fromkeys(key for record in rows for key in record))
    frame = pd.DataFrame(
        {
            c: pd.Series(["" if r.get(c) is None else str(r.get(c)) for r in rows], dtype="str")
            for c in columns
        }
    )
    frame["_source_row"] = numbers
    frame["_source_file"] = files
    return frame


@pytest.fixture(scope="module")
def demo_drops(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate("demo", out, days=2)
    return out


@pytest.mark.parametrize(
    "contract", [c for c in for_system("gov") if c.format == "json_pages"], ids=lambda c: c.entity
)
def test_the_demo_pages_read_as_python_reads_them(demo_drops, contract):
    for day in sorted((demo_drops / "gov").iterdir()):
        paths = sorted(day.glob(contract.file_glob))
        assert paths, day
        read = read_json_pages(paths, contract)
        pd.testing.assert_frame_equal(read, python_reading(paths, contract.json_records_path))
        assert set(read.attrs["source_types"]) <= set(read.columns)


def page(number: int, pages: int, records: list[dict], total: int | None = None) -> str:
    data = {"page": number, "pages": pages, "records": records}
    if total is not None:
        data["total"] = total
    return json.dumps({"code": 0, "msg": "success", "data": data}, ensure_ascii=False)


def write(folder: Path, *texts: str) -> list[Path]:
    paths = []
    for number, text in enumerate(texts, start=1):
        paths.append(folder / f"residents_page_{number:04d}.json")
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def test_odd_values_read_as_python_reads_them(tmp_path):
    records = [
        {"residentId": "R1", "name": "张三", "flag": True, "score": 1.50, "big": 12345678901234567890},
        {"residentId": "R2", "name": None, "flag": False, "score": 1e20, "remark": "备注"},
        {"residentId": "R3", "idCard": "21020219900101123X"},
    ]
    paths = write(tmp_path, page(1, 2, records[:2], total=3), page(2, 2, records[2:], total=3))
    read = read_json_pages(paths, RESIDENTS)
    pd.testing.assert_frame_equal(read, python_reading(paths, RESIDENTS.json_records_path))
    assert read.attrs["source_types"] == {
        "residentId": "VARCHAR",
        "name": "VARCHAR",
        "flag": "BOOLEAN",
        "score": "DOUBLE",
        "big": "UBIGINT",
        "remark": "VARCHAR",
        "idCard": "VARCHAR",
    }


def test_a_column_sent_as_numbers_and_as_text_is_typed_json(tmp_path):
    paths = write(tmp_path, page(1, 1, [{"residentId": 1}, {"residentId": "R2"}]))
    read = read_json_pages(paths, RESIDENTS)
    assert read["residentId"].tolist() == ["1", "R2"]
    assert read.attrs["source_types"] == {"residentId": "JSON"}


@pytest.mark.parametrize(
    ("texts", "error"),
    [
        ((page(1, 2, [{"a": 1}]),), r"JSON pages \[2\] of 2 are missing"),
        ((page(1, 2, [{"a": 1}]), page(2, 1, [{"a": 2}])), r"the pages disagree on pages"),
        ((page(1, 1, [{"a": 1}]).replace('"page": 1', '"page": 2'),), r"JSON pages \[1\] of 1 are missing"),
        ((page(1, 1, [{"a": 1}], total=2),), r"declare a total of 2 records but hold 1"),
        (('{"code": 0, "data": {"page": 1}}',), r"residents_page_0001\.json: JSON has no data\.records"),
        (('{"code": 0, "data": {"records": {"a": 1}}}',), r"data\.records is not a list"),
        (('{"code": 0, "data": {"records": [1, 2]}}',), r"data\.records holds ubigints, not records"),
        (('{"code": 0, "data": {"records": [}',), r"residents_page_0001\.json, row 1: invalid JSON"),
        (('{"code": 500, "msg": "系统繁忙"}',), r"the API answered an error: code 500, '系统繁忙'"),
        (("  ",), r"residents_page_0001\.json: file is empty"),
    ],
)
def test_page_and_record_checks_name_the_page(tmp_path, texts, error):
    with pytest.raises(ExtractError, match=error):
        read_json_pages(write(tmp_path, *texts), RESIDENTS)


def test_a_page_with_a_bom_reads_like_one_without(tmp_path):
    text = page(1, 1, [{"residentId": "R1", "name": "李四"}])
    (plain,) = write(tmp_path, text)
    with_bom = tmp_path / "bom" / plain.name
    with_bom.parent.mkdir()
    with_bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    pd.testing.assert_frame_equal(read_json_pages([with_bom], RESIDENTS), read_json_pages([plain], RESIDENTS))


def test_pages_without_records_read_as_no_rows(tmp_path):
    read = read_json_pages(write(tmp_path, page(1, 2, [], total=0), page(2, 2, [], total=0)), RESIDENTS)
    assert len(read) == 0 and list(read.columns) == ["_source_row", "_source_file"]


def test_a_key_typed_differently_on_two_pages_is_typed_json(tmp_path):
    paths = write(tmp_path, page(1, 2, [{"residentId": 1}]), page(2, 2, [{"residentId": "R2"}]))
    assert read_json_pages(paths, RESIDENTS).attrs["source_types"] == {"residentId": "JSON"}
