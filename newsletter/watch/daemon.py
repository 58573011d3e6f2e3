"""`newsletter watch`: an initial build, then an incremental rebuild per burst of changes.

The rebuild is `build_site` itself, with a long-lived Builder: parse results and the output
manifest stay in memory, the files named by events are re-read and hashed, and only units
whose inputs changed are rendered. Nothing here can stop the loop: a failed rebuild is
logged and the next change (or the periodic rescan) tries again.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter.builder.pipeline import Builder, build_site, counted
from newsletter.builder.plan import left_out_words
from newsletter.builder.session import DaemonSession
from newsletter.content.parse import body_format_for
from newsletter.content.sources import is_ignored
from newsletter.diagnostics import report
from newsletter.errors import BuildInterrupted, NewsletterError, environment_error
from newsletter.output.websub import Publisher, changed_feed_urls
from newsletter.watch.debounce import next_batch
from newsletter.watch.events import Change, QueueingHandler

if TYPE_CHECKING:
    from newsletter.config import Config

log = logging.getLogger("newsletter.watch")

ROOT_CHECK_SECONDS = 0.5
FLUSH_SECONDS = 5.0
"""How long state (identity records, the output manifest) may stay unsaved after a rebuild."""


@dataclass
class WatchOptions:
    inputs: list[str]
    out_dir: Path
    state_dir: Path
    templates_dir: str | None = None
    config_path: str | None = None
    polling: bool = False
    debounce: float = 0.25
    rescan: float = 60.0
    after_build: Callable[[Config, Builder, object, list[str]], bool] | None = None
    """Called with (config, builder, catalog or None, inputs) after each successful rebuild
    (`--send-due`); returns True when a stop was asked for meanwhile."""
    on_result: Callable[[Any, float, float], None] | None = None
    """`-v`: each BuildResult, with its perf_counter start and end (the log line's time too)."""


@dataclass
class _Root:
    path: str
    recursive: bool
    identity: tuple[int, int] | None = None
    watch: object = None
    missing: bool = False


@dataclass
class WatchDaemon:
    """Keeps `options.out_dir` current. `load_config` re-reads the configuration file."""

    options: WatchOptions
    load_config: Callable[[], Config]
    stop: threading.Event = field(default_factory=threading.Event)
    rebuilds: int = 0
    errors: int = 0
    """Errors in the bulletins of the last build that finished (`--once` exits 1 on any, as `build`)."""

    def __post_init__(self) -> None:
        self.config = self.load_config()
        self.builder = self._make_builder()
        self.changes: queue.Queue[Change] = queue.Queue()
        hub = self.config.watch_websub_hub
        self.publisher = Publisher(hub, self.options.state_dir) if hub else None
        o = self.options
        self._private = [os.path.abspath(o.out_dir), os.path.abspath(o.state_dir)]
        self._inputs = [os.path.abspath(p) for p in o.inputs]
        self._templates = os.path.abspath(o.templates_dir) if o.templates_dir else None
        self._config = os.path.abspath(o.config_path) if o.config_path else None

    # -- what counts as a change ---------------------------------------------------------
    def relevant(self, change: Change) -> bool:
        kind, path = change
        if is_ignored(os.path.basename(path)) or any(_within(path, p) for p in self._private):
            return False
        if path == self._config:
            return True
        if self._templates and _within(path, self._templates):
            return True
        for root in self._inputs:
            if path == root or (_within(path, root) and (kind == "dir" or body_format_for(path) is not None)):
                return True
        return False

    # -- the loop ------------------------------------------------------------------------
    def run(self, *, once: bool = False) -> int:
        """Build, then (unless `once`) watch until SIGINT/SIGTERM or `stop` is set."""
        if once:
            ok = self.rebuild(set(), verify=True, one_shot=True)
            if self.publisher is not None and not self.publisher.wait_idle(10.0):
                log.warning("WebSub hub did not answer; the pings will be sent again by the next run")
            self._close()
            return 0 if ok and not self.errors else 1  # as `newsletter build`: 1 on a bulletin's error too
        observer = self._observer()
        roots = self._roots()
        for root in roots:
            self._arm(observer, root)
        observer.start()  # before the first build, so that saves made during it are not missed
        previous = self._signals()
        self.rebuild(set(), verify=True)
        self.builder.flush()
        log.info(
            "watching %s for changes (%s); Ctrl-C to stop",
            ", ".join(self.options.inputs),
            "polling" if self.options.polling else "events",
        )
        next_rescan = time.monotonic() + self.options.rescan if self.options.rescan else float("inf")
        next_root_check = 0.0
        flush_at = float("inf")
        try:
            while not self.stop.is_set():
                longest = max(2.0, 4 * self.options.debounce)
                batch = next_batch(
                    self.changes,
                    quiet=self.options.debounce,
                    longest=longest,
                    wait=ROOT_CHECK_SECONDS,
                    keep=self.relevant,
                )
                if time.monotonic() >= next_root_check:
                    batch |= self._check_roots(observer, roots)
                    next_root_check = time.monotonic() + ROOT_CHECK_SECONDS
                if self.stop.is_set():
                    break
                if batch:
                    self.rebuild(batch)
                    next_rescan = time.monotonic() + self.options.rescan if self.options.rescan else float("inf")
                    flush_at = min(flush_at, time.monotonic() + FLUSH_SECONDS)
                elif time.monotonic() >= flush_at:
                    self._flush()
                    flush_at = float("inf")
                elif time.monotonic() >= next_rescan:
                    log.debug("periodic rescan")
                    damaged = flush_at == float("inf") and not self._outputs_intact()
                    if damaged:
                        log.info(
                            "%s: checking every output, writing again what is not as this daemon wrote it",
                            self._damaged_words(),
                        )
                    self.rebuild(set(), quiet_if_unchanged=not damaged, verify=damaged)
                    if damaged:  # its repairs are saved as a change's are
                        flush_at = min(flush_at, time.monotonic() + FLUSH_SECONDS)
                    next_rescan = time.monotonic() + self.options.rescan
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            observer.stop()
            observer.join(timeout=1.0)
            log.debug("observer stopped")
            self._close()
        log.info("stopped")
        return 0

    def rebuild(
        self, batch: set[Change], *, verify: bool = False, quiet_if_unchanged: bool = False, one_shot: bool = False
    ) -> bool:
        """One incremental build for a batch of changes; never raises; False if it failed.
        `one_shot` (`--once`) builds as `newsletter build` does: nothing-changed shortcut,
        patch, year batches."""
        started = time.perf_counter()
        paths = {p for _, p in batch}
        try:
            if self._config in paths:
                self._reload_config()
            elif self._templates and any(_within(p, self._templates) for p in paths):
                self._new_builder()
            missing = [p for p in self.options.inputs if not os.path.exists(p)]
            if missing:
                log.warning("%s: missing; outputs are left as they are until it is back", ", ".join(missing))
                return not one_shot
            o = self.options
            if one_shot:
                result = build_site(
                    self.config, o.inputs, o.out_dir, o.state_dir, templates_dir=o.templates_dir, track_changes=True
                )
            else:
                result = build_site(
                    self.config,
                    o.inputs,
                    o.out_dir,
                    o.state_dir,
                    builder=self.builder,
                    force=frozenset(paths),
                    verify=verify,
                    track_changes=True,
                )
        except BuildInterrupted:
            log.info(
                "stopped in the middle of a rebuild; every output written is complete, "
                "the next start brings the rest up to date"
            )
            return True
        except NewsletterError as exc:
            log.error("rebuild failed: %s", exc)
            return False
        except OSError as exc:  # the environment (full disk, permissions): one line, no traceback
            log.error("rebuild failed: %s", environment_error(exc))
            return False
        except Exception:  # a bug must not stop the daemon
            log.exception("rebuild failed; will try again on the next change")
            return False
        done = time.perf_counter()  # one time for the log line and `-v`'s total
        self.rebuilds += 1
        self.errors = result.errors
        # After the first build, only problems in files that just changed are worth repeating.
        changed_paths = None if self.rebuilds == 1 else {p.removesuffix(" (removed)") for p in result.changed_sources}
        quiet = not log.isEnabledFor(logging.INFO)  # `watch -q` leaves only errors
        report([d for d in result.diagnostics if d.severity == "error" or not quiet], paths=changed_paths)
        if self.options.on_result is not None:
            self.options.on_result(result, started, done)
        stats = result.stats
        if quiet_if_unchanged and not (stats.written or stats.removed or result.changed_sources):
            return True
        sources = result.changed_sources
        if self.rebuilds == 1:
            changed = f"initial build, {len(sources)} file{'s' if len(sources) != 1 else ''} parsed"
        elif not sources:
            changed = "no bulletin changed"
        else:
            changed = ", ".join(sources[:5]) + (f" and {len(sources) - 5} more" if len(sources) > 5 else "")
        entries = result.counts[0] if result.counts else len(result.catalog.entries)
        counts = f"{counted(entries, 'entry', 'entries')}, {counted(result.errors, 'error')}"
        if result.plan.way == "unchanged":  # `--once`: nothing changed since the last build
            log.info(
                "nothing rebuilt: nothing changed since the last build, its outputs are as written "
                "(checked in %.3f s; %s)",
                done - started,
                counts,
            )
        else:
            log.info(
                "rebuilt in %.3f s (%s): %s; %s rewritten, %d removed (%s)",
                done - started,
                result.plan.way,
                changed,
                counted(stats.written, "output"),
                stats.removed,
                counts,
            )
        if left_out := left_out_words(result.plan.left_out, stats.removed):  # `watch FILE`, as `build FILE`
            log.warning("%s", left_out)
        if self.publisher is not None and stats.changed_paths:
            self.publisher.publish(changed_feed_urls(stats.changed_paths, self.builder.context.links))
        catalog = result.catalog if result.whole_catalog else None  # other ways hold only part of it
        if self.options.after_build is not None and self.options.after_build(
            self.config, self.builder, catalog, self.options.inputs
        ):
            self.stop.set()
        return True

    # -- helpers -----------------------------------------------------------------------
    def _reload_config(self) -> None:
        try:
            config = self.load_config()
        except NewsletterError as exc:  # one line per problem, each saying what it did
            for line in str(exc).splitlines():
                log.error("configuration not reloaded: %s", line.removeprefix("newsletter: "))
            return
        log.info("configuration changed; rebuilding what it affects")
        self.config = config
        self._new_builder()

    def _make_builder(self) -> Builder:
        session = DaemonSession(defer_saves=True, stop_requested=self.stop.is_set)
        return Builder(
            self.config, templates_dir=self.options.templates_dir, state_dir=self.options.state_dir, session=session
        )

    def _new_builder(self) -> None:
        old = self.builder
        old.flush()
        self.builder = self._make_builder()
        self.builder.carry_memory_from(old)
        # the last build's snapshot, so that the plan says what changed (its `live | fingerprints`
        # rule), not that this daemon never built: the new fingerprints rule the live way out
        self.builder.session.snapshot = old.session.snapshot

    def _observer(self):
        if self.options.polling:
            from watchdog.observers.polling import PollingObserver

            return PollingObserver(timeout=1.0)
        from watchdog.observers import Observer

        return Observer()

    def _roots(self) -> list[_Root]:
        roots: dict[str, _Root] = {}
        for path in self._inputs:
            if os.path.isfile(path):
                roots.setdefault(os.path.dirname(path), _Root(os.path.dirname(path), False))
            else:
                roots[path] = _Root(path, True)
        if self._templates:
            roots[self._templates] = _Root(self._templates, True)
        if self._config:
            folder = os.path.dirname(self._config)
            roots.setdefault(folder, _Root(folder, False))
        return list(roots.values())

    def _arm(self, observer, root: _Root) -> bool:
        try:
            st = os.stat(root.path)
            root.watch = observer.schedule(QueueingHandler(self.changes), root.path, recursive=root.recursive)
        except OSError:
            root.missing = True
            return False
        root.identity = (st.st_dev, st.st_ino)
        root.missing = False
        return True

    def _check_roots(self, observer, roots: list[_Root]) -> set[Change]:
        """Re-arm watches on folders that were removed and created again."""
        found: set[Change] = set()
        for root in roots:
            try:
                st = os.stat(root.path)
                identity = (st.st_dev, st.st_ino)
            except OSError:
                identity = None
            if identity is not None and identity == root.identity and not root.missing:
                continue
            if identity is None:
                if not root.missing:
                    log.warning("%s was removed; waiting for it to come back", root.path)
                    root.missing = True
                continue
            if root.watch is not None:
                try:
                    observer.unschedule(root.watch)
                except (KeyError, ValueError, OSError):
                    pass
            if self._arm(observer, root):
                log.info("%s is back; watching it again", root.path)
                found.add(("dir", root.path))
        return found

    def _signals(self) -> dict:
        previous = {}

        def handler(signum, frame):
            self.stop.set()

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, handler)
        return previous

    def _outputs_intact(self) -> bool:
        """Every output the saved manifest lists is on disk as written (a hand-edited or
        deleted output is repaired by the next rescan, as `newsletter build` repairs it).
        Asked only when every save is done: the manifest on disk is then the daemon's."""
        from newsletter.state.manifest import manifest_path
        from newsletter.state.stamp import outputs_intact

        o = self.options
        try:
            return outputs_intact(manifest_path(o.state_dir, o.out_dir), o.out_dir) is not None
        except OSError:
            return False

    def _damaged_words(self) -> str:
        """Which outputs are missing or not as the saved manifest says (the first three, and
        how many more), for the rescan's log line."""
        from newsletter.output.writer import changed_outputs
        from newsletter.state.manifest import load_manifest, manifest_path

        o = self.options
        try:
            state = load_manifest(manifest_path(o.state_dir, o.out_dir))
            changed = sorted(changed_outputs(state[1], o.out_dir)) if state is not None else []
        except OSError:
            changed = []
        if not changed:
            return "an output is missing or is not as this daemon wrote it"
        named = [f"{rel} ({'edited' if (o.out_dir / rel).exists() else 'missing'})" for rel in changed[:3]]
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        return f"{'an output is' if len(changed) == 1 else f'{len(changed)} outputs are'} not as written: {', '.join(named)}{more}"

    def _flush(self) -> None:
        try:
            self.builder.flush()
        except OSError as exc:
            log.error("could not save state: %s", exc)

    def _close(self) -> None:
        self._flush()
        if self.publisher is not None:
            self.publisher.close()


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
