"""The sending commands speak in one line each, and `-q` is quiet (the send trial): a damaged
page is one line, a bad `--subscribers` file or a `--state` that is a file says which path and
what is wrong, a closed stdout ends quietly, `send -q` and `unsubscribe -q` print nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_send_faults import Site, SpoolServer


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    s.configure(1)
    s.subscribers(["a@example.org"])
    return s


def one_line(run: subprocess.CompletedProcess, code: int = 2) -> str:
    assert run.returncode == code and "Traceback" not in run.stderr, run.stderr
    [line] = [x for x in run.stderr.splitlines() if x.strip()]
    assert line.startswith("newsletter: "), line
    return line


def test_a_damaged_page_is_one_line(site):
    # 40 unsubscribes grow the send log past three pages: the command's own code, in one process
    script = (
        "import sys\nfrom newsletter.cli import main\n"
        "sys.exit(max(main(['unsubscribe', f'u{n}@example.org', '--config', sys.argv[1]]) for n in range(40)))"
    )
    grow = subprocess.run(
        [sys.executable, "-c", script, str(site.dir / "newsletter.toml")],
        cwd=site.elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        env=site.env,
    )
    assert grow.returncode == 0, grow.stderr
    log = site.dir / ".newsletter" / "sendlog.sqlite3"
    data = bytearray(log.read_bytes())
    assert len(data) >= 3 * 4096
    data[2 * 4096 : 2 * 4096 + 64] = b"\xff" * 64  # page 3's header
    log.write_bytes(bytes(data))
    line = one_line(site.cli("status"))
    assert "damaged" in line and "restore it from a backup" in line and "***" not in line


def test_a_missing_or_binary_subscribers_file_is_one_clear_line(site, tmp_path):
    missing = one_line(site.cli("send", "--country", "pe", "--subscribers", str(tmp_path / "nobody.csv")))
    assert f"--subscribers {tmp_path / 'nobody.csv'}: no such file" in missing
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00")
    line = one_line(site.cli("send", "--country", "pe", "--subscribers", str(binary)))
    assert f"--subscribers {binary}: not a text file" in line and "codec" not in line


def test_a_state_option_naming_a_file_says_which_and_what_is_wrong(site, tmp_path):
    afile = tmp_path / "state.txt"
    afile.write_text("not a folder\n")
    line = one_line(site.cli("unsubscribe", "x@example.org", "--state", str(afile)), code=1)
    assert str(afile) in line and "a folder is needed" in line


def test_a_closed_stdout_ends_quietly(site, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email,countries,name\n" + "".join(f"p{n:05d}@example.org,pe,Person {n}\n" for n in range(3000)))
    assert site.cli("subscribers", "import", str(people)).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "subscribers", "export", "--config", str(site.dir / "newsletter.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=site.env,
        cwd=site.elsewhere,
    )
    assert proc.stdout is not None and proc.stdout.read(100)  # like `| head`: read a little, then close
    proc.stdout.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait(timeout=30)
    assert err == "", err


def test_quiet_send_and_unsubscribe_print_nothing(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        assert site.cli("build").returncode == 0
        assert site.cli("subscribers", "add", "b@example.org", "--country", "pe").returncode == 0
        loud = site.cli("send", "--country", "pe", "--issue", "2021-W34")
        assert "subscribers.csv is not read" in loud.stderr  # said without -q
        quiet = site.cli("send", "--country", "pe", "--issue", "2021-W34", "-q")
        assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
        gone = site.cli("unsubscribe", "b@example.org", "-q")
        assert gone.returncode == 0 and gone.stderr == "" and gone.stdout == ""


def test_status_without_a_send_log_says_nothing_sent_yet(site):
    run = site.cli("status")
    assert run.returncode == 0 and "nothing sent yet" in run.stdout, run.stderr


def test_resolve_of_an_issue_never_sent_is_one_line_exit_2(site):
    assert site.cli("unsubscribe", "x@example.org").returncode == 0  # a send log exists
    line = one_line(site.cli("resolve", "--country", "pe", "--issue", "1999-W01", "--all-uncertain", "--resend"))
    assert "pe/1999-W01: nothing was ever sent of it" in line


def test_send_country_star_of_one_issue_is_one_line(site, tmp_path):
    assert 'delivery = "lists"' in (site.dir / "newsletter.toml").read_text()
    assert site.cli("build").returncode == 0
    line = one_line(site.cli("send", "--country", "*", "--issue", "2021-W34", "--dry-run"))
    assert "every country's issue is its own" in line


def test_restoring_an_older_backup_says_later_unsubscribes_are_forgotten(site, tmp_path):
    assert site.cli("subscribers", "add", "b@example.org", "--country", "pe").returncode == 0
    assert site.cli("unsubscribe", "earlier@example.org").returncode == 0
    assert site.cli("backup", str(tmp_path / "bk")).returncode == 0
    assert site.cli("unsubscribe", "b@example.org").returncode == 0
    restored = site.cli("backup", "--restore", str(tmp_path / "bk"))
    assert restored.returncode == 0, restored.stderr
    assert "unsubscribes, bounces and complaints since are lost" in restored.stderr
    listed = {line.split()[0]: line.split()[1] for line in site.cli("subscribers", "list").stdout.splitlines()}
    assert listed["b@example.org"] == "subscribed"  # as the warning says: forgotten
