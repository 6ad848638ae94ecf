"""The dashboards' case KPIs per grid and day, computed from the simulator's own records (``truth/``).

Independent of the warehouse: what each KPI should be, from the cases as they really happened, judged at
``cutoff`` (the end of the last simulated day). A grid case counts towards a day by its event that day:
reported (opened), closed (on time, level resolved, reworked, satisfaction called back), its deadline
passing while still open (overdue). Satisfaction counts the callers called back by ``cutoff``. Cases whose
report time the source garbles never load, so they are left out here too; voided cases count nowhere. A
closure counts once it has reached an extract by ``cutoff``, on the day it really happened, however late it
arrived. Grid workers are those assigned to the grid at the end of each day; council meetings count on the
day they were held. A grid merged away counts (as a grid, with households) until the day of its merge; from
then on the grid that took it over has its households.

Party-organization coverage on a day is judged at the end of that day, as the party extract of that day lists
the organizations: a grid is covered while its party branch stands (founded, not dissolved), a community while
its own committee (社区大党委) does; an organization dissolved on day D covers D-1 but not D.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from simulator.lifecycle import closure_delivered_at
from simulator.org_changes import dissolved_at


def _per_day(frame: pd.DataFrame, when: str, **counts: pd.Series) -> pd.DataFrame:
    keyed = pd.DataFrame({"grid_code": frame["grid_code"], "date_day": _day(frame[when]), **counts})
    summed = keyed.groupby(["grid_code", "date_day"]).sum()
    return summed.set_axis(_with_dates(summed.index), axis=0)


def _day(times: pd.Series) -> np.ndarray:
    """The day of each time as ``datetime64[D]``: grouping millions of rows by Python ``date`` objects would
    build one object per row."""
    return times.to_numpy().astype("datetime64[D]")


def _with_dates(index: pd.MultiIndex) -> pd.MultiIndex:
    """A (key, day) index of a grouped result, its days as ``date`` objects like the KPI frames carry."""
    days = index.levels[1]
    return index.set_levels(pd.Index(days.date, dtype=object, name=days.name), level=1)


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
    answered = orders[orders["callback_at"] < cutoff].set_index("order_no")["callback_result"]
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
    branches = orgs[orgs["grid_code"] != ""]
    covered = _covered(kpis["grid_code"], kpis["date_day"], branches, "grid_code")
    kpis["grids_with_party_branch"] = (covered & exists.to_numpy()).astype("int64")
    kpis["grid_workers"] = _workers_per_day(assignments, kpis)
    kpis["households"] = _households_per_day(grids, kpis, exists.to_numpy(), day_end)
    return with_rates(kpis)


def _covered(places: pd.Series, days: pd.Series, covering: pd.DataFrame, place: str) -> np.ndarray:
    """Per (place, day) row, whether an organization of ``covering`` on that place (its column ``place``) stands
    at the end of the day: founded by then and not dissolved by then."""
    rows = pd.DataFrame(
        {
            place: places.to_numpy(),
            "day_end": (pd.to_datetime(days) + pd.Timedelta(days=1)).to_numpy(),
            "row": np.arange(len(places)),
        }
    )
    orgs = covering[[place, "founded_on"]].assign(gone=dissolved_at(covering))
    spans = rows.merge(orgs, on=place)
    standing = (spans["founded_on"] < spans["day_end"]) & ~(spans["gone"] < spans["day_end"])
    return np.bincount(spans.loc[standing, "row"], minlength=len(places)) > 0


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


def party_daily(
    members: pd.DataFrame,
    registrations: pd.DataFrame,
    service: pd.DataFrame,
    orgs: pd.DataFrame,
    grids: pd.DataFrame,
    start: date,
    days: int,
) -> pd.DataFrame:
    """The party dashboards' KPIs per community and day, from the simulator's own records.

    ``members`` are the clean members on the roll at the end (their ``community_code`` is where they live),
    ``registrations`` and ``service`` the clean records that reached the system by then. A member counts as
    registered (双报到) on a day from the day they registered on. A community counts as having its own party
    committee (社区大党委) on the days that committee stands at the end of (``_covered``).
    """
    day_list = [start + timedelta(days=n) for n in range(days)]
    communities = grids["community_code"].drop_duplicates()
    frame = pd.MultiIndex.from_product([communities, day_list], names=["community_code", "date_day"])
    in_service = members[members["employment_status"] == "在职"]
    registered_on = (
        registrations[registrations["registrant_kind"] == "党员"]
        .set_index("member_id")["registered_on"]
        .dt.date
    )
    since = in_service["member_id"].map(registered_on)
    kpis = pd.DataFrame(index=frame).reset_index()
    kpis["in_service_members"] = kpis["community_code"].map(in_service.groupby("community_code").size())
    # counted from the day they registered, or from the first day for those registered before
    since = since.dropna().clip(lower=start)
    new = pd.DataFrame({"community_code": in_service.loc[since.index, "community_code"], "date_day": since})
    newly = new.groupby(["community_code", "date_day"]).size().reindex(frame, fill_value=0)
    kpis["registered_in_service_members"] = newly.groupby(level=0).cumsum().to_numpy()
    served = (
        pd.DataFrame(
            {
                "community_code": service["community_code"],
                "date_day": service["served_on"].dt.date,
                "volunteer_records": 1,
                "volunteer_hours": service["hours"],
                "volunteer_points": service["points"],
            }
        )
        .groupby(["community_code", "date_day"])
        .sum()
    )
    kpis = kpis.join(served, on=["community_code", "date_day"])
    committees = orgs[orgs["org_code"].str.startswith("C")].rename(
        columns={"division_code": "community_code"}
    )
    kpis["communities"] = 1
    covered = _covered(kpis["community_code"], kpis["date_day"], committees, "community_code")
    kpis["communities_with_party_committee"] = covered.astype("int64")
    counts = kpis.columns.difference(["community_code", "date_day", "volunteer_hours"])
    kpis[counts] = kpis[counts].fillna(0).astype("int64")
    kpis["volunteer_hours"] = kpis["volunteer_hours"].fillna(0.0).astype(float)
    return with_party_rates(kpis)


def with_party_rates(kpis: pd.DataFrame) -> pd.DataFrame:
    """The party rates from a frame's additive counts (also for streets, after summing communities)."""

    def ratio(numerator: str, denominator: str) -> pd.Series:
        return (kpis[numerator] / kpis[denominator]).where(kpis[denominator] > 0)

    return kpis.assign(
        dual_registration_rate=ratio("registered_in_service_members", "in_service_members"),
        community_party_coverage_rate=ratio("communities_with_party_committee", "communities"),
    )


def service_daily(applications: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Service applications per community and day, from the applications as they are at the cutoff (times
    still ahead of it are missing): submitted, completed, completed within the promise, and the rate.

    The deadline is the promised number of working days (numpy's Monday-to-Friday business days) after the
    acceptance day, the acceptance day itself for a promise of 0. Applications of the kind the source garbles
    never load; nor do items with no promise, whose applications then count as not within it.
    """
    columns = ["item_code", "community_code", "submitted_at", "accepted_at", "completed_at"]
    apps = applications.loc[(applications["dirty_rule"] == "").to_numpy(), columns]  # millions: only these
    promise = items[items["dirty_rule"] == ""].set_index("item_code")["promised_working_days"]
    promised = apps["item_code"].map(promise)
    accepted = apps["accepted_at"].to_numpy().astype("datetime64[D]")
    known = promised.notna().to_numpy() & ~np.isnat(accepted)
    deadline = np.full(len(apps), np.datetime64("NaT"), "datetime64[D]")
    deadline[known] = np.maximum(
        np.busday_offset(accepted[known], promised[known].astype(int).to_numpy(), roll="backward"),
        accepted[known],
    )
    completed_day = apps["completed_at"].to_numpy().astype("datetime64[D]")
    within = known & ~np.isnat(completed_day) & (completed_day <= deadline)
    submitted = pd.DataFrame(
        {
            "community_code": apps["community_code"],
            "date_day": _day(apps["submitted_at"]),
            "applications_submitted": 1,
        }
    )
    done = apps["completed_at"].notna().to_numpy()
    completed = pd.DataFrame(
        {
            "community_code": apps["community_code"][done],
            "date_day": _day(apps["completed_at"][done]),
            "applications_completed": 1,
            "applications_completed_within_promise": within[done].astype(int),
        }
    )
    daily = (
        pd.concat([submitted, completed])
        .fillna(0)
        .groupby(["community_code", "date_day"], as_index=False)
        .sum()
        .astype(
            {
                c: "int64"
                for c in (
                    "applications_submitted",
                    "applications_completed",
                    "applications_completed_within_promise",
                )
            }
        )
    )
    daily["date_day"] = daily["date_day"].dt.date
    rate = daily["applications_completed_within_promise"] / daily["applications_completed"]
    return daily.assign(completed_within_promise_rate=rate.where(daily["applications_completed"] > 0))
