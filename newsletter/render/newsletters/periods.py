"""Newsletter periods (daily, weekly = ISO week, monthly), derived from entry dates only."""

from __future__ import annotations

import datetime as dt

from newsletter.render.site import MONTH_NAMES, longdate


def period_id(day: dt.date, period: str) -> str:
    """Stable id of the period a date falls in: `2021-08-26`, `2021-W34` or `2021-08`."""
    if period == "daily":
        return day.isoformat()
    if period == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_label(pid: str, period: str) -> str:
    """Human label: `26 August 2021`, `week 34, 2021` or `August 2021`."""
    if period == "daily":
        return longdate(dt.date.fromisoformat(pid))
    if period == "monthly":
        year, month = pid.split("-")
        return f"{MONTH_NAMES[int(month) - 1]} {year}"
    year, week = pid.split("-W")
    return f"week {int(week)}, {year}"


def period_noun(period: str) -> str:
    return {"daily": "day", "weekly": "week", "monthly": "month"}[period]


def period_bounds(pid: str, period: str) -> tuple[dt.date, dt.date]:
    """First day of a period and the first day after it."""
    if period == "daily":
        start = dt.date.fromisoformat(pid)
        return start, start + dt.timedelta(days=1)
    if period == "monthly":
        year, month = (int(x) for x in pid.split("-"))
        start = dt.date(year, month, 1)
        return start, dt.date(year + month // 12, month % 12 + 1, 1)
    iso_year, week = pid.split("-W")
    start = dt.date.fromisocalendar(int(iso_year), int(week), 1)
    return start, start + dt.timedelta(days=7)
