"""People of the simulated city: one table of real persons, from which every system's records derive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.text import as_str, concat, strings

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国志红玉萍海燕文辉鹏飞宇浩然欣怡子涵晨")
_MINORITY = ["阿依古丽·买买提", "努尔·艾力", "古丽娜·阿不都", "热依拉·吐尔逊"]
_PHONE_PREFIXES = np.array(
    [130, 131, 132, 135, 136, 137, 138, 139, 150, 151, 158, 159, 177, 186, 187, 188, 199]
)
_ID_WEIGHTS = np.array([2 ** (17 - i) % 11 for i in range(17)])  # GB 11643 / ISO 7064 MOD 11-2
_CHECK_CHARS = np.array(list("0123456789X"))
BIRTH_EPOCH = np.datetime64("1940-01-01")


def _names(rng: np.random.Generator, n: int) -> pa.Array:
    """Surname + one or two given characters, and a few minority names with a middle dot."""
    vocabulary = np.array(
        [s + g for s in _SURNAMES for g in _GIVEN]
        + [s + g1 + g2 for s in _SURNAMES for g1 in _GIVEN for g2 in _GIVEN]
        + _MINORITY
    )
    surname, g1, g2 = (
        rng.integers(0, len(_SURNAMES), n),
        rng.integers(0, len(_GIVEN), n),
        rng.integers(0, len(_GIVEN), n),
    )
    one = len(_SURNAMES) * len(_GIVEN)
    index = np.where(
        rng.random(n) < 0.35,
        surname * len(_GIVEN) + g1,
        one + (surname * len(_GIVEN) + g1) * len(_GIVEN) + g2,
    )
    minority = rng.random(n) < 0.01
    index[minority] = len(vocabulary) - len(_MINORITY) + rng.integers(0, len(_MINORITY), minority.sum())
    return pa.array(vocabulary, pa.large_string()).take(pa.array(index))


def check_characters(bodies: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters of 17-digit ID number bodies given as integers."""
    total = np.zeros(len(bodies), dtype=np.int64)
    for place, weight in enumerate(_ID_WEIGHTS[::-1]):
        total += (bodies // 10**place) % 10 * weight
    return _CHECK_CHARS[(12 - total % 11) % 11]


def unique_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 11-digit mobiles: draw, then redraw the few that collide."""
    space = len(_PHONE_PREFIXES) * 10**8
    codes = rng.integers(0, space, n)
    while True:
        _, first = np.unique(codes, return_index=True)
        repeat = np.ones(n, dtype=bool)
        repeat[first] = False
        if not repeat.any():
            break
        codes[repeat] = rng.integers(0, space, repeat.sum())
    return _PHONE_PREFIXES[codes // 10**8].astype(np.int64) * 10**8 + codes % 10**8


def build(
    rng: np.random.Generator,
    n: int,
    communities: pd.DataFrame,
    days: int,
    newcomer_share: float,
) -> pd.DataFrame:
    """Persons with unique phones and valid ID numbers; a few move into the city on each simulated day."""
    community = pa.array(rng.integers(0, len(communities), n))
    columns = ["community_code", "community_name", "district_code"]
    place = pa.Table.from_pandas(communities[columns], preserve_index=False).take(community)
    birth = BIRTH_EPOCH + rng.integers(0, 365 * 66, n).astype("timedelta64[D]")
    male = rng.random(n) < 0.5
    sequence = rng.integers(0, 500, n) * 2 + male
    phones = unique_phones(rng, n)
    arrival = np.where(rng.random(n) < 1 - newcomer_share, 0, rng.integers(0, max(days, 1), n))
    born = pa.array(birth)
    yyyymmdd = pc.add(
        pc.add(pc.multiply(pc.year(born), 10_000), pc.multiply(pc.month(born), 100)), pc.day(born)
    )
    district = place["district_code"].cast(pa.int64()).to_numpy()
    body = district * 10**11 + yyyymmdd.to_numpy().astype(np.int64) * 1000 + sequence
    persons = pd.DataFrame(
        {
            "person_id": as_str(concat("P", pc.utf8_lpad(strings(pa.array(np.arange(n))), 8, "0"))),
            "full_name": as_str(_names(rng, n)),
            "gender": pd.Categorical.from_codes(male.astype(np.int8), ["女", "男"]).astype("str"),
            "birth_date": birth.astype("datetime64[s]"),
            "phone": as_str(strings(pa.array(phones))),
            "community_code": as_str(place["community_code"]),
            "district_code": as_str(place["district_code"]),
            "address": as_str(
                concat(place["community_name"], strings(pa.array(rng.integers(1, 120, n))), "号")
            ),
            "arrival_day": arrival,
            "id_number": as_str(
                concat(strings(pa.array(body)), pa.array(check_characters(body), pa.large_string()))
            ),
        }
    )
    # ID numbers are unique in reality; drop the rare simulated collision rather than invent a rule.
    return persons[~pd.Series(body).duplicated().to_numpy()].reset_index(drop=True)
