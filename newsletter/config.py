"""Typed, validated configuration (`newsletter.toml` plus command-line overrides).

Every option is declared once, as a field of `Config` with its type, default and a one-line doc;
`OPTIONS` is read from those fields.
All problems are collected and reported by option name, then one `ConfigError` is raised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError

_T = TypeVar("_T")


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


def _base_url(value: str) -> str | None:
    """A URL that others are appended to (`base_url`, `public_url`): a query or fragment would
    end up in the middle of every link made from it."""
    if not value:
        return None
    if "?" in value or "#" in value:
        return "must not have a query or fragment (every link is made by appending to it)"
    return _url(value)


_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _one_click_url(value: str) -> str | None:
    """`unsubscribe_url`: https (RFC 8058 one-click), http only on this machine (tests, a trial run)."""
    if not value:
        return None
    if "#" in value:
        return "must not have a fragment (the per-recipient token is appended to it)"
    problem = _url(value)
    if problem is None and urlsplit(value).scheme != "https" and urlsplit(value).hostname not in _LOCAL_HOSTS:
        return "must be an https:// URL (mail programs send one-click unsubscribes only there)"
    return problem


def _not_empty(check: Callable[[str], str | None] | None = None) -> Callable[[str], str | None]:
    """An option whose empty value would be taken as something else (an empty title on every
    page, "." for a folder): refused, then `check`ed."""

    def not_empty(value: str) -> str | None:
        if not value.strip():
            return "must not be empty"
        return check(value) if check else None

    return not_empty


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f'unknown time zone "{value}"; use an IANA name such as "UTC" or "America/Mexico_City"'
    return None


def _positive(value: int | float) -> str | None:
    if value > 0:
        return None
    return "must be a positive whole number" if isinstance(value, int) else "must be a positive number"


def _port(value: int) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port, 1 to 65535"


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
    return f"must be some of daily, weekly, monthly, not {', '.join(map(toml_value, wrong))}" if wrong else None


def toml_value(value: Any) -> str:
    """`value` as TOML spells it (`true`, `["a", "b"]`, `"x"`), for messages about a value read
    from a TOML file (Python's repr would say `True`, `['a', 'b']`, `'x'`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
        )
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


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


def option(default: _T, doc: str, check: Callable[[Any], str | None] | None = None, *, path: bool = False) -> _T:
    """A `Config` field: its default, its one-line doc, the check of its value (a message or
    None) and whether it is a path (relative ones in a file are relative to the file's folder)."""
    metadata = {"doc": doc, "check": check, "is_path": path}
    if isinstance(default, (list, dict)):
        return field(default_factory=functools.partial(_copy, default), metadata=metadata)
    return field(default=default, metadata=metadata)


def _copy(value: Any) -> Any:
    return type(value)(value) if isinstance(value, (list, dict)) else value


@dataclass(frozen=True)
class Config:
    """The site's configuration, frozen. Each field is one option: its TOML key is the field's
    name with the first `_` after a section name (`newsletter`, `smtp`, `serve`, `brand`,
    `watch`) read as `.`; its type, default, doc and check are declared here and nowhere else
    (`OPTIONS` is read from these fields; `describe_options` makes docs/configuration.md's
    table from it, which tests/test_readme.py keeps equal); `set_in`, the one field that is not
    an option, says which were set in a file. An empty string means "not set"
    (TOML has no null, so no field is Optional); `load_config` fills the documented defaults.
    """

    title: str = option("News", "Site title, shown on pages and as the feeds' title prefix.", _not_empty())
    description: str = option("", "One sentence about the site, used in feeds and pages.")
    base_url: str = option(
        "", "Absolute URL where the output folder is published; every link is made from it.", _base_url
    )
    language: str = option("en", "Language tag of the feeds and pages.", _language)
    timezone: str = option("UTC", "IANA time zone; entries are published at midnight of their date here.", _timezone)
    feed_limit: int = option(50, "How many of the newest entries each feed carries.", _positive)
    authority: str = option("", "Tag-URI authority for entry ids (default: the base URL's host).", _authority)
    author: str = option("", "Author name given in the feeds.")
    bulletins: list[str] = option(
        ["bulletins"], "Folders or files read when no BULLETINS are given on the command line.", path=True
    )
    out: str = option("feeds", "Output folder.", _not_empty(), path=True)
    state: str = option(
        ".newsletter",
        "State folder (parse cache, entry identity, send log); never inside the output folder.",
        _not_empty(),
        path=True,
    )
    database: str = option(
        "",
        "Where the subscriber store and send log live: empty for SQLite files in the state folder, or postgresql://USER@HOST:PORT/DB (several senders and serve instances on one database).",
        _database,
    )
    aliases: dict[str, str] = option({}, "Extra names for countries: name = ISO code.")
    exclusions: list[str] = option([], "Phrases that must never tag a country.")
    newsletter_enabled: bool = option(True, "Build newsletter issues at all (false: feeds and pages only).")
    newsletter_period: str = option(
        "weekly",
        "One newsletter issue per daily, weekly (ISO week) or monthly period.",
        _one_of("daily", "weekly", "monthly"),
    )
    newsletter_archive_periods: int = option(
        104,
        "How many of the newest periods get an issue per country (0: every period since the first entry).",
        _non_negative,
    )
    newsletter_from_address: str = option(
        "newsletter@example.org", "From address of newsletters (and of serve's messages).", _not_empty(_email)
    )
    newsletter_from_name: str = option("", "Display name in the From header (default: the site title).")
    newsletter_reply_to: str = option("", "Reply-To address, if any.", _email)
    newsletter_unsubscribe_mailto: str = option(
        "", "Address for mailto: unsubscribe requests (default: the From address).", _email
    )
    newsletter_unsubscribe_url: str = option(
        "",
        "HTTPS endpoint for one-click unsubscribe; a per-recipient token is appended (default with public_url: its /unsubscribe).",
        _one_click_url,
    )
    newsletter_public_url: str = option(
        "",
        "Where `newsletter serve` is reachable (e.g. https://news.example.org/newsletter/): sign-up forms on the pages, one-click unsubscribe and preferences links in every message.",
        _base_url,
    )
    newsletter_bounce_address: str = option(
        "",
        "Envelope sender for bounces, sent as VERP (bounces+TOKEN@domain) so each bounce maps to its subscriber (default: the From address, no VERP).",
        _email,
    )
    newsletter_soft_bounce_limit: int = option(
        3, "Soft bounces in a row after which an address counts as bounced.", _positive
    )
    newsletter_secret_env: str = option(
        "NEWSLETTER_SECRET", "Environment variable holding the key that signs unsubscribe tokens.", _not_empty()
    )
    newsletter_max_bytes: int = option(
        100_000, "Largest HTML part; more entries than fit become a list of links (Gmail clips at ~102 KB).", _positive
    )
    newsletter_send_delay: float = option(
        6.0,
        "Hours after a period ends before `send --due` sends its issue, so that late bulletins still make it.",
        _non_negative,
    )
    newsletter_send_since: str = option(
        "",
        "Date (YYYY-MM-DD): `send --due` sends issues of periods ending after it (default: from the period before the first `--due` run).",
        _date,
    )
    newsletter_delivery: str = option(
        "digest",
        "`digest`: one message per subscriber per period, each entry of their lists once; `lists`: one message per list and issue, with its List-Id.",
        _one_of("digest", "lists"),
    )
    newsletter_frequencies: list[str] = option(
        [],
        "Frequencies subscribers may choose for digests, of daily, weekly, monthly (default: the `period` only).",
        _frequencies,
    )
    newsletter_subscribers: str = option(
        "subscribers.csv",
        "CSV of subscribers (email,countries,name); never inside the output folder.",
        _not_empty(),
        path=True,
    )
    smtp_host: str = option("localhost", "SMTP server host.", _not_empty())
    smtp_port: int = option(587, "SMTP server port.", _port)
    smtp_tls: str = option("starttls", "starttls, ssl or none.", _one_of("starttls", "ssl", "none"))
    smtp_ca_file: str = option(
        "",
        "CA certificates (PEM) to trust for the SMTP server, e.g. a private relay's (default: the system's).",
        path=True,
    )
    smtp_username: str = option("", "SMTP user name, if the server needs one.")
    smtp_password_env: str = option(
        "NEWSLETTER_SMTP_PASSWORD",
        "Environment variable holding the SMTP password (never put it in the file).",
        _not_empty(),
    )
    smtp_timeout: float = option(30.0, "Seconds to wait for the SMTP server.", _positive)
    smtp_max_attempts: int = option(
        5,
        "Tries per message for temporary failures (4xx, lost connection) before leaving it for the next run.",
        _positive,
    )
    smtp_retry_delay: float = option(
        1.0, "Seconds before the first retry; doubles on each retry, at most 60.", _non_negative
    )
    smtp_max_connect_failures: int = option(
        3, "Failed connections in a row after which a run stops (the server is down).", _positive
    )
    smtp_max_uncertain: int = option(
        3,
        "Lost replies in a row (the message went out, no answer came) after which a run stops: a server that takes messages but never answers is not tried for every recipient.",
        _positive,
    )
    smtp_connections: int = option(
        4, "SMTP connections used at once by `send --due` for digests; each message is still sent once.", _positive
    )
    smtp_rate: float = option(0.0, "Most messages per second (0: as fast as the server takes them).", _non_negative)
    serve_confirm_hours: float = option(48.0, "How long a sign-up's confirmation link stays valid.", _positive)
    serve_client_rate: int = option(
        20, "Sign-ups (and other form posts) one client address may make per 10 minutes.", _positive
    )
    serve_address_rate: int = option(
        3,
        "Messages (confirmations, preferences links) serve may send one email address per hour; failed tries do not count.",
        _positive,
    )
    serve_mail_retry: float = option(
        10.0,
        "Seconds before serve tries again to send a confirmation or preferences-link message; doubled each time up to 30 minutes, until its link would expire.",
        _positive,
    )
    serve_proxies: int = option(
        0,
        "Reverse proxies in front of `serve` whose X-Forwarded-For is trusted for client addresses (1 behind nginx).",
        _non_negative,
    )
    brand_logo: str = option(
        "",
        "Image file (SVG, PNG…) shown beside the site title on every page; copied into the output folder.",
        path=True,
    )
    brand_favicon: str = option(
        "", "Icon file for browser tabs (default: a bundled one); copied into the output folder.", path=True
    )
    brand_accent: str = option("#0b5cad", "Colour of links and buttons on the site (#rrggbb).", _colour)
    brand_accent_dark: str = option(
        "#7db7ff", "The same colour in dark mode (it must read on a dark background).", _colour
    )
    brand_footer_text: str = option("", "A line in every page's footer, e.g. the organisation's name.")
    brand_footer_link: str = option("", "Where the footer line links to.", _optional_url)
    watch_debounce_ms: int = option(250, "Quiet time after the last file event before a rebuild.", _non_negative)
    watch_rescan_seconds: float = option(
        60.0, "Full rescan interval that catches missed events (0 turns it off).", _non_negative
    )
    watch_websub_hub: str = option("", "WebSub hub URL announced in feeds and pinged when they change.", _optional_url)

    set_in: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Not an option: the configuration file each option read from one was set in (key → path),
    so that a message about a value names where to change it (`named`)."""

    def named(self, key: str) -> str:
        """How a message names option `key` before its value: `FILE: key:` when the value was
        set in a configuration file, else `--key` (the command line, or the default)."""
        where = self.set_in.get(key)
        return f"{where}: {key}:" if where else "--" + key.replace("_", "-").replace(".", "-")


_SECTIONS = ("newsletter", "smtp", "serve", "brand", "watch")
_CLASSES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}
"""The class a value read from TOML must be, by the annotation's outer name (`list[str]` → list);
read from the annotation's text rather than `typing.get_type_hints`, which costs a millisecond at
every start (tests/test_config_typed.py checks that both agree)."""


def _options() -> tuple[Option, ...]:
    options = []
    for f in dataclasses.fields(Config):
        if "doc" not in f.metadata:  # set_in
            continue
        section, _, rest = f.name.partition("_")
        key = f"{section}.{rest}" if section in _SECTIONS else f.name
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        meta = f.metadata
        kind = _CLASSES[str(f.type).partition("[")[0]]
        options.append(Option(key, kind, default, meta["doc"], meta["check"], meta["is_path"]))
    return tuple(options)


OPTIONS: tuple[Option, ...] = _options()
"""Every option, in the order of `Config`'s fields (the order of docs/configuration.md)."""
_BY_KEY = {o.key: o for o in OPTIONS}


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


def _read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML document at `path`; every way it cannot be read is one `ConfigError` line."""
    import tomllib  # here: a site without a configuration file never loads it (~2 ms of every start)

    source = str(path)
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(["no such configuration file"], path=source) from None
    except IsADirectoryError:
        raise ConfigError(["this is a folder, not a configuration file"], path=source) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark, as Notepad saves it
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = f"not valid TOML: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line})"
        raise ConfigError([problem], path=source) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {_toml_problem(str(exc), text)}"], path=source) from None


def _toml_problem(message: str, text: str) -> str:
    """tomllib's message, naming the key or table it only gives the place of (one set twice)."""
    at = re.search(r"\(at line (\d+), column \d+\)$", message)
    if at is None:
        return message
    twice = re.match(r"Cannot declare \((.*)\) twice", message)
    if twice:
        table = ".".join(re.findall(r"'([^']*)'", twice.group(1)))
        return f"[{table}] is declared twice {at.group(0)}"
    lines = text.splitlines()
    number = int(at.group(1))
    if message.startswith("Cannot overwrite a value") and 0 < number <= len(lines):
        written = lines[number - 1].partition("=")[0].split(".")
        key = ".".join(part.strip().strip("\"'") for part in written)
        headers = [re.match(r"\s*\[([^\[\]]+)\]", line) for line in lines[: number - 1]]
        tables = [h.group(1).strip() for h in headers if h]
        return f"{tables[-1] + '.' if tables else ''}{key} is set twice {at.group(0)}"
    return message


def _unknown(key: str, values: dict[str, Any]) -> str:
    """The message for a key that is no option: a section given a value, or a likely meant key."""
    if key in _SECTIONS:
        return f"{key}: must be a table ([{key}]), got {toml_value(values[key])}"
    import difflib  # here: only a mistyped key needs it

    near = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.75)
    if not near:  # a key of a section given outside it (`period` for `newsletter.period`)
        near = [k for k in _BY_KEY if k.rpartition(".")[2] == key.rpartition(".")[2] and k != key][:1]
    return f"{key}: unknown option" + (f"; did you mean {near[0]}?" if near else "")


_LARGEST_INT = 2**63 - 1
"""TOML integers are 64-bit: "If an integer cannot be represented losslessly, an error must be thrown"."""


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> Config:
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
        values.update(_flatten(_read_toml(path)))
    from_file = set(values)
    overridden = set()
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            overridden.add(key)
    from_file -= overridden

    given: list[str] = []
    """Problems with values given on the command line (`overrides`): named as its options, not
    as the file's keys (the file may not set them at all)."""

    def bad(key: str, message: str) -> None:
        if key in overridden:
            given.append(f"--{key.replace('_', '-').replace('.', '-')}: {message}")
        else:
            problems.append(f"{key}: {message}")

    for key in sorted(values):
        if key not in _BY_KEY:
            problems.append(_unknown(key, values))
    final: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.key, _copy(option.default))
        expected = option.type
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if option.check is _date and isinstance(value, (dt.date, dt.time)):  # send_since = 2025-03-01
            if type(value) is not dt.date:
                bad(option.key, "must be a date such as 2021-08-23, without a time")
                continue
            value = value.isoformat()
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            bad(option.key, f"must be {_type_name(expected)}, got {toml_value(value)}")
            continue
        if isinstance(value, float) and not math.isfinite(value):
            bad(option.key, f"must be a finite number, got {toml_value(value)}")
            continue
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _LARGEST_INT:
            bad(option.key, f"must be at most {_LARGEST_INT} (TOML integers are 64-bit), got {value}")
            continue
        if option.check is not None:
            message = option.check(value)
            if message:
                bad(option.key, message)
                continue
        final[option.attr] = value

    if "base_url" in final:
        if not final["base_url"]:
            bad("base_url", "required; pass --base-url URL or set base_url in newsletter.toml")
        elif not final["base_url"].endswith("/"):
            final["base_url"] += "/"
    for name, code in final.get("aliases", {}).items():
        from newsletter.content.gazetteer import load_gazetteer

        if not name.strip():  # the tagger cannot look for an empty name
            problems.append(f"aliases: a name must not be empty (the one for {toml_value(code)})")
        elif not isinstance(code, str) or not load_gazetteer().is_code(code):
            problems.append(f"aliases.{name}: {toml_value(code)} is not an ISO 3166-1 alpha-2 country code")
    for item in final.get("exclusions", []):
        if not isinstance(item, str):
            problems.append(f"exclusions: {toml_value(item)} is not a string")
        elif not item.strip():  # the tagger cannot look for an empty phrase
            problems.append(f"exclusions: {toml_value(item)} is empty; remove it from the list")
    if final.get("bulletins") == []:  # a build of nothing would unpublish the whole site
        problems.append("bulletins: must not be empty (name the folders or files to read)")
    for item in final.get("bulletins", []):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"bulletins: {toml_value(item)} is not a path")
    if path is not None:
        base_dir = Path(path).parent
        for option in OPTIONS:
            if option.is_path and option.key not in overridden and option.attr in final:
                value = final[option.attr]
                if isinstance(value, list):
                    final[option.attr] = [str(base_dir / p) if isinstance(p, str) else p for p in value]
                elif value:
                    final[option.attr] = str(base_dir / value)
        for key in ("brand.logo", "brand.favicon"):  # copied by every build: a missing one fails it
            named = final.get(key.replace(".", "_"))
            if key in from_file and named and not Path(named).is_file():
                problems.append(f"{key}: no such file: {named}")
    if problems or given:
        raise ConfigError(problems, path=source, given=given)
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
    set_in = {key: str(path) for key in sorted(from_file) if key in _BY_KEY}
    return Config(**final, set_in=set_in)


def describe_options() -> str:
    """Markdown table of every option, for the README and `newsletter config --help`."""
    rows = ["| option | default | what it does |", "| --- | --- | --- |"]
    for o in OPTIONS:
        rows.append(f"| `{o.key}` | `{o.default!r}` | {o.doc} |")
    return "\n".join(rows)
