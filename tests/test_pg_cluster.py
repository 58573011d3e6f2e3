"""The test suite's PostgreSQL: a real server, a database per test, not run as root."""

from __future__ import annotations

import psycopg


def test_each_test_gets_an_empty_database_of_a_real_server(pg_url, pg_cluster):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("15")
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()[0]
            == 0
        )
        conn.execute("CREATE TABLE mine (x INTEGER)")
        # the server runs as an unprivileged user (PostgreSQL refuses root)
        assert conn.execute("SELECT current_setting('data_directory')").fetchone()[0] == str(pg_cluster.data)
    other = pg_cluster.fresh()
    with psycopg.connect(other, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('mine')").fetchone()[0] is None
    pg_cluster.drop(other)
