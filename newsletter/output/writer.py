"""The only code that writes into the output folder.

Writes are atomic (a temporary file in the same folder, then `os.replace`); a file whose
bytes did not change is left untouched (same mtime); outputs that a build no longer
produces are removed. What was written, and from which inputs, is kept in a manifest
(in the state folder, one per output folder) so that the next build can skip whole
units of work whose inputs did not change and knows which stale files are its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    units_rendered: int = 0
    units_reused: int = 0
    changed_paths: list[str] | None = None

    def add(self, other: WriteStats) -> None:
        """Count what another writer of the same build did (a batch, the head) in these totals."""
        self.written += other.written
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.units_rendered += other.units_rendered
        self.units_reused += other.units_reused
        if self.changed_paths is not None:
            self.changed_paths.extend(other.changed_paths or [])


def _short(fingerprint: str) -> str:
    """What the manifest keeps of a fingerprint: a hash (fingerprints can be kilobytes long)."""
    return hashlib.blake2b(fingerprint.encode(), digest_size=12).hexdigest()


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


_LEFTOVER = re.compile(r"^\..+\.\d+\.tmp$")
"""A temporary file of `write_atomic` (`.NAME.PID.tmp`): it starts with a dot, so a web server
configured as docs/nginx-newsletter.conf never serves it while it exists."""


def write_atomic(path: Path | str, data: bytes) -> os.stat_result:
    """Replace `path` with `data` so that readers see the old file or the new one, never a mix.

    Returns the new file's stat (the rename keeps size and mtime)."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            st = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return st
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename is None:  # os.write says not which file
            raise OSError(exc.errno, exc.strerror, path) from exc
        raise


def remove_leftovers(out_dir: Path) -> int:
    """Remove the temporary files (`.NAME.PID.tmp`) that a killed build left in the output
    folder; how many. Full builds call it: a killed build leaves no stamp and changes folder
    mtimes, so the build after it is always a full one."""
    removed = 0
    if out_dir.is_dir():
        for folder, _, files in os.walk(out_dir):
            for name in files:
                if name[0] == "." and _LEFTOVER.match(name):
                    try:
                        os.unlink(os.path.join(folder, name))
                        removed += 1
                    except FileNotFoundError:
                        pass
    return removed


def empty_folder(folder: Path) -> bool:
    """True if `folder` does not exist or holds nothing."""
    try:
        with os.scandir(folder) as it:
            return next(it, None) is None
    except (FileNotFoundError, NotADirectoryError):
        return True


def write_new(path: str, data: bytes) -> os.stat_result:
    """Create `path`, which cannot exist yet (its folder was empty or created by this build), in place:
    there is no old version for a reader to see mixed with the new one, so the temporary
    file and rename of `write_atomic` (40 % of the cost of writing a small page) are skipped.
    Should the file exist after all, it is replaced atomically."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return write_atomic(path, data)
    try:
        written = os.write(fd, data)  # all of it, but for a full disk or a signal
        if written < len(data):
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(fd, view) :]
        st = os.fstat(fd)
    except BaseException as exc:
        os.close(fd)
        os.unlink(path)
        if isinstance(exc, OSError) and exc.filename is None:
            raise OSError(exc.errno, exc.strerror, path) from exc
        raise
    os.close(fd)
    return st


@dataclass(frozen=True)
class WriteOptions:
    """How a `SiteWriter` treats what the last build left."""

    track_changes: bool = False
    """Keep the paths written and removed (`WriteStats.changed_paths`: for WebSub pings)."""
    verify: bool = True
    """False: trust `previous` without a stat per file (the daemon)."""
    carry_over: bool = False
    """Units that are not written or reused stay as they were, unless they are `retire`d (the
    daemon's incremental path renders only what a change touched)."""
    changed: set[str] | None = None
    """What `changed_outputs` found for this manifest (checked by another process while this
    one was busy); files are then not stat'ed again here."""
    fresh: bool | None = None
    """The output folder was empty when the build began (None: look now)."""


class SiteWriter:
    """Writes outputs unit by unit; call `finish()` to remove stale files and save the manifest.

    A unit is a named group of outputs with a fingerprint of everything they were made
    from. A unit whose fingerprint is unchanged and whose files are intact is not rendered.
    """

    def __init__(
        self,
        out_dir: Path,
        manifest,
        *,
        previous: tuple[dict, dict] | None = None,
        options: WriteOptions | None = None,
    ) -> None:
        """`manifest` is where the last build's record of units and files lives: anything with
        `load()` and `exists()` (the state folder's
        `ManifestFolder`; the writer itself knows nothing of the state folder).
        `previous` is the (units, files) state that the last `finish()` left in this process;
        with it the manifest is not read again. `options` say how to treat it (`WriteOptions`)."""
        options = options or WriteOptions()
        self._changed = options.changed
        self.out_dir = out_dir
        self._root = os.path.join(str(out_dir), "")
        self.manifest = manifest
        self.verify = options.verify
        self.stats = WriteStats(changed_paths=[] if options.track_changes else None)
        self._old_units: dict[str, list] = {}
        self._old_files: dict[str, list] = {}
        self._units: dict[str, list] = {}
        self._files: dict[str, list] = {}
        self._dirs: set[str] = set()
        self._created: set[str] = set()
        self._fresh = empty_folder(out_dir) if options.fresh is None else options.fresh
        """The output folder was empty (when this writer, or the build it is part of, began):
        every file is new (no check for old bytes, no rename)."""
        self.carry_over = options.carry_over and previous is not None
        if previous is not None:
            self._old_units, self._old_files = previous
            if self.carry_over:
                self._units, self._files = dict(self._old_units), dict(self._old_files)
        else:
            self.verify = True
            self._load_manifest()

    @property
    def state(self) -> tuple[dict, dict]:
        """What to hand to the next SiteWriter in this process (see `previous`)."""
        return self._units, self._files

    def _load_manifest(self) -> None:
        state = self.manifest.load()
        if state is not None:
            self._old_units, self._old_files = state

    # -- units -------------------------------------------------------------------------
    def is_current(self, key: str, fingerprint: str) -> bool:
        """True when unit `key` was built from the same inputs and its files are intact."""
        old = self._old_units.get(key)
        if old is None or old[0] != _short(fingerprint):
            return False
        if not self.verify:
            return all(rel in self._old_files for rel in old[1])
        if self._changed is not None:
            return all(rel in self._old_files and rel not in self._changed for rel in old[1])
        for rel in old[1]:
            record = self._old_files.get(rel)
            if record is None:
                return False
            try:
                st = os.stat(self._root + rel)
            except OSError:
                return False
            if st.st_size != record[0] or st.st_mtime_ns != record[1]:
                return False
        return True

    def carried_keys(self) -> list[str]:
        """Keys of the units this writer started with (carry-over mode)."""
        return list(self._old_units)

    def retire(self, keys: list[str]) -> None:
        """Drop units (carry-over mode): their files are removed by `finish`."""
        for key in keys:
            record = self._units.pop(key, None)
            if record is not None:
                for rel in record[1]:
                    self._files.pop(rel, None)

    def reuse(self, key: str) -> None:
        """Keep unit `key` and its files as they are."""
        fingerprint, paths = self._old_units[key]
        self._units[key] = [fingerprint, paths]
        for rel in paths:
            self._files[rel] = self._old_files[rel]
        self.stats.units_reused += 1
        self.stats.unchanged += len(paths)

    def write_unit(self, key: str, fingerprint: str, outputs: Iterable[tuple[str, bytes]]) -> None:
        """Write the outputs of unit `key`, each only if its bytes changed."""
        write = self.write_file
        paths = []
        for rel, data in outputs:
            write(rel, data)
            paths.append(rel)
        if self.carry_over and key in self._units:
            for rel in set(self._units[key][1]) - set(paths):
                self._files.pop(rel, None)
        self._units[key] = [_short(fingerprint), paths]
        self.stats.units_rendered += 1

    def unit_record(self, key: str) -> tuple[str, list[tuple[str, list]]]:
        """What the manifest holds for unit `key`: its fingerprint and its files' records."""
        fingerprint, paths = self._units[key]
        return fingerprint, [(rel, self._files[rel]) for rel in paths]

    def adopt(self, records: list, stats: dict, changed: list[str]) -> None:
        """Record units that another process rendered and wrote (see `newsletter.builder.workers`)."""
        for key, (fingerprint, files) in records:
            self._units[key] = [fingerprint, [rel for rel, _ in files]]
            for rel, record in files:
                self._files[rel] = record
        self.stats.units_rendered += len(records)
        self.stats.written += stats["written"]
        self.stats.unchanged += stats["unchanged"]
        if self.stats.changed_paths is not None:
            self.stats.changed_paths.extend(changed)

    def order(self, keys: list[str]) -> None:
        """Put units `keys` (and their files) last, in this order (after several processes
        rendered them: the manifest's order then does not depend on which was quicker)."""
        units, files = self._units, self._files
        for key in keys:
            record = units[key] = units.pop(key)
            for rel in record[1]:
                files[rel] = files.pop(rel)

    def write_file(self, rel: str, data: bytes) -> bool:
        """Write one output; returns True if the file on disk changed."""
        path = self._root + rel
        parent = path.rpartition("/")[0]
        stats = self.stats
        new = self._fresh or parent in self._created  # a folder this build created holds no old files
        if not new:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                pass
            else:
                if st.st_size == len(data) and _read(path) == data:  # same size: compare the bytes
                    self._files[rel] = [st.st_size, st.st_mtime_ns]
                    stats.unchanged += 1
                    return False
        if parent not in self._dirs:
            if self._make_folder(parent):
                new = True
            self._dirs.add(parent)
        st = write_new(path, data) if new else write_atomic(path, data)
        self._files[rel] = [st.st_size, st.st_mtime_ns]
        stats.written += 1
        if stats.changed_paths is not None:
            stats.changed_paths.append(rel)
        return True

    def _make_folder(self, folder: str) -> bool:
        """Make `folder` unless it exists (one `mkdir`, not a stat first); True if this made it."""
        try:
            os.mkdir(folder)
        except FileExistsError:
            return False
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        self._created.add(folder)
        return True

    def folder_mtimes(self, known=()) -> dict[str, int]:
        """The mtime of every folder holding an output this writer knows of, and of `known`
        folders: a file added, removed or replaced in a folder changes its mtime, so a later
        build can tell, with one stat per folder, that outputs were touched by hand."""
        folders = set(known)
        folders.update(rel.rpartition("/")[0] for rel in self._files)
        return folder_mtimes_of(self.out_dir, sorted(folders))

    # -- end of build ------------------------------------------------------------------
    def finish(self) -> WriteStats:
        """Remove outputs of earlier builds that this build did not produce; `dirty` says
        whether the manifest (`state`) differs from the one the build began with. Saving it
        is the caller's (`builder.execute`): a manifest that lags behind only costs the next
        process extra checks, as files are compared by size and mtime before being trusted."""
        stale = sorted(set(self._old_files) - set(self._files))
        parents = set()
        for rel in stale:
            try:
                (self.out_dir / rel).unlink()
                self.stats.removed += 1
                if self.stats.changed_paths is not None:
                    self.stats.changed_paths.append(rel)
            except FileNotFoundError:
                pass
            parents.add((self.out_dir / rel).parent)
        for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            while parent != self.out_dir and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.dirty = bool(
            stale
            or self.stats.written
            or self._units.keys() != self._old_units.keys()
            or self._files != self._old_files
            or not self.manifest.exists()
        )
        return self.stats


def folder_mtimes_of(out_dir: Path, folders) -> dict[str, int]:
    """{folder: mtime} for the output `folders` (relative; "" is the output folder) that exist."""
    root = os.path.join(str(out_dir), "")
    found = {}
    for rel in folders:
        try:
            found[rel] = os.stat(root + rel if rel else str(out_dir)).st_mtime_ns
        except OSError:
            pass
    return found


def changed_outputs(files: dict, out_dir: Path, *, first: bool = False) -> set[str]:
    """The outputs among a manifest's `files` that are missing or no longer as written (size
    and mtime); with `first`, stop at the first one found."""
    root = os.path.join(str(out_dir), "")
    changed = set()
    for rel, (size, mtime) in files.items():
        try:
            st = os.stat(root + rel)
        except OSError:
            st = None
        if st is None or st.st_size != size or st.st_mtime_ns != mtime:
            changed.add(rel)
            if first:
                break
    return changed
