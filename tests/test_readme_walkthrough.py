"""The README's "Your own site in ten minutes", run as written (its own shell blocks, in order).

Only what a test cannot do as a person would is changed: `make demo` is skipped (the package is
installed already), the servers left running in other terminals are started here, and their
fixed ports are replaced by free ones so that tests can run side by side.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from helpers.smtp_server import free_port

README = Path(__file__).resolve().parent.parent / "README.md"


def walkthrough_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Your own site in ten minutes", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_walkthrough_runs_as_written_and_sends_each_digest_once(tmp_path):
    blocks = walkthrough_blocks()
    smtp_block = next(b for b in blocks if "aiosmtpd" in b)
    before, after = blocks[: blocks.index(smtp_block)], blocks[blocks.index(smtp_block) + 1 :]
    smtp_port, serve_port = free_port(), free_port()
    bin_dir = str(Path(sys.executable).parent)

    def script(parts: list[str]) -> str:
        text = "\n".join(parts)
        text = text.replace("$PWD/.venv/bin", bin_dir).replace("8025", str(smtp_port))
        text = text.replace("--port 8080", f"--port {serve_port}").replace(":8080/", f":{serve_port}/")
        lines = [line for line in text.splitlines() if line.strip() not in ("make demo",)]
        lines = [line for line in lines if "-m http.server" not in line]  # the static server: another terminal
        return "set -euo pipefail\n" + "\n".join(lines) + "\n"

    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("NEWSLETTER_SECRET", None)
    first = subprocess.run(["bash", "-c", script(before)], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert " from 2 files;" in first.stderr, "init's sample.txt is published beside your own bulletin"
    site = tmp_path / "mysite"
    assert (site / "feeds" / "cl" / "atom.xml").is_file(), "step 4's cl/atom.xml"

    command = smtp_block.strip().replace("8025", str(smtp_port)).split()
    command[0] = sys.executable
    smtp = subprocess.Popen(command, cwd=site, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                __import__("socket").create_connection(("127.0.0.1", smtp_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        rest = script([f'export PATH="{bin_dir}:$PATH"', "cd ~/mysite", *after, "kill %1 || true", "wait || true"])
        second = subprocess.run(["bash", "-c", rest], env=env, capture_output=True, text=True, timeout=120)
    finally:
        smtp.terminate()
        smtp.wait(10)
    assert second.returncode == 0, second.stderr
    err = second.stderr
    assert "--test:" in err and "not recorded as a delivery" in err
    assert "digest/2025-W11" in err and "1 sent" in err
    assert "no digest due" in err, "the second `send --due` sends nothing"
    rows = re.findall(r"^(digest/\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", second.stdout, flags=re.M)
    assert ("digest/2025-W11", "1", "0", "0", "0") in rows, second.stdout
    assert all(row[1:] == ("1", "0", "0", "0") for row in rows), "each week's digest sent once, to the one subscriber"
    messages = sorted((site / "mail" / "new").iterdir())
    assert len(messages) == 1 + len(rows), "the --test digest, then each week with news once: nothing twice"
    subjects = [line for line in second.stdout.splitlines() if line.startswith("Field Notes — ")]
    assert len(subjects) == len(messages), "the README's reader printed every message"
    assert subjects.count("Field Notes — 10–16 March 2025") == 2, "the --test digest and the due one"
    reader = next(b for b in blocks if "message_from_bytes" in b)  # its bytes: text=True would hide a CR
    printed = subprocess.run(["bash", "-c", reader], cwd=site, env=env, capture_output=True, timeout=60, check=True)
    assert b"http://127.0.0.1" in printed.stdout and b"\r" not in printed.stdout, "its links, printed without a CR"


def test_the_walkthrough_serves_the_site_on_this_machine_only():
    """The static server of the README's first lines and of step 4 binds 127.0.0.1, not every
    interface (`python -m http.server`'s default is 0.0.0.0)."""
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"python3? -m http\.server[^`\n]*", text)
    assert len(commands) >= 2 and all("--bind 127.0.0.1" in c for c in commands), commands
