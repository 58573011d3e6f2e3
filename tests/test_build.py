"""Whole builds through the CLI: escaping, determinism, incremental writes, errors, exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest
from conftest import BASE_URL, REPO, run_cli

GOOD = """
    26 August 2021

    Peru and Chile Sign a Water Agreement

    The agreement covers three rivers.

    24 August 2021

    Honduras Opens a New Shelter

    The shelter hosts 200 people.
"""


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_markup_in_bulletins_is_escaped_everywhere(site):
    site.write(
        "evil.txt",
        """
        26 August 2021

        <script>alert("title")</script> Peru & <b>friends</b>

        Body <img src=x onerror=alert(1)> and <script>alert(2)</script> "quotes" & more.
    """,
    )
    assert site.build().code == 0
    for rel in ["pe/index.html", "all/index.html", "index.html"] + [
        f"entries/{p.name}" for p in (site.out / "entries").iterdir()
    ]:
        html = site.read(rel)
        assert "<script>" not in html and "<img" not in html and "<b>" not in html, rel
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; Peru &amp; &lt;b&gt;friends&lt;/b&gt;" in site.read(
        "pe/index.html"
    )
    feed = feedparser.parse(site.read("pe/atom.xml"))
    assert feed.bozo == 0
    assert feed.entries[0].title == '<script>alert("title")</script> Peru & <b>friends</b>'
    assert "&lt;img src=x onerror=alert(1)&gt;" in feed.entries[0].content[0].value
    data = site.read("pe/feed.json")
    assert "<script>" not in data.replace("\\u003c", "<").split('"title"')[0]


def test_markdown_cannot_inject_script(site):
    site.write(
        "evil.md",
        '26 August 2021\n\n# Peru\n\n<script>alert(1)</script> [x](javascript:alert(1)) <a href="x" onclick="y">z</a>\n',
    )
    site.build()
    html = site.read("pe/index.html")
    assert "<script>" not in html and 'href="javascript:' not in html and ' onclick="' not in html


def test_bare_urls_in_markdown_bodies_become_links_as_in_text_bodies(site):
    site.write(
        "news.md",
        "26 August 2021\n\n# Peru Publishes a Report\n\nRead it at https://example.org/report_2021, "
        "or [the summary](https://example.org/summary); `https://example.org/code` stays code.\n",
    )
    assert site.build().code == 0
    [entry] = list((site.out / "entries").iterdir())
    page = entry.read_text()
    assert '<a href="https://example.org/report_2021">https://example.org/report_2021</a>, or' in page
    assert '<a href="https://example.org/summary">the summary</a>' in page
    assert "<code>https://example.org/code</code>" in page
    assert 'href="https://example.org/code"' not in page


def test_pages_have_a_content_security_policy(site):
    site.write("a.txt", GOOD)
    site.build()
    assert "Content-Security-Policy" in site.read("pe/index.html")


def test_building_twice_gives_byte_identical_trees(site):
    site.write("a.txt", GOOD)
    site.write("b.md", "1 September 2021\n\n# Chile *update*\n\nText.\n")
    assert site.build().code == 0
    assert site.build(out=site.root / "second").code == 0
    assert tree(site.out) == tree(site.root / "second")


def test_unchanged_outputs_are_not_rewritten(site):
    site.write("a.txt", GOOD)
    site.build()
    before = {p: p.stat().st_mtime_ns for p in site.out.rglob("*") if p.is_file()}
    run = site.build()
    assert "0 files written" in run.err
    assert {p: p.stat().st_mtime_ns for p in site.out.rglob("*") if p.is_file()} == before


def test_only_affected_outputs_change(site):
    site.write("a.txt", GOOD)
    site.build()
    before = {p: p.stat().st_mtime_ns for p in site.out.rglob("*") if p.is_file()}
    site.write("a.txt", GOOD.replace("200 people", "250 people"))
    site.build()
    changed = {
        p.relative_to(site.out).as_posix()
        for p in site.out.rglob("*")
        if p.is_file() and p.stat().st_mtime_ns != before.get(p)
    }
    assert "hn/atom.xml" in changed and "all/atom.xml" in changed
    assert not any(p.startswith(("pe/", "cl/")) for p in changed), changed


def test_files_edited_by_hand_are_repaired(site):
    site.write("a.txt", GOOD)
    site.build()
    original = site.read("pe/atom.xml")
    (site.out / "pe/atom.xml").write_text("tampered")
    site.build()
    assert site.read("pe/atom.xml") == original


def test_outputs_no_longer_produced_are_removed(site):
    site.write("a.txt", GOOD)
    site.build()
    assert (site.out / "hn/atom.xml").exists()
    site.write("a.txt", GOOD.split("24 August")[0])
    site.build()
    assert not (site.out / "hn").exists()
    assert not any("honduras" in p.name for p in (site.out / "entries").iterdir())
    assert (site.out / "pe/atom.xml").exists()


def test_files_not_made_by_newsletter_are_left_alone(site):
    site.write("a.txt", GOOD)
    site.out.mkdir()
    (site.out / "CNAME").write_text("news.example.org")
    site.build()
    site.write("a.txt", GOOD.split("24 August")[0])
    site.build()
    assert (site.out / "CNAME").read_text() == "news.example.org"


def test_malformed_files_beside_good_ones(site):
    site.write("a.txt", GOOD)
    site.write(
        "broken.txt", "31 February 2021\nBad date\n\nBody.\n\n2 March 2021\nGuatemala news\n\nBody.\n\n3 March 2021\n"
    )
    site.write("binary.txt", b"\x00\x01\x02PK\x03\x04" * 20)
    site.write("notes.docx", b"PK")
    run = site.build()
    assert run.code == 1
    lines = run.err.splitlines()
    broken, binary = str(site.bulletins / "broken.txt"), str(site.bulletins / "binary.txt")
    assert f'{broken}:1: impossible date "31 February 2021"; this entry is skipped' in lines
    assert any(l.startswith(f"{broken}:11: ") and "no title" in l for l in lines)
    assert any(l.startswith(f"{binary}:1: ") and "binary" in l for l in lines)
    assert any("notes.docx: note: not a .txt or .md bulletin; ignored" in l for l in lines)
    assert "Traceback" not in run.err
    titles = [e.title for e in feedparser.parse(site.read("all/atom.xml")).entries]
    assert titles == ["Peru and Chile Sign a Water Agreement", "Honduras Opens a New Shelter", "Guatemala news"]


def test_strict_mode_writes_nothing(site):
    site.write("a.txt", GOOD)
    site.write("broken.txt", "31 February 2021\nBad\n\nBody.\n")
    run = site.build("--strict")
    assert run.code == 1
    assert "broken.txt:1: impossible date" in run.err
    assert not site.out.exists()


def test_same_item_in_two_files_is_published_once(site):
    site.write("a.txt", GOOD)
    site.write("b.txt", GOOD.split("24 August")[0])
    run = site.build()
    assert run.code == 0 and "already in" in run.err
    assert len(feedparser.parse(site.read("pe/atom.xml")).entries) == 1


def test_out_inside_bulletin_folder_is_refused(site):
    site.write("a.txt", GOOD)
    run = site.build(out=site.bulletins / "site")
    assert run.code == 2 and "inside the bulletin folder" in run.err
    assert not (site.bulletins / "site").exists()


def test_state_inside_output_is_refused(site):
    site.write("a.txt", GOOD)
    from newsletter.cli import main

    code = main(
        [
            "build",
            str(site.bulletins),
            "--out",
            str(site.out),
            "--state",
            str(site.out / "state"),
            "--base-url",
            BASE_URL,
        ]
    )
    assert code == 2


def test_config_errors_name_every_key_and_exit_2(site, capsys):
    site.write("a.txt", GOOD)
    (site.root / "newsletter.toml").write_text(
        'feed_limit = "many"\ntimezone = "Mars/Olympus"\nlanguage = "english!"\ncolour = "blue"\n[aliases]\nNarnia = "ZZ"\n'
    )
    run = site.build()
    assert run.code == 2
    for key in ("feed_limit", "timezone", "language", "colour", "aliases.Narnia"):
        assert f"newsletter.toml: {key}:" in run.err
    assert "Traceback" not in run.err
    assert not site.out.exists()


def test_missing_base_url_is_a_config_error(site, capsys):
    from newsletter.cli import main

    site.write("a.txt", GOOD)
    assert main(["build", str(site.bulletins), "--out", str(site.out)]) == 2
    assert "base_url: required" in capsys.readouterr().err


def test_cli_exit_codes_and_version(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("26 August 2021\nPeru news\n\nBody.\n")
    ok = run_cli("build", "in", "--out", "out", "--base-url", BASE_URL, cwd=tmp_path)
    assert ok.code == 0, ok.err
    assert "1 entries" in ok.err or "1 entry" in ok.err
    (tmp_path / "in" / "b.txt").write_text("30 February 2021\nBad\n")
    bad = run_cli("build", "in", "--out", "out", "--base-url", BASE_URL, cwd=tmp_path)
    assert bad.code == 1 and "b.txt:1: impossible date" in bad.err and "Traceback" not in bad.err
    usage = run_cli("build", "--bogus", cwd=tmp_path)
    assert usage.code == 2
    version = run_cli("--version", cwd=tmp_path)
    assert version.code == 0 and version.out.startswith("newsletter ")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "out").rglob("*"))
    missing = run_cli("build", "nowhere", "--out", "out", "--base-url", BASE_URL, cwd=tmp_path)
    assert missing.code == 2 and "nowhere: no such file or folder; nothing was written" in missing.err
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "out").rglob("*")) == before  # site kept


def test_user_templates_override_bundled_ones(site):
    site.write("a.txt", GOOD)
    custom = site.root / "mytemplates"
    custom.mkdir()
    (custom / "site.css").write_text("body { color: rebeccapurple; }\n")
    site.build("--templates", str(custom))
    assert "rebeccapurple" in site.read("site.css")


def test_make_demo_builds_the_examples(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        ["make", "-s", "demo", f"DEMO_OUT={out}", f"DEMO_STATE={tmp_path / 'state'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Open" in proc.stdout
    for rel in ("index.html", "feeds.opml", "all/atom.xml", "mx/rss.xml", "pe/feed.json", "regional/index.html"):
        assert (out / rel).is_file(), rel
    assert "warning" not in proc.stderr and "error" not in proc.stderr


@pytest.mark.parametrize("way", [[], ["--strict"]], ids=["batches", "in-memory"])
def test_parallel_build_writes_the_same_tree(site, monkeypatch, tmp_path, way):
    """Large builds render in forked worker processes; the bytes must be the serial build's.
    The workers are counted, so that the test fails if nothing was forked."""
    import newsletter.builder.batches as batches
    import newsletter.builder.workers as workers
    from newsletter.output.writer import SiteWriter

    text = "".join(
        f"{day} March 202{y}\n\nPeru and Chile item {day} {y}\n\nBody {day} with https://example.org/{day}.\n\n"
        for day in range(1, 29)
        for y in range(2, 6)
    )
    site.write("a.txt", text)
    site.write("b.txt", GOOD)
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # "batches": by batches, small as the site is
    monkeypatch.setenv("NEWSLETTER_WORKERS", "1")
    assert site.build(*way).code == 0
    pids = tmp_path / "pids"
    pids.mkdir()
    write_unit = SiteWriter.write_unit

    def counted(self, *args, **kwargs):
        (pids / str(os.getpid())).touch()  # runs in whichever process renders the unit
        return write_unit(self, *args, **kwargs)

    monkeypatch.setattr(SiteWriter, "write_unit", counted)
    monkeypatch.setattr(workers, "PARALLEL_MIN_UNITS", 1)
    monkeypatch.setattr(batches, "BATCH", 30)  # several batches of years, so that batches fork too
    monkeypatch.setenv("NEWSLETTER_WORKERS", "2")
    assert site.build(*way, out=site.root / "parallel").code == 0
    forked = {int(p.name) for p in pids.iterdir()} - {os.getpid()}
    assert forked, "no worker process rendered anything"  # the parent renders too: n - 1 are forked
    assert tree(site.out) == tree(site.root / "parallel")
    run = site.build(*way, out=site.root / "parallel")
    assert "0 files written" in run.err  # the workers' manifest records were kept


def test_parse_cache_is_reused_and_invalidated_by_content(site):
    site.write("a.txt", GOOD)
    site.build()
    cache_files = list((site.state / "parse-cache").glob("*.pickle"))
    assert len(cache_files) == 1
    site.write("a.txt", GOOD.replace("Honduras Opens", "Honduras Closes"))
    site.build()
    assert "Honduras Closes a New Shelter" in site.read("hn/atom.xml")
    (site.bulletins / "a.txt").unlink()
    site.build()
    assert list((site.state / "parse-cache").glob("*.pickle")) == []


def test_many_problems_in_one_file_are_summarised(site):
    site.write("bad.txt", "".join(f"3{n % 2} February 2021\nBad {n}\n\nBody.\n\n" for n in range(60)))
    run = site.build()
    lines = [l for l in run.err.splitlines() if "bad.txt" in l]
    assert len(lines) == 26 and lines[-1].endswith("35 more problems not shown (run with -v to see them all)")
    run = site.build("-v")
    assert len([l for l in run.err.splitlines() if "impossible date" in l]) == 60


def test_nothing_changed_is_noticed_without_rebuilding(site, monkeypatch):
    site.write("a.txt", GOOD)
    site.write("bad.txt", "31 February 2021\nBad\n\nBody.\n")
    for path in site.bulletins.iterdir():  # older than the "racily clean" window
        os.utime(path, ns=(path.stat().st_mtime_ns - 10**10,) * 2)
    first = site.build()
    again = site.build()
    assert again.code == first.code == 1  # the error is reported again, and still counts
    assert "bad.txt:1: impossible date" in again.err
    assert "3 entries" not in again.err and "2 entries (3 countries" in again.err
    assert "0 files written" in again.err
    assert again.err.count("impossible date") == 1
    # the shortcut really skipped the work: no parse, no catalog
    monkeypatch.setattr(
        "newsletter.builder.pipeline.Builder.read", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read"))
    )
    assert site.build().code == 1
    monkeypatch.undo()
    (site.out / "pe/atom.xml").unlink()  # an output went missing: the shortcut must not be taken
    site.build()
    assert (site.out / "pe/atom.xml").is_file()
    site.write("a.txt", GOOD.replace("Honduras Opens", "Honduras Closes"))  # an input changed
    site.build()
    assert "Honduras Closes" in site.read("hn/atom.xml")


def test_identity_state_of_an_older_version_is_kept(site):
    """Ids from the identity.json of earlier versions survive the move to identity/ (by year)."""
    import json
    import pickle

    site.write("a.txt", GOOD)
    site.build()
    with open(site.state / "identity" / "2021.pickle", "rb") as fh:
        version, records = pickle.load(fh)
    key = next(k for k in records if "honduras" in k)
    records[key][0] = "tag:news.example.org,2021-08-24:kept-from-the-json-file"
    (site.state / "identity.json").write_text(json.dumps({"version": 1, "entries": records}))
    for path in (site.state / "identity").iterdir():
        path.unlink()
    (site.state / "identity").rmdir()
    site.write("a.txt", GOOD + "\n")
    site.build()
    ids = [e.id for e in feedparser.parse(site.read("all/atom.xml")).entries]
    assert "tag:news.example.org,2021-08-24:kept-from-the-json-file" in ids
    assert (site.state / "identity" / "2021.pickle").is_file() and not (site.state / "identity.json").exists()


def test_entry_with_identity_equals_replace():
    import datetime as dt

    from newsletter.content.entry import Entry, with_identity

    entry = Entry(
        dt.date(2021, 8, 26),
        "T",
        "B",
        "text",
        "a.txt",
        3,
        link="https://x.org",
        countries=("pe",),
        title_key="t",
        digest="d",
    )
    updated = dt.datetime(2021, 9, 1, tzinfo=dt.UTC)
    made = with_identity(entry, "tag:x,2021-08-26:t", "2021-08-26-t", updated)
    assert made == entry._replace(id="tag:x,2021-08-26:t", slug="2021-08-26-t", updated=updated)
    assert type(made) is Entry and made.digest == "d" and made.slug == "2021-08-26-t"


def test_new_file_in_an_empty_output_folder_replaces_a_leftover(tmp_path):
    """Files in an empty output folder are created in place; should one exist after all (another
    process), it is replaced atomically rather than appended to or failed on."""
    from newsletter.output.writer import write_new

    target = tmp_path / "x.html"
    st = write_new(str(target), b"first")
    assert target.read_bytes() == b"first" and st.st_size == 5
    write_new(str(target), b"second")
    assert target.read_bytes() == b"second"


def test_identity_records_are_saved_by_year_and_only_where_changed(site):
    site.write("a.txt", GOOD + "\n    3 March 2020\n\n    Chile Opens a Port\n\n    Body.\n")
    site.build()
    old_year = site.state / "identity" / "2020.pickle"
    before = old_year.stat().st_mtime_ns
    site.write(
        "a.txt",
        GOOD.replace("200 people", "300 people") + "\n    3 March 2020\n\n    Chile Opens a Port\n\n    Body.\n",
    )
    site.build()
    assert old_year.stat().st_mtime_ns == before  # 2020 did not change: not rewritten
    assert sorted(p.name for p in (site.state / "identity").iterdir()) == ["2020.pickle", "2021.pickle"]


def test_builds_of_one_state_folder_take_turns(site, tmp_path):
    """A second build waits for the first (and says so); past the wait it stops with exit 2."""
    import sys

    import pytest

    from newsletter.errors import UsageError
    from newsletter.state.lock import StateLock

    site.write("a.txt", GOOD)
    holder = StateLock(site.state).__enter__()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsletter",
            "build",
            str(site.bulletins),
            "--out",
            str(site.out),
            "--state",
            str(site.state),
            "--base-url",
            BASE_URL,
        ],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()  # the build says it waits, then waits: the lock is released only now
    holder.__exit__()
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 0 and "waiting for another newsletter build or watch" in first, first + rest
    with StateLock(site.state):
        with pytest.raises(UsageError, match="another newsletter build or watch is using"):
            StateLock(site.state, wait=0.2).__enter__()


def test_manifest_of_version_0_1_is_taken_over(site):
    """The single JSON manifest of 0.1 becomes the year-split one: outputs it lists that the
    build no longer makes are removed, as if the upgrade had not happened."""
    import json

    from newsletter.state.manifest import load_manifest, manifest_path

    site.write("a.txt", GOOD)
    site.build()
    folder = manifest_path(site.state, site.out)
    units, files = load_manifest(folder)
    (site.out / "entries" / "2019-01-01-gone.html").write_text("an entry page of 0.1")
    units["entry:2019-01-01-gone"] = ["0" * 24, ["entries/2019-01-01-gone.html"]]
    files["entries/2019-01-01-gone.html"] = [20, (site.out / "entries" / "2019-01-01-gone.html").stat().st_mtime_ns]
    folder.with_suffix(".json").write_text(json.dumps({"version": 3, "units": units, "files": files}))
    shutil.rmtree(folder)
    site.write("a.txt", GOOD + "\n")
    run = site.build()
    assert run.code == 0 and "1 removed" in run.err
    assert not (site.out / "entries" / "2019-01-01-gone.html").exists()
    assert not folder.with_suffix(".json").exists() and folder.is_dir()


@pytest.mark.parametrize("damage", [b"not a pickle", b""])
def test_a_damaged_identity_file_stops_the_build_rather_than_giving_new_ids(site, damage):
    site.write(
        "a.txt",
        """
        26 August 2021

        Peru Opens a Shelter

        It has 80 beds.
    """,
    )
    assert site.build().code == 0
    before = {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    identity = site.state / "identity" / "2021.pickle"
    identity.write_bytes(damage)
    for extra in ([], ["--full"]):
        run = site.build(*extra)
        assert run.code == 2, run.err
        assert str(identity) in run.err and "new ids" in run.err and "Traceback" not in run.err
    assert {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file()} == before


def test_leftovers_of_a_killed_build_are_removed_by_the_next_build(site):
    site.write("a.txt", GOOD)
    assert site.build().code == 0
    leftovers = [site.out / "all" / ".atom.xml.4242.tmp", site.out / "entries" / ".x.html.77.tmp"]
    for path in leftovers:
        path.write_text("half a file")
    (site.bulletins / "a.txt").write_text((site.bulletins / "a.txt").read_text() + "\n")  # as after a kill
    assert site.build().code == 0
    assert not any(path.exists() for path in leftovers)
    assert not list(site.out.rglob(".*.tmp"))


def test_operator_messages_read_well(site, capsys):
    from newsletter.cli import main

    site.write("a.txt", GOOD)
    (site.root / "bad.toml").write_text('[smpt]\nhost = "x"\nprot = 3\n')
    capsys.readouterr()
    assert main(["build", str(site.bulletins), "--config", "bad.toml", "--base-url", BASE_URL]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "newsletter: bad.toml: smpt.host: unknown option; did you mean smtp.host?",
        "newsletter: bad.toml: smpt.prot: unknown option; did you mean smtp.port?",
    ]
    # global options go before or after the command
    assert main(["-q", "build", str(site.bulletins), "--out", str(site.out), "--base-url", BASE_URL]) == 0
    assert capsys.readouterr().err == ""
    site.write("b.txt", "31 February 2021\n\nBad Date\n\nBody.\n")
    assert (
        main(["build", str(site.bulletins), "--out", str(site.root / "strict"), "--base-url", BASE_URL, "--strict"])
        == 1
    )
    err = capsys.readouterr().err
    assert 'b.txt:1: impossible date "31 February 2021"; --strict stops at the first error: nothing was written' in err
    assert "skipped" not in err and not (site.root / "strict").exists()


def test_an_unreadable_manifest_is_reported_once(site, caplog):
    from newsletter.state.manifest import manifest_path

    site.write("a.txt", GOOD)
    assert site.build().code == 0
    head = manifest_path(site.state, site.out) / "head"
    head.write_bytes(b"\x00garbage")
    caplog.clear()
    assert site.build().code == 0
    said = [r.getMessage() for r in caplog.records if "unreadable manifest" in r.getMessage()]
    assert len(said) == 1, said


def test_an_unknown_country_skips_the_entry_and_keeps_its_last_good_version(site):
    site.write("j.txt", "2 September 2021\n\nJapan and Korea Sign an Accord\nCountries: Japan, South Korea\n\nBody.\n")
    assert site.build().code == 0
    site.write("j.txt", "2 September 2021\n\nJapan and Korea Sign an Accord\nCountries: Japan, Narnia\n\nBody.\n")
    run = site.build()
    assert run.code == 1 and 'j.txt:4: unknown country "Narnia"' in run.err
    for group in ("jp", "kr"):
        assert [e.title for e in feedparser.parse(site.read(f"{group}/atom.xml")).entries] == [
            "Japan and Korea Sign an Accord"
        ]
    assert not (site.out / "regional").exists()
