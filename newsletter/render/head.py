"""What a page's `<head>` says about it after its `<title>`: the description, the canonical
URL, the Open Graph and Twitter card tags, the icon. One home for the site's pages
(`render.site.Chrome.head`) and the newsletter web copies (`IssueRenderer.archive_html`), so
that a link preview looks the same whichever page was shared."""

from __future__ import annotations

from markupsafe import escape

_TERRITORIES = {
    "ar": "EG",
    "de": "DE",
    "en": "US",
    "es": "ES",
    "fr": "FR",
    "it": "IT",
    "ja": "JP",
    "ko": "KR",
    "nl": "NL",
    "pt": "BR",
    "ru": "RU",
    "zh": "CN",
}
"""Open Graph's locales are language_TERRITORY (its default is en_US): the territory a bare
language is taken to mean."""


def og_locale(language: str) -> str:
    """`pt-BR` → `pt_BR`; a bare `en` → `en_US`; "" for a bare language with no usual territory
    (og:locale is then left out: Open Graph takes no bare language)."""
    parts = language.replace("_", "-").split("-")
    lang = parts[0].lower()
    region = next((p.upper() for p in reversed(parts[1:]) if len(p) == 2 and p.isalpha()), "")
    if not region:
        region = _TERRITORIES.get(lang, "")
    return f"{lang}_{region}" if lang and region else ""


def attribute(text: str) -> str:
    """`text` escaped for an attribute value; most need nothing, and testing is cheaper than
    escaping (a page's head has half a dozen values)."""
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return str(escape(text))
    return text


def icon_link(href: str, media_type: str) -> str:
    """The `<link rel="icon">` tag (`media_type` "" when the file's suffix does not tell it)."""
    return f'<link rel="icon" href="{attribute(href)}"' + (f' type="{media_type}"' if media_type else "") + ">"


class ShareTags:
    """A site's description, canonical and link-preview tags: what every page shares (site
    name, locale, image, card type) made once; a page adds its title, description, URL and
    Open Graph type."""

    def __init__(self, site_title: str, language: str, image_url: str = "") -> None:
        self._parts = (attribute(site_title), attribute(image_url))
        self.language = language
        self._site = self._shared(language)
        self._by_language = {language: self._site}

    def _shared(self, language: str) -> str:
        name, image = self._parts
        locale = og_locale(language)
        return (
            f'<meta property="og:site_name" content="{name}">\n'
            + (f'<meta property="og:locale" content="{locale}">\n' if locale else "")
            + (f'<meta property="og:image" content="{image}">\n' if image else "")
            + '<meta name="twitter:card" content="summary">\n'
        )

    def page(
        self, title: str, description: str, canonical: str, og_type: str, language: str = "", tail: str = ""
    ) -> str:
        """The tags of one page, each ending with a newline, then `tail` (what the page's head
        has next: one string made, not two). Without a canonical URL (a page not on the site)
        only the description; without a description, no description tags. `language`: the
        page's content's, when not the site's (og:locale follows it)."""
        site = self._site
        if language and language != self.language:
            site = self._by_language.get(language) or self._by_language.setdefault(language, self._shared(language))
        d = attribute(description)
        if not canonical:
            return (f'<meta name="description" content="{d}">\n' if description else "") + tail
        t, u, kind = attribute(title), attribute(canonical), attribute(og_type)
        if description:
            return (
                f'<meta name="description" content="{d}">\n<link rel="canonical" href="{u}">\n'
                f'<meta property="og:type" content="{kind}">\n<meta property="og:title" content="{t}">\n'
                f'<meta property="og:url" content="{u}">\n<meta property="og:description" content="{d}">\n'
                f'{site}<meta name="twitter:title" content="{t}">\n'
                f'<meta name="twitter:description" content="{d}">\n{tail}'
            )
        return (
            f'<link rel="canonical" href="{u}">\n<meta property="og:type" content="{kind}">\n'
            f'<meta property="og:title" content="{t}">\n<meta property="og:url" content="{u}">\n'
            f'{site}<meta name="twitter:title" content="{t}">\n{tail}'
        )
