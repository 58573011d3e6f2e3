"""One build: sources → parse → tag → catalog → units of output → writer.

The watch daemon calls the same `build_site`; there is no second code path.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter import __version__
from newsletter.builder.context import BuildContext
from newsletter.builder.execute import Run, Scope, execute
from newsletter.builder.plan import BuildRequest, BuildState, FallBack, Plan, plan, site_settings
from newsletter.builder.reader import Reader
from newsletter.builder.session import BuildCaches, DaemonSession, Snapshot
from newsletter.builder.workers import OutputCheck, park
from newsletter.content.catalog import REGIONAL, Catalog, build_catalog, told_apart
from newsletter.content.entry import Entry
from newsletter.content.fingerprint import parsing_fingerprint
from newsletter.content.rows import CatalogHead
from newsletter.diagnostics import Diagnostic
from newsletter.errors import InputError, UsageError
from newsletter.output.keys import is_issue
from newsletter.output.writer import WriteStats, remove_leftovers
from newsletter.render.units import CatalogSummary, Unit
from newsletter.state.manifest import migrate as migrate_manifest
from newsletter.state.manifest import save_manifest
from newsletter.state.parsecache import ParseCache

if TYPE_CHECKING:
    from newsletter.config import Config

log = logging.getLogger(__name__)

CACHE_FORMAT = 4  # bump when Entry or ParseResult change shape

Progress = Callable[[str, int, int], None]


@dataclass
class BuildResult:
    catalog: Catalog
    diagnostics: list[Diagnostic]
    stats: WriteStats
    sources: int
    seconds: float
    changed_sources: list[str] = field(default_factory=list)
    counts: tuple[int, int, int] | None = None
    """(entries, countries, regional) when `catalog` does not hold every entry."""
    plan: Plan = field(default_factory=Plan)
    """The ways considered and why each was or was not taken (`newsletter.builder.plan`)."""

    @property
    def whole_catalog(self) -> bool:
        """Whether `catalog` holds every entry (the in-memory and live ways), not a part of it."""
        return self.counts is None

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    def summary(self) -> str:
        entries, countries, regional = self.counts or (
            len(self.catalog.entries),
            len(self.catalog.countries()),
            len(self.catalog.groups.get(REGIONAL, ())),
        )
        s = self.stats
        text = (
            f"{counted(entries, 'entry', 'entries')} ({counted(countries, 'country', 'countries')}, {regional} "
            f"regional) from {counted(self.sources, 'file')}; {counted(s.written, 'file')} written, "
            f"{s.unchanged} unchanged, {s.removed} removed in {self.seconds:.2f} s"
        )
        if self.errors or self.warnings:
            text += f"; {counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        return text


def counted(n: int, one: str, many: str | None = None) -> str:
    """`n` and the word for so many: "1 file", "2 files", "1 entry", "0 entries"."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def inside(child: Path, parent: Path) -> bool:
    child, parent = child.resolve(), parent.resolve()
    return child == parent or parent in child.parents


def check_layout(inputs: list[str], out_dir: Path, state_dir: Path, config: Config) -> None:
    """Refuse layouts that would feed outputs back in or publish private state, and inputs
    that do not exist (a mistyped folder must not unpublish the whole site). A message names
    `out`/`state` as `config` says they were set (`FILE: out:` or `--out`)."""
    out, state = config.named("out"), config.named("state")
    for folder, option in ((out_dir, out), (state_dir, state)):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{option} {folder} is a file, not a folder; name a folder (it is created if needed)")
    missing = [given for given in inputs if not Path(given).exists()]
    if missing:
        raise UsageError(", ".join(missing) + ": no such file or folder; nothing was written")
    for given in inputs:
        root = Path(given)
        if root.is_dir() and inside(out_dir, root):
            raise UsageError(
                f"{out} {out_dir} is inside the bulletin folder {given}; choose an output folder outside it"
            )
        if inside(root, out_dir):
            raise UsageError(f"the bulletin folder {given} is inside the output folder {out_dir}; keep them apart")
    if inside(state_dir, out_dir):
        raise UsageError(
            f"{'the state folder' if state == '--state' else state} {state_dir} is inside the output folder "
            f"{out_dir}; it holds private data and must never be published "
            f"({'use --state DIR elsewhere' if state == '--state' else 'choose a folder elsewhere'})"
        )


class Builder:
    """One site's builds in one process: the build context (fixed) and what is kept from one
    build to the next — `caches` (parse results, identity records, the output manifests of
    this process) and `session` (the daemon's deferred saves, stop flag and snapshot); the
    `reader` parses through the caches. The ways are handed these, never the Builder."""

    def __init__(
        self,
        config: Config,
        *,
        templates_dir: str | Path | None = None,
        state_dir: Path | None = None,
        context: BuildContext | None = None,
        session: DaemonSession | None = None,
    ) -> None:
        self.context = context or BuildContext.create(config, templates_dir=templates_dir, state_dir=state_dir)
        self.session = session or DaemonSession()
        salt = repr(
            (
                __version__,
                CACHE_FORMAT,
                parsing_fingerprint(),
                sorted(config.aliases.items()),
                sorted(config.exclusions),
            )
        )
        self.caches = BuildCaches(
            ParseCache(state_dir, salt) if state_dir is not None else None,
            identity_folder=state_dir / "identity" if state_dir is not None else None,
        )
        self.reader = Reader(self.context, self.caches)
        self.state_dir = state_dir

    @property
    def config(self) -> Config:
        return self.context.config

    def units(self, catalog: Catalog) -> Iterator[Unit]:
        """Every unit of output of a whole catalog (`context.units`)."""
        return self.context.units(catalog)

    def catalog(self, entries: list[Entry], *, save: bool = True) -> Catalog:
        """The catalog of `entries`, with ids kept stable by the identity state (saved now, or
        with `save=False` by `write`, which does it while the render workers run)."""
        store = self.caches.identity
        entries, apart = told_apart(entries, store.digest_of)  # titles differing only in punctuation: two items
        identity = store.assign(entries, self.config.authority)
        if save:
            self.save_identity()
        catalog = build_catalog(entries, authority=self.config.authority, identity=identity)
        return dataclasses.replace(catalog, diagnostics=tuple(apart) + catalog.diagnostics) if apart else catalog

    def read(
        self,
        inputs: list[str],
        *,
        skip: list[Path] | tuple[Path, ...] = (),
        strict: bool = False,
        force: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[list[Entry], list[Diagnostic], int]:
        """Entries of every bulletin under `inputs` (`Reader.read`)."""
        return self.reader.read(inputs, skip=skip, strict=strict, force=force)

    # -- writing -----------------------------------------------------------------------
    def write(
        self,
        catalog: Catalog,
        request: BuildRequest,
        *,
        check: OutputCheck | None = None,
        describe: Callable[[CatalogSummary], tuple[CatalogHead | None, dict | None]] | None = None,
    ) -> WriteStats:
        """Render every unit of `catalog` whose inputs changed and write its outputs; reuse the rest.

        Within one process (the watch daemon) the output manifest stays in memory; with
        `request.verify` false the files of unchanged units are not even stat'ed. `check` is
        an `OutputCheck` of the manifest started earlier; `describe(summary)` gives what the manifest
        keeps for patching the catalog (see `patch.describe`), made while workers render.
        """
        out_dir = request.out_dir
        described: list[tuple[CatalogHead | None, dict | None]] = []
        summary = CatalogSummary.of(catalog, self.config.newsletter_enabled)  # filled in as the units are made

        def head_and_rows() -> tuple[CatalogHead | None, dict | None]:
            if not described:
                described.append(
                    describe(summary) if describe is not None and not self.session.defer_saves else (None, None)
                )
            return described[0]

        def meanwhile():  # the parent is idle while the workers render
            self.save_identity()
            head_and_rows()

        def before_fork(todo):
            self.context.pages.compile_templates()  # once, before forking
            if any(is_issue(key) for key, _, _ in todo):
                self.context.issue_renderer  # noqa: B018 - inline the template once, before forking

        scope = Scope(
            out_dir,
            request.manifest,
            previous=self.caches.written_before(out_dir),
            verify=request.verify,
            changed=check.result() if check is not None else None,
            track_changes=request.track_changes,
            head=lambda: head_and_rows()[0],
            save=self.session.saver(request.manifest, lambda: head_and_rows()[1]),
        )
        outcome = execute(
            scope,
            self.context.units(catalog, record=summary),
            Run(
                workers=None,
                progress=request.progress,
                stop_requested=self.session.stop_requested,
                before_fork=before_fork,
                meanwhile=meanwhile,
            ),
        )
        self.save_identity()
        self.caches.keep(request.manifest, out_dir, outcome.state, outcome.dirty)
        return outcome.stats

    # -- what this process remembers between builds ---------------------------------------
    def carry_memory_from(self, old: Builder) -> None:
        """A new Builder for the same site (templates changed): keep what `old` parsed and wrote."""
        mine, theirs = self.caches.parse_cache, old.caches.parse_cache
        if mine is not None and theirs is not None and mine.salt == theirs.salt:
            self.caches.memory = old.caches.memory
        self.caches.written = old.caches.written

    def save_identity(self) -> None:
        """Save the identity records now, unless the daemon saves them in `flush()`."""
        identity = self.caches.identity_store
        if not self.session.defer_saves and identity is not None:
            identity.save()

    def release_memory(self) -> None:
        """Drop the parse results and identity records kept for later builds in this process
        (a one-shot build has written them to the state folder already)."""
        caches, identity = self.caches, self.caches.identity_store
        park((caches.memory, caches.results, identity.records if identity is not None else None))  # if exiting
        caches.memory = {}
        caches.results = {}
        if identity is not None and not identity.changed:
            identity.records = {}

    def flush(self) -> None:
        """Write deferred state (identity records, output manifests) to the state folder."""
        if self.caches.identity_store is not None:
            self.caches.identity_store.save()
        unsaved = self.caches.unsaved
        for out_dir, manifest in list(unsaved.items()):
            save_manifest(manifest, self.caches.written[out_dir])
            del unsaved[out_dir]


def build_site(
    config: Config, inputs: list[str], out_dir: Path, state_dir: Path, *, builder: Builder | None = None, **options: Any
) -> BuildResult:
    """Build (or bring up to date) the whole output folder from the bulletins in `inputs`;
    `options` are those of `BuildRequest` (`strict`, `full`, `verify`, `force`, …).

    The watch daemon calls this with a long-lived `builder` (parse results and the output
    manifest stay in memory), the paths it saw events for as `force`, and `verify=False`.
    With `full`, a one-shot build neither stops at "nothing changed" nor patches the last
    build (`newsletter.builder.patch`): it rebuilds the catalog and checks every output on disk.
    """
    if "force" in options:
        options["force"] = frozenset(options["force"])
    return run(BuildRequest(config, list(inputs), out_dir, state_dir, **options), builder)


def run(request: BuildRequest, builder: Builder | None = None) -> BuildResult:
    """`build_site` for a `BuildRequest`."""
    # The cyclic GC would walk the whole heap again and again while hundreds of thousands of
    # (acyclic) entries and outputs are created; it runs again once the build is over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        check_layout(request.inputs, request.out_dir, request.state_dir, request.config)
        migrate_manifest(request.manifest)
        builder = builder or Builder(request.config, templates_dir=request.templates_dir, state_dir=request.state_dir)
        state = BuildState(request, builder.reader, builder.session, started)
        while True:
            chosen = plan(request, state)
            try:
                return _RUN[chosen.way](builder, request, state, chosen)
            except FallBack as fell:
                assert fell.way == chosen.way, (fell.way, chosen.way)
                state.broken[chosen.way] = str(fell)
    finally:
        if gc_was_enabled:
            gc.enable()


def explain(config: Config, inputs: list[str], out_dir: Path, state_dir: Path, **options: Any) -> Plan:
    """The plan `build` would follow, found without writing anything (`build --explain`);
    `options` as for `build_site`."""
    check_layout(inputs, out_dir, state_dir, config)
    request = BuildRequest(config, list(inputs), out_dir, state_dir, explain=True, **options)
    builder = Builder(config, templates_dir=request.templates_dir, state_dir=state_dir)
    return plan(request, BuildState(request, builder.reader, builder.session))


def _remove_leftovers(request: BuildRequest, state: BuildState) -> None:
    """What a killed build left: the build after one is always a full one."""
    if not state.leftovers_removed and (state.one_shot or state.caches.written_before(request.out_dir) is None):
        remove_leftovers(request.out_dir)
    state.leftovers_removed = True


def _in_memory(builder: Builder, request: BuildRequest, state: BuildState, plan: Plan) -> BuildResult:
    out_dir, started = request.out_dir, state.started
    one_shot = state.one_shot
    _remove_leftovers(request, state)
    check = OutputCheck.start(request.manifest, out_dir) if one_shot else None
    try:
        entries, diagnostics, nsources = state.read()
        log.debug(
            "read %s from %s (%d parsed) in %.2f s",
            counted(len(entries), "entry", "entries"),
            counted(nsources, "file"),
            len(builder.caches.reparsed),
            time.perf_counter() - started,
        )
        mark = time.perf_counter()
        plan.units = "every unit (those whose fingerprint and files are as recorded are reused)"
        catalog = builder.catalog(entries, save=False)
        del entries
        state.drop_entries()
        describe = None
        stamp = state.stamp if one_shot else None
        if stamp is not None:  # keep what a later one-shot build needs to patch this catalog
            from newsletter.builder.patch import describe as describe_catalog
            from newsletter.content.rows import problems_of, top_size

            seen = builder.caches.read_stats()
            problems = {display: problems_of(result) for display, result in builder.caches.results.items()}
            fingerprints, n = builder.reader.fingerprints, top_size(builder.config)
            files = {d: (mtime, size, problems.get(d, [])) for d, (mtime, size) in seen.items()}
            describe = lambda summary: describe_catalog(catalog, summary, fingerprints, n, files, state.started_ns)
        if not builder.session.defer_saves:
            builder.release_memory()  # one-shot: the catalog now holds all that rendering needs
        log.debug("catalog in %.2f s", time.perf_counter() - mark)
        diagnostics = diagnostics + list(catalog.diagnostics)
        if request.strict:
            for d in catalog.diagnostics:
                if d.severity == "error":
                    raise InputError(d.message, path=d.path, line=d.line)
        stats = builder.write(catalog, request, check=check, describe=describe)
    finally:
        if check is not None:
            check.close()
    counts = _counts(catalog)
    if stamp is not None:
        _save_record(request, state, counts, diagnostics)
    if builder.session.defer_saves:
        made_with = tuple(builder.reader.fingerprints)
        builder.session.snapshot = Snapshot.take(builder.caches.results, catalog, made_with, out_dir)
    return BuildResult(
        catalog,
        diagnostics,
        stats,
        nsources,
        time.perf_counter() - started,
        changed_sources=list(builder.caches.reparsed),
        plan=plan,
    )


def _live(builder: Builder, request: BuildRequest, state: BuildState, plan: Plan) -> BuildResult:
    from newsletter.builder.live import incremental_write

    _, diagnostics, nsources = state.read()
    mark = time.perf_counter()
    catalog, stats = incremental_write(request, state, plan)
    log.debug("incremental rebuild in %.3f s", time.perf_counter() - mark)
    return BuildResult(
        catalog,
        diagnostics,
        stats,
        nsources,
        time.perf_counter() - state.started,
        changed_sources=list(state.caches.reparsed),
        plan=plan,
    )


def _patch(builder: Builder, request: BuildRequest, state: BuildState, plan: Plan) -> BuildResult:
    """A small change applied to the last build's outputs (see `newsletter.builder.patch`)."""
    from newsletter.builder.patch import warm_build

    done = warm_build(request, state, plan)
    return _recorded(request, state, done, done.touched, plan)


def _batches(builder: Builder, request: BuildRequest, state: BuildState, plan: Plan) -> BuildResult:
    """A full build done year by year (see `newsletter.builder.batches`)."""
    from newsletter.builder.batches import stream_build

    _remove_leftovers(request, state)
    sources, _ = state.found
    done = stream_build(request, state, plan)
    if state.caches.parse_cache is not None:
        state.caches.parse_cache.prune({s.display for s in sources})
    return _recorded(request, state, done, list(state.caches.reparsed), plan)


def _recorded(request: BuildRequest, state: BuildState, done, changed, plan: Plan) -> BuildResult:
    """The result of a way that does not hold the whole catalog, its record saved."""
    _save_record(request, state, done.counts, done.diagnostics)
    return BuildResult(
        done.catalog,
        done.diagnostics,
        done.stats,
        done.sources,
        time.perf_counter() - state.started,
        changed_sources=changed,
        counts=done.counts,
        plan=plan,
    )


def _unchanged(builder: Builder, request: BuildRequest, state: BuildState, plan: Plan) -> BuildResult:
    """The result of the last build: nothing it was made from changed and its outputs are intact."""
    from newsletter.content.catalog import Catalog

    recorded = state.record[0]
    assert recorded is not None and state.intact is not None
    diagnostics = state.found[1] + [Diagnostic(*d) for d in recorded["diagnostics"]]
    return BuildResult(
        Catalog((), {}),
        diagnostics,
        WriteStats(unchanged=state.intact),
        len(state.found[0]),
        time.perf_counter() - state.started,
        counts=(recorded["entries"], recorded["countries"], recorded["regional"]),
        plan=plan,
    )


def _counts(catalog: Catalog) -> tuple[int, int, int]:
    return len(catalog.entries), len(catalog.countries()), len(catalog.groups.get(REGIONAL, ()))


def _save_record(request: BuildRequest, state: BuildState, counts: tuple[int, int, int], diagnostics) -> None:
    """Keep the stamp of what this one-shot build was made from (see `state.stamp`)."""
    from newsletter.state import stamp as stamps

    assert state.stamp is not None
    notes = state.found[1]
    entries, countries, regional = counts
    stamps.save(
        stamps.stamp_path(request.manifest),
        state.stamp,
        entries=entries,
        countries=countries,
        regional=regional,
        diagnostics=[d for d in diagnostics if d not in notes],
        files=[s.display for s in state.found[0]],
        settings=site_settings(state.reader.context),
    )


_RUN = {"unchanged": _unchanged, "patch": _patch, "batches": _batches, "live": _live, "in memory": _in_memory}
"""How each way of `plan.WAYS` runs."""
