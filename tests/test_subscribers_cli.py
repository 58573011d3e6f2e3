"""`newsletter subscribers …`: the store from the command line, and how `send` picks its recipients."""

from __future__ import annotations

import pytest
from helpers.smtp_server import SMTPServer

from newsletter.cli import main


@pytest.fixture
def site(tmp_path, monkeypatch, capsys, backend):
    backend.seed(tmp_path / ".newsletter")  # every test on SQLite and on PostgreSQL
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", "k")
    (tmp_path / "newsletter.toml").write_text(
        'base_url = "https://news.example.org/"\n[newsletter]\ndelivery = "lists"\n'
    )

    class Site:
        root = tmp_path

        def run(self, *args: str) -> tuple[int, str, str]:
            capsys.readouterr()
            code = main(list(args))
            captured = capsys.readouterr()
            return code, captured.out, captured.err

        def csv(self, name: str, rows: list[str]) -> str:
            (tmp_path / name).write_text("email,countries,name\n" + "\n".join(rows) + "\n")
            return name

    return Site()


def test_import_is_idempotent_and_reports_path_line_errors(site):
    name = site.csv(
        "in.csv", ["Ana@Example.org,mx pa,Ana", "bad-address,mx,", "bo@example.org,Narnia,", "cy@example.org,*,"]
    )
    code, _, err = site.run("subscribers", "import", name)
    assert code == 1  # the bad lines
    assert 'in.csv:3: "bad-address" is not a valid email address; skipped' in err
    assert 'in.csv:4: unknown country "Narnia"' in err
    assert "in.csv: 2 added, 0 updated, 0 unchanged" in err
    code, _, err = site.run("subscribers", "import", name)
    assert "in.csv: 0 added, 0 updated, 2 unchanged" in err


def test_export_list_add_remove_and_history(site):
    site.run("subscribers", "import", site.csv("in.csv", ["ana@example.org,mx,Ana"]))
    assert (
        site.run("subscribers", "add", "Bo@Example.org", "--country", "Peru", "--country", "all", "--name", "Bo")[0]
        == 0
    )
    code, out, _ = site.run("subscribers", "export")
    assert out.splitlines() == ["email,countries,name", "ana@example.org,mx,Ana", "bo@example.org,all pe,Bo"]
    code, out, err = site.run("subscribers", "list", "--country", "pe")
    assert [line.split()[0] for line in out.splitlines()] == ["bo@example.org"] and "1 address on the pe list" in err
    assert site.run("unsubscribe", "bo@example.org", "--country", "pe")[0] == 0
    code, out, _ = site.run("subscribers", "history", "bo@example.org")
    assert [line.split()[1:4] for line in out.splitlines()] == [
        ["all", "active", "cli"],
        ["pe", "active", "cli"],
        ["pe", "unsubscribed", "cli"],
    ]
    assert site.run("subscribers", "add", "bo@example.org", "--country", "pe")[0] == 1  # they left pe
    assert site.run("subscribers", "remove", "ana@example.org")[0] == 0
    assert site.run("subscribers", "remove", "ana@example.org")[0] == 1
    assert site.run("subscribers", "history", "ana@example.org")[0] == 1


def test_unsubscribes_of_the_send_log_carry_over_into_a_new_store(site):
    assert site.run("unsubscribe", "gone@example.org")[0] == 0  # recorded before any store existed
    assert site.run("unsubscribe", "part@example.org", "--country", "mx")[0] == 0
    code, _, err = site.run(
        "subscribers", "import", site.csv("in.csv", ["gone@example.org,mx,", "part@example.org,mx pe,"])
    )
    assert "2 kept off lists they left" in err
    code, out, _ = site.run("subscribers", "list")
    assert {line.split()[0]: line.split()[1:] for line in out.splitlines()} == {
        "gone@example.org": ["unsubscribed", "weekly"],
        "part@example.org": ["subscribed", "weekly", "mx:unsubscribed", "pe:active"],
    }


def test_send_reads_the_store_once_it_holds_anyone_and_says_the_csv_is_not_read(site):
    (site.root / "bulletins").mkdir()
    (site.root / "bulletins" / "a.txt").write_text("26 August 2021\n\nPeru Opens a Shelter\n\nIt has 80 beds.\n")
    site.csv("subscribers.csv", ["csv-only@example.org,pe,"])
    with SMTPServer() as server:
        with open(site.root / "newsletter.toml", "a") as fh:
            fh.write(f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n')
        assert main(["build", "-q"]) == 0
        assert site.run("send", "--country", "pe")[0] == 0  # no store yet: the CSV
        assert site.run("subscribers", "add", "store@example.org", "--country", "pe")[0] == 0
        code, _, err = site.run("send", "--country", "pe")
        assert code == 0 and "subscribers.csv is not read: the subscriber store" in err
        code, _, err = site.run(
            "send", "--country", "pe", "--subscribers", site.csv("one-off.csv", ["once@example.org,pe,"])
        )
        assert code == 0
        assert [m.rcpt[0] for m in server.handler.received] == [
            "csv-only@example.org",
            "store@example.org",
            "once@example.org",
        ]
