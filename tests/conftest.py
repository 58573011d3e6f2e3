"""Shared helpers: write bulletins into tmp_path, run the real CLI, read outputs back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import forkserver

from newsletter.cli import main

forkserver.install()  # `python -m newsletter …` subprocesses fork from a warm process: tests/helpers/forkserver.py


def pytest_unconfigure(config):
    forkserver.stop()  # waited for here (not at exit, which an xdist worker may skip): its CPU is counted


REPO = Path(__file__).resolve().parent.parent
BASE_URL = "https://news.example.org/"


@dataclass
class Run:
    code: int
    out: str
    err: str


def bulletin(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def site(tmp_path, capsys, monkeypatch):
    """A bulletin folder, an output folder and a `build()` that runs `newsletter build` in-process."""
    monkeypatch.chdir(tmp_path)

    class Site:
        root = tmp_path
        bulletins = tmp_path / "bulletins"
        out = tmp_path / "out"
        state = tmp_path / "state"

        def write(self, name: str, text: str | bytes) -> Path:
            path = self.bulletins / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, str):
                path.write_text(bulletin(text), encoding="utf-8")
            else:
                path.write_bytes(text)
            return path

        def build(self, *extra: str, out: Path | None = None) -> Run:
            capsys.readouterr()
            code = main(
                [
                    "build",
                    str(self.bulletins),
                    "--out",
                    str(out or self.out),
                    "--state",
                    str(self.state),
                    "--base-url",
                    BASE_URL,
                    *extra,
                ]
            )
            captured = capsys.readouterr()
            return Run(code, captured.out, captured.err)

        def read(self, rel: str) -> str:
            return (self.out / rel).read_text(encoding="utf-8")

    Site.bulletins.mkdir()
    return Site()


def run_cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> Run:
    """Run the installed `newsletter` command in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _run_folder(config) -> Path:
    """A folder of this run that all its xdist workers share (pytest's base temporary folder)."""
    base = config._tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


@pytest.fixture(scope="session")
def pg_cluster(request):
    """The run's throwaway PostgreSQL 15 cluster, one for all xdist workers (tests/helpers/pgcluster.py);
    never stopped or restarted by a test (those use `own_pg_cluster`)."""
    from helpers.pgcluster import shared

    with shared(_run_folder(request.config)) as cluster:
        yield cluster


@pytest.fixture
def own_pg_cluster():
    """A PostgreSQL cluster of this test's own, for a test that stops or restarts the server."""
    from helpers.pgcluster import Cluster

    cluster = Cluster()
    yield cluster
    cluster.stop()


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput") and hasattr(session.config, "_tmp_path_factory"):
        from helpers.pgcluster import stop_shared

        stop_shared(_run_folder(session.config))  # one a worker that died left running


@pytest.fixture
def pg_url(pg_cluster):
    """The URL of an empty PostgreSQL database of this test's own."""
    url = pg_cluster.fresh()
    yield url
    pg_cluster.drop(url)


class Backend:
    """Where a test's store and send log live: `sqlite` (files in the state folder) or
    `postgresql` (a database of the test's own on the session's cluster)."""

    def __init__(self, name: str, url: str = "") -> None:
        self.name = name
        self.url = url

    def seed(self, state_dir: Path) -> Path:
        """With `postgresql`, give `state_dir` the database first (its `*.pg-id` files record
        it), so that every command on that folder — in this process or another — uses it."""
        if self.url:
            from newsletter.send.sendlog import SendLog

            SendLog(state_dir, database=self.url).close()
        return state_dir

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    """Run the test against both backends of the subscriber store and the send log."""
    if request.param == "sqlite":
        return Backend("sqlite")
    return Backend("postgresql", request.getfixturevalue("pg_url"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, `make test` keeps one trial of each many-trial test and the tests marked
    `slow_on_postgresql` (with arguments: the runs whose id holds one of them); the rest run under `make test-slow` (the SQLite runs are unchanged)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("backend") != "postgresql":
            continue
        marker = item.get_closest_marker("slow_on_postgresql")  # its arguments: only runs whose id has one
        if params.get("trial", 0) >= 1 or (
            marker and (not marker.args or any(a in item.callspec.id for a in marker.args))
        ):
            item.add_marker(pytest.mark.slow)


CHROMIUM = os.environ.get("NEWSLETTER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    """One system Chromium per test session (per xdist worker), driven by Playwright; each test
    opens pages in contexts of its own (`browser` below), so no cookie or cache crosses tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser(chromium):
    """The session's Chromium for one test. `browser.new_page()` and `new_context()` open a
    context of their own (own cookies, cache and storage), so nothing crosses from test to test;
    whatever context the test left open is closed after it."""
    yield chromium
    for context in chromium.contexts:
        context.close()
