"""Reading bulletins through this process's caches: each file parsed once for its bytes (the
in-memory memo, then the state folder's parse cache), many files on every core at a cold start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.builder.context import BuildContext
from newsletter.builder.session import BuildCaches
from newsletter.content.entry import Entry
from newsletter.content.parse import ParseResult, parse_bulletin
from newsletter.content.sources import Source, find_sources
from newsletter.diagnostics import Diagnostic
from newsletter.errors import InputError
from newsletter.state.parsecache import CachedParse, content_hash, with_last_good

if TYPE_CHECKING:
    from newsletter.config import Config


class Reader:
    """Parses the bulletins of one site (its `context`) through `caches`."""

    def __init__(self, context: BuildContext, caches: BuildCaches) -> None:
        self.context, self.caches = context, caches

    @property
    def config(self) -> Config:
        return self.context.config

    @property
    def fingerprints(self) -> list[str]:
        """Of the site, its newsletters and the parser: a stamp or a patchable catalog made
        with others is not this build's."""
        return [
            self.context.site_fingerprint,
            self.context.newsletter_fingerprint,
            self.caches.parse_cache.salt if self.caches.parse_cache else "",
        ]

    def read(
        self,
        inputs: list[str],
        *,
        skip: list[Path] | tuple[Path, ...] = (),
        strict: bool = False,
        force: set[str] | frozenset[str] = frozenset(),
        found: tuple[list[Source], list[Diagnostic]] | None = None,
    ) -> tuple[list[Entry], list[Diagnostic], int]:
        """Entries of every bulletin under `inputs`; unchanged files come from memory or the cache.

        Files whose resolved path is in `force` are read and hashed again even if their size
        and mtime look unchanged (the watcher passes the paths it saw events for). `found`:
        what `find_sources` found under `inputs` already, for this build (the planner's look).
        """
        sources, notes = found if found is not None else find_sources(inputs, skip=skip)
        diagnostics = list(notes)
        if strict:
            for d in diagnostics:
                if d.severity == "error":
                    raise InputError(d.message, path=d.path, line=d.line)
        entries: list[Entry] = []
        seen: set[str] = set()
        self.caches.reparsed = []
        self.caches.results = {}
        if not self.caches.memory and not strict:
            self._read_in_processes(sources)
        for source in sources:
            seen.add(source.display)
            result = self.parse_source(source, force=bool(force) and str(source.path.resolve()) in force)
            if strict:
                for d in result.diagnostics:
                    if d.severity == "error":
                        raise InputError(d.message, path=d.path, line=d.line)
            diagnostics.extend(result.diagnostics)
            entries.extend(result.entries)
            self.caches.results[source.display] = result
        memory, cache = self.caches.memory, self.caches.parse_cache
        for gone in sorted(set(memory) - seen):
            del memory[gone]
            self.caches.reparsed.append(f"{gone} (removed)")
        if cache is not None and not strict:
            cache.prune(seen)
        return entries, diagnostics, len(sources)

    def _read_in_processes(self, sources: list[Source]) -> None:
        """Parse many files on every core (a cold start); results land in the in-memory memo."""
        from newsletter.builder.workers import map_in_processes

        # Loading cached results is quicker here than shipping them back from other processes.
        sources, workers = self.parsing_plan(sources)
        if workers <= 1:
            return
        self.context.tagger  # noqa: B018 - compiled once, before forking (else each process compiles it, ~25 ms)

        in_parent = os.getpid()
        memory = self.caches.memory
        ship = self.caches.parse_cache is None  # with a cache, this process reads the results back from it

        def parse_share(share: list[Source]):
            done = []
            for source in share:
                result = self.parse_source(source)
                memo = memory.get(source.display) if ship or os.getpid() == in_parent else None
                done.append((source.display, memo, source.display in self.caches.reparsed))
                del result
            return done

        shares = map_in_processes(parse_share, sources, workers, meanwhile=self.prepare_rendering)
        already = set(self.caches.reparsed)  # the share parsed in this process is recorded already
        for results in shares:
            for display, memo, reparsed in results:
                if memo is not None:
                    memory[display] = memo
                if reparsed and display not in already:
                    self.caches.reparsed.append(display)

    def parsing_plan(self, sources: list[Source]) -> tuple[list[Source], int]:
        """The sources the parse cache probably cannot answer for, and how many processes to
        parse them with: one, unless they are many and large."""
        from newsletter.builder.workers import parsing_workers

        cache = self.caches.parse_cache
        todo = cache.likely_stale(sources) if cache is not None else list(sources)
        size = 0
        for source in todo:
            try:
                size += os.stat(source.path).st_size
            except OSError:
                pass
        return todo, parsing_workers(len(todo), size)

    def prepare_rendering(self) -> None:
        """Make what rendering needs (while other processes parse): the newsletter renderer,
        the page templates, the feed writers (feedgen, with dateutil and lxml, ~20 ms to
        import); the processes forked to render inherit them instead of each making its own."""
        self.prepare_newsletters()
        self.context.pages.compile_templates()
        import feedgen.entry
        import feedgen.feed  # noqa: F401

        import newsletter.render.feeds.atom
        import newsletter.render.feeds.jsonfeed
        import newsletter.render.feeds.opml
        import newsletter.render.feeds.rss  # noqa: F401

    def prepare_newsletters(self) -> None:
        """Make the newsletter renderer now (while other processes parse), if newsletters are on."""
        if self.config.newsletter_enabled:
            self.context.issue_renderer  # noqa: B018

    def parse_source(self, source: Source, *, force: bool = False) -> ParseResult:
        """Parse one file (or reuse the result for the same bytes), keeping its last good entries."""
        display = source.display
        memory, cache = self.caches.memory, self.caches.parse_cache
        try:
            st = os.stat(source.path)
            remembered = memory.get(display)
            if not force and remembered is not None and remembered[0] == (st.st_mtime_ns, st.st_size):
                return remembered[1]
            data = source.path.read_bytes()
        except OSError as exc:
            return ParseResult([], [Diagnostic(display, 0, "error", f"cannot read: {exc.strerror or exc}")])
        digest = content_hash(data)
        cached = cache.load(display) if cache is not None else None
        if cached is None or cached.content_hash != digest:
            tagger = self.context.tagger
            result = parse_bulletin(display, data, tagger.resolve, tag=tagger.tag, site_language=self.config.language)
            last_good = result if not result.has_errors else (cached.last_good if cached else None)
            cached = CachedParse(digest, result, last_good)
            if cache is not None:
                cache.store(display, cached)
            self.caches.reparsed.append(display)
        result = with_last_good(display, cached)
        memory[display] = ((st.st_mtime_ns, st.st_size), result)
        return result
