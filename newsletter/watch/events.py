"""watchdog events in, plain `(kind, path)` changes out, on a queue.

The handler runs on the observer's thread and only enqueues: an exception there would
silently kill the observer. Moves are reported as a deletion of the source and a
creation of the destination, so an atomic save (`x.tmp` renamed to `x.txt`) is seen as a
change of `x.txt` whatever the temporary name was.
"""

from __future__ import annotations

import logging
import os
import queue

from watchdog.events import FileSystemEvent, FileSystemEventHandler

log = logging.getLogger(__name__)

Change = tuple[str, str]
"""(kind, absolute path): kind is "changed", "deleted" or "dir"."""

_RELEVANT = {"created": "changed", "modified": "changed", "closed": "changed", "deleted": "deleted"}


class QueueingHandler(FileSystemEventHandler):
    """Puts every relevant event on `changes` as one or two `Change` tuples."""

    def __init__(self, changes: queue.Queue) -> None:
        super().__init__()
        self.changes = changes

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            src = os.path.abspath(os.fsdecode(event.src_path))
            if event.event_type == "moved":
                dest = os.path.abspath(os.fsdecode(event.dest_path))
                kind = "dir" if event.is_directory else None
                self.changes.put((kind or "deleted", src))
                self.changes.put((kind or "changed", dest))
            elif event.event_type in _RELEVANT:
                if event.is_directory:
                    if event.event_type != "modified":
                        self.changes.put(("dir", src))
                else:
                    self.changes.put((_RELEVANT[event.event_type], src))
        except Exception:  # never let the observer thread die
            log.exception("could not queue a file event")
