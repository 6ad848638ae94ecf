"""The dashboards' case KPIs per grid and day, computed from the simulator's own records (``truth/``).

Independent of the warehouse: what each KPI should be, from the cases as they really happened, judged at
``cutoff`` (the end of the last simulated day). A grid case counts towards a day by its event that day:
reported (opened), closed (on time, level resolved, reworked, satisfaction called back), its deadline
passing while still open (overdue). Cases whose report time the source garbles never load, so they are left
out here too; voided cases count nowhere. A closure counts once it has reached an extract by ``cutoff``, on
the day it really happened, however late it arrived. Grid workers are those assigned to the grid at the end
of each day; council meetings count on the day they were held. A grid merged away counts (as a grid, with
households) until the day of its merge; from then on the grid that took it over has its households.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from simulator.lifecycle import closure_delivered_at


def _per_day(frame: pd.DataFrame, when: str, **counts: pd.Series) -> pd.DataFrame:
    keyed = pd.DataFrame({"grid_code": frame["grid_code"], "date_day": frame[when].dt.date, **counts})
    return keyed.groupby(["grid_code", "date_day"]).sum()


def daily(
    cases: pd.DataFrame,
    steps: pd.DataFrame,
    orders: pd.DataFrame,
    grids: pd.DataFrame,
    assignments: pd.DataFrame,
    orgs: pd.DataFrame,
    meetings: pd.DataFrame,
    start: date,
    days: int,
) -> pd.DataFrame:
    """One row per grid and day from ``start`` for ``days`` days: additive counts, then rates."""
    cutoff = datetime.combine(start + timedelta(days=days), datetime.min.time())
    cases_all = cases  # steps point at their case by its row here (``case_index``)
    voided = cases["voided_at"] < cutoff
    cases = cases[(cases["dirty_rule"] == "") & (cases["reported_at"] < cutoff) & ~voided]
    known_closed = closure_delivered_at(cases) < cutoff
    closed = cases[known_closed]
    rework_steps = steps[(steps["step"] == "返工") & (steps["occurred_at"] < cutoff)]
    reworked = set(cases_all["case_no"].to_numpy()[rework_steps["case_index"].to_numpy()])
    answered = orders[orders["completed_at"] < cutoff].set_index("order_no")["satisfaction"]
    satisfaction = closed["hotline_order_no"].map(answered)
    on_time = closed["closed_at"] <= closed["deadline_at"]
    late = cases[~(known_closed & (cases["closed_at"] <= cases["deadline_at"]))]
    meetings = meetings[meetings["dirty_rule"] == ""].assign(held=pd.to_datetime(meetings["held_on"]))

    events = pd.concat(
        [
            _per_day(cases, "reported_at", cases_opened=1),
            _per_day(
                closed,
                "closed_at",
                cases_closed=1,
                cases_closed_on_time=on_time.astype(int),
                cases_resolved_at_grid=(closed["resolved_level"] == "网格").astype(int),
                cases_resolved_within_community=closed["resolved_level"].isin(["网格", "社区"]).astype(int),
                cases_reworked=closed["case_no"].isin(reworked).astype(int),
                satisfaction_responses=satisfaction.notna().astype(int),
                satisfied_responses=satisfaction.isin(["满意", "基本满意"]).astype(int),
            ),
            _per_day(late, "deadline_at", cases_overdue=1),
            _per_day(meetings, "held", council_meetings=1),
        ]
    )
    events = events.groupby(level=[0, 1]).sum()

    day_list = [start + timedelta(days=n) for n in range(days)]
    frame = pd.MultiIndex.from_product([grids["grid_code"], day_list], names=["grid_code", "date_day"])
    kpis = events.reindex(frame, fill_value=0).fillna(0).astype("int64").reset_index()
    kpis["open_cases_end_of_day"] = (
        (kpis["cases_opened"] - kpis["cases_closed"]).groupby(kpis["grid_code"]).cumsum()
    )
    places = grids.set_index("grid_code")
    day_end = pd.to_datetime(kpis["date_day"]) + pd.Timedelta(days=1)
    exists = ~(kpis["grid_code"].map(places["merged_at"]) < day_end)
    kpis["community_code"] = kpis["grid_code"].map(places["community_code"])
    kpis["grids"] = exists.astype("int64")
    kpis["grids_with_party_branch"] = (kpis["grid_code"].isin(orgs["grid_code"]) & exists).astype("int64")
    kpis["grid_workers"] = _workers_per_day(assignments, kpis)
    kpis["households"] = _households_per_day(grids, kpis, exists.to_numpy(), day_end)
    return with_rates(kpis)


def _households_per_day(
    grids: pd.DataFrame, kpis: pd.DataFrame, exists: np.ndarray, day_end: pd.Series
) -> np.ndarray:
    """Per KPI row, its grid's households while it exists, with those of a grid it took over once merged."""
    own = kpis["grid_code"].map(grids.set_index("grid_code")["households"]).to_numpy() * exists
    merges = grids[grids["merged_into"] != ""]
    taken = kpis[["grid_code"]].assign(day_end=day_end, row=np.arange(len(kpis)))
    taken = taken.merge(merges, left_on="grid_code", right_on="merged_into", suffixes=("", "_merged"))
    taken = taken[taken["merged_at"] < taken["day_end"]]
    return own + np.bincount(taken["row"], taken["households"], minlength=len(kpis)).astype("int64")


def _workers_per_day(assignments: pd.DataFrame, kpis: pd.DataFrame) -> np.ndarray:
    """Per KPI row, the workers whose assignment to its grid covers the end of its day."""
    day_end = pd.to_datetime(kpis["date_day"]) + pd.Timedelta(days=1)
    rows = kpis[["grid_code"]].assign(day_end=day_end, row=np.arange(len(kpis)))
    spans = rows.merge(assignments, on="grid_code")
    serving = (spans["valid_from"] < spans["day_end"]) & ~(spans["valid_to"] <= spans["day_end"])
    return np.bincount(spans.loc[serving, "row"], minlength=len(kpis)).astype("int64")


def with_rates(kpis: pd.DataFrame) -> pd.DataFrame:
    """The rates from a frame's additive counts (also for communities and streets, after summing grids)."""

    def ratio(numerator: str, denominator: str) -> pd.Series:
        return (kpis[numerator] / kpis[denominator]).where(kpis[denominator] > 0)

    return kpis.assign(
        on_time_closure_rate=ratio("cases_closed_on_time", "cases_closed"),
        grid_resolution_rate=ratio("cases_resolved_at_grid", "cases_closed"),
        community_resolution_rate=ratio("cases_resolved_within_community", "cases_closed"),
        rework_rate=ratio("cases_reworked", "cases_closed"),
        satisfaction_rate=ratio("satisfied_responses", "satisfaction_responses"),
        open_cases_per_worker=ratio("open_cases_end_of_day", "grid_workers"),
        households_per_worker=ratio("households", "grid_workers"),
        grid_party_coverage_rate=ratio("grids_with_party_branch", "grids"),
    )
