"""`newsletter init`: a new site's configuration, bulletin folder and sample bulletin."""

from __future__ import annotations

from pathlib import Path

from newsletter.cli.args import DEFAULT_CONFIG
from newsletter.errors import UsageError

CONFIG = """\
# The configuration of this site; the newsletter project's docs/configuration.md lists every option.
title = "Field Notes"
description = "Short news from the countries we follow."
base_url = "{base_url}"        # where the output folder will be published
language = "en"
timezone = "UTC"
bulletins = ["bulletins"]      # read when `newsletter build` is given no BULLETINS
out = "feeds"                  # the output folder

[newsletter]
period = "weekly"
# send_since = "2025-01-01"     # `send --due` sends the periods ending after this date
from_address = "newsletter@example.org"
# public_url = "https://news.example.org/newsletter/"   # where `newsletter serve` runs

[brand]
# logo = "logo.png"            # an image beside the title on every page and newsletter
accent = "#0b5cad"             # links and buttons
footer_text = ""               # e.g. your organisation's name
footer_link = ""               # and where it lives
"""

SAMPLE = """\
3 March 2025

Ecuador Opens Two Reading Rooms in Quito

The city library added two rooms for children and evening classes for adults.
Each room lends tablets for the day.

2 March 2025

Kenya and Uganda Agree on a Shared Bus Timetable

Buses between Nairobi and Kampala will leave at the same hours from both ends,
so that travellers can plan the journey back.

1 March 2025

Harbour Workers Across the Region Meet on Safety Rules

Delegates from six ports compared their rules for night shifts and storms.
They will meet again in the autumn.
"""


def init_site(folder: Path, base_url: str) -> list[str]:
    """Write `newsletter.toml`, `bulletins/` and `bulletins/sample.txt` into `folder` (made if
    needed); refuses to replace a file that exists. Returns what it says it did."""
    config = folder / DEFAULT_CONFIG
    bulletins = folder / "bulletins"
    sample = bulletins / "sample.txt"
    existing = [str(p) for p in (config, sample) if p.exists()]
    if existing:
        raise UsageError(
            f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; nothing was written"
        )
    if not base_url.endswith("/"):
        base_url += "/"
    bulletins.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG.format(base_url=base_url), encoding="utf-8")
    sample.write_text(SAMPLE, encoding="utf-8")
    where = "" if folder == Path(".") else f"cd {folder} && "
    return [
        f"wrote {config}, {bulletins}/ and {sample}",
        f"next: {where}newsletter build   (then open feeds/index.html)",
    ]
