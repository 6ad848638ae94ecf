"""People of the simulated city: one table of real persons, from which every system's records derive."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from stdnum.cn import ric

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国志红玉萍海燕文辉鹏飞宇浩然欣怡子涵晨")
_MINORITY = ["阿依古丽·买买提", "努尔·艾力", "古丽娜·阿不都", "热依拉·吐尔逊"]
_PHONE_PREFIXES = np.array(
    [130, 131, 132, 135, 136, 137, 138, 139, 150, 151, 158, 159, 177, 186, 187, 188, 199]
)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    surname = rng.choice(_SURNAMES, n)
    given_len = rng.choice([1, 2], n, p=[0.35, 0.65])
    g1, g2 = rng.choice(_GIVEN, n), rng.choice(_GIVEN, n)
    names = np.where(given_len == 1, np.char.add(surname, g1), np.char.add(np.char.add(surname, g1), g2))
    minority = rng.random(n) < 0.01
    names[minority] = rng.choice(_MINORITY, minority.sum())
    return names


def id_number(district: str, birth: date, sequence: int) -> str:
    body = f"{district}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check character


def build(
    rng: np.random.Generator, n: int, communities: pd.DataFrame, start: date, days: int
) -> pd.DataFrame:
    """Persons with unique phones and valid ID numbers; a few move into the city on each simulated day."""
    community = communities.sample(n=n, replace=True, random_state=rng).reset_index(drop=True)
    birth = [date(1940, 1, 1) + timedelta(days=int(x)) for x in rng.integers(0, 365 * 66, n)]
    gender = rng.choice(["男", "女"], n)
    sequence = rng.integers(0, 500, n) * 2 + np.where(gender == "男", 1, 0)
    phones = _PHONE_PREFIXES[rng.integers(0, len(_PHONE_PREFIXES), n)].astype(np.int64) * 10**8
    phones += rng.choice(10**8, n, replace=False)
    arrival = np.where(rng.random(n) < 0.9, 0, rng.integers(0, max(days, 1), n))
    persons = pd.DataFrame(
        {
            "person_id": [f"P{i:08d}" for i in range(n)],
            "full_name": _names(rng, n),
            "gender": gender,
            "birth_date": birth,
            "phone": phones.astype(str),
            "community_code": community["community_code"],
            "district_code": community["district_code"],
            "address": community["community_name"] + rng.integers(1, 120, n).astype(str) + "号",
            "arrival_day": arrival,
        }
    )
    persons["id_number"] = [
        id_number(d, b, s)
        for d, b, s in zip(persons["district_code"], persons["birth_date"], sequence, strict=True)
    ]
    # ID numbers are unique in reality; drop the rare simulated collision rather than invent a rule.
    return persons.drop_duplicates("id_number").reset_index(drop=True)
