"""The forked workers of `newsletter.builder.workers` (os.fork and pipes, no multiprocessing):
every item handled once, a worker's exception raised in the parent, a killed worker reported
instead of waited for, a stop leaving no process behind."""

from __future__ import annotations

import os
import signal

import pytest

from newsletter.builder import workers
from newsletter.errors import BuildInterrupted, InputError
from newsletter.output.writer import SiteWriter


def _children() -> set[int]:
    """The pids of this process's live (not yet reaped) children."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.add(int(entry))
    return found


def test_every_item_is_handled_once_by_some_process():
    before = _children()
    shares = workers.map_in_processes(lambda items: [(x, os.getpid()) for x in items], list(range(200)), 3)
    done = [x for share in shares for x, _ in share]
    assert sorted(done) == list(range(200))
    assert len({pid for share in shares for _, pid in share}) >= 1
    assert shares[0] == [] or shares[0][0][1] == os.getpid()  # this process's share comes first
    assert _children() == before  # every worker reaped


def test_jobs_come_back_in_order():
    assert workers.map_jobs(lambda n: n * n, list(range(50)), 3) == [n * n for n in range(50)]


def test_an_exception_in_a_worker_is_raised_in_the_parent():
    parent = os.getpid()

    def share(items):
        items = list(items)
        if os.getpid() != parent and items:
            raise InputError("broken", path="a.txt", line=3)
        return items

    with pytest.raises(InputError) as caught:
        # the parent takes nothing (meanwhile waits until the workers have claimed all)
        workers.map_in_processes(share, list(range(4)), 2, meanwhile=lambda: _sleep(0.3))
    assert str(caught.value).startswith("a.txt:3: broken;") and caught.value.line == 3


def test_a_killed_worker_is_reported_not_waited_for():
    parent = os.getpid()

    def share(items):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return list(items)

    with pytest.raises(workers.WorkerDied, match="killed by SIGKILL"):
        workers.map_in_processes(share, [1], 2, meanwhile=lambda: _sleep(0.3))


def test_a_stop_ends_the_workers(tmp_path):
    from newsletter.state.manifest import ManifestFolder

    before = _children()
    writer = SiteWriter(tmp_path / "out", ManifestFolder(tmp_path / "state"))
    units = [(f"page/{n}", "f", _rendered_slowly(f"p{n}.txt")) for n in range(400)]
    asked = []

    def stop_requested():
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(BuildInterrupted):
        workers.render_in_processes(writer, units, 2, stop_requested=stop_requested)
    assert _children() == before


def _rendered_slowly(rel: str):
    def render():
        _sleep(0.01)
        return [(rel, b"x")]

    return render


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_a_worker_killed_while_it_holds_the_counter_does_not_stop_the_others():
    """kill -9 can land while a process holds the counter's lock (between taking the next
    index and handing the lock back): the kernel releases a dead process's lock, so the
    others go on claiming; with a lock the dead process would have had to give back, every
    other process would wait for ever."""
    import fcntl

    counter = workers._Counter()
    try:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # takes the lock as `claimed` does, says so, and is killed holding it
            fcntl.lockf(counter._lock, fcntl.LOCK_EX)
            os.write(ready_w, b"x")
            os.kill(os.getpid(), signal.SIGKILL)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"x"
        os.close(ready_r)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

        def held(*_):
            raise TimeoutError("the dead process's lock was never released")

        before = signal.signal(signal.SIGALRM, held)
        signal.alarm(10)  # a lock left held would block here: the alarm fails the test instead
        try:
            assert list(counter.claimed(5, 2)) == [0, 1, 2, 3, 4]
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, before)
    finally:
        counter.close()


def test_blocks_shrink_towards_the_end_so_that_processes_finish_together():
    """With `spread`, a claim takes a `spread`-th of what is left (at most a block, at least one
    index): the last claims are single units, not a block one process works through alone."""
    counter = workers._Counter()
    try:
        claimed, ends = [], []
        for n in counter.claimed(20, 8, 2):
            claimed.append(n)
            ends.append(counter.handed_out)  # where the block holding `n` ends
        assert claimed == list(range(20))
        assert sorted(set(ends)) == [8, 14, 17, 18, 19, 20]  # blocks of 8, 6, 3, 1, 1, 1
    finally:
        counter.close()


def test_units_that_share_work_are_rendered_by_one_process_and_recorded_in_order(tmp_path):
    """Units that share work (a list's feeds, which fill the same entries) make one first block:
    one process renders them all; the manifest still lists every unit in `units` order."""
    from newsletter.state.manifest import ManifestFolder

    writer = SiteWriter(tmp_path / "out", ManifestFolder(tmp_path / "state"))

    def render(n: int):
        return lambda: [(f"u{n}.txt", str(os.getpid()).encode())]

    keys = [f"feeds:{n}" if n % 100 == 3 else f"page:{n}" for n in range(1200)]
    units = [(key, "f", render(n)) for n, key in enumerate(keys)]
    workers.render_in_processes(writer, units, 2)
    pids = {(tmp_path / "out" / f"u{n}.txt").read_bytes() for n, key in enumerate(keys) if key.startswith("feeds:")}
    assert len(pids) == 1
    assert list(writer.state[0]) == keys


def test_units_that_share_work_are_not_put_together_when_they_are_most_of_the_work():
    """The finish of a build by batches: the feeds are most of its units; one process alone
    would render them while the other waits."""
    feeds = workers.shares_work
    few = [(f"feeds:{n}" if n % 100 == 3 else f"page:{n}", "f", None) for n in range(1200)]
    order, first = workers._claim_order(few, feeds, 2)
    assert first == 12 and [few[n][0] for n in order[:first]] == [f"feeds:{n}" for n in range(3, 1200, 100)]
    assert sorted(order) == list(range(1200))
    many = [(f"feeds:{n}" if n % 3 == 0 else f"page:{n}", "f", None) for n in range(300)]
    assert workers._claim_order(many, feeds, 2) == (range(300), 0)


def test_a_worker_dies_with_its_parent_killed_by_sigkill(tmp_path):
    """`kill -9` of a build must not leave its render processes writing outputs (and holding
    the state lock) for seconds after: each worker is killed when its parent dies."""
    import subprocess
    import sys
    import time

    marks = tmp_path / "marks"
    marks.mkdir()
    script = (
        "import os, sys, time\n"
        "from newsletter.builder import workers\n"
        "marks = sys.argv[1]\n"
        "def job(items):\n"
        "    for _ in items:\n"
        "        open(os.path.join(marks, str(os.getpid())), 'a').write('.')\n"
        "        time.sleep(0.05)\n"
        "workers.map_in_processes(job, list(range(400)), 2)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(marks)])
    deadline = time.monotonic() + 20
    while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:  # the parent and its worker
        time.sleep(0.02)
    children = [int(p.name) for p in marks.iterdir() if int(p.name) != parent.pid]
    assert children, "the worker never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    child = children[0]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        try:
            with open(f"/proc/{child}/stat") as fh:  # a zombie (waiting for init) is gone too
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
        except FileNotFoundError:  # reaped between the two looks
            break
        time.sleep(0.02)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the worker outlived its parent by 5 s")
    written = (marks / str(child)).stat().st_size
    time.sleep(0.3)
    assert (marks / str(child)).stat().st_size == written  # and wrote nothing more
