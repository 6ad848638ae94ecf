"""The ways real extracts deviate from clean values (see DOMAIN.md), applied per record."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


# Traditional forms of simplified characters common in the simulated names (a clerk's IME set to 繁體).
_TRADITIONAL = str.maketrans(
    "伟丽军艳涛华国红辉鹏飞杨黄赵刘陈吴郑张马孙罗韩冯邓许苏叶",
    "偉麗軍艷濤華國紅輝鵬飛楊黃趙劉陳吳鄭張馬孫羅韓馮鄧許蘇葉",
)


def fullwidth(value: str) -> str:
    return value.translate(_FULLWIDTH)


def date_text(value: date, style: int) -> str:
    """One of the shapes Chinese systems write a date in."""
    return [
        f"{value:%Y-%m-%d}",
        f"{value.year}/{value.month}/{value.day}",
        f"{value.year}年{value.month}月{value.day}日",
        f"{value:%Y%m%d}",
    ][style % 4]


def timestamp_text(value: datetime | None) -> str:
    return "" if value is None or value != value else f"{value:%Y-%m-%d %H:%M:%S}"


def epoch_ms(value: datetime) -> int:
    """Naive Asia/Shanghai time to epoch milliseconds, as JSON APIs send it."""
    return int((value - datetime(1970, 1, 1, 8)).total_seconds() * 1000)


def masked_id(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


def wrong_check_digit(value: str) -> str:
    options = [c for c in "0123456789X" if c != value[-1]]
    return value[:-1] + options[sum(map(ord, value)) % len(options)]


def traditional(name: str) -> str:
    return name.translate(_TRADITIONAL)


def work_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mobiles on the 147 data-card range, which the persons' own phones never use."""
    return np.array([f"147{x:08d}" for x in rng.choice(10**8, n, replace=False)])


def phone_text(e164_digits: str, style: int) -> str:
    """A mainland mobile in one of the ways people type it."""
    d = e164_digits
    return [d, f"+86 {d[:3]} {d[3:7]} {d[7:]}", f"{d[:3]}-{d[3:7]}-{d[7:]}"][style % 3]


def grid_code_text(code: str, style: int) -> str:
    """Canonical, with separators, or with separators and no leading zeros."""
    parts = [code[:6], code[6:9], code[9:12], code[12:]]
    if style == 1:
        return "-".join(parts)
    if style == 2:
        return "-".join([parts[0]] + [str(int(p)) for p in parts[1:]])
    return code


def flags(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def exactly(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A fixed share of rows (at least one when ``rate`` > 0), so every preset carries each dirty kind."""
    chosen = np.zeros(n, dtype=bool)
    if n and rate > 0:
        chosen[rng.choice(n, size=max(1, round(rate * n)), replace=False)] = True
    return chosen
