"""Turn source strings into typed, canonical values.

Every function takes the raw strings of one column (a pandas Series of ``str``, empty string for missing)
and returns the clean column. A value that cannot be understood becomes null; the raw value stays in the
row's ``_raw`` record and validation decides what that means for the row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pandas as pd
import phonenumbers
from stdnum.cn import ric

from ingest.contracts import Column


def half_width(s: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation to their ASCII forms (NFKC), trimmed."""
    return s.map(lambda v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v)


def _blank_to_null(s: pd.Series) -> pd.Series:
    return s.where(s.notna() & (s != ""), None)


_LINE_BREAK = re.compile(r"\s*[\r\n]+\s*")


def text(s: pd.Series) -> pd.Series:
    """Half-width and trimmed; stray line breaks inside a quoted field (an Excel cell's Alt+Enter) removed."""
    return _blank_to_null(half_width(s).str.replace(_LINE_BREAK, "", regex=True))


_NAME_DOTS = re.compile(r"[•・.．·]")
_SPACES = re.compile(r"\s+")


def person_name(s: pd.Series) -> pd.Series:
    """Chinese names carry no spaces; minorities' names use the middle dot ``·`` in its many spellings."""
    cleaned = s.map(
        lambda v: (
            _NAME_DOTS.sub("·", _SPACES.sub("", unicodedata.normalize("NFKC", v)))
            if isinstance(v, str)
            else v
        )
    )
    return _blank_to_null(cleaned)


_DATE = re.compile(
    r"^(?P<y>\d{4})[-/年.]?(?P<m>\d{1,2})[-/月.]?(?P<d>\d{1,2})日?"
    r"(?:[ T](?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})秒?)?)?$"
)
_EPOCH_S = re.compile(r"^\d{10}$")
_EPOCH_MS = re.compile(r"^\d{12,13}$")
_EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")  # days since 1899-12-30 (1927–2173 with five digits)


def timestamp(s: pd.Series) -> pd.Series:
    """Dates and times in the shapes Chinese systems export them, to naive Asia/Shanghai timestamps.

    Accepts ``2024-03-05``, ``2024/3/5``, ``2024年3月5日``, ``20240305``, each optionally followed by a time;
    epoch seconds (10 digits) and milliseconds (12–13), read as UTC and converted to Shanghai local time;
    and Excel serial day numbers (``45356``, ``45356.5``), which a date cell becomes when exported as text.
    A digit string can be only one of these: the shapes differ in length.
    """
    clean = half_width(s).fillna("")
    parts = clean.str.extract(_DATE).where(~clean.str.match(_EXCEL_SERIAL))
    epoch_ms = pd.to_numeric(clean.where(clean.str.match(_EPOCH_MS)))
    epoch = epoch_ms.fillna(pd.to_numeric(clean.where(clean.str.match(_EPOCH_S))) * 1000)
    out = pd.to_datetime(
        parts[["y", "m", "d", "H", "M", "S"]]
        .rename(columns={"y": "year", "m": "month", "d": "day", "H": "hour", "M": "minute", "S": "second"})
        .astype("float64")
        .fillna({"hour": 0, "minute": 0, "second": 0}),
        errors="coerce",
    )
    from_epoch = (
        pd.to_datetime(epoch, unit="ms", utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    )
    serial = pd.to_numeric(clean.where(clean.str.match(_EXCEL_SERIAL)))
    from_excel = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D").dt.round("s")
    return out.fillna(from_epoch).fillna(from_excel).astype("datetime64[us]")


def date(s: pd.Series) -> pd.Series:
    return timestamp(s).dt.date.astype("object").where(lambda v: v.notna(), None)


def _eighteen(value: str) -> str:
    """A first-generation 15-digit number (issued 1984–1999, GB 11643-1989) in today's form: the century
    19 inserted before the birth year and the check character computed (GB 11643-1999). The conversion is
    defined by the standard, so it is a repair, not a guess; the raw value stays in ``_raw``."""
    if len(value) == 15 and value.isdigit():
        body = value[:6] + "19" + value[6:]
        return body + ric.calc_check_digit(body + "?")  # stdnum expects a placeholder check character
    return value


def id_number(s: pd.Series) -> pd.Series:
    """Resident ID numbers: half-width, no spaces, upper-case check character, 15 digits made 18; masks
    (``*``) kept as is."""
    clean = half_width(s).str.replace(r"\s+", "", regex=True).str.upper()
    return _blank_to_null(clean.map(_eighteen, na_action="ignore"))


def _e164(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone(s: pd.Series) -> pd.Series:
    """Phone numbers to E.164 (``+8613800000000``) with ``phonenumbers``; invalid ones become null."""
    clean = half_width(s)
    uniques = {v: _e164(v) for v in clean.dropna().unique() if v}
    return clean.map(uniques).where(lambda v: v.notna(), None)


_SEPARATORS = re.compile(r"[-\s_/.]+")


def code(s: pd.Series, segments: tuple[int, ...] | None = None) -> pd.Series:
    """Codes to their canonical width: separators removed and each segment zero-padded.

    ``210202-1-3-12`` with segments (6, 3, 3, 4) becomes ``2102020010030012``. Without separators the
    segments cannot be told apart, so a short code stays short (and fails the width rule) rather than being
    padded in the wrong place.
    """
    clean = half_width(s)
    if segments is None:
        return _blank_to_null(clean.str.upper())

    def canonical(value: str | None) -> str | None:
        if not value:
            return None
        parts = _SEPARATORS.split(value)
        if len(parts) == len(segments):
            value = "".join(p.zfill(w) for p, w in zip(parts, segments, strict=True))
        else:
            value = "".join(parts)
        return value

    return clean.map(canonical)


def integer(s: pd.Series) -> pd.Series:
    return pd.to_numeric(half_width(s).str.replace(",", ""), errors="coerce").astype("Int64")


def number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(half_width(s).str.replace(",", ""), errors="coerce").astype("Float64")


_BY_TYPE: dict[str, Callable[[pd.Series], pd.Series]] = {
    "text": text,
    "name": person_name,
    "int": integer,
    "float": number,
    "date": date,
    "timestamp": timestamp,
    "id_number": id_number,
    "phone": phone,
    "geometry": _blank_to_null,
}


def column(col: Column, raw: pd.Series) -> pd.Series:
    if col.type == "code":
        return code(raw, col.segments)
    return _BY_TYPE[col.type](raw)
