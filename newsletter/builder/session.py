"""What one process keeps between builds of a site, named: the caches (parse results, output
manifests) and the watch daemon's session (deferred saves, the stop flag, the last snapshot).

`pipeline.Builder` owns one of each; the ways (`live`, `patch`, `batches`) and the planner's
state are handed these objects, not the Builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.content.catalog import Catalog, item_key
from newsletter.content.entry import Entry
from newsletter.content.parse import ParseResult
from newsletter.content.rows import CatalogHead
from newsletter.state.identity import IdentityStore
from newsletter.state.manifest import save_manifest
from newsletter.state.parsecache import ParseCache


@dataclass
class Snapshot:
    """The inputs and outcome of the last build in this process."""

    results: dict[str, ParseResult]
    finals: dict[str, list[Entry]]
    catalog: Catalog
    fingerprints: tuple[str, ...]
    """`Reader.fingerprints` of the build (site, newsletters, parser)."""
    out_dir: Path
    keys: dict[tuple, str]
    slugs: dict[str, str]
    ids: dict[str, str]

    @classmethod
    def take(
        cls, results: dict[str, ParseResult], catalog: Catalog, fingerprints: tuple[str, ...], out_dir: Path
    ) -> Snapshot | None:
        """The snapshot of a build of `catalog` into `out_dir` from the parse `results`, with
        the reader's fingerprints; None when it cannot be patched."""
        if catalog.diagnostics:  # duplicates were resolved by order: keep to full builds
            return None
        finals: dict[str, list[Entry]] = {}
        for entry in catalog.entries:
            finals.setdefault(entry.source, []).append(entry)
        return cls(
            results=dict(results),
            finals=finals,
            catalog=catalog,
            fingerprints=fingerprints,
            out_dir=out_dir,
            keys={item_key(e): e.source for e in catalog.entries},
            slugs={e.slug: e.source for e in catalog.entries},
            ids={e.id: e.source for e in catalog.entries},
        )


@dataclass
class DaemonSession:
    """What the watch daemon sets on its builder (a one-shot build keeps the defaults)."""

    defer_saves: bool = False
    """State files are written by `Builder.flush()`, not after every build."""
    stop_requested: Callable[[], bool] = lambda: False
    """Checked between units; the daemon points it at its SIGTERM flag."""
    snapshot: Snapshot | None = None
    """What the last build looked like, for the daemon's live way (see `live`)."""

    def saver(self, manifest: Path, rows: Callable[[], dict | None] = lambda: None):
        """How a write saves the manifest: now (when anything changed, or to keep a catalog),
        or — in the daemon — not at all: `Builder.flush()` does (a `Scope.save`)."""
        if self.defer_saves:
            return None

        def save(state, head: CatalogHead | None, dirty: bool) -> None:
            if dirty or head is not None:
                save_manifest(manifest, state, catalog=head, rows=rows())

        return save


@dataclass
class BuildCaches:
    """Parse results and output manifests kept from one build to the next in this process."""

    parse_cache: ParseCache | None
    """The state folder's parse cache (None without a state folder)."""
    identity_folder: Path | None = None
    """Where the identity records are kept (None without a state folder)."""
    identity_store: IdentityStore | None = None
    """The identity records, once read (see `identity`)."""
    memory: dict[str, tuple[tuple[int, int], ParseResult]] = field(default_factory=dict)
    """display path -> ((mtime in ns, size), its parse result)."""
    results: dict[str, ParseResult] = field(default_factory=dict)
    """The parse result of every file the last read found."""
    reparsed: list[str] = field(default_factory=list)
    """The files the last read parsed again (or found removed)."""
    written: dict[Path, tuple[dict, dict]] = field(default_factory=dict)
    """output folder -> the (units, files) the last build of it in this process left."""
    unsaved: dict[Path, Path] = field(default_factory=dict)
    """output folder -> its manifest, when saves are deferred and it changed."""

    @property
    def identity(self) -> IdentityStore:
        """Every identity record (read on first use: a rebuild that patches the last catalog
        reads only the years it touches)."""
        if self.identity_store is None:
            self.identity_store = IdentityStore(self.identity_folder)
        return self.identity_store

    def written_before(self, out_dir: Path) -> tuple[dict, dict] | None:
        """The (units, files) the last build of `out_dir` in this process left, if any."""
        return self.written.get(out_dir)

    def keep(self, manifest: Path, out_dir: Path, state: tuple[dict, dict], dirty: bool) -> None:
        """Remember what a write left, for the next build in this process (and `flush()`)."""
        self.written[out_dir] = state
        if dirty:
            self.unsaved[out_dir] = manifest

    def read_stats(self) -> dict[str, tuple[int, int]]:
        """(mtime in ns, size) of every file as it was when its parse result was taken."""
        return {display: memo[0] for display, memo in self.memory.items()}

    def forget_parse(self, display: str):
        """Drop the in-memory parse result of one file (a batch build keeps only the cache's)."""
        return self.memory.pop(display, None)
