"""Several `serve` instances — as on two machines behind a balancer, each with a state folder of
its own — on one PostgreSQL database share the outbox (each mail sent once, by one background
sender) and the per-client rate limit (one count for all)."""

from __future__ import annotations

import time
import urllib.error
from pathlib import Path

from helpers.serve_process import running_serve
from helpers.smtp_server import free_port
from helpers.spool_smtp import stored
from test_web_serve import ENV, configure, post, spool_server, wait_until


def _host(root: Path, name: str, url: str, port: int, smtp_port: int, **serve) -> Path:
    host = root / name
    host.mkdir()
    configure(host, port, smtp_port, **serve)
    (host / "newsletter.toml").write_text(f'database = "{url}"\n' + (host / "newsletter.toml").read_text())
    return host


def test_two_serve_instances_on_one_database_send_each_mail_once(tmp_path, pg_url):
    ports, smtp_port = (free_port(), free_port()), free_port()
    hosts = [_host(tmp_path, f"host{n}", pg_url, ports[n], smtp_port) for n in range(2)]
    spool = tmp_path / "spool"
    with (
        spool_server(smtp_port, spool),
        running_serve(hosts[0], ports[0], env=ENV),
        running_serve(hosts[1], ports[1], env=ENV),
    ):
        for n in range(30):
            status, _, _ = post(
                f"http://127.0.0.1:{ports[n % 2]}/subscribe", {"email": f"p{n}@example.org", "country": "mx"}
            )
            assert status == 200
        assert wait_until(lambda: len(stored(spool)) == 30)
        time.sleep(1)  # anything sent twice would have arrived by now
    assert stored(spool) == {f"p{n}@example.org": 1 for n in range(30)}
    assert not (hosts[0] / ".newsletter" / "subscribers.sqlite3").exists()  # the rows are in PostgreSQL


def test_the_client_rate_limit_is_one_count_for_every_instance(tmp_path, pg_url):
    ports, smtp_port = (free_port(), free_port()), free_port()
    hosts = [_host(tmp_path, f"host{n}", pg_url, ports[n], smtp_port, client_rate=6) for n in range(2)]
    answers = []
    with (
        spool_server(smtp_port, tmp_path / "spool"),
        running_serve(hosts[0], ports[0], env=ENV),
        running_serve(hosts[1], ports[1], env=ENV),
    ):
        for n in range(10):  # one client, alternating between the instances
            try:
                answers.append(
                    post(f"http://127.0.0.1:{ports[n % 2]}/subscribe", {"email": f"r{n}@example.org", "country": "mx"})[
                        0
                    ]
                )
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
    assert answers == [200] * 6 + [429] * 4  # in each process's memory it would have been 10 × 200


def _status(call) -> int:
    try:
        return call()[0]
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_recovers_after_a_postgresql_restart(tmp_path, own_pg_cluster):
    from test_web_serve import get

    pg_cluster = own_pg_cluster  # stopped and started again: not the cluster the other tests share
    pg_url = pg_cluster.fresh()

    port, smtp_port = free_port(), free_port()
    host = _host(tmp_path, "host", pg_url, port, smtp_port)
    spool = tmp_path / "spool"
    with spool_server(smtp_port, spool), running_serve(host, port, env=ENV) as proc:
        assert post(f"http://127.0.0.1:{port}/subscribe", {"email": "before@example.org", "country": "mx"})[0] == 200
        assert wait_until(lambda: len(stored(spool)) == 1)
        pg_cluster.halt()
        try:
            down = _status(
                lambda: post(f"http://127.0.0.1:{port}/subscribe", {"email": "x@example.org", "country": "mx"})
            )
            health = _status(lambda: get(f"http://127.0.0.1:{port}/health"))
        finally:
            pg_cluster.start()
        assert (down, health) == (503, 503)  # said honestly, and nothing half-done
        answers = [
            _status(
                lambda n=n: post(
                    f"http://127.0.0.1:{port}/subscribe", {"email": f"after{n}@example.org", "country": "mx"}
                )
            )
            for n in range(3)
        ]
        assert answers == [200] * 3, proc.stderr()
        assert _status(lambda: get(f"http://127.0.0.1:{port}/health")) == 200
        assert wait_until(lambda: len(stored(spool)) == 4, timeout=30)  # the sender thread lives on
        assert proc.poll() is None
        assert "Traceback" not in proc.stderr() and "Exception in thread" not in proc.stderr()
    assert stored(spool) == {
        "before@example.org": 1,
        "after0@example.org": 1,
        "after1@example.org": 1,
        "after2@example.org": 1,
    }
