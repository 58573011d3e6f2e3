#!/usr/bin/env python3
"""`make bench`: how fast `newsletter` is on this machine, side by side with Hugo.

Prints a markdown table and writes it to benchmarks/results.md. Scenarios:
  cold build (empty state and output) at each size: wall time, peak memory of the whole
  process tree; warm rebuilds at the largest size (nothing changed; one ~100-entry file
  changed); every newsletter issue of the 10k corpus; sending 10,000 messages to a local
  aiosmtpd; watch latency (file save → updated feed on disk), median and p95 of 20 saves;
  Hugo building the same items (per-country RSS + one page per item) when `hugo` is on PATH.

Outputs go to a tmpfs folder (/dev/shm) when there is one, so that the numbers measure the
programs rather than the disk's write-back; pass --workdir to measure on a disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable
BASE_URL = "https://news.example.org/"


# -- measuring ------------------------------------------------------------------------
def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return pids


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(
    cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 900, *, memory: bool = True
) -> tuple[float, float]:
    """Run `cmd`; return (seconds, peak memory in MB summed over its process tree, as PSS).

    Reading smaps makes the kernel walk every page table of the tree: on 2 cores, sampling a
    1 GB tree every 50 ms slows it down by about 15 %. `timed` runs a command twice, once
    for its time (without sampling) and once for its memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        if memory:
            peak = max(peak, sum(_pss_kb(p) for p in _tree(proc.pid)))
        time.sleep(0.05 if memory else 0.005)
        if time.perf_counter() - started > timeout:
            proc.kill()
            raise RuntimeError(f"{cmd[0]} took longer than {timeout} s")
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, peak / 1024


def timed(cmd: list[str], cwd: Path, before=lambda: None) -> tuple[float, float]:
    """(seconds of a run without memory sampling, peak MB of another), `before` run before each."""
    before()
    seconds, _ = run(cmd, cwd, memory=False)
    before()
    _, mb = run(cmd, cwd)
    return seconds, mb


def newsletter(*args: str) -> list[str]:
    return [PY, "-m", "newsletter", *args]


# -- corpora ----------------------------------------------------------------------------
def corpus(workdir: Path, entries: int, hugo: bool) -> Path:
    """A corpus of `entries` items in files of ~100 entries (made once per workdir)."""
    folder = workdir / f"corpus-{entries}"
    marker = folder / ("ready-hugo" if hugo else "ready")
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        cmd = [
            PY,
            str(HERE / "corpus.py"),
            "--entries",
            str(entries),
            "--files",
            str(max(1, entries // 100)),
            "--out",
            str(folder / "bulletins"),
        ]
        if hugo:
            cmd += ["--hugo", str(folder / "hugo")]
        subprocess.run(cmd, check=True)
        marker.touch()
    return folder


def fresh(*paths: Path) -> None:
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)
    subprocess.run(["sync"], check=False)


# -- scenarios ----------------------------------------------------------------------------
def cold_build(folder: Path, *extra: str) -> tuple[float, float]:
    return timed(
        newsletter("build", "-q", "bulletins", "--out", "out", "--state", "state", "--base-url", BASE_URL, *extra),
        folder,
        lambda: fresh(folder / "out", folder / "state"),
    )


def write_floor(out: Path, batch: int = 5000) -> float:
    """Seconds to write the bytes of every file of `out` to as many files in an empty folder,
    with its folders: what any static site generator must at least spend on these outputs.
    Files are read in batches beforehand (not timed), so memory stays bounded."""
    files = sorted(p for p in out.rglob("*") if p.is_file())
    target = out.parent / "floor"
    fresh(target)
    made: set[Path] = set()
    seconds = 0.0
    for start in range(0, len(files), batch):
        chunk = [(target / p.relative_to(out), p.read_bytes()) for p in files[start : start + batch]]
        began = time.perf_counter()
        for path, data in chunk:
            parent = path.parent
            if parent not in made:
                parent.mkdir(parents=True, exist_ok=True)
                made.add(parent)
            with open(path, "wb") as fh:
                fh.write(data)
        seconds += time.perf_counter() - began
    shutil.rmtree(target, ignore_errors=True)
    return seconds


def feeds_only_config(workdir: Path) -> Path:
    path = workdir / "feeds-only.toml"
    path.write_text("[newsletter]\nenabled = false\n")
    return path


def hugo_build(folder: Path) -> tuple[float, float]:
    return timed(
        ["hugo", "--quiet", "-s", "hugo", "-d", str(folder / "hugo-out")],
        folder,
        lambda: fresh(folder / "hugo-out", folder / "hugo" / "resources"),
    )


def warm_builds(folder: Path) -> dict[str, tuple[float, float]]:
    """Rebuilds after a cold build: nothing changed; one file changed (the build patches the
    last one); the same with `--full` (the whole catalog rebuilt, every output checked)."""
    cold_build(folder)
    args = newsletter("build", "-q", "bulletins", "--out", "out", "--state", "state", "--base-url", BASE_URL)
    time.sleep(2.5)  # past the "racily clean" window of the files the cold build read
    found = {"unchanged": timed(args, folder)}
    target = sorted((folder / "bulletins").iterdir())[len(list((folder / "bulletins").iterdir())) // 2]
    original = target.read_text()
    lines = original.splitlines()
    edits = iter(range(100))

    def edit() -> None:
        lines[2] = lines[2] + f" (updated {next(edits)})"  # retitle the file's first entry
        target.write_text("\n".join(lines) + "\n")

    for label, extra in (("one file changed", []), ("one file changed, --full", ["--full"])):
        found[label] = timed(args + extra, folder, edit)
    target.write_text(original)
    run(args, folder)
    return found


ISSUES_SCRIPT = r"""
import sys, time, gc
from pathlib import Path
from newsletter.builder.pipeline import Builder
from newsletter.config import load_config
from newsletter.builder.workers import parallel_workers, render_in_processes
from newsletter.output.writer import SiteWriter
from newsletter.state.manifest import ManifestFolder
gc.disable()
config = load_config(None, {"base_url": sys.argv[2], "newsletter.archive_periods": int(sys.argv[3])})
builder = Builder(config, state_dir=Path("state-issues"))
entries, _, _ = builder.read([sys.argv[1]])
catalog = builder.catalog(entries)
units = [u for u in builder.units(catalog) if u[0].startswith("issue:")]
builder.context.issue_renderer
started = time.perf_counter()
writer = SiteWriter(Path("issues-out"), ManifestFolder(Path("state-issues/manifest")))
workers = parallel_workers(len(units))
if workers > 1:
    render_in_processes(writer, units, workers)
else:
    for key, fp, render in units:
        writer.write_unit(key, fp, render())
print(len(units), time.perf_counter() - started, writer.stats.written)
"""


def newsletter_issues(folder: Path, periods: int) -> tuple[int, float, int]:
    fresh(folder / "issues-out", folder / "state-issues")
    out = subprocess.run(
        [PY, "-c", ISSUES_SCRIPT, "bulletins", BASE_URL, str(periods)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SinkServer:
    """aiosmtpd's Sink handler (accepts and drops every message) in its own process."""

    def __enter__(self) -> int:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PY, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c", "aiosmtpd.handlers.Sink"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return self.port

    def __exit__(self, *exc) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def send_messages(folder: Path, count: int) -> tuple[float, int]:
    with SinkServer() as port:
        site = folder / "send"
        site.mkdir(exist_ok=True)
        (site / "subscribers.csv").write_text(
            "email,countries,name\n" + "".join(f"reader{n}@example.org,mx,Reader {n}\n" for n in range(count))
        )
        (site / "newsletter.toml").write_text(
            f'base_url = "{BASE_URL}"\nbulletins = ["../bulletins"]\nout = "../send-out"\n'
            '[newsletter]\ndelivery = "lists"\n'  # one list's issue, as `send --country` sends it
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        )
        shutil.rmtree(site / ".newsletter", ignore_errors=True)
        run(newsletter("build", "-q"), site)  # send mails links to the issue's web copy: it must exist
        seconds, _ = run(newsletter("send", "-q", "--country", "mx", "--force"), site)
        return seconds, count


DUE_COUNTRIES = [
    "Mexico",
    "Guatemala",
    "Honduras",
    "El Salvador",
    "Nicaragua",
    "Costa Rica",
    "Panama",
    "Belize",
    "Haiti",
    "Cuba",
    "Jamaica",
    "Colombia",
    "Venezuela",
    "Ecuador",
    "Peru",
    "Chile",
    "Argentina",
    "Brazil",
    "Bolivia",
    "Paraguay",
    "Uruguay",
    "Barbados",
    "Guyana",
    "Suriname",
    "Canada",
    "Spain",
    "Morocco",
    "Senegal",
    "Kenya",
    "Ethiopia",
    "Philippines",
    "Indonesia",
    "Bangladesh",
    "Jordan",
    "Japan",
    "Norway",
    "Poland",
    "Egypt",
    "Ghana",
    "Nepal",
    "Portugal",
    "Ireland",
    "Finland",
    "Mongolia",
    "Uganda",
    "Zambia",
    "Fiji",
    "Iceland",
]


def send_due(workdir: Path, per_list: int = 20) -> tuple[int, int, float, float]:
    """`send --due` over 50 lists (48 countries, `all`, `regional`), four finished weeks each:
    (lists, messages, seconds of the run that sends, seconds of the next run, which has nothing to do)."""
    site = workdir / "due"
    shutil.rmtree(site, ignore_errors=True)
    (site / "bulletins").mkdir(parents=True)
    items = []
    for week in range(4):
        day = dt.date(2024, 3, 4) + dt.timedelta(weeks=week)
        for n, name in enumerate(DUE_COUNTRIES):
            items.append(
                f"{(day + dt.timedelta(days=n % 5)).strftime('%-d %B %Y')}\n\n{name} Opens Reception "
                f"Centre {week}\n\nThe centre in {name} takes {n + 10} people a night.\n"
            )
        items.append(
            f"{day.strftime('%-d %B %Y')}\n\nRegional Meeting {week} Agrees on Shared Rules\n\n"
            "Delegations signed the text.\n"
        )
    (site / "bulletins" / "weeks.txt").write_text("\n".join(items))
    with SinkServer() as port:
        rows = [f"r{n}@example.org,*,\n" for n in range(per_list)] + [
            f"a{n}@example.org,all regional,\n" for n in range(per_list)
        ]
        (site / "subscribers.csv").write_text("email,countries,name\n" + "".join(rows))
        (site / "newsletter.toml").write_text(
            f'base_url = "{BASE_URL}"\n[newsletter]\ndelivery = "lists"\nsend_since = "2024-03-01"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        )
        run(newsletter("build", "-q"), site)
        lists = len([p for p in (site / "feeds" / "newsletters").iterdir() if p.is_dir()])
        first, _ = run(newsletter("send", "-q", "--due"), site, memory=False)
        again, _ = run(newsletter("send", "-q", "--due"), site, memory=False)
    return lists, lists * 4 * per_list, first, again


def serve_load(workdir: Path, people: int = 400, concurrency: int = 50) -> tuple[int, float, float, int]:
    """`newsletter serve` (waitress) with `concurrency` clients at once, each person signing
    up, confirming and (every other one) unsubscribing: (requests, requests/s, p95 seconds, errors)."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from helpers.webload import journeys

    site = workdir / "serve"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    port = free_port()
    with SinkServer() as smtp_port:
        (site / "newsletter.toml").write_text(
            f'base_url = "{BASE_URL}"\n[newsletter]\npublic_url = "http://127.0.0.1:{port}/"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\n[serve]\nclient_rate = 1000000\n'
        )
        app = subprocess.Popen(
            newsletter("serve", "--port", str(port)),
            cwd=site,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "NEWSLETTER_SECRET": "bench-secret"},
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("newsletter serve did not start") from None
                    time.sleep(0.05)
            started = time.perf_counter()
            latencies, errors = journeys(
                f"http://127.0.0.1:{port}/",
                b"bench-secret",
                people,
                concurrency=concurrency,
                origin=BASE_URL.rstrip("/"),
            )
            seconds = time.perf_counter() - started
        finally:
            app.terminate()
            app.wait(timeout=10)
    latencies.sort()
    return len(latencies), len(latencies) / seconds, latencies[int(0.95 * (len(latencies) - 1))], len(errors)


def serve_silent_signup(workdir: Path, people: int = 300, concurrency: int = 20) -> tuple[float, float, int]:
    """Sign-ups against `newsletter serve` whose SMTP server takes connections and never
    answers (serve's outbox holds the mail; no request waits): (p50, p95 seconds, errors)."""
    import urllib.parse
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    site = workdir / "serve-silent"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    port = free_port()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)  # connections complete in the backlog; no banner ever comes
    try:
        (site / "newsletter.toml").write_text(
            f'base_url = "{BASE_URL}"\n[newsletter]\npublic_url = "http://127.0.0.1:{port}/"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {silent.getsockname()[1]}\ntls = "none"\n'
            "[serve]\nclient_rate = 1000000\n"
        )
        app = subprocess.Popen(
            newsletter("serve", "--port", str(port)),
            cwd=site,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "NEWSLETTER_SECRET": "bench-secret"},
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("newsletter serve did not start") from None
                    time.sleep(0.05)

            def sign_up(n: int) -> float | None:
                form = urllib.parse.urlencode({"email": f"silent{n}@example.org", "country": "mx"}).encode()
                began = time.perf_counter()
                try:
                    with urllib.request.urlopen(
                        urllib.request.Request(
                            f"http://127.0.0.1:{port}/subscribe", data=form, headers={"Origin": BASE_URL.rstrip("/")}
                        ),
                        timeout=30,
                    ) as answer:
                        answer.read()
                except OSError:
                    return None
                return time.perf_counter() - began

            with ThreadPoolExecutor(concurrency) as pool:
                results = list(pool.map(sign_up, range(people)))
        finally:
            app.terminate()
            app.wait(timeout=10)
    finally:
        silent.close()
    latencies = sorted(r for r in results if r is not None)
    return (statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))], sum(r is None for r in results))


def serve_silent_row(workdir: Path, row) -> None:
    p50, p95, errors = serve_silent_signup(workdir)
    row(
        "serve sign-up p95 with a silent SMTP server",
        f"{p95 * 1000:.0f} ms",
        f"300 sign-ups, 20 at once; median {p50 * 1000:.1f} ms, {errors} errors; the mail waits in the outbox",
    )


def tagging_speed(folder: Path) -> tuple[int, float]:
    """(entries, µs per entry) of the country tagger alone over a corpus's titles and bodies."""
    script = r"""
import sys, time
from pathlib import Path
from newsletter.content.gazetteer import load_gazetteer
from newsletter.content.parse import parse_bulletin
from newsletter.content.tagger import Tagger
tagger = Tagger(load_gazetteer())
entries = []
for path in sorted(Path(sys.argv[1]).rglob("*.txt")):
    entries += parse_bulletin(str(path), path.read_bytes(), None).entries
began = time.perf_counter()
for e in entries:
    tagger.tag(e.title, e.body, e.language or "en")  # as the build calls it (an English site)
print(len(entries), (time.perf_counter() - began) / len(entries) * 1e6)
"""
    out = subprocess.run([PY, "-c", script, str(folder / "bulletins")], capture_output=True, text=True, check=True)
    n, us = out.stdout.split()
    return int(n), float(us)


def watch_latency(folder: Path, saves: int = 20) -> list[float]:
    fresh(folder / "watch-out", folder / "watch-state")
    proc = subprocess.Popen(
        newsletter("watch", "bulletins", "--out", "watch-out", "--state", "watch-state", "--base-url", BASE_URL),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    feed = folder / "watch-out" / "all" / "atom.xml"
    target = sorted((folder / "bulletins").iterdir())[0]  # holds the newest entries
    original = target.read_text()
    lines = original.splitlines()
    latencies = []
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 600
        while not any("watching" in line for line in log) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        for n in range(saves):
            token = f"Saved {n} {time.time_ns()}"
            edited = lines.copy()
            edited[2] = f"{lines[2]} {token}"
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text("\n".join(edited) + "\n")
            os.replace(tmp, target)  # an atomic save, as editors do
            saved = time.perf_counter()
            while token.encode() not in feed.read_bytes():
                if time.perf_counter() - saved > 30:
                    raise RuntimeError("the watcher did not update the feed within 30 s")
                time.sleep(0.002)
            latencies.append(time.perf_counter() - saved)
            time.sleep(0.5)
    finally:
        target.write_text(original)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    return latencies


# -- report -------------------------------------------------------------------------------
# -- digests (issue #18): one message per subscriber per period ------------------------------
DIGEST_CODES = (
    "mx gt hn sv ni cr pa bz ht cu jm co ve ec pe cl ar br bo py uy bb gy sr ca es ma sn ke et ph id bd "
    "jo jp no pl eg gh np pt ie fi mn ug zm fj is"
).split()


def digest_site(workdir: Path, subscribers: int, choices: int, port: int = 0, name: str = "digest") -> Path:
    """One finished week of news about 48 countries (three items each, every third naming a
    neighbour too, and regional items) and `subscribers` people over `choices` distinct sets
    of one to four countries."""
    import random

    site = workdir / name
    shutil.rmtree(site, ignore_errors=True)
    (site / "bulletins").mkdir(parents=True)
    items = []
    for n, name_ in enumerate(DUE_COUNTRIES):
        for k in range(3):
            day = dt.date(2024, 3, 4) + dt.timedelta(days=(n + k) % 7)
            other = f" and {DUE_COUNTRIES[(n + 1) % len(DUE_COUNTRIES)]}" if k == 2 else ""
            items.append(
                f"{day.strftime('%-d %B %Y')}\n\n{name_}{other} Report {k}\n\nThe office in {name_}{other} "
                f"counted {n * 3 + k + 10} arrivals this week.\n"
            )
    items.append("6 March 2024\n\nRegional Meeting Agrees on Shared Rules\n\nDelegations signed the text.\n")
    (site / "bulletins" / "week.txt").write_text("\n".join(items))
    rng = random.Random(18)
    sets: list[str] = []
    seen: set[frozenset] = set()
    while len(sets) < choices:
        pick = frozenset(rng.sample(DIGEST_CODES, rng.randint(1, 4)))
        if pick not in seen:
            seen.add(pick)
            sets.append(" ".join(sorted(pick)))
    (site / "subscribers.csv").write_text(
        "email,countries,name\n"
        + "".join(f"reader{n}@example.org,{sets[n % choices]},Reader {n}\n" for n in range(subscribers))
    )
    (site / "newsletter.toml").write_text(
        f'base_url = "{BASE_URL}"\n[newsletter]\nsend_since = "2024-03-01"\nsend_delay = 0\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port or 25}\ntls = "none"\ntimeout = 60\n'
    )
    return site


DIGEST_COMPOSE_SCRIPT = r"""
import datetime as dt, json, sys, time
from pathlib import Path
from newsletter.builder.pipeline import Builder
from newsletter.config import load_config
from newsletter.cli.send import recipients, say
from newsletter.send.digest import DigestSender
from newsletter.send.runner import Sender
from newsletter.send.sendlog import SendLog
config = load_config("newsletter.toml")
builder = Builder(config, state_dir=Path(config.state))
entries, _, _ = builder.read(config.bulletins)
catalog = builder.catalog(entries)
builder.context.issue_renderer
began = time.perf_counter()
subscribers, _, _ = recipients(Path(config.state), Path(config.newsletter_subscribers), builder.context.gazetteer)
loaded = time.perf_counter()
with SendLog(Path(config.state)) as log:
    sender = Sender(config, builder, catalog, Path(config.out), log, subscribers, say, dry_run=True)
    digests = DigestSender(sender)
    plans = digests.plan(dt.datetime(2024, 3, 12, tzinfo=dt.UTC))
    planned = time.perf_counter()
    when = dt.datetime(2024, 3, 11, 6, tzinfo=dt.UTC)
    size = count = 0
    for plan in plans:
        for job in plan.jobs:
            for sub in job.recipients:
                size += len(digests.renderer.message(job.rendered, (sub.name, sub.email), secret=b"k", date=when).compose())
                count += 1
    done = time.perf_counter()
print(json.dumps({"subscribers": len(subscribers), "choices": sum(len(p.jobs) for p in plans), "messages": count,
                  "load": loaded - began, "plan_render": planned - loaded, "compose": done - planned,
                  "bytes": size / max(count, 1)}))
"""


def digest_compose(workdir: Path, subscribers: int = 100_000, choices: int = 2000) -> tuple[dict, float]:
    """Plan + render + compose every digest of one week for `subscribers` people (no sending)."""
    import json

    site = digest_site(workdir, subscribers, choices)
    out = subprocess.run([PY, "-c", DIGEST_COMPOSE_SCRIPT], cwd=site, capture_output=True, text=True, check=True)
    _, mb = run([PY, "-c", DIGEST_COMPOSE_SCRIPT], site)  # again, for the peak memory
    return json.loads(out.stdout), mb


DELAY_SINK = r"""
import asyncio, sys, threading
from aiosmtpd.controller import Controller
class Slow:
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return "250 ok"
Controller(Slow(), hostname="127.0.0.1", port=int(sys.argv[1])).start()
print("ready", flush=True)
threading.Event().wait()
"""


def digest_send(workdir: Path, connections: int, subscribers: int = 400, choices: int = 40) -> float:
    """messages/s of `send --due` (digests) to a local server that takes 20 ms per message."""
    port = free_port()
    sink = subprocess.Popen([PY, "-c", DELAY_SINK, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        site = digest_site(workdir, subscribers, choices, port, name=f"digest-send-{connections}")
        with (site / "newsletter.toml").open("a") as fh:
            fh.write(f"connections = {connections}\n")
        seconds, _ = run(newsletter("send", "-q", "--due"), site, memory=False)
        return subscribers / seconds
    finally:
        sink.kill()
        sink.wait()


def digest_rows(workdir: Path, row) -> None:
    stats, mb = digest_compose(workdir)
    work = stats["plan_render"] + stats["compose"]
    row(
        f"digests: plan + render + compose, {stats['subscribers']:,} subscribers, 2,000 choices",
        f"{stats['messages'] / work:,.0f} msg/s",
        f"{work:.1f} s for {stats['messages']:,} messages "
        f"({stats['choices']} distinct digests rendered; plan+render {stats['plan_render']:.1f} s, compose "
        f"{stats['compose']:.1f} s; reading the subscribers {stats['load']:.1f} s); peak {mb:.0f} MB",
    )
    one, four = digest_send(workdir, 1), digest_send(workdir, 4)
    row(
        "digests: send --due to a server taking 20 ms a message, 1 / 4 connections",
        f"{one:.0f} / {four:.0f} msg/s",
        f"{four / one:.1f}x with 4 connections (400 messages each)",
    )


COUNT_SINK = r"""
import sys, threading
from aiosmtpd.controller import Controller
out = open(sys.argv[2], "a", buffering=1)
class Count:
    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            out.write(rcpt + "\n")  # written before the reply: what was taken is counted
        return "250 ok"
Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1])).start()
print("ready", flush=True)
threading.Event().wait()
"""


def pg_senders(
    workdir: Path, recipients: int, senders: tuple[int, ...] = (1, 2, 3)
) -> list[tuple[int, float, int, int]]:
    """`send --country mx` from 1, 2 and 3 processes at once — as on three machines, each with a
    state folder of its own — against one PostgreSQL database (a throwaway cluster, tests/helpers/pgcluster.py)
    and a local server that counts what it took: (senders, messages/s, duplicates, missing)."""
    sys.path.insert(0, str(REPO / "tests"))
    from helpers.pgcluster import Cluster

    site = workdir / "pg-senders"
    shutil.rmtree(site, ignore_errors=True)
    (site / "bulletins").mkdir(parents=True)
    (site / "bulletins" / "a.txt").write_text("6 March 2024\n\nMexico Opens a Shelter\n\nIt hosts 200 people.\n")
    (site / "in.csv").write_text(
        "email,countries,name\n" + "".join(f"r{n}@example.org,mx,\n" for n in range(recipients))
    )
    results = []
    cluster = None
    try:
        with _signals_deferred():  # a started server is stopped below, whenever the signal comes
            cluster = Cluster()
        template = cluster.fresh()

        def configure(url: str, port: int) -> None:
            (site / "newsletter.toml").write_text(
                f'base_url = "{BASE_URL}"\ndatabase = "{url}"\n[newsletter]\ndelivery = "lists"\n'
                f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\ntimeout = 60\n'
            )

        configure(template, 25)
        run(newsletter("subscribers", "import", "-q", "in.csv", "--state", "import-state"), site, memory=False)
        name = template.rsplit("/", 1)[1]
        for count in senders:
            url = cluster.url(f"{name}_{count}")
            cluster._run_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            cluster._run_sql(f"CREATE DATABASE {name}_{count} TEMPLATE {name}")
            port, spool = free_port(), site / f"taken-{count}.txt"
            sink = subprocess.Popen([PY, "-c", COUNT_SINK, str(port), str(spool)], stdout=subprocess.PIPE, text=True)
            try:
                assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
                configure(url, port)
                states = [f"host{count}-{n}" for n in range(count)]
                for state in states:
                    run(newsletter("build", "-q", "--state", state), site, memory=False)
                began = time.perf_counter()
                procs = [
                    subprocess.Popen(newsletter("send", "-q", "--country", "mx", "--state", state), cwd=site)
                    for state in states
                ]
                codes = [p.wait() for p in procs]
                seconds = time.perf_counter() - began
                assert codes == [0] * count, codes
            finally:
                sink.kill()
                sink.wait()
            taken: dict[str, int] = {}
            for line in spool.read_text().split():
                taken[line] = taken.get(line, 0) + 1
            duplicates = sum(c - 1 for c in taken.values())
            missing = recipients - len(taken)
            results.append((count, recipients / seconds, duplicates, missing))
    finally:
        if cluster is not None:
            with _signals_deferred():
                cluster.stop()
    return results


def pg_senders_rows(workdir: Path, row, recipients: int) -> None:
    results = pg_senders(workdir, recipients)
    rates = " / ".join(f"{rate:.0f}" for _, rate, _, _ in results)
    checks = "; ".join(f"{n} sender{'s' if n > 1 else ''}: {d} duplicates, {m} missing" for n, _, d, m in results)
    row(
        f"PostgreSQL: send to {recipients:,} recipients from 1 / 2 / 3 senders on one database",
        f"{rates} msg/s",
        f"{checks} (local counting server; each sender its own state folder)",
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stopped(signum: int, frame) -> None:
    """SIGTERM ends the run as SIGINT does, by an exception: the `finally` blocks stop the
    servers it started (the PostgreSQL cluster, SMTP sinks, `serve`)."""
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held until the block is done (then raised): a server being started
    or stopped is not left half-way, its clean-up not cut short."""
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        _stopped(arrived[0], None)


def main() -> int:
    signal.signal(signal.SIGTERM, _stopped)
    ap = argparse.ArgumentParser(description="Benchmarks for newsletter (see the module docstring).")
    ap.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes for cold builds")
    ap.add_argument("--quick", action="store_true", help="sizes 1000 and 10000 only; 5 watch saves")
    ap.add_argument("--workdir", help="where corpora and outputs go (default: /dev/shm/newsletter-bench)")
    ap.add_argument("--no-hugo", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument(
        "--only",
        choices=["cold", "digests", "serve-silent", "pg-senders"],
        help="run only these rows (printed, results.md untouched)",
    )
    ap.add_argument("--pg-recipients", type=int, default=100_000, help="recipients of the PostgreSQL senders row")
    args = ap.parse_args()
    sizes = [1000, 10000] if args.quick else [int(s) for s in args.sizes.split(",")]
    default_work = Path("/dev/shm/newsletter-bench") if Path("/dev/shm").is_dir() else HERE / "work"
    workdir = Path(args.workdir) if args.workdir else default_work
    workdir.mkdir(parents=True, exist_ok=True)
    # Bytecode for every module, as installing the wheel makes it: with PYTHONDONTWRITEBYTECODE
    # set (as here) a module edited since `make` would be compiled again at every start.
    subprocess.run([PY, "-m", "compileall", "-q", str(HERE.parent / "newsletter")], check=True)
    hugo = shutil.which("hugo") and not args.no_hugo
    env_line = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}, "
        f"outputs on {'tmpfs' if str(workdir).startswith('/dev/shm') else workdir}"
    )
    if hugo:
        env_line += ", " + subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[1]
    rows = []

    def row(what: str, value: str, note: str = "") -> None:
        rows.append((what, value, note))
        print(f"{what:58} {value:>22}  {note}", flush=True)

    print(f"# newsletter benchmarks — {env_line}")
    if args.only == "digests":
        digest_rows(workdir, row)
        return 0
    if args.only == "serve-silent":
        serve_silent_row(workdir, row)
        return 0
    if args.only == "pg-senders":
        pg_senders_rows(workdir, row, args.pg_recipients)
        return 0
    folders = {}
    for size in sizes:
        folder = folders[size] = corpus(workdir, size, bool(hugo))
        seconds, mb = cold_build(folder)
        files = sum(len(f) for _, _, f in os.walk(folder / "out"))
        floor = write_floor(folder / "out")
        note = f"{files} files; {seconds / floor:.1f}x the floor (writing those bytes alone: {floor:.2f} s)"
        if hugo:
            hs, hmb = hugo_build(folder)
            note += f"; Hugo {hs:.2f} s, {hmb:.0f} MB; Hugo/newsletter time {hs / seconds:.2f}x"
        row(f"cold build, {size:,} entries (feeds, pages, newsletters)", f"{seconds:.2f} s, {mb:.0f} MB", note)
        if hugo and size >= 10000:
            seconds, mb = cold_build(folder, "--config", str(feeds_only_config(workdir)))
            row(
                f"cold build, {size:,} entries, feeds and pages only (Hugo's outputs)",
                f"{seconds:.2f} s, {mb:.0f} MB",
                f"Hugo/newsletter time {hs / seconds:.2f}x",
            )
    if args.only == "cold":  # the cold-build rows alone, beside Hugo and the write floor
        return 0
    largest = max(sizes)
    warm = warm_builds(folders[largest])
    for label, what in (
        ("unchanged", "nothing changed"),
        ("one file changed", "one 100-entry file changed"),
        ("one file changed, --full", "one 100-entry file changed, `--full`"),
    ):
        seconds, mb = warm[label]
        row(f"rebuild, {largest:,} entries, {what}", f"{seconds:.2f} s, {mb:.0f} MB")
    ten = folders.get(10000) or corpus(workdir, 10000, False)
    for periods, label in ((104, "newest 104 weeks (default)"), (0, "every week since the first entry")):
        count, seconds, written = newsletter_issues(ten, periods)
        row(
            f"newsletter issues, 10,000 entries, {label}",
            f"{seconds:.2f} s",
            f"{count} issues, {written} files ({count / seconds:.0f} issues/s)",
        )
    seconds, count = send_messages(ten, 10000)
    row("send 10,000 messages to a local aiosmtpd", f"{count / seconds:.0f} msg/s", f"{seconds:.1f} s in all")
    lists, messages, first, again = send_due(workdir)
    row(
        f"send --due over {lists} lists, 4 finished weeks each",
        f"{first:.2f} s",
        f"{messages} messages ({messages / first:.0f} msg/s); the next run, nothing due: {again:.2f} s",
    )
    digest_rows(workdir, row)
    n, us = tagging_speed(folders[largest])
    row(f"country tagging, {n:,} entries (title and body)", f"{us:.1f} µs per entry")
    requests, rate, p95, errors = serve_load(workdir)
    row(
        "serve: 400 people sign up, confirm, half unsubscribe (50 at once)",
        f"{rate:.0f} requests/s",
        f"{requests} requests, p95 {p95 * 1000:.0f} ms, {errors} errors; each sign-up queues a confirmation",
    )
    serve_silent_row(workdir, row)
    pg_senders_rows(workdir, row, args.pg_recipients)
    for size in sorted({10000, largest} & set(folders) or {10000}):
        lat = watch_latency(folders.get(size) or ten, 5 if args.quick else 20)
        p95 = sorted(lat)[max(0, int(round(0.95 * len(lat))) - 1)]
        row(
            f"watch: save → feed on disk, {size:,} entries (debounce 250 ms)",
            f"{statistics.median(lat) * 1000:.0f} ms median",
            f"p95 {p95 * 1000:.0f} ms over {len(lat)} saves",
        )
    table = ["| scenario | result | notes |", "| --- | --- | --- |"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = (
        f"Measured {dt.date.today().isoformat()} on {env_line}. Reproduce with `make bench`.\n\n"
        + "\n".join(table)
        + "\n"
    )
    Path(args.out).write_text(text)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
