"""Grid cases with their workflow, and 12345 hotline orders, some of them forwarded to grids as cases."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from ingest import case_catalogue
from simulator.presets import Preset

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


def _workflow(rng: np.random.Generator, reported: datetime, rework: bool) -> list[tuple[str, datetime]]:
    """Report → register → dispatch → handle → feed back → verify (→ rework → …) → close."""
    flow, hours = [("上报", 0.0), ("立案", 0.5), ("派遣", 1.0)], 1.0
    for round_ in range(2 if rework else 1):
        if round_:
            hours += 0.5
            flow.append(("返工", hours))
        for step, delay in (("处置", rng.uniform(2, 30)), ("反馈", 2.0), ("核查", rng.uniform(1, 20))):
            hours += delay
            flow.append((step, hours))
    flow.append(("结案", hours + 0.5))
    return [(step, reported + timedelta(hours=h)) for step, h in flow]


def _level(rng: np.random.Generator) -> str:
    return str(rng.choice(["网格", "社区", "街道", "区"], p=[0.7, 0.2, 0.08, 0.02]))


def generate(
    rng: np.random.Generator,
    preset: Preset,
    start: date,
    days: int,
    grids: pd.DataFrame,
    persons: pd.DataFrame,
    workers: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cases, their steps and hotline orders over ``days`` days (steps may fall after the horizon)."""
    cases, steps, orders = [], [], []
    worker_phone = workers[workers["worker_type"] == "专职"].set_index("grid_code")["phone"]
    grid_by_community = grids.groupby("community_code")["grid_code"].apply(list)
    categories = list(CATALOGUE)

    def add_case(grid_code, origin, reported, reporter, order_no):
        category = categories[rng.integers(0, len(categories))]
        items, deadline_h = CATALOGUE[category]
        case_no = f"AJ{reported:%Y%m%d}{len(cases):06d}"
        flow = _workflow(rng, reported, rework=rng.random() < 0.1)
        cases.append(
            {
                "case_no": case_no,
                "grid_code": grid_code,
                "case_origin": origin,
                "category": category,
                "item": items[rng.integers(0, len(items))],
                "reporter_phone": reporter,
                "hotline_order_no": order_no,
                "reported_at": reported,
                "deadline_at": reported + timedelta(hours=deadline_h),
                "resolved_level": _level(rng),
                "closed_at": flow[-1][1],
            }
        )
        steps.extend(
            {
                "case_no": case_no,
                "step_seq": i + 1,
                "step": s,
                "occurred_at": t,
                "actor": "网格员" if i < 3 else "处置部门",
            }
            for i, (s, t) in enumerate(flow)
        )
        return case_no

    for day in range(days):
        today = datetime.combine(start + timedelta(days=day), datetime.min.time())
        present = persons[persons["arrival_day"] <= day]
        for g in grids.itertuples():
            for _ in range(rng.poisson(preset.cases_per_grid_per_day)):
                origin = ORIGINS[rng.choice(3, p=[0.55, 0.3, 0.15])]
                reported = today + timedelta(hours=8 + rng.uniform(0, 12))
                reporter = {
                    "巡查": worker_phone.get(g.grid_code, ""),
                    "居民上报": present["phone"].iloc[rng.integers(0, len(present))],
                    "视频监控": "",
                }[origin]
                add_case(g.grid_code, origin, reported, reporter, "")
        for _ in range(rng.poisson(preset.hotline_orders_per_day)):
            caller = present.iloc[rng.integers(0, len(present))]
            received = today + timedelta(hours=8 + rng.uniform(0, 12))
            order_no = f"12345{received:%Y%m%d}{len(orders):06d}"
            category = categories[rng.integers(0, len(categories))]
            forwarded = rng.random() < 0.4
            case_no = ""
            if forwarded:
                options = grid_by_community[caller["community_code"]]
                grid_code = options[rng.integers(0, len(options))]
                case_no = add_case(
                    grid_code, "12345转办", received + timedelta(hours=1), caller["phone"], order_no
                )
                completed = cases[-1]["closed_at"] + timedelta(hours=1)
            else:
                completed = received + timedelta(hours=rng.uniform(4, 72))
            orders.append(
                {
                    "order_no": order_no,
                    "received_at": received,
                    "caller_phone": caller["phone"],
                    "caller_person_id": caller["person_id"],
                    "order_type": str(rng.choice(["咨询", "求助", "投诉", "举报", "建议", "表扬"])),
                    "category": category,
                    "community_code": caller["community_code"],
                    "handling_unit": "街道办事处",
                    "deadline_at": received + timedelta(hours=CATALOGUE[category][1] + 24),
                    "completed_at": completed,
                    "forwarded_case_no": case_no,
                    "forwarded_at": received + timedelta(hours=1) if forwarded else pd.NaT,
                    "satisfaction": str(rng.choice(["满意", "基本满意", "不满意"], p=[0.7, 0.2, 0.1])),
                }
            )
    return pd.DataFrame(cases), pd.DataFrame(steps), pd.DataFrame(orders)
