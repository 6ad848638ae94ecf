"""The ways real extracts deviate from clean values (see DOMAIN.md), applied a whole column at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.text import concat, join_with, strings

_FULLWIDTH = dict(zip("0123456789X", "０１２３４５６７８９Ｘ", strict=True))
_CHECK_CHARS = "0123456789X"


# Traditional forms of simplified characters common in the simulated names (a clerk's IME set to 繁體).
_TRADITIONAL = dict(
    zip(
        "伟丽军艳涛华国红辉鹏飞杨黄赵刘陈吴郑张马孙罗韩冯邓许苏叶",
        "偉麗軍艷濤華國紅輝鵬飛楊黃趙劉陳吳鄭張馬孫羅韓馮鄧許蘇葉",
        strict=True,
    )
)


def traditional(values) -> pa.Array:
    values = strings(values)
    for simplified, traditional_form in _TRADITIONAL.items():
        values = pc.replace_substring(values, simplified, traditional_form)
    return values


def work_phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Mobiles on the 147 data-card range, which the persons' own phones never use."""
    return concat("147", pc.utf8_lpad(strings(pa.array(rng.choice(10**8, n, replace=False))), 8, "0"))


def fullwidth(values) -> pa.Array:
    values = strings(values)
    for narrow, wide in _FULLWIDTH.items():
        values = pc.replace_substring(values, narrow, wide)
    return values


def credit_code_text(codes, style) -> pa.Array:
    """Unified social credit codes as typed: ``style`` 1 in lower case, 2 with full-width characters."""
    text = strings(codes)
    text = pc.if_else(pa.array(np.asarray(style) == 1), pc.utf8_lower(text), text)
    return pc.if_else(pa.array(np.asarray(style) == 2), fullwidth(text), text)


def date_text(dates, style) -> pa.Array:
    """Each date in one of the shapes Chinese systems write a date in, chosen per row by ``style`` (0-3)."""
    iso = strings(pa.array(np.asarray(dates, dtype="datetime64[D]")).cast(pa.string()))
    y, mm, dd = (pc.utf8_slice_codeunits(iso, i, j) for i, j in ((0, 4), (5, 7), (8, 10)))
    m, d = pc.utf8_ltrim(mm, "0"), pc.utf8_ltrim(dd, "0")
    shapes = [iso, concat(y, "/", m, "/", d), concat(y, "年", m, "月", d, "日"), concat(y, mm, dd)]
    return pc.choose(pa.array(np.asarray(style) % 4), *shapes)


def timestamp_text(times) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` (fractions cut off); no time is an empty field.

    Built from the date and the second of the day: Arrow's own timestamp formatting is ten times slower."""
    seconds = np.asarray(times, dtype="datetime64[s]")
    missing = np.isnat(seconds)
    seconds = np.where(missing, np.datetime64(0, "s"), seconds)
    days = seconds.astype("datetime64[D]")
    of_day = (seconds - days).astype(np.int64)
    clock = [strings(pa.array(part)) for part in (of_day // 3600, of_day // 60 % 60, of_day % 60)]
    text = concat(strings(pa.array(days).cast(pa.string())), " ", *_clock(clock))
    return pc.if_else(pa.array(missing), pa.scalar("", pa.large_string()), text)


def _clock(parts: list[pa.Array]) -> list:
    h, m, s = (pc.utf8_lpad(p, 2, "0") for p in parts)
    return [h, ":", m, ":", s]


def epoch_ms(times) -> np.ndarray:
    """Naive Asia/Shanghai times to epoch milliseconds, as JSON APIs send them."""
    return (np.asarray(times, dtype="datetime64[ms]") - np.datetime64("1970-01-01T08:00")).astype(np.int64)


def masked_id(values) -> pa.Array:
    values = strings(values)
    return concat(pc.utf8_slice_codeunits(values, 0, 6), "********", pc.utf8_slice_codeunits(values, 14, 18))


def wrong_check_digit(values) -> pa.Array:
    """The ID numbers with their check character replaced by another one."""
    values = strings(values)
    codes = values.to_numpy(zero_copy_only=False).astype("S18").view(np.uint8).reshape(-1, 18)
    last = np.where(codes[:, -1] == ord("X"), 10, codes[:, -1].astype(np.int64) - ord("0"))
    shift = 1 + codes.sum(axis=1, dtype=np.int64) % 10  # never 0: the new character always differs
    wrong = np.array(list(_CHECK_CHARS))[(last + shift) % 11]
    return concat(pc.utf8_slice_codeunits(values, 0, 17), pa.array(wrong, pa.large_string()))


def phone_text(digits, style) -> pa.Array:
    """Mainland mobiles the ways people type them, chosen per row by ``style`` (0-2)."""
    d = strings(digits)
    a, b, c = (pc.utf8_slice_codeunits(d, i, j) for i, j in ((0, 3), (3, 7), (7, 11)))
    return pc.choose(
        pa.array(np.asarray(style) % 3), d, concat("+86 ", a, " ", b, " ", c), concat(a, "-", b, "-", c)
    )


def grid_code_text(codes, style) -> pa.Array:
    """Canonical, with separators, or with separators and no leading zeros, chosen per row by ``style``."""
    codes = strings(codes)
    parts = [pc.utf8_slice_codeunits(codes, i, j) for i, j in ((0, 6), (6, 9), (9, 12), (12, 16))]
    unpadded = [strings(pc.cast(pc.cast(p, pa.int64()), pa.string())) for p in parts[1:]]
    unpadded = join_with("-", parts[0], *unpadded)
    return pc.choose(pa.array(np.asarray(style) % 3), codes, join_with("-", *parts), unpadded)


def unknown_code(codes, at: int, filler: str) -> pa.Array:
    """Codes of records that do not exist: ``filler`` written over the characters from ``at`` (a grid
    sequence or an organization prefix the simulated systems never issue)."""
    codes = strings(codes)
    return concat(
        pc.utf8_slice_codeunits(codes, 0, at), filler, pc.utf8_slice_codeunits(codes, at + len(filler))
    )


def flags(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def exactly(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A fixed share of rows (at least one when ``rate`` > 0), so every preset carries each dirty kind."""
    chosen = np.zeros(n, dtype=bool)
    if n and rate > 0:
        chosen[rng.choice(n, size=max(1, round(rate * n)), replace=False)] = True
    return chosen
