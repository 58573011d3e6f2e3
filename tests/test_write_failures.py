"""A full disk, an I/O error or a read-only state folder is "cannot write …: disk full" or
"read-only" in one line (exit 2) — never "damaged" with advice to delete the marker — and
`backup` leaves no partial copy. Real small tmpfs mounts (root, as CI is)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_send_faults import Site

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: mount a tmpfs (CI is root)")


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    site.configure(1)
    site.subscribers(["a@example.org"])
    return site


@pytest.fixture
def mounts():
    mounted: list[Path] = []

    def mount(folder: Path, size: str = "3m") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> None:
    free = os.statvfs(folder)
    with open(folder / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free.f_bavail * free.f_frsize - leave))


def one_line(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    [line] = [x for x in run.stderr.splitlines() if x.strip()]
    assert line.startswith("newsletter: ") and "damaged" not in line and "delete" not in line, line
    return line


def test_a_full_disk_is_cannot_write_disk_full_never_damaged(site, mounts):
    state = mounts(site.dir / ".newsletter")
    assert site.cli("unsubscribe", "gone@example.org").returncode == 0  # the send log exists
    assert site.cli("subscribers", "add", "b@example.org", "--country", "pe").returncode == 0  # and the store
    fill(state)
    for command in (
        ("subscribers", "add", "c@example.org", "--country", "pe"),
        ("unsubscribe", "b@example.org"),
        ("subscribers", "remove", "a@example.org"),
    ):
        line = one_line(site.cli(*command))
        assert "cannot write" in line and "disk full" in line, (command, line)
    (state / "filler").unlink()
    listed = site.cli("subscribers", "list")
    assert (
        "b@example.org" in listed.stdout and "c@example.org" not in listed.stdout
    )  # nothing lost, nothing half-written


def test_a_read_only_state_folder_is_one_line_saying_so(site, mounts):
    state = mounts(site.dir / ".newsletter")
    assert site.cli("subscribers", "add", "b@example.org", "--country", "pe").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
    for command in (("subscribers", "add", "c@example.org", "--country", "pe"), ("unsubscribe", "b@example.org")):
        line = one_line(site.cli(*command))
        assert "read-only" in line.lower(), (command, line)


def test_backup_onto_a_full_disk_is_one_line_and_leaves_no_partial_copy(site, mounts, tmp_path):
    assert site.cli("subscribers", "add", "b@example.org", "--country", "pe").returncode == 0
    assert site.cli("unsubscribe", "gone@example.org").returncode == 0
    backups = mounts(tmp_path / "backups")
    fill(backups, leave=40 * 1024)
    line = one_line(site.cli("backup", str(backups / "monday")))
    assert "cannot write" in line and "disk full" in line and "nothing was backed up" in line
    assert sorted(p.name for p in backups.iterdir()) == ["filler"]  # no partial folder to restore later
    (backups / "filler").unlink()
    done = site.cli("backup", str(backups / "monday"))
    assert done.returncode == 0, done.stderr
    assert {"sendlog.sqlite3", "subscribers.sqlite3"} <= {p.name for p in (backups / "monday").iterdir()}
    assert sorted(p.name for p in backups.iterdir()) == ["monday"]


def test_status_and_backup_of_a_read_only_state_folder_read_it_without_writing(site, mounts, tmp_path):
    state = mounts(site.dir / ".newsletter")
    assert site.cli("subscribers", "add", "b@example.org", "--country", "pe").returncode == 0
    assert site.cli("unsubscribe", "gone@example.org").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
    status = site.cli("status")
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    issue = site.cli("status", "--country", "pe", "--issue", "2021-W34")
    assert issue.returncode == 0 and "b@example.org" in issue.stdout, issue.stderr
    done = site.cli("backup", str(tmp_path / "copy"))
    assert done.returncode == 0, done.stderr
    subprocess.run(["mount", "-o", "remount,rw", str(state)], check=True)
    restored = site.cli("backup", "--restore", str(tmp_path / "copy"))
    assert restored.returncode == 0, restored.stderr
    assert "b@example.org" in site.cli("subscribers", "list").stdout
