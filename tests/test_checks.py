"""The national-code checks behind the custom expectations."""

from __future__ import annotations

from stdnum.cn import ric

from expectations.checks import is_valid_id_number


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
