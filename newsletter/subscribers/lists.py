"""Subscribers and the lists they are on; the CSV exchange format (`email,countries,name` and an
optional fourth column, `frequency`, for digests), read and validated line by line, and
written back by `export_csv`."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from newsletter.content.catalog import ALL, REGIONAL
from newsletter.content.gazetteer import Gazetteer
from newsletter.diagnostics import Diagnostic

EVERY_COUNTRY = "*"
FREQUENCIES = ("daily", "weekly", "monthly")
"""What a subscriber may choose for digests (the site offers some: `newsletter.frequencies`)."""
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


@dataclass(frozen=True, slots=True)
class Subscriber:
    email: str
    name: str
    groups: frozenset[str]
    """Lowercase country codes, `all` for the all-news issue, `regional` for news that names no
    country, `*` for every country's issue."""
    excluded: frozenset[str] = frozenset()
    """Lists left one by one although `*` covers them."""
    frequency: str = ""
    """daily, weekly or monthly for digests; '' for the site's default (`newsletter.period`)."""

    def wants(self, group: str) -> bool:
        if group in self.excluded:
            return False
        return group in self.groups or (EVERY_COUNTRY in self.groups and group not in (ALL, REGIONAL))


def normalise_email(address: str) -> str:
    """The form addresses are stored and compared in: no surrounding space, lower case."""
    return address.strip().lower()


def list_name(item: str, gazetteer: Gazetteer) -> str | None:
    """The list a person means: a country code or name (any language the gazetteer knows),
    `all`, `regional` or `*`; None when it is none of them."""
    text = item.strip()
    if text.lower() in (EVERY_COUNTRY, ALL, REGIONAL):
        return text.lower()
    code = gazetteer.lookup(text)
    return code.lower() if code else None


def valid_email(address: str) -> bool:
    return len(address) <= 254 and _EMAIL.match(address) is not None


def export_csv(subscribers: list[Subscriber]) -> str:
    """The CSV exchange format, as `load_subscribers` reads it; the `frequency` column only
    when someone chose one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    frequencies = any(sub.frequency for sub in subscribers)
    writer.writerow(["email", "countries", "name"] + (["frequency"] if frequencies else []))
    for sub in subscribers:
        writer.writerow([sub.email, " ".join(sorted(sub.groups)), sub.name] + ([sub.frequency] if frequencies else []))
    return out.getvalue()


def load_subscribers(path: str | Path, gazetteer: Gazetteer) -> tuple[list[Subscriber], list[Diagnostic]]:
    """Subscribers in file order; bad lines are reported as `path:line` and skipped."""
    diags: list[Diagnostic] = []
    display = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return [], [
            Diagnostic(
                display,
                0,
                "error",
                "no such subscriber list; pass --subscribers FILE or set newsletter.subscribers in newsletter.toml",
            )
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Diagnostic(display, 0, "error", f"cannot read subscriber list: {exc}")]
    by_email: dict[str, Subscriber] = {}
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if line == 1 and row[0].strip().lower() == "email":
            continue
        email = row[0].strip()
        countries = row[1].strip() if len(row) > 1 else ""
        name = " ".join(row[2].split()) if len(row) > 2 else ""
        frequency = row[3].strip().lower() if len(row) > 3 else ""
        if not valid_email(email):
            diags.append(Diagnostic(display, line, "error", f'"{email}" is not a valid email address; skipped'))
            continue
        groups, unknown = set(), []
        for item in re.split(r"[\s,;]+", countries):
            if not item:
                continue
            listed = list_name(item, gazetteer)
            if listed is None:
                unknown.append(item)
            else:
                groups.add(listed)
        if unknown:
            diags.append(
                Diagnostic(
                    display,
                    line,
                    "error",
                    f"unknown countr{'y' if len(unknown) == 1 else 'ies'} "
                    + ", ".join(f'"{u}"' for u in unknown)
                    + f" for {email}; skipped",
                )
            )
            continue
        if not groups:
            diags.append(
                Diagnostic(
                    display, line, "error", f'no countries for {email}; use codes such as "mx pa" or * for all; skipped'
                )
            )
            continue
        if frequency and frequency not in FREQUENCIES:
            diags.append(
                Diagnostic(
                    display,
                    line,
                    "error",
                    f'frequency "{row[3].strip()}" for {email}: use daily, '
                    "weekly or monthly (or leave it empty for the site's); skipped",
                )
            )
            continue
        key = email.lower()
        if key in by_email:
            diags.append(Diagnostic(display, line, "warning", f"{email} is listed again; countries merged"))
            old = by_email[key]
            by_email[key] = Subscriber(
                old.email, old.name or name, old.groups | groups, frequency=old.frequency or frequency
            )
        else:
            by_email[key] = Subscriber(email, name, frozenset(groups), frequency=frequency)
    if not by_email and not any(d.severity == "error" for d in diags):
        diags.append(Diagnostic(display, 0, "warning", "the subscriber list is empty; nobody is sent anything"))
    return list(by_email.values()), diags
