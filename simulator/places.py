"""Dalian's divisions and a grid layout that tiles each community."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from simulator.presets import Preset

DALIAN_DISTRICTS = {
    "210202": "中山区",
    "210203": "西岗区",
    "210204": "沙河口区",
    "210211": "甘井子区",
    "210212": "旅顺口区",
    "210213": "金州区",
    "210214": "普兰店区",
    "210224": "长海县",
    "210281": "瓦房店市",
    "210283": "庄河市",
}
_STREET_WORDS = [
    "桃源",
    "青泥洼桥",
    "人民路",
    "海军广场",
    "葵英",
    "老虎滩",
    "白云",
    "八一路",
    "香炉礁",
    "黑石礁",
    "春柳",
    "星海湾",
]
_COMMUNITY_WORDS = [
    "白荡海",
    "昆明",
    "秀月",
    "长春",
    "新华",
    "友好",
    "中心",
    "明泽",
    "锦绣",
    "华北",
    "光明",
    "富民",
    "和平",
    "春阳",
    "东山",
    "西岭",
]
_NUMERALS = "一二三四五六七八九十"


COMMUNITY_SIDE = 0.008  # degrees; communities sit on a 0.01° lattice, so they never overlap


def build(preset: Preset) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Streets, communities and grids; each community is a rectangle split west→east into its grids."""
    n_streets, n_communities = preset.streets_per_district, preset.communities_per_street
    d_index = np.repeat(np.arange(len(preset.districts)), n_streets)
    s = np.tile(np.arange(1, n_streets + 1), len(preset.districts))
    district = np.asarray(preset.districts)[d_index]
    street_name = np.asarray(_STREET_WORDS)[(d_index * 5 + s) % len(_STREET_WORDS)]
    streets = pd.DataFrame(
        {
            "street_code": pd.Series(district) + pd.Series(s).map("{:03d}".format),
            "street_name": pd.Series(street_name) + "街道",
            "district_code": district,
        }
    )

    st = np.repeat(np.arange(len(streets)), n_communities)
    c = np.tile(np.arange(1, n_communities + 1), len(streets))
    words = np.asarray(_COMMUNITY_WORDS)[(d_index[st] * 7 + s[st] * 3 + c) % len(_COMMUNITY_WORDS)]
    communities = pd.DataFrame(
        {
            "community_code": streets["street_code"].to_numpy()[st] + pd.Series(c).map("{:03d}".format),
            "community_name": pd.Series(words) + "社区",
            "street_code": streets["street_code"].to_numpy()[st],
            "street_name": streets["street_name"].to_numpy()[st],
            "district_code": district[st],
        }
    )

    per = preset.grids_per_community
    co = np.repeat(np.arange(len(communities)), per)
    g = np.tile(np.arange(1, per + 1), len(communities))
    west = 121.55 + (d_index[st][co] * (n_streets + 1) + s[st][co]) * 0.01
    south = 38.85 + c[co] * 0.01
    width = COMMUNITY_SIDE / per
    x0, x1, y0, y1 = west + (g - 1) * width, west + g * width, south, south + COMMUNITY_SIDE
    name = communities["community_name"].to_numpy()[co]
    grids = pd.DataFrame(
        {
            "grid_code": communities["community_code"].to_numpy()[co] + pd.Series(g).map("{:04d}".format),
            "grid_name": pd.Series(name)
            + "第"
            + pd.Series(np.asarray(list(_NUMERALS))[(g - 1) % 10])
            + "网格",
            "community_code": communities["community_code"].to_numpy()[co],
            "community_name": name,
            "street_name": communities["street_name"].to_numpy()[co],
            # thousands of grids, not millions: json.dumps keeps the float text exactly as before
            "geometry": [
                json.dumps({"type": "Polygon", "coordinates": [[[a, b], [e, b], [e, f], [a, f], [a, b]]]})
                for a, e, b, f in zip(x0.tolist(), x1.tolist(), y0.tolist(), y1.tolist(), strict=True)
            ],
            "area_m2": round(width * 87_000 * COMMUNITY_SIDE * 111_000, 1),
        }
    )
    return streets, communities, grids
