"""The build context: what every build of one configuration shares, fixed once it is made.

A `BuildContext` holds the configuration, the templates, the gazetteer, the links, the
site's words and time zone, and the fingerprints that say when any of them changed; the
tagger and the renderers are made from them on first use (compiling the tagger or inlining
the newsletter's CSS costs a tenth of a second, and a build that parses nothing needs
neither). Nothing in it changes after it is made: a new configuration or template is a new
context. What changes from build to build — parse results, identity records, the output
manifest kept in memory, the daemon's snapshot — belongs to `pipeline.Builder`.

It is also the unit generator (`render.units.OutputUnits`): the units of output of a
catalog follow from the context alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from newsletter import __version__
from newsletter.config import OPTIONS, Config
from newsletter.render.links import Links
from newsletter.render.templating import Templates
from newsletter.render.units import OutputUnits
from newsletter.render.words import Words, group_title

if TYPE_CHECKING:  # imported on first use: a build that parses nothing needs neither
    from newsletter.content.gazetteer import Gazetteer
    from newsletter.content.tagger import Tagger

SITE_KEYS = (
    "title",
    "description",
    "base_url",
    "language",
    "timezone",
    "feed_limit",
    "authority",
    "author",
    "watch_websub_hub",
    "newsletter_enabled",  # a list's page links to its newsletter archive only when there is one
    "newsletter_public_url",
    "newsletter_delivery",
    "newsletter_frequencies",
    "newsletter_period",  # the sign-up form checks the default frequency
    "brand_logo",
    "brand_favicon",
    "brand_accent",
    "brand_accent_dark",
    "brand_footer_text",
    "brand_footer_link",
)
"""The options every page depends on (the newsletter's own options add to them)."""


@dataclass(frozen=True, eq=False)
class BuildContext(OutputUnits):
    config: Config
    templates: Templates
    links: Links
    words: Words
    tz: ZoneInfo
    state_dir: Path | None
    site_fingerprint: str
    """Changes when anything every page depends on changes (version, templates, site options)."""
    newsletter_fingerprint: str
    """`site_fingerprint` and the newsletter options."""

    @classmethod
    def create(
        cls, config: Config, *, templates_dir: str | Path | None = None, state_dir: Path | None = None
    ) -> BuildContext:
        templates = Templates(templates_dir)
        site = hashlib.blake2b(
            repr((__version__, templates.fingerprint(), [getattr(config, k) for k in SITE_KEYS])).encode(),
            digest_size=8,
        ).hexdigest()
        newsletter_keys = [o.attr for o in OPTIONS if o.key.startswith("newsletter.")]
        newsletter = hashlib.blake2b(
            repr((site, [getattr(config, k) for k in newsletter_keys])).encode(), digest_size=8
        ).hexdigest()
        return cls(
            config=config,
            templates=templates,
            links=Links(config.base_url),
            words=Words(config.language),
            tz=ZoneInfo(config.timezone),
            state_dir=state_dir,
            site_fingerprint=site,
            newsletter_fingerprint=newsletter,
        )

    @cached_property
    def gazetteer(self) -> Gazetteer:
        """The country table with the configured aliases and exclusions (read on first use: a
        build that finds nothing changed never needs it)."""
        from newsletter.content.gazetteer import load_gazetteer

        return load_gazetteer().with_overrides(self.config.aliases, self.config.exclusions)

    @cached_property
    def names(self) -> dict[str, str]:
        """Lower-case country code → display name."""
        return {code.lower(): name for code, name in self.gazetteer.display.items()}

    @cached_property
    def tagger(self) -> Tagger:
        """The country tagger; compiled on first use, i.e. only if a file is parsed."""
        from newsletter.content.tagger import Tagger

        return Tagger(self.gazetteer)

    @cached_property
    def issue_renderer(self):
        """The newsletter renderer; made on first use (inlining the template costs ~0.1 s)."""
        from newsletter.render.newsletters.issue import IssueRenderer

        return IssueRenderer(self.templates, self.config, self.links, self.names, self.tz, cache_dir=self.state_dir)

    @cached_property
    def pages(self):
        """The page renderer (templates compiled once per context); see `site_renderer`."""
        from newsletter.render.site import SiteRenderer

        return SiteRenderer(self.templates, self.config, self.names, newsletters=set())

    def site_renderer(self, newsletter_groups: set[str]):
        """The page renderer, told which lists have newsletters."""
        self.pages.set_newsletter_groups(newsletter_groups)
        return self.pages

    def group_title(self, group: str) -> str:
        return group_title(group, self.words, self.names)
