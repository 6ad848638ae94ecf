"""What happens to party organizations over the days: a branch renamed and raised to a general branch (党总支),
a resident unit's branch put directly under its street's working committee (隶属关系调整), or dissolved (撤销)
and gone from the next snapshots. A grid's party branch may be dissolved too, leaving its grid uncovered, and a
community's committee (社区大党委), its branches then put under the street's working committee at that moment.
One change at most per organization, kept on the organizations frame (``change``, ``changed_at`` and the
``new_*`` values), so the drops show it from its day on and the truth records it."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from simulator import quirks as q
from simulator.lifecycle import times_on
from simulator.presets import Messiness

RENAMED, REPARENTED, DISSOLVED = "renamed", "reparented", "dissolved"
CHANGED_COLUMNS = ["org_name", "org_type", "parent_org_code"]


def _count(n: int, rate: float) -> int:
    return max(1, round(rate * n)) if n and rate > 0 else 0


def change(
    rng: np.random.Generator, orgs: pd.DataFrame, start: date, days: int, mess: Messiness
) -> pd.DataFrame:
    """``orgs`` with the changes drawn: community committees dissolved, their branches re-parented with them;
    of the other organizations, resident units' branches re-parented or dissolved, grid branches dissolved
    (nothing below either but members), and other branches (党支部) renamed."""
    code = orgs["org_code"].to_numpy().astype(str)
    parent = orgs["parent_org_code"].to_numpy().astype(str)
    committees = rng.permutation(np.flatnonzero(np.char.startswith(code, "C")))
    closed = committees[: _count(len(committees), mess.community_committee_dissolved)]
    under_closed = np.isin(parent, code[closed])
    kind = np.full(len(orgs), "", object)
    units = rng.permutation(np.flatnonzero(np.char.startswith(code, "U") & ~under_closed))
    reparented = units[: _count(len(units), mess.organization_reparented)]
    dissolved = units[len(reparented) :][: _count(len(units), mess.organization_dissolved)]
    grid_branches = rng.permutation(np.flatnonzero(np.char.startswith(code, "G") & ~under_closed))
    kind[reparented], kind[dissolved] = REPARENTED, DISSOLVED
    kind[grid_branches[: _count(len(grid_branches), mess.grid_branch_dissolved)]] = DISSOLVED
    kind[closed], kind[under_closed] = DISSOLVED, REPARENTED
    branches = np.flatnonzero((orgs["org_type"].to_numpy() == "党支部") & (kind == ""))
    kind[branches[q.exactly(rng, len(branches), mess.organization_renamed)]] = RENAMED

    out = orgs.assign(change=kind, **{f"new_{c}": orgs[c] for c in CHANGED_COLUMNS})
    renamed, moved = kind == RENAMED, kind == REPARENTED
    out.loc[renamed, "new_org_name"] = out.loc[renamed, "org_name"].str.replace(
        "党支部", "党总支", regex=False
    )
    out.loc[renamed, "new_org_type"] = "党总支"
    out.loc[moved, "new_parent_org_code"] = "S" + out.loc[moved, "division_code"].str[:9]
    changed_at = np.full(len(orgs), np.datetime64("NaT"), "datetime64[ms]")
    changed_at[kind != ""] = times_on(rng, start, days, int((kind != "").sum()))
    # a committee's branches move to the street the moment it is dissolved
    when = pd.Series(changed_at[closed], index=code[closed])
    changed_at[under_closed] = when.reindex(parent[under_closed]).to_numpy()
    out["changed_at"] = changed_at
    return out


def dissolved_at(orgs: pd.DataFrame) -> pd.Series:
    """When each organization was dissolved, by ``orgs``' index; NaT for one still standing."""
    return orgs["changed_at"].where(orgs["change"] == DISSOLVED)


def organizations_on(orgs: pd.DataFrame, cutoff: np.datetime64, listed_at: datetime) -> pd.DataFrame:
    """The organization snapshot as of ``cutoff``: a dissolved organization is gone, a changed one carries its
    new values stamped with the change; the rest with ``listed_at``."""
    changed = (orgs["changed_at"] < cutoff).to_numpy()
    present = orgs[~(changed & (orgs["change"] == DISSOLVED).to_numpy())]
    changed = (present["changed_at"] < cutoff).to_numpy()
    snapshot = present.assign(
        **{c: present[f"new_{c}"].where(changed, present[c]) for c in CHANGED_COLUMNS},
        updated_at=present["changed_at"].where(changed, np.datetime64(listed_at, "ms")),
    )
    return snapshot.drop(columns=["change", "changed_at", *(f"new_{c}" for c in CHANGED_COLUMNS)])


def changes(orgs: pd.DataFrame, cutoff: np.datetime64) -> pd.DataFrame:
    """The truth: each change made before ``cutoff``, the values before it and after."""
    made = orgs[(orgs["changed_at"] < cutoff).to_numpy()]
    return made[
        ["org_code", "change", "changed_at", *CHANGED_COLUMNS, *(f"new_{c}" for c in CHANGED_COLUMNS)]
    ]
