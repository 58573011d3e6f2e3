"""Typed, validated configuration (`newsletter.toml` plus command-line overrides).

Every option is declared once in `OPTIONS` with its type, default and a one-line doc.
All problems are collected and reported by option name, then one `ConfigError` is raised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError


@dataclass(frozen=True)
class Option:
    """One configuration option: TOML `section.key`, attribute name, type, default and doc."""

    key: str
    type: type | tuple[type, ...]
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None
    is_path: bool = False
    """A path (or list of paths): relative ones in a config file are relative to that file's folder."""

    @property
    def attr(self) -> str:
        return self.key.replace(".", "_")


def _url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URL such as https://news.example.org/"
    return None


def _optional_url(value: str) -> str | None:
    return _url(value) if value else None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f'unknown time zone "{value}"; use an IANA name such as "UTC" or "America/Mexico_City"'
    return None


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be a positive whole number"


def _non_negative(value: int | float) -> str | None:
    return None if value >= 0 else "must not be negative"


def _language(value: str) -> str | None:
    return (
        None
        if re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", value)
        else 'must be a language tag such as "en" or "es-MX"'
    )


def _date(value: str) -> str | None:
    if not value:
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "must be a date such as 2021-08-23"
    return None


def _colour(value: str) -> str | None:
    return None if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else 'must be a colour such as "#0b5cad"'


def _one_of(*choices: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(f'"{c}"' for c in choices)

    return check


def _frequencies(value: list) -> str | None:
    wrong = [v for v in value if v not in ("daily", "weekly", "monthly")]
    return f"must be some of daily, weekly, monthly, not {', '.join(map(repr, wrong))}" if wrong else None


def _email(value: str) -> str | None:
    if not value:
        return None
    return None if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value) else "must be an email address"


def _database(value: str) -> str | None:
    return (
        None
        if not value or value.startswith(("postgresql://", "postgres://"))
        else "must be empty (SQLite in the state folder) or a postgresql:// URL"
    )


def _authority(value: str) -> str | None:
    if not value:
        return None
    return (
        None
        if re.fullmatch(r"[A-Za-z0-9.-]+(@[A-Za-z0-9.-]+)?", value)
        else "must be a domain name or email address (RFC 4151)"
    )


OPTIONS: tuple[Option, ...] = (
    Option("title", str, "News", "Site title, shown on pages and as the feeds' title prefix."),
    Option("description", str, "", "One sentence about the site, used in feeds and pages."),
    Option(
        "base_url",
        str,
        "",
        "Absolute URL where the output folder is published; every link is made from it.",
        _optional_url,
    ),
    Option("language", str, "en", "Language tag of the feeds and pages.", _language),
    Option("timezone", str, "UTC", "IANA time zone; entries are published at midnight of their date here.", _timezone),
    Option("feed_limit", int, 50, "How many of the newest entries each feed carries.", _positive),
    Option("authority", str, "", "Tag-URI authority for entry ids (default: the base URL's host).", _authority),
    Option("author", str, "", "Author name given in the feeds."),
    Option(
        "bulletins",
        list,
        ["bulletins"],
        "Folders or files read when no BULLETINS are given on the command line.",
        is_path=True,
    ),
    Option("out", str, "feeds", "Output folder.", is_path=True),
    Option(
        "state",
        str,
        ".newsletter",
        "State folder (parse cache, entry identity, send log); never inside the output folder.",
        is_path=True,
    ),
    Option(
        "database",
        str,
        "",
        "Where the subscriber store and send log live: empty for SQLite files in the state folder, or postgresql://USER@HOST:PORT/DB (several senders and serve instances on one database).",
        _database,
    ),
    Option("aliases", dict, {}, "Extra names for countries: name = ISO code."),
    Option("exclusions", list, [], "Phrases that must never tag a country."),
    Option("newsletter.enabled", bool, True, "Build newsletter issues at all (false: feeds and pages only)."),
    Option(
        "newsletter.period",
        str,
        "weekly",
        "One newsletter issue per daily, weekly (ISO week) or monthly period.",
        _one_of("daily", "weekly", "monthly"),
    ),
    Option(
        "newsletter.archive_periods",
        int,
        104,
        "How many of the newest periods get an issue per country (0: every period since the first entry).",
        _non_negative,
    ),
    Option("newsletter.from_address", str, "newsletter@example.org", "From address of newsletters.", _email),
    Option("newsletter.from_name", str, "", "Display name in the From header (default: the site title)."),
    Option("newsletter.reply_to", str, "", "Reply-To address, if any.", _email),
    Option(
        "newsletter.unsubscribe_mailto",
        str,
        "",
        "Address for mailto: unsubscribe requests (default: the From address).",
        _email,
    ),
    Option(
        "newsletter.unsubscribe_url",
        str,
        "",
        "HTTPS endpoint for one-click unsubscribe; a per-recipient token is appended (default with public_url: its /unsubscribe).",
        _optional_url,
    ),
    Option(
        "newsletter.public_url",
        str,
        "",
        "Where `newsletter serve` is reachable (e.g. https://news.example.org/newsletter/): sign-up forms on the pages, one-click unsubscribe and preferences links in every message.",
        _optional_url,
    ),
    Option(
        "newsletter.bounce_address",
        str,
        "",
        "Envelope sender for bounces, sent as VERP (bounces+TOKEN@domain) so each bounce maps to its subscriber (default: the From address, no VERP).",
        _email,
    ),
    Option(
        "newsletter.soft_bounce_limit",
        int,
        3,
        "Soft bounces in a row after which an address counts as bounced.",
        _positive,
    ),
    Option(
        "newsletter.secret_env",
        str,
        "NEWSLETTER_SECRET",
        "Environment variable holding the key that signs unsubscribe tokens.",
    ),
    Option(
        "newsletter.max_bytes",
        int,
        100_000,
        "Largest HTML part; more entries than fit become a list of links (Gmail clips at ~102 KB).",
        _positive,
    ),
    Option(
        "newsletter.send_delay",
        float,
        6.0,
        "Hours after a period ends before `send --due` sends its issue, so that late bulletins still make it.",
        _non_negative,
    ),
    Option(
        "newsletter.send_since",
        str,
        "",
        "Date (YYYY-MM-DD): `send --due` sends issues of periods ending after it (default: from the period before the first `--due` run).",
        _date,
    ),
    Option(
        "newsletter.delivery",
        str,
        "digest",
        "`digest`: one message per subscriber per period, each entry of their lists once; `lists`: one message per list and issue, with its List-Id.",
        _one_of("digest", "lists"),
    ),
    Option(
        "newsletter.frequencies",
        list,
        [],
        "Frequencies subscribers may choose for digests, of daily, weekly, monthly (default: the `period` only).",
        _frequencies,
    ),
    Option(
        "newsletter.subscribers",
        str,
        "subscribers.csv",
        "CSV of subscribers (email,countries,name); never inside the output folder.",
        is_path=True,
    ),
    Option("smtp.host", str, "localhost", "SMTP server host."),
    Option("smtp.port", int, 587, "SMTP server port.", _positive),
    Option("smtp.tls", str, "starttls", "starttls, ssl or none.", _one_of("starttls", "ssl", "none")),
    Option(
        "smtp.ca_file",
        str,
        "",
        "CA certificates (PEM) to trust for the SMTP server, e.g. a private relay's (default: the system's).",
        is_path=True,
    ),
    Option("smtp.username", str, "", "SMTP user name, if the server needs one."),
    Option(
        "smtp.password_env",
        str,
        "NEWSLETTER_SMTP_PASSWORD",
        "Environment variable holding the SMTP password (never put it in the file).",
    ),
    Option("smtp.timeout", float, 30.0, "Seconds to wait for the SMTP server.", _positive),
    Option(
        "smtp.max_attempts",
        int,
        5,
        "Tries per message for temporary failures (4xx, lost connection) before leaving it for the next run.",
        _positive,
    ),
    Option(
        "smtp.retry_delay",
        float,
        1.0,
        "Seconds before the first retry; doubles on each retry, at most 60.",
        _non_negative,
    ),
    Option(
        "smtp.max_connect_failures",
        int,
        3,
        "Failed connections in a row after which a run stops (the server is down).",
        _positive,
    ),
    Option(
        "smtp.max_uncertain",
        int,
        3,
        "Lost replies in a row (the message went out, no answer came) after which a run stops: a server that takes messages but never answers is not tried for every recipient.",
        _positive,
    ),
    Option(
        "smtp.connections",
        int,
        4,
        "SMTP connections used at once by `send --due` for digests; each message is still sent once.",
        _positive,
    ),
    Option("smtp.rate", float, 0.0, "Most messages per second (0: as fast as the server takes them).", _non_negative),
    Option("serve.confirm_hours", float, 48.0, "How long a sign-up's confirmation link stays valid.", _positive),
    Option(
        "serve.client_rate",
        int,
        20,
        "Sign-ups (and other form posts) one client address may make per 10 minutes.",
        _positive,
    ),
    Option(
        "serve.address_rate",
        int,
        3,
        "Messages (confirmations, preferences links) serve may send one email address per hour; failed tries do not count.",
        _positive,
    ),
    Option(
        "serve.mail_retry",
        float,
        10.0,
        "Seconds before serve tries again to send a confirmation or preferences-link message; doubled each time up to 30 minutes, until its link would expire.",
        _positive,
    ),
    Option(
        "serve.proxies",
        int,
        0,
        "Reverse proxies in front of `serve` whose X-Forwarded-For is trusted for client addresses (1 behind nginx).",
        _non_negative,
    ),
    Option(
        "brand.logo",
        str,
        "",
        "Image file (SVG, PNG…) shown beside the site title on every page; copied into the output folder.",
        is_path=True,
    ),
    Option(
        "brand.favicon",
        str,
        "",
        "Icon file for browser tabs (default: a bundled one); copied into the output folder.",
        is_path=True,
    ),
    Option("brand.accent", str, "#0b5cad", "Colour of links and buttons on the site (#rrggbb).", _colour),
    Option(
        "brand.accent_dark",
        str,
        "#7db7ff",
        "The same colour in dark mode (it must read on a dark background).",
        _colour,
    ),
    Option("brand.footer_text", str, "", "A line in every page's footer, e.g. the organisation's name."),
    Option("brand.footer_link", str, "", "Where the footer line links to.", _optional_url),
    Option("watch.debounce_ms", int, 250, "Quiet time after the last file event before a rebuild.", _non_negative),
    Option(
        "watch.rescan_seconds",
        float,
        60.0,
        "Full rescan interval that catches missed events (0 turns it off).",
        _non_negative,
    ),
    Option(
        "watch.websub_hub", str, "", "WebSub hub URL announced in feeds and pinged when they change.", _optional_url
    ),
)
_BY_KEY = {o.key: o for o in OPTIONS}


def _make_config_class() -> type:
    fields = [(o.attr, Any, field(default_factory=functools.partial(_copy, o.default))) for o in OPTIONS]
    return dataclasses.make_dataclass("Config", fields, frozen=True, namespace={"__doc__": __doc__})


def _copy(value: Any) -> Any:
    return type(value)(value) if isinstance(value, (list, dict)) else value


Config: Any = _make_config_class()
"""Frozen configuration; attributes are the option keys with `.` replaced by `_`."""


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    return names.get(t, str(t)) if not isinstance(t, tuple) else " or ".join(names[x] for x in t)


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and full not in _BY_KEY:
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> Any:
    """Read `path` (if given), apply non-None `overrides` (option key → value), validate.

    Relative paths from the file (and the defaults of path options, when there is a file)
    are relative to the file's folder, so that a site behaves the same from any working
    directory; paths in `overrides` come from the command line and stay as given (relative
    to the current directory).
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    source = str(path) if path else None
    if path is not None:
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(["no such configuration file"], path=source) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"not valid TOML: {exc}"], path=source) from exc
        values.update(_flatten(raw))
    overridden = set()
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            overridden.add(key)

    for key in sorted(values):
        if key not in _BY_KEY:
            near = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.75)
            problems.append(f"{key}: unknown option" + (f"; did you mean {near[0]}?" if near else ""))
    final: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.key, _copy(option.default))
        expected = option.type
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            problems.append(f"{option.key}: must be {_type_name(expected)}, got {value!r}")
            continue
        if option.check is not None:
            message = option.check(value)
            if message:
                problems.append(f"{option.key}: {message}")
                continue
        final[option.attr] = value

    if "base_url" in final:
        if not final["base_url"]:
            problems.append("base_url: required; pass --base-url URL or set base_url in newsletter.toml")
        elif not final["base_url"].endswith("/"):
            final["base_url"] += "/"
    for name, code in final.get("aliases", {}).items():
        from newsletter.content.gazetteer import load_gazetteer

        if not isinstance(code, str) or not load_gazetteer().is_code(code):
            problems.append(f"aliases.{name}: {code!r} is not an ISO 3166-1 alpha-2 country code")
    for item in final.get("exclusions", []):
        if not isinstance(item, str):
            problems.append(f"exclusions: {item!r} is not a string")
    for item in final.get("bulletins", []):
        if not isinstance(item, str):
            problems.append(f"bulletins: {item!r} is not a path")
    if problems:
        raise ConfigError(problems, path=source)
    if not final["authority"]:
        final["authority"] = urlsplit(final["base_url"]).hostname or "localhost"
    if not final["newsletter_from_name"]:
        final["newsletter_from_name"] = final["title"]
    if not final["newsletter_unsubscribe_mailto"]:
        final["newsletter_unsubscribe_mailto"] = final["newsletter_from_address"]
    if final["newsletter_public_url"] and not final["newsletter_public_url"].endswith("/"):
        final["newsletter_public_url"] += "/"
    if final["newsletter_public_url"] and not final["newsletter_unsubscribe_url"]:
        final["newsletter_unsubscribe_url"] = final["newsletter_public_url"] + "unsubscribe"
    if not final["newsletter_frequencies"]:
        final["newsletter_frequencies"] = [final["newsletter_period"]]
    if path is not None:
        base_dir = Path(path).parent
        for option in OPTIONS:
            if option.is_path and option.key not in overridden:
                value = final[option.attr]
                if isinstance(value, list):
                    final[option.attr] = [str(base_dir / p) for p in value]
                elif value:
                    final[option.attr] = str(base_dir / value)
    return Config(**final)


def describe_options() -> str:
    """Markdown table of every option, for the README and `newsletter config --help`."""
    rows = ["| option | default | what it does |", "| --- | --- | --- |"]
    for o in OPTIONS:
        rows.append(f"| `{o.key}` | `{o.default!r}` | {o.doc} |")
    return "\n".join(rows)
