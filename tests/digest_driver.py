"""TEMPORARY (until send/commands.py is open to H18): `newsletter` with `send --due` routed to
the digest sender when `newsletter.delivery = "digest"`, as commands.py will do."""

import sys

import newsletter.send.commands as commands
from newsletter.send.digest import send_digests_due

original = commands.send_due


def send_due(sender, groups, now, *, dry_run=False, quiet=False):
    if sender.config.newsletter_delivery == "digest" and not groups:
        return send_digests_due(sender, now, quiet=quiet)
    return original(sender, groups, now, dry_run=dry_run, quiet=quiet)


commands.send_due = send_due
from newsletter.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
