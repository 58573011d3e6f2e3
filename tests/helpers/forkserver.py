"""`python -m newsletter …` (and `python tests/…/script.py …`) started by fork from a warm process.

Most of what a CLI test spends is the new interpreter importing newsletter, jinja2, premailer,
psycopg, aiosmtpd… (~0.3 s of CPU for a `newsletter send`; the suite starts ~600 such processes).
The tests start them through `subprocess` as before; `install()` (tests/conftest.py) routes every
`[sys.executable, "-m", "newsletter", …]` and `[sys.executable, "<repo>/…/x.py", …]` to a
*zygote*: one process per xdist worker that has imported all that once, forks a child for each
command and reports its exit status. The child is a process of its own as before — its own pid,
cwd, environment, stdin/stdout/stderr (the very pipes or files `subprocess` made), session
(`start_new_session`), signals (kill -9, SIGTERM, SIGINT reach it, and the exit status says so)
— that runs `newsletter/__main__.py` (or the script) as `__main__` with a fresh `sys.argv`,
`sys.path[0]` and standard streams, as `python` would. What it skips is the interpreter's
start-up and the imports, which tests/test_forkserver.py checks against a real `python -m
newsletter` (same exit status, output and files).

The settings an interpreter reads at start-up (PYTHON*, LANG, LC_*, TZ, TMPDIR…: encodings,
UTF-8 mode, buffering, hash seed) are the zygote's own: a command whose environment has other
ones goes to a zygote started with those (a few per test process; what start-up adds, such as
PEP 538's LC_CTYPE, is added to the child's environment as python would).

Not routed (they start by exec as before): other programs, `python -c`, `python -P`, other
interpreter flags, `preexec_fn`, `user`/`group`, `umask`, `pass_fds`, `close_fds=False`, a
missing `cwd`, a fifth start-up environment. `NEWSLETTER_TEST_EXEC=1` in a command's environment starts it by exec;
`NEWSLETTER_TEST_FORKSERVER=0 make test` starts every command by exec.
What a forked child shares with its siblings: the zygote's hash seed (str hashes, so set
order) and its already-imported modules (imported, never used: the zygote runs no command).
"""

from __future__ import annotations

import atexit
import inspect
import io
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent.parent
ROUTED_MODULES = ("newsletter",)
STARTUP_KEYS = ("LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP")
STARTUP_PREFIXES = ("PYTHON", "LC_")


def _startup_env(env) -> dict[str, str]:
    return {k: v for k, v in env.items() if k in STARTUP_KEYS or k.startswith(STARTUP_PREFIXES)}


# --------------------------------------------------------------------------------------------
# The zygote (this file run as a script: `python -P forkserver.py SOCKET`).


def _preload() -> None:
    """Import what the commands import (every newsletter module but __main__, and the test
    servers' libraries), without running anything."""
    import importlib
    import pkgutil

    import newsletter

    for info in pkgutil.walk_packages(newsletter.__path__, "newsletter."):
        if info.name != "newsletter.__main__":
            importlib.import_module(info.name)
    for name in ("premailer", "psycopg", "psycopg_pool", "aiosmtpd.controller", "aiosmtpd.smtp", "ssl", "uuid"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    assert threading.active_count() == 1, "an import started a thread: forking is unsafe"


def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < 4 or len(data) < 4 + struct.unpack("!I", data[:4])[0]:
        more = conn.recv(1 << 16)
        if not more:
            raise EOFError("request cut short")
        data += more
    (size,) = struct.unpack("!I", data[:4])
    return json.loads(data[4 : 4 + size]), list(fds)


def _stdio(encodings: dict) -> None:
    """Standard streams as Python's start-up makes them (buffered, or not with PYTHONUNBUFFERED;
    stdout line-buffered on a terminal, stderr always; the zygote's encodings and error
    handlers, which the same start-up settings gave it)."""
    unbuffered = encodings["unbuffered"]

    def stream(fd: int, name: str):
        encoding, errors = encodings[name]
        raw = io.FileIO(fd, "rb" if fd == 0 else "wb", closefd=False)
        if fd == 0:
            text = io.TextIOWrapper(io.BufferedReader(raw), encoding=encoding, errors=errors)
            text.mode = "r"  # type: ignore[misc]
        else:
            text = io.TextIOWrapper(
                raw if unbuffered else io.BufferedWriter(raw),  # type: ignore[arg-type]
                encoding=encoding,
                errors=errors,
                line_buffering=not unbuffered and (fd == 2 or raw.isatty()),
                write_through=unbuffered,
            )
            text.mode = "w"  # type: ignore[misc]
        return text

    sys.stdin = sys.__stdin__ = stream(0, "stdin")
    sys.stdout = sys.__stdout__ = stream(1, "stdout")
    sys.stderr = sys.__stderr__ = stream(2, "stderr")


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _child(request: dict, fds: list[int], encodings: dict, close: list, started: int) -> None:
    """In the forked child: become the requested command, run it, exit as python would."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for obj in close:
        obj.close()
    if request["new_session"]:
        os.setsid()
    elif request["process_group"] >= 0:
        os.setpgid(0, request["process_group"])
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.umask(request["umask"])
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for key, value in encodings["added"].items():  # what python's start-up adds (LC_CTYPE, PEP 538)
        os.environ.setdefault(key, value)
    os.write(started, b"k")  # set up (as `subprocess` returns once the child's exec succeeded)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    _stdio(encodings)
    import atexit as _atexit
    import runpy
    import traceback

    argv = request["argv"]
    sys.orig_argv = argv
    code = 0
    try:
        try:
            if argv[1] == "-m":
                sys.argv = [argv[2], *argv[3:]]
                sys.path.insert(0, os.getcwd())
                runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
            else:
                script = os.path.abspath(argv[1])
                sys.argv = [argv[1], *argv[2:]]
                sys.path.insert(0, os.path.dirname(script))
                runpy.run_path(script, run_name="__main__")
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:
            traceback.print_exc()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)  # as python exits on an uncaught KeyboardInterrupt
            code = 130
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        threading._shutdown()  # type: ignore[attr-defined]  # python waits for non-daemon threads
        _atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
        except Exception:
            code = 120
        try:
            sys.stderr.flush()
        except Exception:
            pass
    finally:
        os._exit(code)


def serve(path: str, given: list[str]) -> None:
    """`given`: the start-up settings this zygote was started with (any other it has, start-up added)."""
    added = {k: v for k, v in _startup_env(os.environ).items() if k not in given}
    _preload()
    import gc

    encodings: dict = {
        name: (getattr(sys, name).encoding, getattr(sys, name).errors) for name in ("stdin", "stdout", "stderr")
    }
    encodings["unbuffered"] = bool(getattr(sys.stdout, "write_through", False))
    encodings["added"] = added
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    gc.freeze()  # the children share these pages (no collector writing into them)
    children: dict[int, socket.socket | None] = {}
    waiting: dict[socket.socket, int] = {}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stdin = sys.stdin.fileno()
    while True:
        try:
            ready, _, _ = select.select([listener, wake_r, stdin, *waiting], [], [])
        except InterruptedError:
            continue
        if stdin in ready and not os.read(stdin, 1024):
            return  # the test process is gone
        if wake_r in ready:
            try:
                while os.read(wake_r, 1024):
                    pass
            except BlockingIOError:
                pass
        while children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                waiting.pop(conn, None)
                try:
                    conn.sendall(
                        json.dumps({"status": status, "cpu": usage.ru_utime + usage.ru_stime}).encode() + b"\n"
                    )
                except OSError:
                    pass
                conn.close()
        for conn in [c for c in waiting if c in ready]:
            try:
                gone = not conn.recv(1)
            except OSError:
                gone = True
            if gone:  # the caller let go (its Popen was dropped): the child runs on, unreported
                children[waiting.pop(conn)] = None
                conn.close()
        if listener in ready:
            conn, _ = listener.accept()
            try:
                request, fds = _recv_request(conn)
            except (OSError, EOFError, ValueError):
                conn.close()
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            started_r, started_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    _child(request, fds, encodings, [listener, conn, *waiting], started_w)
                finally:
                    os._exit(255)
            os.close(started_w)
            os.read(started_r, 1)  # its session, fds, cwd and environment are set (or it died trying)
            os.close(started_r)
            for fd in fds:
                os.close(fd)
            children[pid] = conn
            waiting[conn] = pid
            try:
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            except OSError:  # the caller is gone already: the child runs on, unreported
                children[waiting.pop(conn)] = None
                conn.close()


# --------------------------------------------------------------------------------------------
# The test process's side.


class _Zygote:
    def __init__(self, startup: dict[str, str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="newsletter-zygote-")
        self.path = os.path.join(self.dir, "sock")
        self.startup = startup
        env = {k: v for k, v in os.environ.items() if k not in _startup_env(os.environ)}
        self.proc = subprocess.Popen(
            [sys.executable, "-P", __file__, self.path, json.dumps(sorted(startup))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self.dir,
            env={**env, **startup},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line != b"ready\n":
            raise RuntimeError(f"the fork server did not start ({line!r})")
        self.started = 0
        self.cpu = 0.0

    def spawn(self, request: dict, fds: list[int]) -> _Child:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.path)
        payload = json.dumps(request).encode()
        data = struct.pack("!I", len(payload)) + payload
        sent = socket.send_fds(conn, [data], fds)
        conn.sendall(data[sent:])
        child = _Child(self, conn)
        reply = child.read(None)
        if reply is None or "pid" not in reply:
            conn.close()
            raise OSError("the fork server did not start the command")
        child.pid = reply["pid"]
        self.started += 1
        return child

    def stop(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            try:
                os.unlink(self.path)
                os.rmdir(self.dir)
            except OSError:
                pass


class _Child:
    """The zygote's connection for one child: its pid, then (at its end) its wait status."""

    def __init__(self, zygote: _Zygote, conn: socket.socket) -> None:
        self.zygote = zygote
        self.conn = conn
        self.buf = b""
        self.pid = 0

    def read(self, timeout: float | None) -> dict | None:
        """The next message; None if none came within `timeout` (0: do not wait)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buf:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.conn], [], [], wait)[0]:
                return None
            more = self.conn.recv(4096)
            if not more:
                raise ChildProcessError("the fork server went away before the command ended")
            self.buf += more
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def status(self, timeout: float | None) -> int | None:
        reply = self.read(timeout)
        if reply is None:
            return None
        self.conn.close()
        self.zygote.cpu += reply["cpu"]
        return reply["status"]


_ZYGOTES: dict[tuple, _Zygote] = {}
_ZYGOTE_LOCK = threading.Lock()
MAX_ZYGOTES = 4  # start-up environments per test process; a command in yet another one starts by exec


def zygote(env=None) -> _Zygote | None:
    """The zygote for commands started with `env` (default: this process's environment)."""
    startup = _startup_env(os.environ if env is None else env)
    key = tuple(sorted(startup.items()))
    with _ZYGOTE_LOCK:
        found = _ZYGOTES.get(key)
        if found is not None and found.proc.poll() is not None and os.environ.get("NEWSLETTER_TEST_ZYGOTE_LOG"):
            with open(os.environ["NEWSLETTER_TEST_ZYGOTE_LOG"], "a") as log:  # a diagnosis: it never should
                log.write(f"{os.getpid()}: zygote {found.proc.pid} ended ({found.proc.returncode})\n")
        if found is None or found.proc.poll() is not None:
            if found is None and len(_ZYGOTES) >= MAX_ZYGOTES:
                return None
            found = _ZYGOTES[key] = _Zygote(startup)
            atexit.register(found.stop)
        return found


def stop() -> None:
    """End the zygote (if one started) and wait for it."""
    with _ZYGOTE_LOCK:
        for found in _ZYGOTES.values():
            found.stop()
        _ZYGOTES.clear()


def routed(c: SimpleNamespace) -> bool:
    """Whether this command (`c`: Popen._execute_child's arguments by name) goes to the zygote
    (see the module's docstring)."""
    args, cwd = c.args, c.cwd
    if c.shell or c.preexec_fn is not None or not c.close_fds or c.pass_fds or c.gid is not None or c.gids is not None:
        return False
    if c.uid is not None or c.umask >= 0 or not isinstance(args, (list, tuple)) or len(args) < 2:
        return False
    if not all(isinstance(a, str) for a in args) or args[0] != sys.executable:
        return False
    if c.executable is not None and os.fsdecode(c.executable) != sys.executable:
        return False
    if args[1] == "-m":
        if len(args) < 3 or args[2].split(".")[0] not in ROUTED_MODULES:
            return False
    elif not (args[1].endswith(".py") and Path(args[1]).resolve().is_relative_to(REPO)):
        return False
    if cwd is not None and not os.path.isdir(cwd):
        return False
    env = os.environ if c.env is None else c.env
    if env.get("NEWSLETTER_TEST_EXEC"):  # this command by exec, whatever it is
        return False
    return zygote(env) is not None


# --------------------------------------------------------------------------------------------
# subprocess.Popen, taught to use it.

_original = {}


# Popen's `_execute_child` takes its arguments by position: their names, from its signature
_EXECUTE_CHILD_PARAMETERS = tuple(inspect.signature(subprocess.Popen._execute_child).parameters)[1:]


def _execute_child(self, *args):
    c = SimpleNamespace(**dict(zip(_EXECUTE_CHILD_PARAMETERS, args, strict=True)))
    if not routed(c):
        return _original["_execute_child"](self, *args)
    current = os.umask(0)
    os.umask(current)
    request = {
        "argv": list(c.args),
        "cwd": os.path.abspath(os.fsdecode(c.cwd)) if c.cwd is not None else os.getcwd(),
        "env": {os.fsdecode(k): os.fsdecode(v) for k, v in (os.environ if c.env is None else c.env).items()},
        "new_session": bool(c.start_new_session),
        "process_group": c.process_group,
        "umask": current,
    }
    fds = [
        c.p2cread if c.p2cread != -1 else 0,
        c.c2pwrite if c.c2pwrite != -1 else 1,
        c.errwrite if c.errwrite != -1 else 2,
    ]
    found = zygote(c.env)
    assert found is not None
    child = found.spawn(request, fds)
    self.pid = child.pid
    self._forkserver = child
    self._child_created = True
    self._close_pipe_fds(c.p2cread, c.p2cwrite, c.c2pread, c.c2pwrite, c.errread, c.errwrite)


def _internal_poll(self, _deadstate=None, **kwargs):
    child = getattr(self, "_forkserver", None)
    if child is None:
        return _original["_internal_poll"](self, _deadstate, **kwargs)
    if self.returncode is None:
        if not self._waitpid_lock.acquire(False):
            return None
        try:
            if self.returncode is None:
                status = child.status(0)
                if status is not None:
                    self._handle_exitstatus(status)
        except OSError:
            if _deadstate is not None:
                self.returncode = _deadstate
        finally:
            self._waitpid_lock.release()
    return self.returncode


def _wait(self, timeout):
    child = getattr(self, "_forkserver", None)
    if child is None:
        return _original["_wait"](self, timeout)
    if self.returncode is not None:
        return self.returncode
    endtime = None if timeout is None else time.monotonic() + timeout
    if not self._waitpid_lock.acquire(timeout=-1 if timeout is None else timeout):
        raise subprocess.TimeoutExpired(self.args, timeout)
    try:
        if self.returncode is None:
            remaining = None if endtime is None else max(0.0, endtime - time.monotonic())
            status = child.status(remaining)
            if status is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._handle_exitstatus(status)
    finally:
        self._waitpid_lock.release()
    return self.returncode


def install() -> None:
    """Route the commands described above through the zygote (once per process; a no-op with
    NEWSLETTER_TEST_FORKSERVER=0)."""
    if _original or os.environ.get("NEWSLETTER_TEST_FORKSERVER", "1") == "0":
        return
    for name, impl in (("_execute_child", _execute_child), ("_internal_poll", _internal_poll), ("_wait", _wait)):
        _original[name] = getattr(subprocess.Popen, name)
        setattr(subprocess.Popen, name, impl)


def uninstall() -> None:
    for name, impl in _original.items():
        setattr(subprocess.Popen, name, impl)
    _original.clear()


if __name__ == "__main__":
    serve(sys.argv[1], json.loads(sys.argv[2]))
