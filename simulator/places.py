"""Dalian's divisions and a grid layout that tiles each community."""

from __future__ import annotations

import json

import pandas as pd

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


def build(preset: Preset) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Streets, communities and grids; each community is a rectangle split west→east into its grids."""
    streets, communities, grids = [], [], []
    for d_index, district in enumerate(preset.districts):
        for s in range(1, preset.streets_per_district + 1):
            street_code = f"{district}{s:03d}"
            street_name = _STREET_WORDS[(d_index * 5 + s) % len(_STREET_WORDS)] + "街道"
            streets.append(
                {"street_code": street_code, "street_name": street_name, "district_code": district}
            )
            for c in range(1, preset.communities_per_street + 1):
                community_code = f"{street_code}{c:03d}"
                community_name = _COMMUNITY_WORDS[(d_index * 7 + s * 3 + c) % len(_COMMUNITY_WORDS)] + "社区"
                communities.append(
                    {
                        "community_code": community_code,
                        "community_name": community_name,
                        "street_code": street_code,
                        "street_name": street_name,
                        "district_code": district,
                    }
                )
                west = 121.55 + d_index * 0.10 + s * 0.02
                south = 38.85 + c * 0.01
                width = 0.008 / preset.grids_per_community
                for g in range(1, preset.grids_per_community + 1):
                    x0, x1 = west + (g - 1) * width, west + g * width
                    ring = [[x0, south], [x1, south], [x1, south + 0.008], [x0, south + 0.008], [x0, south]]
                    grids.append(
                        {
                            "grid_code": f"{community_code}{g:04d}",
                            "grid_name": f"{community_name}第{_NUMERALS[(g - 1) % 10]}网格",
                            "community_code": community_code,
                            "community_name": community_name,
                            "street_name": street_name,
                            "geometry": json.dumps({"type": "Polygon", "coordinates": [ring]}),
                            "area_m2": round(width * 87_000 * 0.008 * 111_000, 1),
                        }
                    )
    return pd.DataFrame(streets), pd.DataFrame(communities), pd.DataFrame(grids)
