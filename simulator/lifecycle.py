"""What happens to city records after they are first written: grids merged into a neighbour, cases voided
(作废) or whose closure reaches the extract days late, grid workers reassigned to another grid or leaving.

Each is drawn a whole column at a time and kept on the world's frames, so the drops show it day by day and the
truth records it: ``grids.merged_into`` / ``merged_at``, ``cases.voided_at``, ``cases.closure_delay_days``,
``workers.moved_at`` / ``moved_to`` / ``left_at``.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd

from simulator import quirks as q
from simulator.cases import FORWARDED

DAY = np.timedelta64(1, "D")
CLOSE = "结案"


def merge_grids(rng: np.random.Generator, grids: pd.DataFrame, start: date, days: int, rate: float):
    """Merge a share of the grids into their western neighbour (``merged_into``, ``merged_at``): the last grid
    of a community of two or more, so the two strips become one rectangle and no merged grid absorbs another."""
    seq = grids["grid_code"].str[-4:].astype(int).to_numpy()
    size = grids.groupby("community_code")["grid_code"].transform("size").to_numpy()
    candidates = np.flatnonzero((seq == size) & (size > 1))
    chosen = candidates[q.exactly(rng, len(candidates), rate)]
    merged_into = np.full(len(grids), "", object)
    merged_into[chosen] = (
        grids["community_code"].to_numpy()[chosen]
        + pd.Series(seq[chosen] - 1).map("{:04d}".format).to_numpy()
    )
    merged_at = np.full(len(grids), np.datetime64("NaT"), "datetime64[ms]")
    merged_at[chosen] = times_on(rng, start, days, len(chosen))
    return grids.assign(merged_into=merged_into, merged_at=merged_at)


def into_merged_grids(frame: pd.DataFrame, grids: pd.DataFrame, when: str) -> pd.DataFrame:
    """Records (cases, meetings) of a grid from the time it is merged away (``when``) go to the grid that took
    it over."""
    merged = grids[grids["merged_into"] != ""].set_index("grid_code")
    if merged.empty:
        return frame
    moved = (frame[when] >= frame["grid_code"].map(merged["merged_at"])).to_numpy()
    frame = frame.copy()
    frame.loc[moved, "grid_code"] = frame.loc[moved, "grid_code"].map(merged["merged_into"])
    return frame


def grids_on(grids: pd.DataFrame, cutoff: np.datetime64, listed_at: datetime) -> pd.DataFrame:
    """The grid snapshot as of ``cutoff``: a grid merged away is gone, the grid that took it over covers both
    strips with both grids' households and population, stamped with the merge; the rest with ``listed_at``."""
    merged = grids["merged_at"].to_numpy() < cutoff
    gone = grids[merged].set_index("merged_into")
    present = grids[~merged].assign(updated_at=np.datetime64(listed_at, "ms"))
    grown = present["grid_code"].isin(gone.index).to_numpy()
    if not grown.any():
        return present
    present = present.copy()
    took = gone.loc[present.loc[grown, "grid_code"]]
    for column in ("households", "population", "area_m2"):
        present.loc[grown, column] = present.loc[grown, column].to_numpy() + took[column].to_numpy()
    present.loc[grown, "updated_at"] = took["merged_at"].to_numpy()
    present.loc[grown, "geometry"] = [
        _joined_strips(west, east)
        for west, east in zip(present.loc[grown, "geometry"], took["geometry"], strict=True)
    ]
    return present


def _joined_strips(west: str, east: str) -> str:
    """The rectangle of two neighbouring strips, the western one's ring extended to the eastern one's edge."""
    ring = json.loads(west)["coordinates"][0]
    east_x = json.loads(east)["coordinates"][0][1][0]
    ring[1][0] = ring[2][0] = east_x
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def void_cases(rng: np.random.Generator, cases: pd.DataFrame, steps: pd.DataFrame, rate: float):
    """Void a share of the cases reported by patrol, residents or video between dispatch and handling: their
    workflow stops there and they never close. Forwarded 12345 cases are left alone, since their order's
    completion follows the case's closure. Returns the cases (with ``voided_at``) and the steps kept."""
    eligible = np.flatnonzero(cases["case_origin"].to_numpy() != FORWARDED)
    chosen = eligible[q.exactly(rng, len(eligible), rate)]
    hours = rng.uniform(1.5, 2.9, len(chosen))  # dispatch is at +1 h, handling at +3 h at the earliest
    voided_at = np.full(len(cases), np.datetime64("NaT"), "datetime64[ms]")
    voided_at[chosen] = cases["reported_at"].to_numpy()[chosen] + np.round(hours * 3600).astype(
        "timedelta64[s]"
    )
    cases = cases.assign(voided_at=voided_at)
    cases.loc[chosen, "closed_at"] = pd.NaT
    stop = voided_at[steps["case_index"].to_numpy()]
    kept = ~(steps["occurred_at"].to_numpy() > stop)  # NaT compares False: a case never voided keeps all
    return cases, steps[kept].reset_index(drop=True)


def void_forwarded_cases(
    rng: np.random.Generator, cases: pd.DataFrame, steps: pd.DataFrame, orders: pd.DataFrame, rate: float
):
    """Void a share of the cases 12345 forwarded to a grid, as ``void_cases`` does the others: the grid drops
    the case (作废) and the order stays forwarded (已转办), never completed nor called back, so the order and
    its case agree. Returns the cases, the steps kept and the orders."""
    eligible = np.flatnonzero(cases["case_origin"].to_numpy() == FORWARDED)
    chosen = eligible[q.exactly(rng, len(eligible), rate)]
    hours = rng.uniform(1.5, 2.9, len(chosen))  # after dispatch, before handling, as for the other cases
    voided_at = cases["voided_at"].to_numpy().copy()
    voided_at[chosen] = cases["reported_at"].to_numpy()[chosen] + np.round(hours * 3600).astype(
        "timedelta64[s]"
    )
    cases = cases.assign(voided_at=voided_at)
    cases.loc[chosen, "closed_at"] = pd.NaT
    cases.loc[chosen, "closure_delay_days"] = 0
    stop = voided_at[steps["case_index"].to_numpy()]
    kept = ~(steps["occurred_at"].to_numpy() > stop)
    never_done = orders["order_no"].isin(cases["hotline_order_no"].to_numpy()[chosen]).to_numpy()
    orders = orders.assign(completed_at=orders["completed_at"].mask(never_done))
    return cases, steps[kept].reset_index(drop=True), orders


def delay_closures(
    rng: np.random.Generator, cases: pd.DataFrame, start: date, days: int, rate: float
) -> pd.DataFrame:
    """Of the closures the simulated days' drops carry, a share reach them 1-3 days after they happened
    (``closure_delay_days``): the row then carries the old closure time and a new change time. (A closure
    before the first day arrives in its full load anyway.)"""
    first = np.datetime64(start, "ms")
    closed = cases["closed_at"].to_numpy()
    delay = rng.integers(1, 4, len(cases)).astype(np.int8)
    arrives = closed + delay.astype("timedelta64[D]")
    eligible = np.flatnonzero((closed >= first) & (arrives < first + days * DAY))
    late = np.zeros(len(cases), np.int8)
    chosen = eligible[q.exactly(rng, len(eligible), rate)]
    late[chosen] = delay[chosen]
    return cases.assign(closure_delay_days=late)


def step_delivered_at(cases: pd.DataFrame, steps: pd.DataFrame) -> np.ndarray:
    """When each step reaches the extract: when it happened, but a late case's closure days after."""
    delay = cases["closure_delay_days"].to_numpy()[steps["case_index"].to_numpy()]
    late = (steps["step"] == CLOSE).to_numpy() & (delay > 0)
    return steps["occurred_at"].to_numpy() + np.where(late, delay, 0).astype("timedelta64[D]")


def closure_delivered_at(cases: pd.DataFrame) -> np.ndarray:
    return cases["closed_at"].to_numpy() + cases["closure_delay_days"].to_numpy().astype("timedelta64[D]")


def times_on(rng: np.random.Generator, start: date, days: int, n: int) -> np.ndarray:
    """Office-hour times on days 1..days-1 (day 0 when there is one day), so a first snapshot sees the before."""
    day = rng.integers(min(1, days - 1), days, n)
    seconds = np.round(rng.uniform(9, 17, n) * 3600).astype("timedelta64[s]")
    return (np.datetime64(start, "D") + day * DAY + seconds).astype("datetime64[ms]")


def move_workers(
    rng: np.random.Generator,
    workers: pd.DataFrame,
    grids: pd.DataFrame,
    start: date,
    days: int,
    moved_rate: float,
    left_rate: float,
) -> pd.DataFrame:
    """Reassign a share of the workers to another grid of their community (``moved_at``, ``moved_to``), and
    let another share leave (``left_at``); no worker does both. The workers of a merged grid move to the grid
    that took it over; communities with a merge see no other move."""
    ordered = grids.sort_values("grid_code", ignore_index=True)
    position = pd.Series(ordered.groupby("community_code").cumcount().to_numpy(), index=ordered["grid_code"])
    community = ordered.set_index("grid_code")["community_code"]
    size = ordered.groupby("community_code").size()
    first = pd.Series(np.arange(len(ordered)), index=ordered["community_code"]).groupby(level=0).min()

    own = workers["grid_code"]
    grids_here = own.map(community).map(size).to_numpy()
    n = len(workers)
    merges = grids[grids["merged_into"] != ""].set_index("grid_code")
    merging = own.isin(merges.index).to_numpy()  # their grid is merged away: they move with it
    settled = ~own.map(community).isin(merges["community_code"]).to_numpy()
    movable = np.flatnonzero((grids_here > 1) & settled)
    moving = movable[q.exactly(rng, len(movable), moved_rate)]
    staying = np.setdiff1d(np.flatnonzero(~merging), moving)
    leaving = staying[q.exactly(rng, len(staying), left_rate)]

    step = 1 + (rng.random(len(moving)) * (grids_here[moving] - 1)).astype(np.int64)
    target = (own.map(position).to_numpy()[moving] + step) % grids_here[moving]
    target += own.map(community).map(first).to_numpy()[moving]
    moved_to = np.full(n, "", object)
    moved_to[moving] = ordered["grid_code"].to_numpy()[target]
    never = np.full(n, np.datetime64("NaT"), "datetime64[ms]")
    moved_at, left_at = never.copy(), never.copy()
    moved_at[moving] = times_on(rng, start, days, len(moving))
    left_at[leaving] = times_on(rng, start, days, len(leaving))
    if merging.any():
        moved_to[merging] = own[merging].map(merges["merged_into"]).to_numpy()
        moved_at[merging] = own[merging].map(merges["merged_at"]).to_numpy()
    return workers.assign(moved_at=moved_at, moved_to=moved_to, left_at=left_at)


def workers_on(workers: pd.DataFrame, cutoff: np.datetime64, listed_at: datetime) -> pd.DataFrame:
    """The grid-worker snapshot as of ``cutoff``: those who have not left, in the grid they serve by then,
    stamped with their move or, unchanged, with ``listed_at``."""
    present = workers[~(workers["left_at"].to_numpy() < cutoff)]
    moved = present["moved_at"].to_numpy() < cutoff
    return present.assign(
        grid_code=np.where(moved, present["moved_to"], present["grid_code"]),
        updated_at=np.where(moved, present["moved_at"].to_numpy(), np.datetime64(listed_at, "ms")),
    )


def worker_assignments(workers: pd.DataFrame, listed_at: datetime) -> pd.DataFrame:
    """Who served which grid when: one row per assignment, ``valid_to`` NaT while it lasts."""
    moved = workers["moved_at"].notna().to_numpy()
    first = pd.DataFrame(
        {
            "worker_id": workers["worker_id"],
            "grid_code": workers["grid_code"],
            "worker_type": workers["worker_type"],
            "valid_from": np.datetime64(listed_at, "ms"),
            "valid_to": workers["moved_at"].fillna(workers["left_at"]),
            "left": workers["left_at"].notna(),
        }
    )
    then = pd.DataFrame(
        {
            "worker_id": workers["worker_id"].to_numpy()[moved],
            "grid_code": workers["moved_to"].to_numpy()[moved],
            "worker_type": workers["worker_type"].to_numpy()[moved],
            "valid_from": workers["moved_at"].to_numpy()[moved],
            "valid_to": np.datetime64("NaT", "ms"),
            "left": False,
        }
    )
    return pd.concat([first, then], ignore_index=True).sort_values(
        ["worker_id", "valid_from"], ignore_index=True
    )
