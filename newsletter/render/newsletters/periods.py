"""Newsletter periods (daily, weekly = ISO week, monthly), derived from entry dates only."""

from __future__ import annotations

import datetime as dt

from newsletter.render.words import PHRASES, language_of, long_date, month_year


def period_id(day: dt.date, period: str) -> str:
    """Stable id of the period a date falls in: `2021-08-26`, `2021-W34` or `2021-08`."""
    if period == "daily":
        return day.isoformat()
    if period == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_label(pid: str, period: str, lang: str = "en") -> str:
    """Human label in `lang`: `26 August 2021`, `week 34, 2021` or `August 2021` in English."""
    lang = language_of(lang)
    if period == "daily":
        return long_date(dt.date.fromisoformat(pid), lang)
    if period == "monthly":
        year, month = pid.split("-")
        return month_year(int(year), int(month), lang)
    year, week = pid.split("-W")
    return PHRASES[lang]["week"].format(week=int(week), year=year)


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
