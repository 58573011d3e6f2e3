#!/usr/bin/env python3
"""Deterministic synthetic bulletins for benchmarks, in the format `newsletter` reads.

usage: python benchmarks/corpus.py --entries N --files F --out DIR [--hugo DIR] [--seed S]

Writes F bulletin files holding N entries in total (newest first in each file): a date
line, a title, a body paragraph. Titles and bodies name 40 countries by their English
names, demonyms and Spanish names, one to three countries per item, and some items name
none (regional news). With --hugo, also writes the same items as a Hugo site whose
`countries` taxonomy gives one RSS feed per country, plus one HTML page per item.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random

# (English name, demonym, Spanish name) — 40 countries; every name is one the tagger knows.
COUNTRIES = [
    ("Mexico", "Mexican", "México"),
    ("Guatemala", "Guatemalan", "Guatemala"),
    ("Honduras", "Honduran", "Honduras"),
    ("El Salvador", "Salvadoran", "El Salvador"),
    ("Nicaragua", "Nicaraguan", "Nicaragua"),
    ("Costa Rica", "Costa Rican", "Costa Rica"),
    ("Panama", "Panamanian", "Panamá"),
    ("Belize", "Belizean", "Belice"),
    ("Dominican Republic", "Dominican", "República Dominicana"),
    ("Haiti", "Haitian", "Haití"),
    ("Cuba", "Cuban", "Cuba"),
    ("Jamaica", "Jamaican", "Jamaica"),
    ("Colombia", "Colombian", "Colombia"),
    ("Venezuela", "Venezuelan", "Venezuela"),
    ("Ecuador", "Ecuadorian", "Ecuador"),
    ("Peru", "Peruvian", "Perú"),
    ("Chile", "Chilean", "Chile"),
    ("Argentina", "Argentine", "Argentina"),
    ("Brazil", "Brazilian", "Brasil"),
    ("Bolivia", "Bolivian", "Bolivia"),
    ("Paraguay", "Paraguayan", "Paraguay"),
    ("Uruguay", "Uruguayan", "Uruguay"),
    ("Trinidad and Tobago", "Trinidadian", "Trinidad y Tobago"),
    ("Barbados", "Barbadian", "Barbados"),
    ("Guyana", "Guyanese", "Guyana"),
    ("Suriname", "Surinamese", "Surinam"),
    ("Canada", "Canadian", "Canadá"),
    ("United States", "American", "Estados Unidos"),
    ("Spain", "Spanish", "España"),
    ("Morocco", "Moroccan", "Marruecos"),
    ("Senegal", "Senegalese", "Senegal"),
    ("Kenya", "Kenyan", "Kenia"),
    ("Ethiopia", "Ethiopian", "Etiopía"),
    ("Philippines", "Filipino", "Filipinas"),
    ("Indonesia", "Indonesian", "Indonesia"),
    ("Bangladesh", "Bangladeshi", "Bangladés"),
    ("Türkiye", "Turkish", "Turquía"),
    ("Jordan", "Jordanian", "Jordania"),
    ("Côte d'Ivoire", "Ivorian", "Costa de Marfil"),
    ("Papua New Guinea", "Papua New Guinean", "Papúa Nueva Guinea"),
]
VERBS = ["Trains", "Supports", "Strengthens", "Launches", "Hosts", "Assists", "Concludes", "Joins", "Opens", "Maps"]
OBJECTS = [
    "Border Officials",
    "Local Governments",
    "Migrant Children",
    "Labour Mobility Programmes",
    "Journalists",
    "Front-line Workers",
    "Water Boards",
    "Returnee Families",
    "Health Brigades",
    "Rangers",
]
WORDS = (
    "migration governance border protection assistance workshop training officials national provincial "
    "institutions social organisations communities destination origin return transit policy strategy "
    "dignity security emergency response shelters partners network rights defenders municipal course "
    "methodology indicators rainfall harvest reef mangrove clinic school cooperative"
).split()
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def entries(n: int, rng: random.Random):
    """(date, title, body, English country names) tuples, newest first."""
    day = dt.date(2026, 11, 1)
    for i in range(n):
        day -= dt.timedelta(days=rng.choice([0, 0, 1, 1, 2]))
        if rng.random() < 0.05:  # regional news: no country named
            title = f"Regional Forum {rng.choice(['Agrees on', 'Reviews', 'Publishes'])} {rng.choice(OBJECTS)} Guidance ({i})"
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 70))).capitalize() + "."
            yield day, title, body, []
            continue
        picks = rng.sample(COUNTRIES, rng.choice([1, 1, 1, 2, 2, 3]))
        name, demonym, spanish = picks[0]
        form = rng.random()
        if form < 0.45:
            title = f"IOM {rng.choice(VERBS)} {rng.choice(OBJECTS)} in {name}"
        elif form < 0.75:
            title = f"{name} {rng.choice(VERBS)} {rng.choice(OBJECTS)} with Partners"
        elif form < 0.95:
            title = f"{demonym} {rng.choice(OBJECTS)} {rng.choice(['Meet', 'Train', 'Report'])} on Reform"
        else:
            title = f"{spanish}: {rng.choice(['taller', 'foro', 'curso'])} sobre gobernanza"
        title += f" ({i})"
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 70))).capitalize() + ". "
        others = picks[1:]
        if others:
            body += " and ".join(p[0] for p in others) + " took part. "
        body += " ".join(rng.choice(WORDS) for _ in range(15)).capitalize() + "."
        yield day, title, body, [p[0] for p in picks]


def write_bulletins(items, files: int, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    per = -(-len(items) // files)
    for f in range(files):
        with open(os.path.join(out, f"bulletin-{f + 1:05d}.txt"), "w", encoding="utf-8") as fh:
            for day, title, body, _ in items[f * per : (f + 1) * per]:
                fh.write(f"{day.day} {MONTHS[day.month - 1]}, {day.year}\n\n{title}\n\n{body}\n\n")


HUGO_CONFIG = """baseURL = "https://news.example.org/"
title = "News"
disableKinds = ["sitemap", "robotsTXT", "404", "section"]
[taxonomies]
country = "countries"
[outputs]
home = ["RSS"]
term = ["RSS"]
taxonomy = []
page = ["HTML"]
[services.rss]
limit = 50
"""
HUGO_SINGLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} — {{ .Site.Title }}</title></head>
<body><header><a href="{{ .Site.BaseURL }}">{{ .Site.Title }}</a></header>
<main><article><h1>{{ .Title }}</h1><p><time>{{ .Date.Format "2 January 2006" }}</time>
{{ range .GetTerms "countries" }} · <a href="{{ .Permalink }}">{{ .LinkTitle }}</a>{{ end }}</p>
{{ .Content }}</article></main></body></html>
"""


def write_hugo(items, root: str) -> None:
    content = os.path.join(root, "content", "news")
    os.makedirs(content, exist_ok=True)
    os.makedirs(os.path.join(root, "layouts", "_default"), exist_ok=True)
    with open(os.path.join(root, "config.toml"), "w") as fh:
        fh.write(HUGO_CONFIG)
    with open(os.path.join(root, "layouts", "_default", "single.html"), "w") as fh:
        fh.write(HUGO_SINGLE)
    for i, (day, title, body, names) in enumerate(items):
        with open(os.path.join(content, f"n{i:07d}.md"), "w", encoding="utf-8") as fh:
            quoted = title.replace('"', '\\"')
            fh.write(f'---\ntitle: "{quoted}"\ndate: {day.isoformat()}\ncountries: {names!r}\n---\n{body}\n')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, required=True)
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hugo")
    ap.add_argument("--seed", type=int, default=20261126)
    args = ap.parse_args()
    items = list(entries(args.entries, random.Random(args.seed)))
    write_bulletins(items, args.files, args.out)
    if args.hugo:
        write_hugo(items, args.hugo)


if __name__ == "__main__":
    main()
