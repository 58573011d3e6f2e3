"""The watch daemon with real watchdog observers on real files in tmp_path."""

from __future__ import annotations

import http.server
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
import pytest
from conftest import BASE_URL

from newsletter.config import load_config
from newsletter.watch.daemon import WatchDaemon, WatchOptions

PERU = "26 August 2021\n\nPeru Opens a Shelter\n\nThe shelter hosts 200 people.\n"
CHILE = "25 August 2021\n\nChile Trains Rangers\n\nRangers trained for two weeks.\n"


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    return False


def titles(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [e.title for e in feedparser.parse(path.read_bytes()).entries]


class Running:
    def __init__(self, tmp_path: Path, config_text: str = "", polling: bool = False, templates: Path | None = None):
        self.root = tmp_path
        self.bulletins = tmp_path / "bulletins"
        self.bulletins.mkdir(exist_ok=True)
        self.out = tmp_path / "out"
        self.config_path = tmp_path / "newsletter.toml"
        self.config_path.write_text(f'base_url = "{BASE_URL}"\n' + config_text)
        options = WatchOptions(
            inputs=[str(self.bulletins)],
            out_dir=self.out,
            state_dir=tmp_path / "state",
            templates_dir=str(templates) if templates else None,
            config_path=str(self.config_path),
            polling=polling,
            debounce=0.05,
            rescan=0,
        )
        self.daemon = WatchDaemon(options, lambda: load_config(str(self.config_path)))
        self.thread = threading.Thread(target=self.daemon.run, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        assert wait_until(lambda: self.daemon.rebuilds >= 1 and (self.out / "all/atom.xml").exists())
        time.sleep(0.2)  # let the observer settle
        return self

    def __exit__(self, *exc) -> None:
        self.daemon.stop.set()
        # wake its wait for changes (up to 0.5 s otherwise): a change it takes, so that the batch
        # closes and the loop sees the stop before rebuilding anything
        self.daemon.changes.put(("changed", str(self.config_path)))
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()

    def feed(self, group: str = "all") -> list[str]:
        return titles(self.out / group / "atom.xml")

    def settle(self, rebuilds_before: int, timeout: float = 10.0) -> None:
        """Wait for at least one more rebuild and then for quiet."""
        assert wait_until(lambda: self.daemon.rebuilds > rebuilds_before, timeout)
        time.sleep(0.3)


@pytest.fixture
def running(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    with Running(tmp_path) as r:
        yield r


def edited(text: str) -> str:
    return text.replace("200 people", "250 people")


def save_in_place(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def save_temp_and_rename(path: Path, text: str) -> None:  # sed -i, most IDEs
    tmp = path.with_name(f".{path.name}.sedXYZ1")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_vim_backup(path: Path, text: str) -> None:  # vim with backupcopy=no
    backup = path.with_name(path.name + "~")
    os.rename(path, backup)
    (path.parent / "4913").write_text("")
    (path.parent / "4913").unlink()
    path.write_text(text)
    swp = path.with_name(f".{path.name}.swp")
    swp.write_text("swap")
    backup.unlink()
    swp.unlink()


def save_jetbrains(path: Path, text: str) -> None:  # "safe write"
    tmp = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    tmp.write_text(text)
    os.rename(path, old)
    os.rename(tmp, path)
    old.unlink()


@pytest.mark.parametrize("save", [save_in_place, save_temp_and_rename, save_vim_backup, save_jetbrains])
def test_every_save_style_updates_the_right_feeds(running, save):
    (running.bulletins / "b.txt").write_text(CHILE)
    assert wait_until(lambda: running.feed("cl") == ["Chile Trains Rangers"])
    before = (running.out / "cl/atom.xml").stat().st_mtime_ns
    n = running.daemon.rebuilds
    save(running.bulletins / "a.txt", PERU.replace("Peru Opens a Shelter", "Peru Opens a Second Shelter"))
    assert wait_until(lambda: running.feed("pe") == ["Peru Opens a Second Shelter"])
    running.settle(n)
    assert running.feed("all") == ["Peru Opens a Second Shelter", "Chile Trains Rangers"]
    assert (running.out / "cl/atom.xml").stat().st_mtime_ns == before  # untouched
    assert not any("jb_" in p.name or p.name.endswith("~") for p in running.out.rglob("*"))


def test_delete_and_rename(running):
    (running.bulletins / "b.txt").write_text(CHILE)
    assert wait_until(lambda: len(running.feed()) == 2)
    os.rename(running.bulletins / "b.txt", running.bulletins / "renamed.txt")
    time.sleep(0.5)
    assert wait_until(lambda: len(running.feed()) == 2 and running.feed("cl") == ["Chile Trains Rangers"])
    os.rename(running.bulletins / "renamed.txt", running.root / "outside.txt")  # moved out
    assert wait_until(lambda: not (running.out / "cl").exists())
    os.rename(running.root / "outside.txt", running.bulletins / "back.txt")  # moved in
    assert wait_until(lambda: running.feed("cl") == ["Chile Trains Rangers"])
    (running.bulletins / "back.txt").unlink()
    assert wait_until(lambda: running.feed() == ["Peru Opens a Shelter"])


def test_subfolders_appear_and_vanish(running):
    sub = running.bulletins / "2021" / "august"
    sub.mkdir(parents=True)
    (sub / "c.md").write_text(CHILE)
    assert wait_until(lambda: running.feed("cl") == ["Chile Trains Rangers"])
    shutil.rmtree(running.bulletins / "2021")
    assert wait_until(lambda: not (running.out / "cl").exists())
    staged = running.root / "staged"
    staged.mkdir()
    (staged / "d.txt").write_text(CHILE)
    os.rename(staged, running.bulletins / "staged")  # a whole folder moved in
    assert wait_until(lambda: running.feed("cl") == ["Chile Trains Rangers"])


def test_burst_of_writes_causes_few_rebuilds(running):
    n = running.daemon.rebuilds
    path = running.bulletins / "a.txt"
    for i in range(100):
        path.write_text(PERU.replace("200 people", f"{i} people"))
        time.sleep(0.001)
    assert wait_until(lambda: "99 people" in (running.out / "pe/feed.json").read_text())
    running.settle(n)
    assert running.daemon.rebuilds - n <= 5


def test_broken_file_keeps_its_last_good_entries(running, caplog):
    path = running.bulletins / "a.txt"
    n = running.daemon.rebuilds
    path.write_text("31 February 2021\n\nPeru Opens a Shelter\n\nThe shelter hosts 200 people.\n\n" + CHILE)
    assert wait_until(lambda: running.feed("cl") == ["Chile Trains Rangers"])
    running.settle(n)
    assert running.feed("pe") == ["Peru Opens a Shelter"]  # still published
    path.write_text(CHILE)  # fixed by removing the entry: now it goes
    assert wait_until(lambda: not (running.out / "pe").exists())


def test_an_unknown_country_keeps_the_last_good_entry_published(running):
    path = running.bulletins / "j.txt"
    n = running.daemon.rebuilds
    path.write_text("2 September 2021\n\nJapan and Korea Sign an Accord\nCountries: Japan, South Korea\n\nBody.\n")
    assert wait_until(lambda: running.feed("jp") == ["Japan and Korea Sign an Accord"])
    running.settle(n)
    n = running.daemon.rebuilds
    path.write_text("2 September 2021\n\nJapan and Korea Sign an Accord\nCountries: Japan, Narnia\n\nBody.\n")
    running.settle(n)
    assert running.feed("jp") == ["Japan and Korea Sign an Accord"] == running.feed("kr")  # still published
    assert not (running.out / "regional").exists()


def test_typo_fix_keeps_the_id_and_moves_updated(running):
    first = feedparser.parse((running.out / "pe/atom.xml").read_bytes()).entries[0]
    time.sleep(1.1)  # `updated` has one-second resolution
    (running.bulletins / "a.txt").write_text(
        PERU.replace("Shelter", "Shelterr").replace("Peru Opens a Shelterr", "Peru Opens a Sheltre")
    )
    assert wait_until(lambda: running.feed("pe") == ["Peru Opens a Sheltre"])
    (running.bulletins / "a.txt").write_text(PERU.replace("Peru Opens a Shelter", "Peru Opens a Shelter Today"))
    assert wait_until(lambda: running.feed("pe") == ["Peru Opens a Shelter Today"])
    entry = feedparser.parse((running.out / "pe/atom.xml").read_bytes()).entries[0]
    assert entry.id == first.id
    assert entry.link == first.link
    assert entry.updated_parsed > first.updated_parsed
    assert entry.published_parsed == first.published_parsed


def test_same_state_gives_the_same_output_after_edits(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    with Running(tmp_path) as r:
        n = r.daemon.rebuilds
        (r.bulletins / "a.txt").write_text(PERU.replace("Peru Opens a Shelter", "Peru Opens Its Shelter"))
        r.settle(n)
    from newsletter.cli import main

    main(
        [
            "build",
            str(tmp_path / "bulletins"),
            "--out",
            str(tmp_path / "again"),
            "--state",
            str(tmp_path / "state"),
            "--config",
            str(tmp_path / "newsletter.toml"),
        ]
    )
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert (tmp_path / "again" / path.relative_to(tmp_path / "out")).read_bytes() == path.read_bytes(), path


def test_editor_temp_files_cause_no_rebuild(running):
    n = running.daemon.rebuilds
    for name in (".a.txt.swp", "a.txt~", ".#a.txt", "4913", "a.txt___jb_tmp___", "notes.docx"):
        (running.bulletins / name).write_text("junk")
    time.sleep(0.6)
    assert running.daemon.rebuilds == n


def test_watched_folder_removed_and_recreated(running):
    shutil.rmtree(running.bulletins)
    time.sleep(1.0)
    assert running.feed() == ["Peru Opens a Shelter"]  # nothing is unpublished while it is gone
    running.bulletins.mkdir()
    (running.bulletins / "b.txt").write_text(CHILE)
    assert wait_until(lambda: running.feed() == ["Chile Trains Rangers"], timeout=15)
    (running.bulletins / "c.txt").write_text(PERU)
    assert wait_until(lambda: running.feed() == ["Peru Opens a Shelter", "Chile Trains Rangers"])


def test_config_change_rebuilds(running):
    running.config_path.write_text(f'base_url = "{BASE_URL}"\ntitle = "Renamed Site"\n')
    assert wait_until(
        lambda: feedparser.parse((running.out / "pe/atom.xml").read_bytes()).feed.title == "Renamed Site \u2014 Peru"
    )
    n = running.daemon.rebuilds
    running.config_path.write_text('feed_limit = "lots"\n')  # invalid: reported, old config kept
    running.settle(n)
    assert feedparser.parse((running.out / "pe/atom.xml").read_bytes()).feed.title == "Renamed Site \u2014 Peru"


def test_template_change_rebuilds(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "site.css").write_text("body { color: red; }\n")
    with Running(tmp_path, templates=templates) as r:
        assert "red" in (r.out / "site.css").read_text()
        (templates / "site.css").write_text("body { color: blue; }\n")
        assert wait_until(lambda: "blue" in (r.out / "site.css").read_text())


def test_polling_observer(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    with Running(tmp_path, polling=True) as r:
        (r.bulletins / "b.txt").write_text(CHILE)
        assert wait_until(lambda: r.feed("cl") == ["Chile Trains Rangers"], timeout=10)


def test_a_failing_rebuild_does_not_stop_the_watcher(running, monkeypatch):
    # A fault we cannot cause for real (a bug in a renderer) is simulated: the first
    # rebuild after the edit raises; the daemon logs it and the next change works.
    import newsletter.watch.daemon as daemon_module

    real = daemon_module.build_site
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated renderer bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(daemon_module, "build_site", flaky)
    (running.bulletins / "b.txt").write_text(CHILE)
    assert wait_until(lambda: calls["n"] >= 1)
    time.sleep(0.3)
    (running.bulletins / "c.txt").write_text(CHILE.replace("25 August", "24 August").replace("Rangers", "Guards"))
    assert wait_until(lambda: running.feed("cl") == ["Chile Trains Rangers", "Chile Trains Guards"])


def test_unchanged_outputs_keep_their_mtime(running):
    mtimes = {p: p.stat().st_mtime_ns for p in running.out.rglob("*") if p.is_file()}
    n = running.daemon.rebuilds
    (running.bulletins / "a.txt").write_text(PERU)  # same bytes, new mtime
    (running.bulletins / "b.txt").write_text(CHILE)
    running.settle(n)
    for path, mtime in mtimes.items():
        if (
            path.parts[-2] not in ("all", "cl", "sitemaps")
            and "newsletters" not in path.parts
            and path.name not in ("index.html", "feeds.opml")
        ):  # a sitemap lists the new entry and list
            assert path.stat().st_mtime_ns == mtime, path
    assert (running.out / "pe/atom.xml").stat().st_mtime_ns == mtimes[running.out / "pe/atom.xml"]


class Hub(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        from urllib.parse import parse_qs

        Hub.received.append(parse_qs(self.rfile.read(length).decode()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_websub_hub_is_pinged_for_changed_feeds(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub = f"http://127.0.0.1:{server.server_port}/hub"
    Hub.received.clear()
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    try:
        with Running(tmp_path, config_text=f'[watch]\nwebsub_hub = "{hub}"\n') as r:
            assert f'href="{hub}" rel="hub"' in (r.out / "pe/atom.xml").read_text()
            assert wait_until(lambda: Hub.received)
            Hub.received.clear()
            (r.bulletins / "b.txt").write_text(CHILE)
            assert wait_until(lambda: any(BASE_URL + "cl/atom.xml" in q.get("hub.url", []) for q in Hub.received))
            urls = {u for q in Hub.received for u in q["hub.url"]}
            assert all(q["hub.mode"] == ["publish"] for q in Hub.received)
            assert BASE_URL + "pe/atom.xml" not in urls  # unchanged feeds are not announced
    finally:
        server.shutdown()


def test_unreachable_hub_never_blocks_a_rebuild(tmp_path):
    from helpers.smtp_server import free_port

    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    with Running(tmp_path, config_text=f'[watch]\nwebsub_hub = "http://127.0.0.1:{free_port()}/hub"\n') as r:
        (r.bulletins / "b.txt").write_text(CHILE)
        assert wait_until(lambda: r.feed("cl") == ["Chile Trains Rangers"], timeout=5)
    assert json.loads((tmp_path / "state/websub-pending.json").read_text())  # kept for later


def test_sigterm_stops_the_daemon_cleanly(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--out", "out", "--base-url", BASE_URL],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until(lambda: (tmp_path / "out/all/atom.xml").exists(), timeout=20)
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=5)
        assert code == 0
        assert time.monotonic() - started < 2.0
        err = proc.stderr.read()
        assert "stopped" in err and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_once_builds_and_exits(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    os.utime(tmp_path / "bulletins" / "a.txt", ns=(10**18, 10**18))  # not within a clock tick of the build
    proc = subprocess.run(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--out", "out", "--once", "--base-url", BASE_URL],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert titles(tmp_path / "out/pe/atom.xml") == ["Peru Opens a Shelter"]
    # --once builds as `build` does: a second run finds nothing changed
    again = subprocess.run(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--out", "out", "--once", "--base-url", BASE_URL],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and " nothing rebuilt: nothing changed since the last build" in again.stderr
    assert "(checked in " in again.stderr and "; 1 entry, 0 errors)" in again.stderr, again.stderr
    assert "rebuilt in" not in again.stderr, again.stderr  # nothing was


def test_sigterm_during_a_long_build_stops_within_two_seconds(tmp_path):
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for f in range(60):
        (bulletins / f"b{f:02d}.txt").write_text(
            "".join(
                f"{1 + n % 28} {('May', 'June', 'July')[n % 3]} 20{10 + f % 12}\n\nPeru and Chile item {f}-{n}\n\n"
                f"Body of item {n} in file {f}.\n\n"
                for n in range(500)
            )
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--out", "out", "--base-url", BASE_URL],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until(lambda: len(list((tmp_path / "out" / "entries").iterdir())) > 200, timeout=60)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 2.0
        err = proc.stderr.read()
        assert "Traceback" not in err
        assert "stopped in the middle of a rebuild" in err
        leftovers = [
            p
            for p in (tmp_path / "out").rglob("*")
            if p.is_file() and (p.stat().st_size == 0 or p.name.endswith(".tmp"))
        ]
        assert leftovers == []  # no half-written output, no temporary file
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("command", [["build"], ["watch", "--once"]])
def test_one_shot_runs_announce_changed_feeds(tmp_path, command):
    server = http.server.HTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hub.received.clear()
    try:
        (tmp_path / "bulletins").mkdir()
        (tmp_path / "bulletins" / "a.txt").write_text(PERU)
        (tmp_path / "newsletter.toml").write_text(
            f'base_url = "{BASE_URL}"\n[watch]\nwebsub_hub = "http://127.0.0.1:{server.server_port}/hub"\n'
        )
        run = subprocess.run(
            [sys.executable, "-m", "newsletter", *command, "bulletins", "--out", "out"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        urls = {u for q in Hub.received for u in q["hub.url"]}
        assert BASE_URL + "pe/atom.xml" in urls and BASE_URL + "all/rss.xml" in urls
        Hub.received.clear()
        subprocess.run(
            [sys.executable, "-m", "newsletter", *command, "bulletins", "--out", "out"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert Hub.received == []  # nothing changed, nothing announced
    finally:
        server.shutdown()


def test_the_periodic_rescan_repairs_an_output_edited_or_deleted_by_hand(tmp_path, caplog):
    """As `newsletter build` does: a hand-edited page and a deleted feed are written again by
    the daemon's next rescan, without a bulletin changing (T7 #19)."""
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    (tmp_path / "bulletins" / "b.txt").write_text(CHILE)
    caplog.set_level(logging.INFO, logger="newsletter.watch")
    r = Running(tmp_path)
    r.daemon.options.rescan = 0.5
    with r:
        page, feed = r.out / "pe" / "index.html", r.out / "cl" / "feed.json"
        assert wait_until(lambda: page.exists() and feed.exists())
        good = page.read_bytes()
        time.sleep(1.5)  # the first build's saves are done (FLUSH_SECONDS)
        page.write_bytes(good + b"<!-- edited by hand -->\n")
        feed.unlink()
        assert wait_until(lambda: page.read_bytes() == good and feed.exists(), timeout=15)
    said = [r.getMessage() for r in caplog.records if "checking every output" in r.getMessage()]
    assert said and "not as written: " in said[0] and "pe/index.html (edited)" in said[0], said  # names it (T8)


def run_newsletter(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m newsletter ARGS` run to its end in `cwd`, its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_once_exits_as_build_does_on_a_bulletin_error(tmp_path):
    """`watch --once` builds as `newsletter build` does, exit code included: 1 when a bulletin
    has an error (its other entries are still published), 0 once it is fixed (T8)."""
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU + "\n31 Febtember 2021\n\nA Broken Date\n\nBody.\n")
    codes = {}
    for command in (["build"], ["watch", "--once"]):
        run = run_newsletter(tmp_path, *command, "bulletins", "--out", f"out-{command[0]}", "--base-url", BASE_URL)
        codes[command[0]] = run.returncode
        assert "a.txt:" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert codes == {"build": 1, "watch": 1}
    assert titles(tmp_path / "out-watch/pe/atom.xml") == ["Peru Opens a Shelter"]
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    fixed = run_newsletter(tmp_path, "watch", "--once", "bulletins", "--out", "out-watch", "--base-url", BASE_URL)
    assert fixed.returncode == 0, fixed.stderr


@pytest.mark.parametrize("once", [True, False])
def test_watching_some_files_warns_of_what_the_others_lose(tmp_path, once):
    """`watch FILE` after a build of the whole folder warns, as `build FILE` does, that the
    other files' entries are no longer published (T8): `--once`, and the daemon at its start."""
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(PERU)
    (tmp_path / "bulletins" / "b.txt").write_text(CHILE)
    subprocess.run(
        [sys.executable, "-m", "newsletter", "build", "bulletins", "--out", "out", "--base-url", BASE_URL],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=True,
    )
    said = (
        "1 of the last build's 2 bulletin files is not among the inputs (bulletins/b.txt): its 1 entry is no "
        "longer published ("
    )
    if once:
        run = run_newsletter(tmp_path, "watch", "--once", "bulletins/a.txt", "--out", "out", "--base-url", BASE_URL)
        assert run.returncode == 0, run.stderr
        err = run.stderr
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "watch", "bulletins/a.txt", "--out", "out", "--base-url", BASE_URL],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert wait_until(lambda: not (tmp_path / "out" / "cl").exists(), timeout=30)
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            err = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert said in err, err
    assert err.count("not among the inputs") == 1, err
    assert not (tmp_path / "out" / "cl").exists()
