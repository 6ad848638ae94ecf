"""Normalisation: the shapes real extracts use, to one canonical value each."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from ingest import normalise


def one(fn, value, *args):
    return fn(pd.Series([value], dtype=object), *args).iloc[0]


@pytest.mark.parametrize(
    "raw",
    ["2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "２０２４-０３-０５", " 2024-03-05 "],
)
def test_dates_in_every_source_shape(raw):
    assert one(normalise.date, raw) == date(2024, 3, 5)


def test_epoch_milliseconds_are_utc_read_as_shanghai_time():
    # 2024-03-05 00:00 UTC is 08:00 in Shanghai
    assert one(normalise.timestamp, "1709596800000") == pd.Timestamp(datetime(2024, 3, 5, 8, 0))


@pytest.mark.parametrize("raw", ["2024-13-45", "未知", "", "2024-02-30"])
def test_unreadable_dates_become_null(raw):
    assert pd.isna(one(normalise.timestamp, raw))


def test_a_column_of_mixed_shapes_reads_each_value_in_its_row():
    """ISO values are read by Arrow's strptime, the others (and the ISO-shaped ones it refuses or carries
    into the next month) by the general reader: each row keeps its own value."""
    values = ["2024-03-05 09:10:11", "2024/3/5", "2024-02-30 00:00:00", "1709596800000", "", None]
    values += ["2024-12-31 24:00:00", "2024-02-29"]
    expected = [
        "2024-03-05 09:10:11",
        "2024-03-05",
        None,
        "2024-03-05 08:00",
        None,
        None,
        "2025-01-01",
        "2024-02-29",
    ]
    index = range(10, 10 + len(values))
    pd.testing.assert_series_equal(
        normalise.timestamp(pd.Series(values, index=index, dtype=object)),
        pd.Series(pd.to_datetime(expected, format="ISO8601"), index=index).astype("datetime64[us]"),
    )


@pytest.mark.parametrize(
    "raw", ["13800138000", "+86 138 0013 8000", "138-0013-8000", "１３８００１３８０００", "86 13800138000"]
)
def test_phones_to_e164(raw):
    assert one(normalise.phone, raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["12345", "1380013800", "", "not a phone"])
def test_invalid_phones_become_null(raw):
    assert pd.isna(one(normalise.phone, raw))


@pytest.mark.parametrize(
    "raw", ["2102020010030012", "210202-001-003-0012", "210202-1-3-12", "２１０２０２-1-3-12"]
)
def test_grid_codes_to_canonical_width(raw):
    assert one(normalise.code, raw, (6, 3, 3, 4)) == "2102020010030012"


def test_id_numbers_half_width_upper_case_and_masks_kept():
    assert one(normalise.id_number, "２１０２０２１９９００１０１１２３ｘ") == "21020219900101123X"
    assert one(normalise.id_number, " 210202********123x ") == "210202********123X"


def test_names_lose_spaces_and_unify_middle_dots():
    assert one(normalise.person_name, " 王 小明 ") == "王小明"
    assert one(normalise.person_name, "阿依古丽•买买提") == "阿依古丽·买买提"
    assert one(normalise.person_name, "阿依古丽.买买提") == "阿依古丽·买买提"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("45356", datetime(2024, 3, 5)),  # an Excel serial day number
        ("45356.75", datetime(2024, 3, 5, 18)),
        ("1709596800", datetime(2024, 3, 5, 8)),  # epoch seconds, UTC read as Shanghai time
    ],
)
def test_excel_serials_and_epoch_seconds(raw, expected):
    assert one(normalise.timestamp, raw) == pd.Timestamp(expected)


def test_first_generation_id_numbers_become_eighteen_characters():
    # 15 digits: no century, no check character (GB 11643-1989); the check character is GB 11643-1999's
    assert one(normalise.id_number, "210202670423644") == "210202196704236442"


def test_a_grid_code_without_separators_is_not_padded_into_another_code():
    assert one(normalise.code, "2102021112", (6, 3, 3, 4)) == "2102021112"


def test_stray_line_breaks_inside_text_are_removed():
    assert one(normalise.text, "中共大连\r\n市委\n") == "中共大连市委"


def test_column_wise_phones_agree_with_phonenumbers_number_by_number():
    """The column-wise path for plain Chinese mobiles gives exactly what ``phonenumbers`` gives per value."""
    digits = pd.Series(range(100, 200)).repeat(12).reset_index(drop=True)
    suffixes = pd.Series(range(len(digits))).mul(7_919_773).mod(10**8).astype(str).str.zfill(8)
    numbers = "1" + digits.astype(str).str[1:] + suffixes
    spellings = pd.concat(
        [numbers, "+86 " + numbers, numbers.str[:3] + "-" + numbers.str[3:7] + "-" + numbers.str[7:]],
        ignore_index=True,
    ).astype(object)
    expected = [normalise._e164(v) for v in spellings]  # None when phonenumbers finds it invalid
    assert [None if pd.isna(v) else v for v in normalise.phone(spellings)] == expected
    assert None in expected and any(expected)  # both valid and invalid numbers were tried
