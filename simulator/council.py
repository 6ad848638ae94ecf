"""Grid council meetings (网格议事会 / 协商议事): residents, party members and units of a grid meeting on a
local matter, recorded by the grid worker the evening of the meeting and extracted by the city system."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator import quirks as q
from simulator.presets import Messiness, Preset
from simulator.text import as_str, concat, csv_lines, day_text, padded, pick, write_csv

TOPICS = (
    "楼道堆物清理",
    "停车位划分",
    "老旧小区加装电梯",
    "垃圾分类投放点设置",
    "物业服务收费",
    "公共绿地维护",
    "噪音扰民",
    "困难家庭帮扶",
)
OUTCOMES = ("达成共识", "形成决议", "提交社区协调", "暂缓议定")
HEADER = [
    "meeting_id",
    "grid_code",
    "held_on",
    "topic",
    "attendees",
    "party_member_attendees",
    "cases_raised",
    "outcome",
    "updated_at",
]


def generate(
    rng: np.random.Generator, preset: Preset, start: date, days: int, grids: pd.DataFrame, mess: Messiness
) -> pd.DataFrame:
    """A Poisson count of meetings per grid and day, over the preset's history and the simulated days."""
    span = preset.history_days + days
    counts = rng.poisson(preset.council_meetings_per_grid_per_day, (span, len(grids)))
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    day, grid = cell // len(grids), cell % len(grids)
    n = len(cell)
    held_on = np.datetime64(start, "D") + (day - preset.history_days) * np.timedelta64(1, "D")
    recorded_at = held_on.astype("datetime64[ms]") + np.round(rng.uniform(14, 21, n) * 3600).astype(
        "timedelta64[s]"
    )
    attendees = rng.integers(5, 41, n)
    meetings = pd.DataFrame(
        {
            "meeting_id": as_str(concat("YS", day_text(held_on), padded(np.arange(n), 6))),
            "grid_code": grids["grid_code"].to_numpy()[grid],
            "held_on": held_on,
            "topic": np.asarray(TOPICS)[rng.integers(0, len(TOPICS), n)],
            "attendees": attendees,
            "party_member_attendees": rng.binomial(attendees, 0.35),
            "cases_raised": np.minimum(rng.poisson(0.8, n), 5),
            "outcome": np.asarray(OUTCOMES)[rng.choice(4, n, p=[0.45, 0.3, 0.2, 0.05])],
            "recorded_at": recorded_at,
        }
    )
    meetings["date_style"] = np.where(q.flags(rng, n, mess.council_date_style), rng.integers(1, 4, n), 0)
    meetings["code_style"] = np.where(q.flags(rng, n, mess.grid_code_variant), rng.integers(1, 3, n), 0)
    meetings["dirty_rule"] = np.where(q.exactly(rng, n, mess.council_no_attendees), "attendees:not_null", "")
    return meetings


def write(folder: Path, meetings: pd.DataFrame, cutoff: np.datetime64, day_start: np.datetime64) -> None:
    """``council_meetings.csv`` (UTF-8): the meetings recorded since ``day_start``."""
    recorded = meetings["recorded_at"].to_numpy()
    m = meetings[(recorded >= day_start) & (recorded < cutoff)]
    count = lambda column: pa.array(m[column].to_numpy()).cast(pa.large_string())  # noqa: E731
    columns = [
        m["meeting_id"],
        q.grid_code_text(m["grid_code"], m["code_style"].to_numpy()),
        q.date_text(m["held_on"], m["date_style"].to_numpy()),
        m["topic"],
        pick(m["dirty_rule"].to_numpy() != "", "", count("attendees")),
        count("party_member_attendees"),
        count("cases_raised"),
        m["outcome"],
        q.timestamp_text(m["recorded_at"]),
    ]
    write_csv(folder / "council_meetings.csv", HEADER, [csv_lines(columns, "\n")], "utf-8", "\n")
