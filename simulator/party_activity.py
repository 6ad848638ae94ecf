"""The party network beyond its rosters: relationship transfers (组织关系转接), 双报到 registrations with their
latest annual report, and volunteer service with points (志愿服务, 积分制管理).

Drawn a whole column at a time from the world's members, organizations and persons, so the ``city`` preset's
half a million members cost seconds. Each table keeps the clean values and ``dirty_rule`` (the rule a row's
garbled field must be quarantined by; empty for a clean row); ``simulator.drops`` writes the quirks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from simulator import quirks as q
from simulator.text import as_str, concat, padded

TRANSFER_HISTORY_YEARS = 3  # the transfers the party system still holds before the first drop
REGISTRATION_EPOCH = np.datetime64("2019-01-01")  # 双报到 registrations on record start here
SERVICE_HOURS = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
POINTS_PER_HOUR = 10  # 积分制: ten points for each hour served
MEMBER_HOLDING = (
    "C",
    "G",
    "U",
)  # organizations members belong to: community committee, grid and unit branches


@dataclass
class PartyActivity:
    transfers: (
        pd.DataFrame
    )  # one row per transfer, by member and effective date; ``member_pos`` = row in members
    registrations: pd.DataFrame  # one row per 双报到 registration, with its latest annual report
    service: pd.DataFrame  # one row per volunteer per activity


def _days(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]")


def _uniform_days(rng: np.random.Generator, begin: np.ndarray, end: np.datetime64) -> np.ndarray:
    """A day in [begin, end) for each begin (begin itself where the range is empty)."""
    begin = _days(begin)
    span = np.maximum((end - begin).astype(np.int64), 1)
    return begin + (rng.random(len(begin)) * span).astype(np.int64).astype("timedelta64[D]")


def _office_time(rng: np.random.Generator, days: np.ndarray, lag_days: np.ndarray) -> np.ndarray:
    """When a clerk records something of ``days``: ``lag_days`` later, during office hours."""
    seconds = rng.integers(9 * 3600, 17 * 3600, len(days)).astype("timedelta64[s]")
    return (days + lag_days.astype("timedelta64[D]")).astype("datetime64[s]") + seconds


def _lag(rng: np.random.Generator, n: int, late_rate: float) -> np.ndarray:
    """Days a record reaches the system after the fact: 0, or 1-3 for the late ones."""
    return np.where(q.flags(rng, n, late_rate), rng.integers(1, 4, n), 0)


def _dirty(rng: np.random.Generator, n: int, rate: float, rule: str) -> np.ndarray:
    return np.where(q.exactly(rng, n, rate), rule, "")


def transfers(
    rng: np.random.Generator, members: pd.DataFrame, orgs: pd.DataFrame, preset, mess, start: date, days: int
) -> pd.DataFrame:
    """Members move between organizations at the preset's yearly rate, over the years before the first drop
    and during the simulated days. Some go to another branch of the community they live in (内部调整);
    the rest anywhere in the city, filed by the sending (转出) or the receiving (转入) organization.
    Each transfer's ``from_org_code`` is where the one before it left the member."""
    first_day = np.datetime64(start, "D") - np.timedelta64(365 * TRANSFER_HISTORY_YEARS, "D")
    end = np.datetime64(start, "D") + np.timedelta64(days, "D")
    settled = np.flatnonzero(members["arrival_day"].to_numpy() == 0)
    years = (end - first_day).astype(np.int64) / 365
    n = rng.poisson(len(settled) * preset.transfers_per_member_year * years) if len(settled) else 0
    who = settled[rng.integers(0, max(len(settled), 1), n)]
    begin = np.maximum(_days(members["joined_on"].to_numpy()[who]) + 1, first_day)
    effective = _uniform_days(rng, begin, end)
    # a share during the simulated days, so that small presets see members move from night to night
    during = np.datetime64(start, "D") + rng.integers(0, max(days, 1), n).astype("timedelta64[D]")
    effective = np.where(q.flags(rng, n, preset.recent_transfer_share), np.maximum(during, begin), effective)

    holding = orgs[orgs["org_code"].str[0].isin(MEMBER_HOLDING)].sort_values("division_code", kind="stable")
    codes, community = holding["org_code"].to_numpy(), holding["division_code"].to_numpy()
    places, first, size = np.unique(community, return_index=True, return_counts=True)
    home = np.searchsorted(places, members["community_code"].to_numpy()[who])
    within = first[home] + (rng.random(n) * size[home]).astype(np.int64)
    anywhere = rng.integers(0, len(codes), n)
    destination = codes[np.where(rng.random(n) < preset.internal_transfer_share, within, anywhere)]

    frame = pd.DataFrame({"member_pos": who, "effective_on": effective, "to_org_code": destination})
    frame = frame.drop_duplicates(["member_pos", "effective_on"])  # one move per member and day
    frame = frame.sort_values(["member_pos", "effective_on"], kind="stable", ignore_index=True)
    again = frame["member_pos"].eq(frame["member_pos"].shift()).to_numpy()
    original = members["org_code"].to_numpy()[frame["member_pos"].to_numpy()]
    frame["from_org_code"] = np.where(again, frame["to_org_code"].shift().to_numpy(), original)
    # a move to where the member already is is no move; dropping it keeps the chain intact
    frame = frame[frame["from_org_code"] != frame["to_org_code"]].reset_index(drop=True)
    n = len(frame)

    community_of = pd.Series(community, index=codes)
    same = community_of[frame["from_org_code"]].to_numpy() == community_of[frame["to_org_code"]].to_numpy()
    frame["transfer_type"] = np.where(same, "内部调整", np.where(rng.random(n) < 0.5, "转出", "转入"))
    frame["updated_at"] = _office_time(rng, _days(frame["effective_on"]), _lag(rng, n, mess.late_transfer))
    frame["effective_on"] = frame["effective_on"].to_numpy().astype("datetime64[s]")
    frame.insert(0, "transfer_no", as_str(padded(np.arange(n), 8, "ZJ")))
    frame.insert(1, "member_id", members["member_id"].to_numpy()[frame["member_pos"].to_numpy()])
    frame["style"] = rng.integers(0, 4, n)
    frame["fullwidth"] = q.flags(rng, n, mess.fullwidth_digits)
    frame["dirty_rule"] = _dirty(rng, n, mess.bad_transfer_date, "effective_on:not_null")
    return frame


def organization_on(
    members: pd.DataFrame, transfers: pd.DataFrame, cutoff: np.datetime64, base: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Each member's organization and change time in the party system at ``cutoff``: where the last transfer
    it knows of (recorded before ``cutoff``, so effective by then) took them, and when it was recorded."""
    known = transfers[transfers["updated_at"].to_numpy() < cutoff]
    last = known.drop_duplicates("member_pos", keep="last")  # transfers are ordered by member, then date
    org = members["org_code"].to_numpy().copy()
    updated = np.full(len(members), base, dtype="datetime64[s]")
    positions = last["member_pos"].to_numpy()
    org[positions] = last["to_org_code"].to_numpy()
    updated[positions] = np.maximum(last["updated_at"].to_numpy().astype("datetime64[s]"), base)
    return org, updated


def registrations(
    rng: np.random.Generator, members: pd.DataFrame, orgs: pd.DataFrame, preset, mess, start: date, days: int
) -> pd.DataFrame:
    """In-service members register with the community they live in, resident units' party organizations with
    the community they sit in; each files a yearly report, the latest of which the extract carries."""
    end = np.datetime64(start, "D") + np.timedelta64(days, "D")
    in_service = members[(members["employment_status"] == "在职") & (members["arrival_day"] == 0)]
    people = in_service[rng.random(len(in_service)) < preset.dual_registration_share]
    units = orgs[orgs["org_code"].str.startswith("U")]
    units = units[rng.random(len(units)) < preset.unit_registration_share]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "registrant_kind": "党员",
                    "member_id": people["member_id"].to_numpy(),
                    "org_code": "",
                    "community_code": people["community_code"].to_numpy(),
                    "since": _days(people["joined_on"]),
                }
            ),
            pd.DataFrame(
                {
                    "registrant_kind": "党组织",
                    "member_id": "",
                    "org_code": units["org_code"].to_numpy(),
                    "community_code": units["division_code"].to_numpy(),
                    "since": _days(units["founded_on"]),
                }
            ),
        ],
        ignore_index=True,
    )
    n = len(frame)
    registered = _uniform_days(rng, np.maximum(frame.pop("since").to_numpy(), REGISTRATION_EPOCH), end)
    # most registered years ago; a share during the simulated days, so the rate moves day by day
    recent = q.flags(rng, n, preset.recent_registration_share)
    during = np.datetime64(start, "D") + rng.integers(0, max(days, 1), n).astype("timedelta64[D]")
    registered = np.where(recent, np.maximum(during, registered), registered)
    frame["registered_on"] = registered.astype("datetime64[s]")

    # the report of year Y is filed from 1 December of Y into January; the latest is of the year before start
    report_year = start.year - 1
    reported = registered.astype("datetime64[Y]").astype(np.int64) + 1970 <= report_year
    filed = np.datetime64(f"{report_year}-12-01") + rng.integers(0, 45, n).astype("timedelta64[D]")
    filed = np.maximum(filed, registered + 1)
    frame["report_year"] = pd.Series(report_year, index=frame.index, dtype="Int64").where(reported)
    frame["report_submitted_on"] = np.where(reported, filed, np.datetime64("NaT")).astype("datetime64[s]")
    activities = np.where(frame["registrant_kind"] == "党员", rng.poisson(6, n), rng.poisson(20, n)) + 1
    frame["activities_count"] = pd.Series(activities, index=frame.index, dtype="Int64").where(reported)
    changed = np.where(reported, filed, registered)
    frame["updated_at"] = _office_time(rng, changed, np.zeros(n, dtype=np.int64))
    frame.insert(0, "registration_id", as_str(padded(np.arange(n), 8, "SBD")))
    frame["style"] = rng.integers(0, 4, n)
    frame["fullwidth"] = q.flags(rng, n, mess.fullwidth_digits)
    frame["dirty_rule"] = _dirty(rng, n, mess.bad_registration_date, "registered_on:not_null")
    return frame


def volunteer_service(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    members: pd.DataFrame,
    preset,
    mess,
    start: date,
    days: int,
) -> pd.DataFrame:
    """Activities in each community, each served by a few of the volunteers who live there: members (named by
    member number) and residents who are not members, all with the name and phone the platform keeps."""
    start_day = np.datetime64(start, "D")
    settled = persons[persons["arrival_day"] == 0]
    adult = (start_day - _days(settled["birth_date"])).astype(np.int64) >= 18 * 365
    member_of = pd.Series(members["member_id"].to_numpy(), index=members["person_id"].to_numpy())
    member_id = settled["person_id"].map(member_of).fillna("").to_numpy()
    share = np.where(member_id != "", preset.member_volunteer_share, preset.resident_volunteer_share)
    chosen = adult & (rng.random(len(settled)) < share)
    pool = pd.DataFrame(
        {
            "person_id": settled["person_id"].to_numpy()[chosen],
            "member_id": member_id[chosen],
            "full_name": settled["full_name"].to_numpy()[chosen],
            "phone": settled["phone"].to_numpy()[chosen],
            "community_code": settled["community_code"].to_numpy()[chosen],
        }
    ).sort_values("community_code", kind="stable", ignore_index=True)
    places, first, size = np.unique(pool["community_code"].to_numpy(), return_index=True, return_counts=True)

    history = preset.history_days
    per_day = rng.poisson(preset.volunteer_activities_per_community_day, (len(places), history + days))
    place, day = np.nonzero(per_day)
    place, day = np.repeat(place, per_day[place, day]), np.repeat(day, per_day[place, day])
    activities = len(place)
    served_on = start_day + (day - history).astype("timedelta64[D]")
    hours = SERVICE_HOURS[rng.integers(0, len(SERVICE_HOURS), activities)]
    recorded_lag = _lag(rng, activities, mess.late_service)

    volunteers = 1 + rng.poisson(3, activities)
    activity = np.repeat(np.arange(activities), volunteers)
    chosen_volunteer = first[place[activity]] + (rng.random(len(activity)) * size[place[activity]]).astype(
        np.int64
    )
    served = pd.DataFrame({"activity": activity, "volunteer": chosen_volunteer}).drop_duplicates(
        ignore_index=True
    )
    a, v = served["activity"].to_numpy(), served["volunteer"].to_numpy()
    n = len(served)
    seq = served.groupby("activity").cumcount().to_numpy() + 1
    activity_id = as_str(padded(a, 8, "HD"))
    frame = pd.DataFrame(
        {
            "record_no": as_str(concat(activity_id, "-", padded(seq, 2))),
            "activity_id": activity_id,
            "served_on": served_on[a].astype("datetime64[s]"),
            "community_code": places[place[a]],
            "hours": hours[a],
            "points": (hours[a] * POINTS_PER_HOUR).astype(np.int64),
        }
    )
    for column in ("person_id", "member_id", "full_name", "phone"):
        frame[column] = pool[column].to_numpy()[v]
    frame["updated_at"] = _office_time(rng, served_on[a], recorded_lag[a])
    frame["style"] = rng.integers(0, 4, n)
    frame["fullwidth"] = q.flags(rng, n, mess.fullwidth_digits)
    frame["dirty_rule"] = _dirty(rng, n, mess.bad_service_hours, "hours:not_null")
    return frame


def build(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    members: pd.DataFrame,
    orgs: pd.DataFrame,
    preset,
    mess,
    start: date,
    days: int,
) -> PartyActivity:
    return PartyActivity(
        transfers(rng, members, orgs, preset, mess, start, days),
        registrations(rng, members, orgs, preset, mess, start, days),
        volunteer_service(rng, persons, members, preset, mess, start, days),
    )


def recorded_between(frame: pd.DataFrame, since: np.datetime64 | None, cutoff: np.datetime64) -> pd.DataFrame:
    """The rows an incremental extract carries: recorded before ``cutoff`` and, after the first, since ``since``."""
    when = frame["updated_at"].to_numpy()
    keep = when < cutoff
    if since is not None:
        keep &= when >= since
    return frame[keep]


def drop_day(times, start: date) -> np.ndarray:
    """The simulated day (0-based) whose drop first carries something recorded at ``times``."""
    return np.maximum((_days(times) - np.datetime64(start, "D")).astype(np.int64), 0)


def memberships(members: pd.DataFrame, transfers: pd.DataFrame, current_org: np.ndarray) -> pd.DataFrame:
    """Each member's periods in an organization as the loaded records tell them: from joining in the
    organization the first transfer left, then from each transfer's effective date in the one it went to;
    a member with no transfer on record has one period in their ``current_org`` (a row per member)."""
    periods = pd.concat(
        [
            pd.DataFrame(
                {
                    "member_id": members["member_id"].to_numpy(),
                    "valid_from": _days(members["joined_on"]),
                    "org_code": current_org,
                    "order": 0,
                }
            ).set_index("member_id"),
            transfers.assign(valid_from=_days(transfers["effective_on"]), order=1)
            .rename(columns={"to_org_code": "org_code"})
            .set_index("member_id")[["valid_from", "org_code", "order"]],
        ]
    )
    periods = periods[periods.index.isin(members["member_id"])].reset_index()
    first_from = transfers.drop_duplicates("member_id").set_index("member_id")["from_org_code"]
    opening = periods["order"] == 0
    periods.loc[opening, "org_code"] = (
        periods.loc[opening, "member_id"].map(first_from).fillna(periods.loc[opening, "org_code"])
    )
    periods = periods.sort_values(["member_id", "valid_from"], ignore_index=True)
    following = periods["member_id"].eq(periods["member_id"].shift(-1))
    periods["valid_to"] = periods["valid_from"].shift(-1).where(following)
    periods["is_current"] = ~following
    return periods.drop(columns="order")


def reached(activity: PartyActivity, cutoff: np.datetime64, start: date) -> PartyActivity:
    """The records that reached the party system by ``cutoff``, each with ``first_day``, the day whose drop
    first carries it."""
    t = activity.transfers
    t = t[t["updated_at"].to_numpy() < cutoff]
    r = activity.registrations
    r = r[r["registered_on"].to_numpy() < cutoff]
    s = activity.service
    s = s[s["updated_at"].to_numpy() < cutoff]
    return PartyActivity(
        t.assign(first_day=drop_day(t["updated_at"], start)),
        r.assign(first_day=drop_day(r["registered_on"], start)),
        s.assign(first_day=drop_day(s["updated_at"], start)),
    )


def volunteer_key(service: pd.DataFrame) -> pd.Series:
    """How the warehouse tells volunteers apart: a member by member number, anyone else by name and phone."""
    by_name = service["full_name"] + "|+86" + service["phone"]
    return service["member_id"].where(service["member_id"] != "", by_name)


def volunteer_records(service: pd.DataFrame) -> pd.DataFrame:
    """One person record per volunteer with a loaded service record, as person_records lists them."""
    clean = service[service["dirty_rule"] == ""]
    per = clean.assign(record_key=volunteer_key(clean)).groupby("record_key", as_index=False)
    found = per.agg(person_id=("person_id", "first"), first_day=("first_day", "min"))
    return found.assign(system="party", entity="volunteers", dirty_rule="")


def write_truth(
    activity: PartyActivity,
    members: pd.DataFrame,
    current_org: np.ndarray,
    orgs: pd.DataFrame,
    grids: pd.DataFrame,
    start: date,
    days: int,
    folder,
) -> dict[str, int]:
    """Transfers, registrations and service as recorded (clean values, ``dirty_rule``, ``first_day``), the
    membership periods and the party KPIs; ``members`` are those on the roll at the end, ``current_org``
    their organization then. Returns the row count of each extract."""
    from simulator import kpis

    internal = ["member_pos", "style", "fullwidth"]
    activity.transfers.drop(columns=internal).to_parquet(folder / "member_transfers.parquet", index=False)
    activity.registrations.drop(columns=internal[1:]).to_parquet(
        folder / "dual_registrations.parquet", index=False
    )
    activity.service.drop(columns=internal[1:]).to_parquet(folder / "volunteer_service.parquet", index=False)

    clean = members["dirty_rule"].to_numpy() == ""
    t = activity.transfers
    t = t[(t["dirty_rule"] == "") & t["member_id"].isin(members.loc[clean, "member_id"])]
    periods = memberships(members[clean], t, current_org[clean])
    periods["person_id"] = periods["member_id"].map(members.set_index("member_id")["person_id"])
    periods.to_parquet(folder / "party_memberships.parquet", index=False)

    kpis.party_daily(
        members[clean],
        activity.registrations[activity.registrations["dirty_rule"] == ""],
        activity.service[activity.service["dirty_rule"] == ""],
        orgs,
        grids,
        start,
        days,
    ).to_parquet(folder / "kpis_party_daily.parquet", index=False)
    return {
        "party.member_transfers": len(activity.transfers),
        "party.dual_registrations": len(activity.registrations),
        "party.volunteer_service": len(activity.service),
    }
