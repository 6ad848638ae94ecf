"""The party-building network: organizations on the division/grid hierarchy, and their members."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator.places import DALIAN_DISTRICTS
from simulator.text import as_str, padded

UNIT_BRANCH_KINDS = ("非公企业", "社会组织", "机关事业单位", "物业服务企业", "离退休")


def organizations(
    districts: tuple[str, ...],
    streets: pd.DataFrame,
    communities: pd.DataFrame,
    grids: pd.DataFrame,
    unit_branches_per_community: int = 0,
) -> pd.DataFrame:
    """District committee → street working committee (大工委) → community committee (大党委) → grid branches,
    and under each community committee the branches of its resident units."""
    per = unit_branches_per_community
    unit_community = communities.loc[communities.index.repeat(per)].reset_index(drop=True)
    unit_number = np.tile(np.arange(1, per + 1), len(communities))
    kind = as_str(
        pa.array(np.asarray(UNIT_BRANCH_KINDS)[(unit_number - 1) % len(UNIT_BRANCH_KINDS)], pa.large_string())
    )
    levels = [
        pd.DataFrame(
            {
                "org_code": [f"D{d}" for d in districts],
                "org_name": [f"中共大连市{DALIAN_DISTRICTS.get(d, d + '区')}委员会" for d in districts],
                "org_type": "党委",
                "parent_org_code": "",
                "division_code": [f"{d}000000" for d in districts],
                "grid_code": "",
            }
        ),
        pd.DataFrame(
            {
                "org_code": "S" + streets["street_code"],
                "org_name": "中共" + streets["street_name"] + "工作委员会",
                "org_type": "党工委",
                "parent_org_code": "D" + streets["district_code"],
                "division_code": streets["street_code"] + "000",
                "grid_code": "",
            }
        ),
        pd.DataFrame(
            {
                "org_code": "C" + communities["community_code"],
                "org_name": "中共" + communities["community_name"] + "委员会",
                "org_type": "党委",
                "parent_org_code": "S" + communities["street_code"],
                "division_code": communities["community_code"],
                "grid_code": "",
            }
        ),
        pd.DataFrame(
            {
                "org_code": "G" + grids["grid_code"],
                "org_name": grids["grid_name"] + "党支部",
                "org_type": "党支部",
                "parent_org_code": "C" + grids["community_code"],
                "division_code": grids["community_code"],
                "grid_code": grids["grid_code"],
            }
        ),
        pd.DataFrame(
            {
                "org_code": "U" + unit_community["community_code"] + as_str(padded(unit_number, 3)),
                "org_name": unit_community["community_name"]
                + kind
                + "第"
                + as_str(padded(unit_number, 1))
                + "党支部",
                "org_type": "党支部",
                "parent_org_code": "C" + unit_community["community_code"],
                "division_code": unit_community["community_code"],
                "grid_code": "",
            }
        ),
    ]
    orgs = pd.concat(levels, ignore_index=True)
    orgs["founded_on"] = np.datetime64("2019-07-01", "s")
    return orgs


def members(rng: np.random.Generator, persons: pd.DataFrame, preset, start: date) -> pd.DataFrame:
    """Adults join at the preset's rate; each belongs to a branch in their own community (a grid's or a resident
    unit's), some to the community committee itself. Each member row carries its person's columns."""
    start_day = np.datetime64(start, "D")
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    adult = (start_day - birth).astype(np.int64) >= 18 * 365
    chosen = persons[adult & (rng.random(len(persons)) < preset.member_rate)].reset_index(drop=True)
    n = len(chosen)
    community = chosen["community_code"]
    grid = community + as_str(padded(rng.integers(1, preset.grids_per_community + 1, n), 4))
    where = rng.random(n)
    org = np.where(where < 0.2, "C" + community, "G" + grid)
    if preset.unit_branches_per_community:
        unit = community + as_str(padded(rng.integers(1, preset.unit_branches_per_community + 1, n), 3))
        org = np.where(where >= 0.6, "U" + unit, org)
    birth = chosen["birth_date"].to_numpy().astype("datetime64[D]")
    joined = np.minimum(
        birth + (365 * (20 + rng.integers(0, 20, n))).astype("timedelta64[D]"),
        start_day - np.timedelta64(30, "D"),
    )
    age = (start_day - birth).astype(np.int64) / 365.25
    return pd.DataFrame(
        {
            "member_id": as_str(padded(np.arange(n), 8, "DY")),
            "person_id": chosen["person_id"],
            "joined_on": joined.astype("datetime64[s]"),
            "member_category": np.where(rng.random(n) < 0.95, "正式党员", "预备党员"),
            "employment_status": np.where(age < 60, "在职", "离退休"),
            "ethnicity": np.where(chosen["full_name"].str.contains("·", regex=False), "维吾尔族", "汉族"),
            "org_code": org,
        }
    ).join(chosen.drop(columns="person_id"))


def grid_workers(rng: np.random.Generator, persons: pd.DataFrame, grids: pd.DataFrame, part_time_rate: float):
    """One full-time (专职) worker per grid, and part-time (兼职) ones, all living in the grid's community.

    Residents of each community are shuffled once; grid k of a community of G grids takes the k-th of them full
    time and the (G+k)-th part time, so no one works two grids."""
    settled = persons[persons["arrival_day"] == 0]
    shuffled = settled.iloc[rng.permutation(len(settled))]
    rank = shuffled.groupby("community_code", sort=False).cumcount()
    pool = pd.DataFrame(
        {"community_code": shuffled["community_code"], "rank": rank, "person_id": shuffled["person_id"]}
    )
    per_community = grids.groupby("community_code", sort=False).cumcount()
    size = grids.groupby("community_code", sort=False)["grid_code"].transform("size")
    part_time = rng.random(len(grids)) < part_time_rate
    wanted = pd.concat(
        [
            pd.DataFrame(
                {
                    "grid_code": grids["grid_code"],
                    "community_code": grids["community_code"],
                    "rank": per_community,
                    "worker_type": "专职",
                    "order": np.arange(len(grids)) * 2,
                }
            ),
            pd.DataFrame(
                {
                    "grid_code": grids["grid_code"],
                    "community_code": grids["community_code"],
                    "rank": size + per_community,
                    "worker_type": "兼职",
                    "order": np.arange(len(grids)) * 2 + 1,
                }
            )[part_time],
        ]
    )
    workers = wanted.merge(pool, on=["community_code", "rank"]).sort_values("order", ignore_index=True)
    workers = workers[["grid_code", "person_id", "worker_type"]]
    workers.insert(0, "worker_id", as_str(padded(np.arange(len(workers)), 6, "WG")))
    return workers
