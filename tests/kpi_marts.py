"""Every KPI mart beside what the simulator's own records give (``drops/truth/kpis_*.parquet``), rows and
columns in one order: the one comparison the tests of every preset make."""

from __future__ import annotations

import pandas as pd

from simulator.kpis import with_party_rates, with_rates
from tests.conftest import Truth

PLACES = ["grid_code", "community_code", "street_code", "district_code"]
CASE_LEVELS = {
    "kpi_grid_daily": "grid_code",
    "kpi_community_daily": "community_code",
    "kpi_street_daily": "street_code",
}
PARTY_COLUMNS = [
    "in_service_members",
    "registered_in_service_members",
    "volunteer_records",
    "volunteer_hours",
    "volunteer_points",
    "dual_registration_rate",
]
COVERAGE_COLUMNS = ["communities", "communities_with_party_committee", "community_party_coverage_rate"]
KPI_MARTS = [
    *CASE_LEVELS,
    "kpi_party_community_daily",
    "kpi_party_street_daily",
    "kpi_service_community_daily",
]


def case_kpis(truth: Truth) -> pd.DataFrame:
    return truth.table("kpis_daily").assign(street_code=lambda t: t["community_code"].str[:9])


def party_kpis(truth: Truth) -> pd.DataFrame:
    return truth.table("kpis_party_daily").assign(
        street_code=lambda t: t["community_code"].str[:9], district_code=lambda t: t["community_code"].str[:6]
    )


def coverage_by_day(truth: Truth) -> pd.DataFrame:
    """Per day, the truth's grids and communities and how many of them a party organization of their own
    covers: the comparison spans a dissolution when the covered fall behind from one day to the next."""
    grids = truth.table("kpis_daily").groupby("date_day")[["grids", "grids_with_party_branch"]].sum()
    communities = truth.table("kpis_party_daily").groupby("date_day")
    return grids.join(communities[["communities", "communities_with_party_committee"]].sum())


def rolled_up(grid_kpis: pd.DataFrame, level: str) -> pd.DataFrame:
    """The truth's grid rows summed per place and day, rates recomputed from the sums."""
    rates = with_rates(grid_kpis.head(0)).columns.difference(grid_kpis.columns)
    counts = grid_kpis.columns.difference([*rates, *PLACES, "date_day"])
    summed = grid_kpis.groupby([level, "date_day"], as_index=False)[list(counts)].sum()
    return with_rates(summed)


def per_street(community_kpis: pd.DataFrame) -> pd.DataFrame:
    """The truth's community party rows summed per street and day, rates recomputed from the sums."""
    counts = community_kpis.columns.difference(
        [*PLACES, "date_day", "dual_registration_rate", "community_party_coverage_rate"]
    )
    summed = community_kpis.groupby(["street_code", "date_day"], as_index=False)[list(counts)].sum()
    return with_party_rates(summed)


def expected(truth: Truth, name: str) -> pd.DataFrame:
    """The truth's rows of mart ``name``: its place and day first, then the KPI columns it shares."""
    if name in CASE_LEVELS:
        level = CASE_LEVELS[name]
        frame = case_kpis(truth)
        frame = frame if level == "grid_code" else rolled_up(frame, level)
        columns = [level, "date_day", *frame.columns.difference([*PLACES, "date_day"])]
        if name == "kpi_street_daily":  # 社区大党委 coverage of the street's communities
            frame = frame.merge(per_street(party_kpis(truth))[["street_code", "date_day", *COVERAGE_COLUMNS]])
            columns += COVERAGE_COLUMNS
        if name == "kpi_community_daily":
            coverage = party_kpis(truth)[["community_code", "date_day", "communities_with_party_committee"]]
            frame = frame.merge(coverage).assign(
                has_party_committee=lambda t: t["communities_with_party_committee"].astype(bool)
            )
            columns += ["has_party_committee"]
    elif name == "kpi_party_community_daily":
        frame, columns = party_kpis(truth), ["community_code", "date_day", *PARTY_COLUMNS]
    elif name == "kpi_party_street_daily":
        frame, columns = per_street(party_kpis(truth)), ["street_code", "date_day", *PARTY_COLUMNS]
    elif name == "kpi_service_community_daily":
        frame = truth.table("kpis_service_daily")
        columns = list(frame.columns)
    else:
        raise ValueError(f"no truth for {name}")
    return frame[columns].sort_values(columns[:2], ignore_index=True)


def mart(con, name: str, columns: list[str]) -> pd.DataFrame:
    frame = con.sql(f"select {', '.join(columns)} from marts.{name}").df()
    frame["date_day"] = frame["date_day"].dt.date
    return frame.sort_values(columns[:2], ignore_index=True)


def assert_kpi_mart_equals_the_truth(con, truth: Truth, name: str) -> pd.DataFrame:
    """Mart ``name`` on ``con`` equals the truth, every place, day, count and rate; returns the truth's rows."""
    truth_rows = expected(truth, name)
    assert len(truth_rows), f"{name}: the truth has no rows"
    actual = mart(con, name, list(truth_rows.columns))
    pd.testing.assert_frame_equal(actual, truth_rows, check_dtype=False, rtol=1e-12, obj=name)
    return truth_rows
