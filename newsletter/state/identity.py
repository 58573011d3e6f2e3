"""Stable entry identity across edits, persisted in the state folder.

An entry is first known by its natural key (date + normalised title). When a build finds
an entry whose key it has not seen, it looks among the entries that disappeared in the
same build for the same date and a similar title (a typo fix, a reworded headline):
a match keeps the old id and page, so readers show an update, not a new
item. Any change of title, body or link sets `updated` to the moment the change was
first seen. Records are kept in `STATE/identity/`, one file per year; the same inputs with the same
state always give the same ids and dates.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path

from newsletter.content.entry import Entry, entry_id, shorten
from newsletter.errors import StateError
from newsletter.output.writer import write_atomic

log = logging.getLogger(__name__)

AT_LINE = {"at_line": True}
"""`extra` of a log line about a bulletin's line: printed `path:line: …`, without `newsletter:`."""

FORGET_AFTER = dt.timedelta(days=30)
"""How long the record of a removed entry is kept, should it come back edited."""
SIMILAR_TITLE = 0.6

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def natural_key(entry: Entry) -> str:
    return record_key(entry.date, entry.title_key)


def record_key(date: dt.date, title_key: str) -> str:
    """The key of an entry's record: its date and title key."""
    return f"{date.isoformat()}|{title_key}"


class IdentityStore:
    """Natural key → [id, slug, content digest, updated (ISO) or None, removed (ISO) or None]."""

    def __init__(self, folder: Path | None, clock: Clock = _utcnow, *, years: set[int] | None = None) -> None:
        """Records from `folder` (one pickle per year of the entries' dates): every year, or
        only `years` (a rebuild that touches only those; then `assign` must not be used)."""
        self.folder = folder
        self.clock = clock
        self.records: dict[str, list] = {}
        self.partial = years is not None
        self._dirty: set[str] = set()
        """Years (as "YYYY") whose records changed since they were read or saved."""
        if folder is None:
            return
        if not folder.is_dir() and not self.partial:
            self._migrate(folder.with_suffix(".json"))
            return
        for year in sorted(years or ()) if self.partial else self._years():
            path = folder / f"{year}.pickle"
            try:
                with open(path, "rb") as fh:
                    version, records = pickle.load(fh)
                if version == 1 and isinstance(records, dict):
                    self.records.update(records)
            except FileNotFoundError:
                continue
            except Exception as exc:  # any damage: refused below
                raise StateError(
                    f"{path}: the entry identities of {year} are damaged ({type(exc).__name__}: {exc}); "
                    f"a build would give that year's entries new ids and feed readers would show them "
                    f"as new. Restore the file from a backup, or delete it to accept new ids"
                ) from None
            else:
                if version != 1 or not isinstance(records, dict):
                    raise StateError(
                        f"{path}: not an identity file this version of newsletter reads "
                        f"(format {version!r}); restore it from a backup, or delete it to accept new ids"
                    )

    def _years(self) -> list[str]:
        try:
            return sorted(name[:-7] for name in os.listdir(self.folder) if name.endswith(".pickle"))
        except FileNotFoundError:
            return []

    def years_on_disk(self) -> set[int]:
        """Years that have records in the state folder."""
        return {int(y) for y in self._years() if y.isdigit()} if self.folder is not None else set()

    def _migrate(self, legacy: Path) -> None:
        """Read the single JSON file that versions up to 0.1 kept (written anew by `save`)."""
        try:
            data = json.loads(legacy.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s: unreadable identity state (%s); entries get fresh ids", legacy, exc)
            return
        if data.get("version") == 1:
            self.records = data["entries"]
            self._dirty = {key[:4] for key in self.records}

    @property
    def changed(self) -> bool:
        return bool(self._dirty)

    def _touch(self, key: str) -> None:
        self._dirty.add(key[:4])

    def digest_of(self, date: dt.date, title_key: str) -> str | None:
        """The content digest recorded for the natural key (`date`, `title_key`): which entry
        held it last (`catalog.told_apart` keeps a key with its entry); None if none did."""
        record = self.records.get(record_key(date, title_key))
        return record[2] if record is not None else None

    def assign(self, entries: list[Entry], authority: str) -> dict[tuple, tuple[str, str, dt.datetime | None]]:
        """Identity `(id, slug, updated)` for each entry's natural key; records what changed.

        The records held are taken as all there are: a store read for some `years` assigns
        the entries of exactly those years."""
        records = self.records
        current = {natural_key(e): e for e in entries}
        unclaimed = {k: r for k, r in records.items() if k not in current} if records else {}
        return self._assign(current, unclaimed, authority, prune=True)

    def _assign(self, current: dict[str, Entry], unclaimed: dict[str, list], authority: str, *, prune: bool):
        now = None
        records = self.records
        result: dict[tuple, tuple[str, str, dt.datetime | None]] = {}
        fresh: list[tuple[str, Entry]] = []
        for key, entry in current.items():
            record = records.get(key)
            if record is None:
                fresh.append((key, entry))
                continue
            digest = entry.digest
            if record[2] != digest or record[4] is not None:
                if record[2] != digest:
                    now = now or self.clock()
                    record[2], record[3] = digest, now.isoformat()
                record[4] = None
                self._touch(key)
            result[entry.key] = (record[0], record[1], _parse(record[3]))

        matches = self._match([entry for _, entry in fresh], unclaimed) if unclaimed else {}
        dirty = self._dirty  # as `_touch`, inline: a cold build takes this path for every entry
        for n, (entry_key, entry) in enumerate(fresh):
            old_key = matches.get(n) if matches else None
            if old_key is None:
                natural = entry.key
                short = shorten(natural[1])
                record = records[entry_key] = [
                    entry_id(authority, entry.date, short, entry.fixed_id),
                    f"{entry_key[:10]}-{short}",  # the record key begins with the ISO date
                    entry.digest,
                    None,
                    None,
                ]
                dirty.add(entry_key[:4])
                result[natural] = (record[0], record[1], None)
                continue
            now = now or self.clock()
            old = records.pop(old_key)
            unclaimed.pop(old_key)
            records[entry_key] = [old[0], old[1], entry.digest, now.isoformat(), None]
            log.info("%s:%d: edited entry keeps its id (%s)", entry.source, entry.line, old[0], extra=AT_LINE)
            self._touch(old_key)
            self._touch(entry_key)
            record = records[entry_key]
            result[entry.key] = (record[0], record[1], _parse(record[3]))

        for key, record in unclaimed.items():
            if record[4] is None:
                now = now or self.clock()
                record[4] = now.isoformat()
                self._touch(key)
            elif prune and (gone := _parse(record[4])) is not None and self.clock() - gone > FORGET_AFTER:
                del records[key]
                self._touch(key)
        return result

    def assign_subset(
        self, entries: list[Entry], vanished: list[Entry], authority: str
    ) -> dict[tuple, tuple[str, str, dt.datetime | None]]:
        """`assign` for the entries of the files that changed, given the entries those files held
        before (`vanished`); records of every other file are left as they are."""
        records = self.records
        current = {natural_key(e): e for e in entries}
        unclaimed = {}
        for old in vanished:
            key = natural_key(old)
            if key not in current and key in records:
                unclaimed[key] = records[key]
        # Entries removed by earlier builds may come back edited, as in `assign`.
        dates = {key[:10] for key in current if key not in records}
        if dates:
            for key, record in records.items():
                if record[4] is not None and key[:10] in dates and key not in current:
                    unclaimed.setdefault(key, record)
        return self._assign(current, unclaimed, authority, prune=False)

    @staticmethod
    def _match(fresh: list[Entry], unclaimed: dict[str, list]) -> dict[int, str]:
        """Pair new entries with vanished records of the same date, best title match first:
        {index in `fresh`: natural key of the record it takes over}."""
        import difflib  # here: a build with no vanished records (every cold one) never needs it

        by_date: dict[str, list[str]] = {}
        for key in unclaimed:
            by_date.setdefault(key.split("|", 1)[0], []).append(key)
        pairs = []
        for n, entry in enumerate(fresh):
            title = entry.key[1]
            for old_key in by_date.get(entry.date.isoformat(), ()):
                score = difflib.SequenceMatcher(None, title, old_key.split("|", 1)[1]).ratio()
                if score >= SIMILAR_TITLE:
                    pairs.append((-score, n, old_key))
        taken_entries, taken_keys, matches = set(), set(), {}
        for _, n, old_key in sorted(pairs):
            if n not in taken_entries and old_key not in taken_keys:
                taken_entries.add(n)
                taken_keys.add(old_key)
                matches[n] = old_key
        return matches

    def save(self) -> None:
        """Write the years whose records changed (pickles: at 100,000 entries, a third of the
        time JSON takes, and a small change rewrites one year, not every record)."""
        if self.folder is None or not self._dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        by_year: dict[str, dict[str, list]] = {year: {} for year in self._dirty}
        for key, record in self.records.items():
            part = by_year.get(key[:4])
            if part is not None:
                part[key] = record
        for year, records in by_year.items():
            path = self.folder / f"{year}.pickle"
            if records:
                write_atomic(path, pickle.dumps((1, records), protocol=pickle.HIGHEST_PROTOCOL))
            else:
                path.unlink(missing_ok=True)
        self.folder.with_suffix(".json").unlink(missing_ok=True)
        self._dirty = set()


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
