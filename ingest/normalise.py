"""Turn source strings into typed, canonical values.

Every function takes the raw strings of one column (a pandas Series of ``str``, empty string for missing)
and returns the clean column. A value that cannot be understood becomes null; the raw value stays in the
row's ``_raw`` record and validation decides what that means for the row.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric

from ingest.contracts import Column

# Every character Python's ``str.strip`` and ``\s`` treat as whitespace, for Arrow's string kernels.
WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
_ANY_WHITESPACE = "[" + re.escape(WHITESPACE) + "]"


def _strings(s: pd.Series) -> pa.Array:
    return pa.array(s, type=pa.string(), from_pandas=True)


def _series(values: pa.Array, like: pd.Series) -> pd.Series:
    return pd.Series(values, index=like.index, dtype="str")


def _nfkc(s: pd.Series) -> pa.Array:
    return pc.utf8_normalize(_strings(s), form="NFKC")


def half_width(s: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation to their ASCII forms (NFKC), trimmed."""
    return _series(pc.utf8_trim(_nfkc(s), characters=WHITESPACE), s)


def _blank_to_null(s: pd.Series) -> pd.Series:
    return s.where(s.notna() & (s != ""), None)


_LINE_BREAK = f"{_ANY_WHITESPACE}*[\r\n]+{_ANY_WHITESPACE}*"


def text(s: pd.Series) -> pd.Series:
    """Half-width and trimmed; stray line breaks inside a quoted field (an Excel cell's Alt+Enter) removed."""
    trimmed = pc.utf8_trim(_nfkc(s), characters=WHITESPACE)
    return _blank_to_null(
        _series(pc.replace_substring_regex(trimmed, pattern=_LINE_BREAK, replacement=""), s)
    )


_NAME_DOTS = "[•・.．·]"


def person_name(s: pd.Series) -> pd.Series:
    """Chinese names carry no spaces; minorities' names use the middle dot ``·`` in its many spellings."""
    no_spaces = pc.replace_substring_regex(_nfkc(s), pattern=_ANY_WHITESPACE, replacement="")
    return _blank_to_null(
        _series(pc.replace_substring_regex(no_spaces, pattern=_NAME_DOTS, replacement="·"), s)
    )


_DATE = (
    r"^(?P<year>\d{4})[-/年.]?(?P<month>\d{1,2})[-/月.]?(?P<day>\d{1,2})日?"
    r"(?:[ T](?P<hour>\d{1,2})[:时](?P<minute>\d{1,2})(?:[:分](?P<second>\d{1,2})秒?)?)?$"
)
_EPOCH_S = r"^\d{10}$"
_EPOCH_MS = r"^\d{12,13}$"
_EXCEL_SERIAL = r"^\d{5}(?:\.\d+)?$"  # days since 1899-12-30 (1927–2173 with five digits)


def _number_or_null(part: pa.Array) -> pa.Array:
    """A captured group as a number; a group that did not take part (empty) or no match at all is null."""
    return pc.cast(pc.if_else(pc.equal(part, ""), None, part), pa.float64())


# The shapes nearly every value comes in, read by Arrow's strptime; the others take ``_any_shape``.
_ISO = {"%Y-%m-%d %H:%M:%S": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d": r"^\d{4}-\d{2}-\d{2}$"}


def timestamp(s: pd.Series) -> pd.Series:
    """Dates and times in the shapes Chinese systems export them, to naive Asia/Shanghai timestamps.

    Accepts ``2024-03-05``, ``2024/3/5``, ``2024年3月5日``, ``20240305``, each optionally followed by a time;
    epoch seconds (10 digits) and milliseconds (12–13), read as UTC and converted to Shanghai local time;
    and Excel serial day numbers (``45356``, ``45356.5``), which a date cell becomes when exported as text.
    A digit string can be only one of these: the shapes differ in length.
    """
    clean = pc.fill_null(_strings(half_width(s)), "")
    read = pa.nulls(len(clean), pa.timestamp("us"))
    for form, shape in _ISO.items():
        is_form = pc.match_substring_regex(clean, shape)
        read = pc.coalesce(
            read, pc.strptime(pc.if_else(is_form, clean, None), form, "us", error_is_null=True)
        )
    # strptime carries a day past the month's end into the next month (2024-02-30 → 03-01): such a value,
    # and one strptime refuses (24:00:00), is read as any other shape is
    written_day = pc.cast(
        pc.if_else(pc.is_valid(read), pc.utf8_slice_codeunits(clean, 8, 10), None), pa.int64()
    )
    read = pc.if_else(pc.equal(pc.day(read), written_day), read, None)
    out = pd.Series(read.to_numpy(zero_copy_only=False), index=s.index).astype("datetime64[us]")
    others = out.isna().to_numpy()
    if others.any():
        out[others] = _any_shape(pd.Series(clean.filter(others), index=s.index[others]))
    return out


def _any_shape(clean: pd.Series) -> pd.Series:
    """``timestamp`` of half-width, trimmed values in any of its shapes."""
    index, clean = clean.index, _strings(clean)
    is_serial = pc.match_substring_regex(clean, _EXCEL_SERIAL)
    parts = pc.extract_regex(pc.if_else(is_serial, "", clean), pattern=_DATE)
    fields = {
        name: _number_or_null(pc.struct_field(parts, name)).to_numpy(zero_copy_only=False)
        for name in ("year", "month", "day", "hour", "minute", "second")
    }
    out = pd.to_datetime(
        pd.DataFrame(fields, index=index).fillna({"hour": 0, "minute": 0, "second": 0}), errors="coerce"
    )
    epoch_ms = pc.coalesce(
        pc.cast(pc.if_else(pc.match_substring_regex(clean, _EPOCH_MS), clean, None), pa.int64()),
        pc.multiply(
            pc.cast(pc.if_else(pc.match_substring_regex(clean, _EPOCH_S), clean, None), pa.int64()), 1000
        ),
    )
    from_epoch = (
        pd.to_datetime(pd.Series(epoch_ms, index=index), unit="ms", utc=True)
        .dt.tz_convert("Asia/Shanghai")
        .dt.tz_localize(None)
    )
    serial = pd.to_numeric(pd.Series(pc.if_else(is_serial, clean, None), index=index))
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
    no_spaces = pc.replace_substring_regex(_strings(half_width(s)), pattern=_ANY_WHITESPACE, replacement="")
    return _blank_to_null(_series(pc.utf8_upper(no_spaces), s).map(_eighteen, na_action="ignore"))


def _e164(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A Chinese mobile written plainly (``13800000000``, ``+86 138 0000 0000``, ``138-0000-0000``). ``phonenumbers``
# parses these to +86 and the 11 digits as they are; ``179..`` is left to it, as it can be an IP-dialling prefix.
_PLAIN_CN_MOBILE = r"^(?:\+86)?(?P<national>1[3-8][0-9]{9}|19[0-9]{9}|17[0-8][0-9]{8})$"


def _valid_cn_numbers(national: pd.Series) -> pd.Series:
    """``phonenumbers.is_valid_number`` for +86 national numbers, column-wise, from its own CN metadata.

    A number is valid when it matches the general description and at least one number type, each
    description checked on its possible lengths first, exactly as ``phonenumbers`` does number by number.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")

    def matches(desc) -> pd.Series:
        if desc is None or not desc.national_number_pattern:
            return pd.Series(False, index=national.index)
        found = national.str.fullmatch(desc.national_number_pattern)
        if desc.possible_length:
            found &= national.str.len().isin(desc.possible_length)
        return found

    types = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan")
    types += ("voicemail", "fixed_line", "mobile")
    any_type = pd.Series(False, index=national.index)
    for name in types:
        any_type |= matches(getattr(metadata, name))
    return matches(metadata.general_desc) & any_type


def phone(s: pd.Series) -> pd.Series:
    """Phone numbers to E.164 (``+8613800000000``) with ``phonenumbers``; invalid ones become null.

    Plainly written Chinese mobiles, nearly all of them, are checked column-wise against ``phonenumbers``'
    metadata; any other spelling goes through ``phonenumbers.parse`` one distinct value at a time.
    """
    clean = half_width(s)
    uniques = pd.Series(clean.dropna().unique(), dtype=object)
    uniques = uniques[uniques != ""]
    spelled = pc.replace_substring_regex(_strings(uniques), pattern="[ -]", replacement="")
    national = pd.Series(
        pc.struct_field(pc.extract_regex(spelled, pattern=_PLAIN_CN_MOBILE), "national"),
        index=uniques.index,
        dtype=object,
    )
    plain = national.notna()
    e164 = pd.Series(None, index=uniques.index, dtype=object)
    valid = _valid_cn_numbers(national[plain].astype(str))
    e164[valid[valid].index] = "+86" + national[valid[valid].index]
    e164[~plain] = uniques[~plain].map(_e164)
    return clean.map(dict(zip(uniques, e164, strict=True))).where(lambda v: v.notna(), None)


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

    distinct = clean.dropna().unique()
    return clean.map(dict(zip(distinct, map(canonical, distinct), strict=True)))


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
    if col.type in ("code", "credit_code"):
        return code(raw, col.segments)
    return _BY_TYPE[col.type](raw)
