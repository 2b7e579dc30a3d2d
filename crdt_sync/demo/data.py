"""The demo's data: made here, deterministically (no downloads)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

REGIONS = ("North", "South", "East", "West")
START = dt.date(2026, 1, 1)
DAYS = 180


def sales() -> pd.DataFrame:
    """Daily orders per region over half a year: columns ``date``, ``region``, ``orders``."""
    rng = np.random.default_rng(7)
    dates = pd.date_range(START, periods=DAYS, freq="D")
    frames = []
    for i, region in enumerate(REGIONS):
        trend = np.linspace(40 + 10 * i, 70 + 25 * ((i * 7) % 4), DAYS)
        weekly = 8 * np.sin(np.arange(DAYS) * 2 * np.pi / 7 + i)
        noise = rng.normal(0, 5, DAYS)
        orders = np.maximum(0, trend + weekly + noise).round().astype(int)
        frames.append(pd.DataFrame({"date": dates, "region": region, "orders": orders}))
    return pd.concat(frames, ignore_index=True)


def tasks() -> pd.DataFrame:
    """The shared task table's first rows."""
    return pd.DataFrame(
        {
            "task": ["Check the North dip in March", "Draft Q3 targets", "Invite the West team"],
            "owner": ["Ann", "Bob", ""],
            "points": [3, 5, 1],
            "done": [False, False, True],
            "due": [dt.date(2026, 7, 3), dt.date(2026, 7, 10), dt.date(2026, 6, 30)],
        }
    )
