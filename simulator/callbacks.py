"""12345 callbacks (回访): after an order is completed, the hotline calls the caller back and records the
result; some orders are never called back (the caller declined or left no number), recorded as 未回访."""

from __future__ import annotations

import numpy as np
import pandas as pd

NOT_CALLED_BACK = "未回访"
NOT_CALLED_BACK_SHARE = 0.1
HOURS_TO_CALLBACK = (1, 48)


def add(rng: np.random.Generator, orders: pd.DataFrame) -> None:
    """``callback_at`` (none for an order not called back) and ``callback_result``: the caller's satisfaction,
    or 未回访, known from the order's completion."""
    n = len(orders)
    skipped = rng.random(n) < NOT_CALLED_BACK_SHARE
    delay = (rng.uniform(*HOURS_TO_CALLBACK, n) * 3600 * 1000).astype("timedelta64[ms]")
    completed = orders["completed_at"].to_numpy().astype("datetime64[ms]")
    orders["callback_at"] = np.where(skipped, np.datetime64("NaT", "ms"), completed + delay)
    orders["callback_result"] = np.where(skipped, NOT_CALLED_BACK, orders["satisfaction"].to_numpy())
