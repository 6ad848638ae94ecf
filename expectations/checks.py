"""Custom Great Expectations for China's national code standards, checked by python-stdnum.

Importing this module registers the expectations with GX (its metric registry is keyed by name).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import ClassVar

import pandas as pd
import shapely
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation, MulticolumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
    multicolumn_condition_partial,
)
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

# Masked resident ID numbers keep the address code and the last four characters: 210202********123X.
MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")


# An ID number already in python-stdnum's compact form, which it would return unchanged.
_COMPACT_ID = re.compile(r"[0-9]{17}[0-9X]")


def is_valid_id_number(value: str) -> bool:
    """Length, digits, check character (ISO 7064 MOD 11-2) and birth date, by python-stdnum.

    ``ric.is_valid`` also requires the address code to have existed in the birth year, which rejects real
    numbers: codes are assigned where the card was first issued (e.g. 中山区 210202 dates from 1983, yet
    its residents born in 1950 carry it). So the place is not checked here. Numbers already compact skip
    ``ric.compact``, whose character clean-up took most of a large batch's validation time.
    """
    if _COMPACT_ID.fullmatch(value):
        number = value
    else:
        try:
            number = ric.compact(value)
        except ValidationError:
            return False
        if not (len(number) == 18 and number[:17].isdigit()):
            return False
    if number[-1] != ric.calc_check_digit(number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return True


class ColumnValuesValidCnRic(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_cn_ric"
    condition_value_keys = ("allow_masked",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, allow_masked=False, **kwargs):
        return column.map(lambda v: is_valid_id_number(v) or bool(allow_masked and MASKED_ID.match(v)))


class ExpectColumnValuesToBeValidCnRic(ColumnMapExpectation):
    """Values are resident ID numbers (GB 11643) with a correct check character, or masked if allowed."""

    allow_masked: bool = False
    map_metric = "column_values.valid_cn_ric"
    success_keys = ("mostly", "allow_masked")
    library_metadata: ClassVar[dict] = {"tags": ["china", "stdnum"], "contributors": ["gridfusion"]}


class ColumnValuesValidCnUscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_cn_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return column.map(uscc.is_valid)


class ExpectColumnValuesToBeValidCnUscc(ColumnMapExpectation):
    """Values are unified social credit codes (GB 32100) with a correct check character."""

    map_metric = "column_values.valid_cn_uscc"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["china", "stdnum"], "contributors": ["gridfusion"]}


def is_valid_polygon(value: str) -> bool:
    """A GeoJSON (multi)polygon that is valid as a shape (closed rings, no self-intersection: shapely) and
    lies in longitude/latitude ranges (swapped coordinates put a Dalian grid at latitude 121)."""
    try:
        shape = shapely.geometry.shape(json.loads(value))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
        return False
    if shape.geom_type not in ("Polygon", "MultiPolygon") or shape.is_empty or not shape.is_valid:
        return False
    west, south, east, north = shape.bounds
    return -180 <= west <= east <= 180 and -90 <= south <= north <= 90


class ColumnValuesValidPolygon(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_polygon"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return column.map(is_valid_polygon)


class ExpectColumnValuesToBeValidPolygon(ColumnMapExpectation):
    """Values are valid GeoJSON polygons in longitude/latitude."""

    map_metric = "column_values.valid_polygon"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["geometry", "shapely"], "contributors": ["gridfusion"]}


class ColumnValuesNotAfter(ColumnMapMetricProvider):
    condition_metric_name = "column_values.not_after"
    condition_value_keys = ("latest",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, latest, **kwargs):
        """Compared column-wise: GX's own between rule does so only for nanosecond times, and compared a
        city's microsecond timestamps and dates one Python value at a time (157 s of a full load)."""
        latest = pd.Timestamp(latest)
        return column <= (latest if pd.api.types.is_datetime64_any_dtype(column.dtype) else latest.date())


class ExpectColumnValuesToBeNotAfter(ColumnMapExpectation):
    """Dates or times are no later than ``latest`` (a date column against its day)."""

    latest: datetime
    map_metric = "column_values.not_after"
    success_keys = ("mostly", "latest")
    library_metadata: ClassVar[dict] = {"tags": ["time"], "contributors": ["gridfusion"]}


class MulticolumnValuesInStepOrder(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.in_step_order"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        """Columns (record, step number, time): no step happens before an earlier step of its record."""
        record, step, when = column_list.columns
        ordered = column_list.sort_values([record, step])
        # Grouped cummax and shift run in pandas' compiled group kernels; a lambda per case took 45 s.
        running_latest = ordered.groupby(record, sort=False)[when].cummax()
        earlier = running_latest.groupby(ordered[record], sort=False).shift()
        return (earlier.isna() | (ordered[when] >= earlier)).reindex(column_list.index)


class ExpectMulticolumnValuesToBeInStepOrder(MulticolumnMapExpectation):
    """Within each record (a case), steps numbered later did not happen earlier."""

    map_metric = "multicolumn_values.in_step_order"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["workflow"], "contributors": ["gridfusion"]}
