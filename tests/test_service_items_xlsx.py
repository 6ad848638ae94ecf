"""The service-item list as its XLSX export looks (title row, merged two-level header): read, flattened to the
contract's column names, each row numbered as in the spreadsheet, and bad input refused by file, row and column."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from ingest.contracts import get
from ingest.parse import parse
from ingest.readers import ExtractError, read_extract
from simulator.services import ITEM_HEADER, write_item_list

ITEMS = get("gov", "service_items")


def _items(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_code": [f"SX{i:08d}" for i in range(n)],
            "item_name": ["居住证申请"] * n,
            "department": ["公安分局"] * n,
            "promised_working_days": np.arange(n) % 20,
            "online": np.arange(n) % 2 == 0,
            "one_visit": np.ones(n, bool),
            "updated_at": pd.Timestamp("2026-10-01 09:30"),
            "date_as_text": np.arange(n) % 3 == 0,
            "dirty_rule": "",
        }
    )


@pytest.fixture
def item_list(tmp_path) -> Path:
    path = tmp_path / "service_items.xlsx"
    write_item_list(path, _items(5), datetime(2026, 11, 2, 1))
    return path


def _edit(path: Path, edit) -> Path:
    book = load_workbook(path)
    edit(book.active)
    book.save(path)
    return path


def test_the_merged_header_is_flattened_and_rows_keep_their_spreadsheet_numbers(item_list):
    frame = read_extract([item_list], ITEMS)
    assert [c for c in frame.columns if not c.startswith("_")] == [c.source for c in ITEMS.columns]
    assert "办理要求/承诺时限(工作日)" in frame.columns
    assert frame["_source_row"].tolist() == [4, 5, 6, 7, 8]  # title row 1, header rows 2-3
    assert frame["事项信息/事项编码"].tolist() == [f"SX{i:08d}" for i in range(5)]
    assert frame["办理要求/是否网办"].tolist() == ["是", "否", "是", "否", "是"]
    typed = parse(frame, ITEMS, str(item_list)).table.to_pandas()
    assert typed["promised_working_days"].tolist() == [0, 1, 2, 3, 4]


def test_a_date_cell_stored_as_text_reads_as_the_same_time(item_list):
    """Rows 0 and 3 hold the update time as text (``2026/10/1 09:30``), the others as a date cell."""
    sheet = load_workbook(item_list).active
    assert isinstance(sheet["H4"].value, str) and isinstance(sheet["H5"].value, datetime)
    typed = parse(read_extract([item_list], ITEMS), ITEMS, str(item_list)).table.to_pandas()
    assert typed["updated_at"].tolist() == [pd.Timestamp("2026-10-01 09:30")] * 5


def test_an_unreadable_text_date_becomes_null_and_keeps_its_raw_value(item_list):
    _edit(item_list, lambda sheet: setattr(sheet["H6"], "value", "不详"))
    typed = parse(read_extract([item_list], ITEMS), ITEMS, str(item_list)).table.to_pandas()
    assert typed["updated_at"].isna().tolist() == [False, False, True, False, False]
    assert '"更新时间": "不详"' in typed.loc[2, "_raw"]


def test_a_column_missing_from_the_merged_header_names_file_row_and_column(item_list):
    def drop_column(sheet):
        sheet.unmerge_cells("E2:G2")
        sheet.delete_cols(7)  # 最多跑一次 gone: 办理要求 now spans two columns
        sheet.merge_cells("E2:F2")

    _edit(item_list, drop_column)
    with pytest.raises(ExtractError) as caught:
        read_extract([item_list], ITEMS)
    assert caught.value.row == 3 and caught.value.column == "办理要求/最多跑一次"
    assert str(caught.value).startswith(f"{item_list}, row 3, column '办理要求/最多跑一次': missing column")


def test_a_renamed_header_is_named_with_what_the_file_has_instead(item_list):
    _edit(item_list, lambda sheet: setattr(sheet["E3"], "value", "承诺办结时限"))
    with pytest.raises(
        ExtractError, match=r"row 3, column '办理要求/承诺时限\(工作日\)': missing column"
    ) as caught:
        read_extract([item_list], ITEMS)
    assert "unknown column(s) ['办理要求/承诺办结时限'] (renamed?)" in str(caught.value)


def test_an_empty_sheet_is_refused(tmp_path):
    path = tmp_path / "service_items.xlsx"
    Workbook().save(path)
    with pytest.raises(ExtractError, match=r"service_items\.xlsx: sheet is empty"):
        read_extract([path], ITEMS)


def test_a_sheet_without_the_header_is_refused(tmp_path):
    path = tmp_path / "service_items.xlsx"
    book = Workbook()
    book.active.append(["编码", "名称"])
    book.save(path)
    with pytest.raises(ExtractError, match=r"no header row found"):
        read_extract([path], ITEMS)


@pytest.mark.parametrize(
    "data",
    [b"\xca\xc2\xcf\xee\xb1\xe0\xc2\xeb,\xca\xc2\xcf\xee\xc3\xfb\xb3\xc6\r\n", b"", b"PK\x03\x04broken"],
)
def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(tmp_path, data):
    path = tmp_path / "service_items.xlsx"
    path.write_bytes(data)  # a GBK CSV renamed .xlsx, an empty file, a cut-off ZIP
    with pytest.raises(ExtractError, match=r"service_items\.xlsx: not an XLSX workbook"):
        read_extract([path], ITEMS)


def test_the_same_export_is_the_same_bytes(tmp_path, item_list):
    again = tmp_path / "again.xlsx"
    write_item_list(again, _items(5), datetime(2026, 11, 2, 1))
    assert again.read_bytes() == item_list.read_bytes()
    with zipfile.ZipFile(again) as book:  # stamped with the export time, not the time it was written
        assert (
            '<dcterms:modified xsi:type="dcterms:W3CDTF">2026-11-02T01:00:00Z<'
            in book.read("docProps/core.xml").decode()
        )


def test_the_header_the_simulator_writes_is_the_contracts():
    flattened = [
        f"{top}/{leaf}" if leaf else top for top, leaves in ITEM_HEADER for leaf in (leaves or ("",))
    ]
    assert flattened == [c.source for c in ITEMS.columns]
