"""Newsletter periods (daily, weekly = ISO week, monthly), derived from entry dates only, and
their names as people read them: `4 March 2025`, `10–16 March 2025`, `March 2025`."""

from __future__ import annotations

import datetime as dt
import functools

from newsletter.render.words import ENGLISH_MONTHS, language_of, long_date, month_year

EN_DASH = "\u2013"


@functools.lru_cache(maxsize=8192)  # asked for each entry of each list: entries share their dates
def period_id(day: dt.date, period: str) -> str:
    """Stable id of the period a date falls in: `2021-08-26`, `2021-W34` or `2021-08`."""
    if period == "daily":
        return day.isoformat()
    if period == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def frequency_of(pid: str) -> str:
    """The kind of period an id names (the three forms never overlap)."""
    if "-W" in pid:
        return "weekly"
    return "daily" if pid.count("-") == 2 else "monthly"


@functools.lru_cache(maxsize=4096)  # each list's issues have the periods of `all`'s: 1k, 1,285 labels of 104
def period_label(pid: str, period: str, lang: str = "en") -> str:
    """Human label in `lang`: `26 August 2021`, `23–29 August 2021` or `August 2021` in English."""
    lang = language_of(lang)
    if period == "daily":
        return long_date(dt.date.fromisoformat(pid), lang)
    if period == "monthly":
        year, month = pid.split("-")
        return month_year(int(year), int(month), lang)
    start, after = period_bounds(pid, period)
    return date_range(start, after - dt.timedelta(days=1), lang)


@functools.lru_cache(maxsize=4096)
def date_range(first: dt.date, last: dt.date, lang: str) -> str:
    """`10–16 March 2025`, `28 April – 4 May 2025`, `29 December 2025 – 4 January 2026`; in
    Spanish `10–16 de marzo de 2025`, French `10–16 mars 2025`, Portuguese `10–16 de março de 2025`.

    Written from CLDR's long date and day-month forms rather than Babel's `format_interval`,
    whose English is American (`Mar 10 – 16, 2025`) and whose French and Portuguese
    intervals abbreviate the months, unlike every other date on the site."""
    if first == last:
        return long_date(first, lang)
    if first.year != last.year:
        return f"{long_date(first, lang)} {EN_DASH} {long_date(last, lang)}"
    if first.month == last.month:
        return f"{first.day}{EN_DASH}{long_date(last, lang)}"
    return f"{day_month(first, lang)} {EN_DASH} {long_date(last, lang)}"


def day_month(day: dt.date, lang: str) -> str:
    """`28 April`, `28 de abril`, `28 avril`, `28 de abril`."""
    if lang == "en":
        return f"{day.day} {ENGLISH_MONTHS[day.month - 1]}"
    from babel.dates import format_skeleton

    return format_skeleton("MMMMd", day, locale=lang)


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
