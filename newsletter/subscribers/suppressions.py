"""The one answer to "may I mail this address for this list?", and where a "no" is written.

Every way of sending asks `Suppressions.may_mail` right before each message: recipients from
the subscriber store, a `send --subscribers FILE` one-off, a site that sends from its CSV.

- With a subscriber store (created by `subscribers import|add` or `serve`), the store holds
  every suppression: unsubscribes (CLI, web, mail), hard bounces, complaints. On every checked
  open it takes over what the send log still holds (see `SubscriberStore.take_over`).
- Without one (a site that sends from its CSV and never ran those commands), suppressions are
  kept in the send log's `suppressions` table until a store is created; no command but those
  three creates the store.

A store created while a send runs is noticed at the next message (it has taken the send log's
suppressions over, so asking the send log alone would forget them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REASONS = {"unsubscribed": "", "bounced": "hard bounce", "complained": "complaint"}


class Suppressions:
    """`may_mail` / `suppress` for one state folder (see the module docstring)."""

    def __init__(self, state_dir: Path, sendlog: Any, store: Any = None) -> None:
        """`sendlog`: the state folder's open send log (a `newsletter.send.sendlog.SendLog`, which
        this layer never imports: the caller opens it); `store`: the subscriber store, if open."""
        self.state_dir = state_dir
        self.sendlog = sendlog
        self.store = store
        self._own_store = False

    def _store(self):
        if self.store is None:
            from newsletter.subscribers.store import SubscriberStore

            if SubscriberStore.exists(self.state_dir):
                self.store = SubscriberStore(self.state_dir)
                self._own_store = True
        return self.store

    def may_mail(self, email: str, group: str) -> bool:
        """False when `email` unsubscribed from `group` (or from everything), bounced or complained."""
        store = self._store()
        if store is not None:
            return bool(store.may_mail(email, group))
        return not self.sendlog.is_suppressed(email, group)

    def suppress(
        self, email: str, group: str = "*", *, status: str = "unsubscribed", via: str, detail: str = ""
    ) -> bool:
        """Record that `email` must not be sent `group` (`*`: anything); True if it is new."""
        store = self._store()
        if store is not None:
            if status == "bounced":
                return store.bounce(email, hard=True, soft_limit=1, via=via, detail=detail) == "bounced"
            if status == "complained":
                return bool(store.complain(email, via=via, detail=detail))
            return bool(store.unsubscribe(email, group, via=via, detail=detail))
        reason = ": ".join(p for p in (REASONS.get(status, status), detail) if p) or via
        return bool(self.sendlog.suppress(email, group if status == "unsubscribed" else "*", reason=reason))

    def close(self) -> None:
        if self._own_store and self.store is not None:
            self.store.close()
            self.store = None
            self._own_store = False
