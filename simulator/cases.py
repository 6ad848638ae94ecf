"""Grid cases with their workflow, and 12345 hotline orders, some of them forwarded to grids as cases.

Everything is drawn a whole column at a time: a year of a city's cases is millions of rows.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ingest import case_catalogue
from simulator.presets import Preset
from simulator.text import as_str, concat, day_text, padded

# category: (items, deadline in hours), from the catalogue the warehouse's dim_case_category is built from
CATALOGUE: dict[str, tuple[tuple[str, ...], int]] = {
    category: (
        tuple(i.item_name for i in case_catalogue.items() if i.category_name == category),
        next(i.deadline_hours for i in case_catalogue.items() if i.category_name == category),
    )
    for category in case_catalogue.categories()
}
STEP_STATUS = {
    "上报": "已上报",
    "立案": "已立案",
    "派遣": "已派遣",
    "处置": "处置中",
    "返工": "处置中",
    "反馈": "待核查",
    "核查": "待核查",
    "结案": "已结案",
}
ORIGINS = ("巡查", "居民上报", "视频监控")
FORWARDED = "12345转办"
# Report → register → dispatch → handle → feed back → verify (→ rework → handle → feed back → verify) → close.
STEPS = ("上报", "立案", "派遣", "处置", "反馈", "核查", "返工", "处置", "反馈", "核查", "结案")
STEP_NAMES = tuple(dict.fromkeys(STEPS))
LEVELS = ("网格", "社区", "街道", "区")
ORDER_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
SATISFACTION = ("满意", "基本满意", "不满意")
HOUR = np.timedelta64(3_600_000, "ms")


def _at(day_start: np.ndarray, hours: np.ndarray) -> np.ndarray:
    return day_start + np.round(hours * 3_600_000).astype("timedelta64[ms]")


def _present(rng: np.random.Generator, persons: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """For each day, a random person living in the city by then (row positions in ``persons``)."""
    order = np.argsort(persons["arrival_day"].to_numpy(), kind="stable")
    living = np.searchsorted(persons["arrival_day"].to_numpy()[order], np.maximum(days, 0), side="right")
    return order[(rng.random(len(days)) * living).astype(np.int64)]


def _step_hours(rng: np.random.Generator, n: int) -> np.ndarray:
    """Hours after the report of each position in ``STEPS``; a case without rework closes at position 6."""
    hours = np.empty((n, len(STEPS)))
    hours[:, :3] = (0.0, 0.5, 1.0)
    hours[:, 3] = 1.0 + rng.uniform(2, 30, n)
    hours[:, 4] = hours[:, 3] + 2.0
    hours[:, 5] = hours[:, 4] + rng.uniform(1, 20, n)
    hours[:, 6] = hours[:, 5] + 0.5
    hours[:, 7] = hours[:, 6] + rng.uniform(2, 30, n)
    hours[:, 8] = hours[:, 7] + 2.0
    hours[:, 9] = hours[:, 8] + rng.uniform(1, 20, n)
    hours[:, 10] = hours[:, 9] + 0.5
    return hours


def generate(
    rng: np.random.Generator,
    preset: Preset,
    start: date,
    days: int,
    grids: pd.DataFrame,
    persons: pd.DataFrame,
    workers: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cases, their steps and hotline orders from ``history_days`` before ``start`` to ``days`` after it
    (steps may fall after the horizon). Steps are ordered by case, then sequence."""
    first = np.datetime64(start, "ms") - preset.history_days * np.timedelta64(1, "D")
    span = preset.history_days + days

    # grid cases: a Poisson count per grid and day
    counts = rng.poisson(preset.cases_per_grid_per_day, (span, len(grids)))
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    grid_day, grid_pos = cell // len(grids), cell % len(grids)
    origin = rng.choice(3, len(cell), p=[0.55, 0.3, 0.15])
    full_time = workers[workers["worker_type"] == "专职"].set_index("grid_code")["person_id"]
    phone = persons.set_index("person_id")["phone"]
    worker_phone = grids["grid_code"].map(full_time).map(phone).fillna("").to_numpy()
    resident_phone = persons["phone"].to_numpy()[_present(rng, persons, grid_day - preset.history_days)]
    reporter = np.where(origin == 0, worker_phone[grid_pos], np.where(origin == 1, resident_phone, ""))

    # 12345 orders: a Poisson count per day; 40% are forwarded to a grid of the caller's community
    order_day = np.repeat(np.arange(span), rng.poisson(preset.hotline_orders_per_day, span))
    received = _at(first + order_day * np.timedelta64(1, "D"), 8 + rng.uniform(0, 12, len(order_day)))
    received.sort()  # numbered in the order they come in
    order_day = ((received - first) // np.timedelta64(1, "D")).astype(np.int64)
    caller = _present(rng, persons, order_day - preset.history_days)
    caller_community = persons["community_code"].to_numpy()[caller]
    forwarded = rng.random(len(order_day)) < 0.4
    order_no = concat("12345", day_text(received), padded(np.arange(len(order_day)), 6))
    forwarded_grid = concat(
        caller_community[forwarded],
        padded(rng.integers(1, preset.grids_per_community + 1, forwarded.sum()), 4),
    )

    n_grid = len(cell)
    cases = pd.DataFrame(
        {
            "grid_code": pd.concat(
                [grids["grid_code"].iloc[grid_pos], as_str(forwarded_grid)], ignore_index=True
            ),
            "case_origin": np.concatenate([np.asarray(ORIGINS)[origin], np.full(forwarded.sum(), FORWARDED)]),
            "reporter_phone": np.concatenate([reporter, persons["phone"].to_numpy()[caller[forwarded]]]),
            "hotline_order_no": np.concatenate([np.full(n_grid, ""), np.asarray(order_no.filter(forwarded))]),
            "reported_at": np.concatenate(
                [
                    _at(first + grid_day * np.timedelta64(1, "D"), 8 + rng.uniform(0, 12, n_grid)),
                    received[forwarded] + HOUR,
                ]
            ),
            "order": np.concatenate([np.full(n_grid, -1), np.flatnonzero(forwarded)]),
        }
    )
    cases = cases.sort_values("reported_at", kind="stable", ignore_index=True)
    n = len(cases)
    cases.insert(0, "case_no", as_str(concat("AJ", day_text(cases["reported_at"]), padded(np.arange(n), 6))))
    category = rng.integers(0, len(CATALOGUE), n)
    names = list(CATALOGUE)
    items = [items for items, _ in CATALOGUE.values()]
    item_count = np.array([len(i) for i in items])[category]
    item = (rng.random(n) * item_count).astype(np.int64)
    catalogue_items = np.array([i for group in items for i in group])
    item_offset = np.concatenate([[0], np.cumsum([len(i) for i in items])[:-1]])
    deadline_h = np.array([h for _, h in CATALOGUE.values()])[category]
    rework = rng.random(n) < 0.1
    hours = _step_hours(rng, n)
    closing = np.where(rework, len(STEPS) - 1, 6)
    reported = cases["reported_at"].to_numpy()
    cases["category"] = pd.Categorical.from_codes(category, names)
    cases["item"] = catalogue_items[item_offset[category] + item]
    cases["deadline_at"] = reported + deadline_h * HOUR
    cases["resolved_level"] = np.asarray(LEVELS)[rng.choice(4, n, p=[0.7, 0.2, 0.08, 0.02])]
    cases["closed_at"] = _at(reported, hours[np.arange(n), closing])

    # steps: 7 per case, 11 with rework; the 7th is the close, or the rework that sends it back
    per_case = closing + 1
    case_index = np.repeat(np.arange(n, dtype=np.int32), per_case)
    starts = np.concatenate([[0], np.cumsum(per_case)[:-1]])
    seq = (np.arange(len(case_index)) - np.repeat(starts, per_case)).astype(np.int8)
    name = np.where((seq == 6) & ~rework[case_index], len(STEPS) - 1, seq)
    steps = pd.DataFrame(
        {
            "case_index": case_index,
            "step_seq": seq + 1,
            "step": pd.Categorical.from_codes(
                np.asarray([STEP_NAMES.index(s) for s in STEPS])[name], STEP_NAMES
            ),
            "occurred_at": _at(reported[case_index], hours[case_index, seq]),
            "actor": pd.Categorical.from_codes((seq >= 3).astype(np.int8), ["网格员", "处置部门"]),
        }
    )

    # orders complete an hour after their grid case closes, or by themselves within 4-72 hours
    m = len(order_day)
    case_of_order = np.full(m, -1)
    by_order = cases["order"].to_numpy()
    case_of_order[by_order[by_order >= 0]] = np.flatnonzero(by_order >= 0)
    order_category = rng.integers(0, len(CATALOGUE), m)
    completed = np.where(
        forwarded,
        cases["closed_at"].to_numpy()[case_of_order] + HOUR,
        _at(received, rng.uniform(4, 72, m)),
    )
    orders = pd.DataFrame(
        {
            "order_no": as_str(order_no),
            "received_at": received,
            "caller_phone": persons["phone"].to_numpy()[caller],
            "caller_person_id": persons["person_id"].to_numpy()[caller],
            "order_type": np.asarray(ORDER_TYPES)[rng.integers(0, len(ORDER_TYPES), m)],
            "category": pd.Categorical.from_codes(order_category, names),
            "community_code": caller_community,
            "handling_unit": "街道办事处",
            "deadline_at": received
            + (np.array([h for _, h in CATALOGUE.values()])[order_category] + 24) * HOUR,
            "completed_at": completed,
            "forwarded_case_no": np.where(forwarded, cases["case_no"].to_numpy()[case_of_order], ""),
            "forwarded_at": np.where(forwarded, received + HOUR, np.datetime64("NaT", "ms")),
            "satisfaction": np.asarray(SATISFACTION)[rng.choice(3, m, p=[0.7, 0.2, 0.1])],
        }
    )
    return cases.drop(columns="order"), steps, orders
