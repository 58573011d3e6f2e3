"""The wheel carries the templates and the country table, and works without the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from conftest import BASE_URL, REPO


def test_wheel_ships_templates_and_data_and_builds_a_site(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = list((tmp_path / "dist").glob("newsletter-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for name in (
        "newsletter/templates/base.html.j2",
        "newsletter/templates/newsletter.html.j2",
        "newsletter/templates/newsletter.css",
        "newsletter/templates/feed.xsl",
        "newsletter/data/countries.tsv",
    ):
        assert name in names
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("26 August 2021\n\nPeru news\n\nBody.\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import newsletter, sys; print(newsletter.__file__); "
            "from newsletter.cli import main; sys.exit(main(sys.argv[1:]))",
            "build",
            "in",
            "--out",
            "out",
            "--base-url",
            BASE_URL,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(str(target))  # the installed copy, not the checkout
    assert (tmp_path / "out" / "pe" / "atom.xml").is_file()
    assert (tmp_path / "out" / "newsletters" / "pe" / "2021-W34.html").is_file()
