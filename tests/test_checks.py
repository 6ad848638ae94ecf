"""The checks behind the custom expectations: national codes, and times not after a bound."""

from __future__ import annotations

from datetime import date, datetime

import great_expectations as gx
import pandas as pd
import pytest
from stdnum.cn import ric

from expectations.checks import ExpectColumnValuesToBeNotAfter, is_valid_id_number


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def test_valid_id_number():
    assert is_valid_id_number(_with_check("21020219900101123"))


def test_wrong_check_character_is_invalid():
    good = _with_check("21020219900101123")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert not is_valid_id_number(wrong)


def test_impossible_birth_date_is_invalid():
    assert not is_valid_id_number(_with_check("21020219901301123"))


def test_codes_created_after_the_birth_year_are_accepted():
    """中山区 (210202) dates from 1983; people born before then carry it. stdnum's is_valid refuses them."""
    number = _with_check("21020219500101123")
    assert not ric.is_valid(number)
    assert is_valid_id_number(number)


def test_masked_and_short_numbers_are_not_valid_full_numbers():
    assert not is_valid_id_number("210202********123X")
    assert not is_valid_id_number("210202900101123")


@pytest.mark.parametrize(
    "values",
    [
        [date(2026, 11, 2), date(2026, 11, 3), None, date(9999, 12, 31), date(1900, 1, 1)],
        pd.Series(
            [
                datetime(2026, 11, 2),
                datetime(2026, 11, 2, 0, 0, 1),
                None,
                datetime(9999, 12, 31),
                datetime(1900, 1, 1),
            ],
            dtype="datetime64[us]",
        ),
    ],
    ids=["dates", "microsecond times"],
)
def test_not_after_holds_up_to_its_bound_and_flags_what_lies_beyond(values):
    """Through Great Expectations, as a night checks ``not_in_future``: the bound itself passes, a null is
    not checked, and a time the nanosecond range cannot hold is still flagged."""
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("frame")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": pd.DataFrame({"happened": values})})
    )
    result = batch.validate(
        ExpectColumnValuesToBeNotAfter(column="happened", latest=datetime(2026, 11, 2)),
        result_format="COMPLETE",
    )
    assert not result.exception_info.get("raised_exception")
    assert result.result["unexpected_index_list"] == [1, 3]
