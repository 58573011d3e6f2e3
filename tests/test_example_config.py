"""The example configuration as a new user follows the README: add `newsletter.public_url` to
examples/newsletter.toml, send, and the one-click unsubscribe in every message goes to serve at
that URL (it once went to an `unsubscribe_url` the example set for another address, silently).
The send goes to tests/helpers/spool_smtp.py in its own process; what counts is what it stored."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
from pathlib import Path

from test_send_faults import SpoolServer

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://news.example.org/newsletter/"


def _site(tmp_path: Path, port: int, extra: str = "") -> Path:
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples", site)
    text = (site / "newsletter.toml").read_text().replace("port = 8025", f"port = {port}")
    text = text.replace(
        'from_address = "news@example.org"\n',
        f'from_address = "news@example.org"\npublic_url = "{PUBLIC}"\ndelivery = "lists"\n{extra}',
    )
    (site / "newsletter.toml").write_text(text)
    (site / "subscribers.csv").write_text("email,countries,name\nana@example.org,*,Ana\n")
    return site


def _run(site: Path, *args: str, secret: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NEWSLETTER_SECRET"}
    if secret:
        env["NEWSLETTER_SECRET"] = "example-secret"
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=site, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_example_config_with_public_url_sends_one_click_to_serve(tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        (tmp_path / "spool").mkdir(exist_ok=True)
        site = _site(tmp_path, server.port)
        assert _run(site, "build", "bulletins", "-q").returncode in (0, 1)
        refused = _run(site, "send", "--country", "pe", "--force", secret=False)
        assert refused.returncode == 2
        # the one-click URL comes from public_url: the error says so, not unsubscribe_url
        assert "newsletter.public_url is set, so one-click unsubscribe links need a key" in refused.stderr
        sent = _run(site, "send", "--country", "pe", "--force")
        assert sent.returncode == 0, sent.stderr
        assert "unsubscribe_url" not in sent.stderr
        [path] = (tmp_path / "spool").glob("ana@example.org.*.eml")
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    https = [u.strip("<> ") for u in msg["List-Unsubscribe"].split(",") if "https:" in u]
    assert len(https) == 1 and https[0].startswith(f"{PUBLIC}unsubscribe?list=pe&email=ana%40example.org&token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_unsubscribe_url_outside_public_url_is_said(tmp_path):
    site = _site(tmp_path, 1, 'unsubscribe_url = "https://other.example.net/unsubscribe"\n')
    built = _run(site, "build", "bulletins")
    assert built.returncode in (0, 1)
    assert (
        "newsletter.unsubscribe_url (https://other.example.net/unsubscribe) is not under newsletter.public_url "
        f"({PUBLIC}): one-click unsubscribes go there"
    ) in built.stderr


def test_make_demo_and_the_example_config_name_the_same_site_and_state_folder():
    import re

    from newsletter.config import load_config

    config = load_config(str(ROOT / "examples" / "newsletter.toml"))
    makefile = (ROOT / "Makefile").read_text()
    demo_out = re.search(r"^DEMO_OUT \?= (\S+)$", makefile, re.M).group(1)
    demo_state = re.search(r"^DEMO_STATE \?= (\S+)$", makefile, re.M).group(1)
    assert Path(config.out).resolve() == (ROOT / demo_out).resolve()
    assert Path(config.state).resolve() == (ROOT / demo_state).resolve()
