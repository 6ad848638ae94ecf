"""Landing: bytes kept, typed Parquet written, the manifest truthful; bad input named by file, row, rule."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import manifest
from ingest.config import partition
from ingest.contracts import CONTRACTS, get
from ingest.landing import land
from ingest.parse import hashing_alike, raw_records, without_copies
from ingest.readers import (
    ExtractError,
    detect_encoding,
    duckdb_reads_as_python,
    read_csv,
    read_csv_duckdb,
    read_csv_python,
)

DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 2)
MEMBERS = get("party", "members")


def test_land_keeps_raw_bytes_typed_rows_and_lineage(home, tiny_drops):
    result = land(MEMBERS, DAY1, home)
    batch = result.batch
    assert batch.status == "landed" and not result.already_landed
    source = tiny_drops / "party" / DAY1.isoformat() / "members.csv"
    kept = partition(home.landing_raw, MEMBERS, DAY1) / batch.batch_id / "members.csv"
    assert hashlib.sha256(kept.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    table = pq.read_table(partition(home.landing_parquet, MEMBERS, DAY1) / f"{batch.batch_id}.parquet")
    lines = source.read_bytes().decode("gbk").strip().splitlines()
    # the export writes a row twice now and then: the copy is counted and dropped, the first one kept
    first = [row for row in range(1, len(lines)) if lines[row] not in lines[1:row]]
    assert batch.rows_read == len(lines) - 1 > table.num_rows == len(first)
    assert batch.duplicates_dropped == batch.rows_read - table.num_rows
    rows = table.to_pylist()
    assert {r["_source_file"] for r in rows} == {"members.csv"}
    assert [r["_source_row"] for r in rows] == first
    assert all(r["phone"] is None or r["phone"].startswith("+86") for r in rows)
    assert "党员编号" in json.loads(rows[0]["_raw"])  # the raw record, with the source's own column names


def test_the_same_file_twice_is_a_no_op(home):
    first = land(MEMBERS, DAY1, home)
    again = land(MEMBERS, DAY1, home)
    assert again.already_landed and again.batch.batch_id == first.batch.batch_id
    assert len(manifest.batches(home.manifest, "party", "members")) == 1


def test_an_unchanged_snapshot_on_a_later_day_is_recorded_as_a_duplicate(home):
    units = get("gov", "resident_units")  # no unit registers or leaves during the tiny nights
    land(units, DAY1, home)
    later = land(units, DAY2, home)
    assert later.already_landed and later.batch.status == "duplicate"
    assert later.batch.rows_read == 0 and "same bytes" in later.batch.message
    assert not partition(home.landing_parquet, units, DAY2).exists()
    record = next((home.manifest / "gov" / "resident_units" / f"load_date={DAY2}").glob("*.json"))
    before = record.read_text()
    assert land(units, DAY2, home).already_landed  # rerunning that day
    assert record.read_text() == before


def _damage(own_drops, name: str, edit) -> None:
    path = own_drops / "party" / DAY1.isoformat() / name
    path.write_bytes(edit(path.read_bytes()))


def test_empty_file_is_refused_by_name(home, own_drops):
    _damage(own_drops, "members.csv", lambda _: b"")
    with pytest.raises(ExtractError, match=r"members\.csv: file is empty"):
        land(MEMBERS, DAY1, home)
    assert manifest.batches(home.manifest, "party", "members")[0].status == "failed"


def test_truncated_file_names_the_row(home, own_drops):
    _damage(own_drops, "members.csv", lambda data: data[: data.rindex(b",")])
    with pytest.raises(ExtractError, match=r"members\.csv, row \d+: has \d+ fields, the header has 12"):
        land(MEMBERS, DAY1, home)


def _drop_column(data: bytes, name: str) -> bytes:
    lines = data.decode("gbk").split("\r\n")
    at = lines[0].split(",").index(name)
    kept = [",".join(f for n, f in enumerate(line.split(",")) if n != at) if line else line for line in lines]
    return "\r\n".join(kept).encode("gbk")


def test_missing_required_column_names_the_contract(home, own_drops):
    _damage(own_drops, "members.csv", lambda data: _drop_column(data, "公民身份号码"))
    with pytest.raises(
        ExtractError,
        match=r"members\.csv: missing column\(s\) \['公民身份号码'\] required by contract party.members v1",
    ):
        land(MEMBERS, DAY1, home)
    assert manifest.batches(home.manifest, "party", "members")[0].status == "failed"


def test_a_renamed_optional_column_is_refused(home, own_drops):
    _damage(
        own_drops,
        "members.csv",
        lambda data: data.replace("手机号码".encode("gbk"), "移动电话".encode("gbk")),
    )
    with pytest.raises(
        ExtractError,
        match=r"missing column\(s\) \['手机号码'\] of contract party.members v1 and unknown column\(s\) \['移动电话'\]: renamed\?",
    ):
        land(MEMBERS, DAY1, home)


def test_a_missing_optional_column_loads_as_null_and_is_reported_as_drift(home, own_drops, tiny_drops):
    _damage(own_drops, "members.csv", lambda data: _drop_column(data, "手机号码"))
    batch = land(MEMBERS, DAY1, home).batch
    assert (batch.status, batch.missing_columns, batch.extra_columns) == ("landed", ["手机号码"], [])
    table = pq.read_table(partition(home.landing_parquet, MEMBERS, DAY1) / f"{batch.batch_id}.parquet")
    source = (tiny_drops / "party" / DAY1.isoformat() / "members.csv").read_bytes().decode("gbk")
    assert table.num_rows == batch.rows_read - batch.duplicates_dropped == len(set(source.splitlines())) - 1
    assert table.column("phone").null_count == table.num_rows
    assert table.column("id_number").null_count < table.num_rows  # the other columns load as ever
    assert "手机号码" not in json.loads(table.column("_raw")[0].as_py())


def test_utf8_with_bom_reads_like_gbk(home, own_drops):
    _damage(own_drops, "members.csv", lambda data: b"\xef\xbb\xbf" + data.decode("gbk").encode("utf-8"))
    assert land(MEMBERS, DAY1, home).batch.rows_read > 0


def test_extra_column_is_kept_and_reported_as_drift(home, own_drops):
    def add_column(data: bytes) -> bytes:
        lines = data.decode("gbk").split("\r\n")
        lines = [lines[0] + ",备注"] + [line + ",x" if line else line for line in lines[1:]]
        return "\r\n".join(lines).encode("gbk")

    _damage(own_drops, "members.csv", add_column)
    batch = land(MEMBERS, DAY1, home).batch
    assert (batch.extra_columns, batch.missing_columns, batch.type_changes) == (["备注"], [], {})
    table = pq.read_table(partition(home.landing_parquet, MEMBERS, DAY1) / f"{batch.batch_id}.parquet")
    assert json.loads(table.column("_raw")[0].as_py())["备注"] == "x"


def test_a_missing_json_page_refuses_the_batch(home, own_drops):
    pages = sorted((own_drops / "gov" / DAY1.isoformat()).glob("residents_page_*.json"))
    assert len(pages) > 2
    pages[1].unlink()
    with pytest.raises(ExtractError, match=r"JSON pages \[2\] of \d+ are missing"):
        land(get("gov", "residents"), DAY1, home)


def test_no_extract_delivered(home, own_drops):
    (own_drops / "city" / DAY1.isoformat() / "cases.csv").unlink()
    with pytest.raises(ExtractError, match="no extract delivered for city.cases on 2026-11-01"):
        land(get("city", "cases"), DAY1, home)


def test_a_failed_file_does_not_touch_what_was_already_landed(home, own_drops):
    good = land(MEMBERS, DAY1, home).batch
    landed = partition(home.landing_parquet, MEMBERS, DAY1) / f"{good.batch_id}.parquet"
    before = landed.read_bytes()
    _damage(own_drops, "members.csv", lambda _: b"")
    with pytest.raises(ExtractError):
        land(MEMBERS, DAY1, home)
    assert landed.read_bytes() == before
    assert manifest.latest(home.manifest, "party", "members", DAY1).batch_id == good.batch_id


def _retype_received_time(own_drops, day: date) -> None:
    """A source upgrade that sends the epoch milliseconds of ``receivedTime`` as text."""
    for page in (own_drops / "gov" / day.isoformat()).glob("hotline_orders_page_*.json"):
        page.write_text(re.sub(r'"receivedTime": (\d+)', r'"receivedTime": "\1"', page.read_text()))


def test_a_json_type_change_since_the_last_batch_is_reported_as_drift(home, own_drops):
    orders = get("gov", "hotline_orders")
    first = land(orders, DAY1, home).batch
    assert first.source_types["receivedTime"] == "UBIGINT" and first.type_changes == {}
    _retype_received_time(own_drops, DAY2)
    second = land(orders, DAY2, home).batch
    assert second.status == "landed" and second.source_types["receivedTime"] == "VARCHAR"
    assert second.type_changes == {"receivedTime": "UBIGINT → VARCHAR"}
    table = pq.read_table(partition(home.landing_parquet, orders, DAY2) / f"{second.batch_id}.parquet")
    assert table.column("received_at").null_count == 0  # the text still reads as a time


def test_raw_record_is_the_json_of_the_source_values_however_awkward():
    """Built column-wise for speed, the raw record must read back as exactly what the source sent."""
    sent = {
        "姓名": ["王\u3000五", 'say "hi"', "back\\slash", "line\nbreak\ttab", "\x01\x1f", "", "😀·"],
        "缺失": ["x", None, "y", None, None, "", "z"],  # missing: null, not quoted
        'odd "key"': ["a", "b", "c", "d", "e", "f", "g"],
    }
    raw = pd.DataFrame(sent, dtype=object)
    records = raw_records(raw, list(sent)).to_pylist()
    expected = [
        json.dumps(dict(zip(sent, row, strict=True)), ensure_ascii=False)
        for row in zip(*sent.values(), strict=True)
    ]
    assert records == expected
    assert [json.loads(r)["姓名"] for r in records] == sent["姓名"]


def test_only_exact_copies_of_a_row_are_dropped_and_the_first_stays():
    """Copies are found by hash first; only rows equal in every source column (a missing value equal to a
    missing one) are dropped, whatever their place in the extract, and lineage does not count."""
    raw = pd.DataFrame(
        {
            "编号": ["A1", "A2", "A1", "A1", "A3", "A3", "A4", "A4", "A2"],
            "姓名": ["王五", "李四", "王五", "王五 ", None, None, "赵六", "赵六", "李四"],
            "_source_row": range(1, 10),
            "_source_file": ["p1.json"] * 5 + ["p2.json"] * 4,
        },
        dtype=object,
    )
    raw.attrs["source_types"] = {"编号": "VARCHAR"}
    kept, copies = without_copies(raw)
    assert copies == 4
    assert kept["_source_row"].tolist() == [1, 2, 4, 5, 7]  # "王五 " differs by a space: it stays
    assert kept.attrs == raw.attrs
    distinct = raw.iloc[[0, 1, 3]]
    unchanged, none = without_copies(distinct)
    assert unchanged is distinct and none == 0


def test_rows_sharing_some_values_are_not_taken_for_possible_copies():
    """Only rows alike in every value are compared value by value: a case's steps share its case number, and
    taking them all for possible copies made the comparison as slow as having no hash."""
    values = pa.table({"case_no": ["C1", "C1", "C1", "C2"], "step": ["上报", "立案", "上报", "上报"]})
    assert hashing_alike(values).tolist() == [0, 2]


def test_an_encoding_guessed_from_the_first_lines_must_read_the_whole_file(tmp_path, monkeypatch):
    """The encoding is guessed from a sample of the non-ASCII lines; when it cannot decode a later line, the
    whole file decides. The header alone looks like Korean (CP949), which has no 龘."""
    import ingest.readers

    monkeypatch.setattr(ingest.readers, "DETECT_SAMPLE_BYTES", 1)  # the first non-ASCII line only
    rows = [f"{n},社区党委书记龘参加志愿服务时长{n}小时" for n in range(1, 50)]
    data = "\n".join(["编号,备注", *rows, ""]).encode("gb18030")
    assert ingest.readers._best_encoding("编号,备注".encode("gb18030")) != "gb18030"
    assert detect_encoding(data, tmp_path / "members.csv") == "gb18030"


def test_gbk_text_that_happens_to_be_valid_utf8_is_still_read_as_gbk(tmp_path):
    """魏英 in GBK is the valid UTF-8 "κӢ": a line like that is no sign of a file glued from two encodings."""
    lines = ["姓名,手机号码", "魏英,18629795031", "王小明,13800000000"]
    data = "\n".join(lines).encode("gbk")
    assert "魏英".encode("gbk").decode("utf-8") == "κӢ"
    assert detect_encoding(data, tmp_path / "volunteer_service.csv") == "gb18030"
    glued = "王小明,13800000000\n".encode() + data
    with pytest.raises(ExtractError, match="mixed encodings"):
        detect_encoding(glued, tmp_path / "members.csv")


def _awkward_csv(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def _grid_workers_csv(tmp_path, body: list[str]) -> tuple[Path, str, list[str]]:
    contract = get("city", "grid_workers")
    header = [c.source for c in contract.columns[:5]]
    path = tmp_path / "grid_workers.csv"
    path.write_text(_awkward_csv([",".join(header), *body]), encoding="utf-8", newline="")
    return path, path.read_bytes().decode(), header


def test_duckdb_reads_a_csv_as_pythons_csv_does(tmp_path):
    # quoted line breaks and quotes, an inner quote, spaces kept
    path, text, header = _grid_workers_csv(tmp_path, ['W1,"王\r\n五",,"say ""hi""",a"b', "W2, x ,y,,"])
    expected = read_csv_python(path, text, ",")
    pd.testing.assert_frame_equal(read_csv_duckdb(path, None, ",", header), expected)
    pd.testing.assert_frame_equal(read_csv(path, get("city", "grid_workers")), expected)
    assert expected["_source_row"].tolist() == [1, 2]


def test_a_csv_duckdb_refuses_is_read_by_pythons_csv_which_names_the_row(tmp_path):
    path, _, header = _grid_workers_csv(tmp_path, ["W1,a,b,c,d", "W2,a,b,c"])
    with pytest.raises(duckdb.Error):
        read_csv_duckdb(path, None, ",", header)
    with pytest.raises(ExtractError, match="row 2: has 4 fields, the header has 5"):
        read_csv(path, get("city", "grid_workers"))


@pytest.mark.parametrize(
    ("text", "same"),
    [
        ("h\na\nb\n", True),  # the line break ending the last record is not a blank line
        ("h\r\na\r\nb\r\n", True),
        ("h\na\nb", True),
        ('h\na,"b c",d\n', True),
        ('h\na,x "b" y,d\n', True),
        ("h\na\n\nb\n", False),  # blank lines: DuckDB skips them, Python reports them
        ("h\r\na\r\n\r\nb", False),
        ("h\na\nb\n\n", False),
        ("\nh\na\n", False),
        ('h\na, "b",c\n', False),  # spaces before or after a quote: DuckDB unquotes, Python keeps or refuses
        ('h\n "a",b\n', False),
        ('h\na,"b" ,c\n', False),
        ('h\na,"b" \r\n', False),
        ('h\na,b,"c" ', False),
    ],
)
def test_only_a_csv_duckdb_reads_as_python_does_goes_to_duckdb(text, same):
    assert duckdb_reads_as_python(text, ",") is same


def test_a_space_before_a_quote_is_read_as_python_reads_it(tmp_path):
    path, text, _ = _grid_workers_csv(tmp_path, ["W1,a,b,c,d", 'W2, "quoted after a space",b,c,d'])
    got = read_csv(path, get("city", "grid_workers"))
    pd.testing.assert_frame_equal(got, read_csv_python(path, text, ","))
    assert got["name"].tolist() == ["a", ' "quoted after a space"']


def test_every_tiny_csv_reads_the_same_through_duckdb_and_python(tiny_drops):
    read = 0
    for contract in (c for c in CONTRACTS if c.format == "csv"):
        for path in sorted(tiny_drops.glob(f"{contract.system}/*/{contract.file_glob}")):
            data = path.read_bytes()
            encoding = detect_encoding(data, path)
            text = data.decode(encoding).removeprefix("\ufeff")
            header = next(csv.reader([text.partition("\n")[0].rstrip("\r")]))
            expected = read_csv_python(path, text, ",")
            if not duckdb_reads_as_python(text, ","):
                continue  # read by Python's csv (tests above)
            got = read_csv_duckdb(path, text if encoding != "utf-8" else None, ",", header)
            pd.testing.assert_frame_equal(got, expected, obj=str(path))
            read += 1
    assert read >= 10


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: [*lines[:3], "", *lines[3:]], r"row 3: has 0 fields, the header has 12"),
        (lambda lines: [*lines, ""], r"row \d+: has 0 fields, the header has 12"),
        (lambda lines: [*lines[:3], lines[3] + ",extra", *lines[4:]], r"row 3: has 13 fields, the header"),
        (lambda lines: [*lines[:3], lines[3] + ',"open', *lines[4:]], r"row 3: malformed CSV .*quote"),
    ],
)
def test_a_csv_fault_is_named_by_row_whichever_reader_meets_it(home, own_drops, damage, message):
    _damage(
        own_drops,
        "members.csv",
        lambda data: "\r\n".join(damage(data.decode("gbk").split("\r\n"))).encode("gbk"),
    )
    with pytest.raises(ExtractError, match=r"members\.csv, " + message):
        land(MEMBERS, DAY1, home)
