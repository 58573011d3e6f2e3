"""serve's outbox (newsletter.subscribers.outbox) on real SQLite and PostgreSQL connections: a row is taken by
one sender only, a dead sender's claim runs out, back-off ends when the link would expire,
and only sent messages count against serve.address_rate."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from newsletter.subscribers.outbox import Outbox, utcnow
from newsletter.subscribers.store import SubscriberStore


@pytest.fixture(autouse=True)
def _both_backends(backend, tmp_path):
    """Every test runs on SQLite and on PostgreSQL (see conftest's `backend`)."""
    backend.seed(tmp_path)


def test_two_senders_never_take_the_same_row(tmp_path):
    with SubscriberStore(tmp_path) as store:
        outbox = Outbox(store.db)
        for n in range(50):
            outbox.queue("manage", f"p{n}@example.org", {}, expires=utcnow() + dt.timedelta(hours=1))
    taken: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def sender(owner: str) -> None:
        with SubscriberStore(tmp_path, check=False) as store:
            outbox = Outbox(store.db)
            start.wait()
            while (row := outbox.claim(owner, lease=60)) is not None:
                taken[owner].append(row.id)
                outbox.sent(row.id, owner)

    threads = [threading.Thread(target=sender, args=(owner,)) for owner in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken["a"] + taken["b"]) == list(range(1, 51))  # each once, none twice
    with SubscriberStore(tmp_path) as store:
        assert Outbox(store.db).counts() == {"sent": 50}


def test_a_dead_senders_claim_runs_out_and_the_row_is_taken_again(tmp_path):
    with SubscriberStore(tmp_path) as store:
        outbox = Outbox(store.db)
        now = utcnow()
        outbox.queue("signup", "a@example.org", {"lists": ["mx"]}, expires=now + dt.timedelta(hours=48), now=now)
        first = outbox.claim("dead", lease=60, now=now)
        assert first is not None
        assert outbox.claim("alive", lease=60, now=now + dt.timedelta(seconds=30)) is None
        again = outbox.claim("alive", lease=60, now=now + dt.timedelta(seconds=61))
        assert again is not None and again.id == first.id
        assert not outbox.sent(first.id, "dead")  # the dead one's late word changes nothing
        assert outbox.sent(again.id, "alive")


def test_back_off_stops_when_the_link_would_expire_and_failures_do_not_count(tmp_path):
    with SubscriberStore(tmp_path) as store:
        outbox = Outbox(store.db)
        now = utcnow()
        expires = now + dt.timedelta(hours=1)
        outbox.queue("signup", "b@example.org", {}, expires=expires, now=now)
        row = outbox.claim("me", lease=60, now=now)
        assert (
            outbox.failed(row.id, "me", "refused", retry_at=now + dt.timedelta(minutes=30), expires=expires) == "queued"
        )
        assert outbox.claim("me", lease=60, now=now + dt.timedelta(minutes=29)) is None  # not due yet
        row = outbox.claim("me", lease=60, now=now + dt.timedelta(minutes=31))
        assert outbox.sent_since("b@example.org", now - dt.timedelta(hours=1)) == 0  # a failure is not a message
        assert (
            outbox.failed(row.id, "me", "refused", retry_at=now + dt.timedelta(minutes=70), expires=expires)
            == "expired"
        )
        assert outbox.rows() == [("signup", "b@example.org", "expired", 2, "refused")]
        assert outbox.next_due() is None
