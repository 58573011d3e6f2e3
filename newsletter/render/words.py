"""Every sentence the site, the feeds and the newsletters write, in the site's `language`
(English, Spanish, French, Portuguese; any other language tag falls back to English), and
dates through Babel (CLDR).

A small table rather than gettext catalogues: some forty phrases, each needing a form per list
kind (a country, `all`, `regional`) so that every sentence reads well for any site title;
a table keeps the forms side by side, and a test checks every language has every phrase.
"""

from __future__ import annotations

import datetime as dt
import functools

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "all": "All news", "regional": "Regional news",
        "regional.about": "News that names no single country.",
        "items.one": "{n} news item", "items.many": "{n} news items",
        "home.summary": "{items} about {countries}.",
        "countries.one": "{n} country", "countries.many": "{n} countries",
        "home.email": "Get the countries you follow by email, or follow them in a feed reader.",
        "home.feeds": "Follow the countries you care about in a feed reader: each has Atom, RSS and JSON feeds.",
        "no_news": "No news yet.", "archive": "Archive", "read_original": "Read the original",
        "all_feeds": "All feeds (OPML)", "newsletter_archive": "Newsletter archive", "subscribe_feed": "Subscribe",
        "latest.country": "Latest news about {name}", "latest.all": "Latest news", "latest.regional": "Latest regional news",
        "archive.title.country": "Newsletter about {name}", "archive.title.all": "Newsletter",
        "archive.title.regional": "Regional newsletter",
        "archive.summary": "{issues}, newest first: the newest {periods} only.",
        "archive.summary.every": "{issues}, newest first.",
        "issues.one": "{n} issue", "issues.many": "{n} issues",
        "periods.daily": "{n} days", "periods.weekly": "{n} weeks", "periods.monthly": "{n} months",
        "signup.heading": "Newsletters by email", "signup.heading.country": "Get news about {name} by email",
        "signup.email": "Your email address", "signup.lists": "Newsletters", "signup.button": "Subscribe",
        "signup.note": "We email you a link to confirm first.", "signup.honeypot": "Leave this empty",
        "nl.view": "View in browser", "nl.view_text": "View in a browser",
        "nl.more.daily": "More news this day", "nl.more.weekly": "More news this week",
        "nl.more.monthly": "More news this month",
        "nl.why.country": "You receive this because you subscribed to the newsletter about {name} from {site}.",
        "nl.why.all": "You receive this because you subscribed to the newsletter from {site}.",
        "nl.why.regional": "You receive this because you subscribed to the regional newsletter from {site}.",
        "nl.unsubscribe": "Unsubscribe", "nl.preferences": "Change your countries",
        "nl.more.country": "More about {name}", "nl.more.all": "All news", "nl.more.regional": "More regional news",
        "nl.feed": "Feed", "nl.preheader": "{items}: {first}",
        "feed.subtitle.country": "News about {name} from {site}", "feed.subtitle.all": "All the news from {site}",
        "feed.subtitle.regional": "News from {site} that names no single country",
        "week": "week {week}, {year}",
        "subscribe.title": "Follow {name} in a feed reader",
        "subscribe.intro": "Copy the address of a feed into your feed reader, or open one of the links below.",
        "subscribe.browser": "Opened in a browser, a feed shows its raw XML: this page is for people.",
        "subscribe.latest": "The newest items",
    },
    "es": {
        "all": "Todas las noticias", "regional": "Noticias regionales",
        "regional.about": "Noticias que no nombran un solo país.",
        "items.one": "{n} noticia", "items.many": "{n} noticias",
        "home.summary": "{items} sobre {countries}.",
        "countries.one": "{n} país", "countries.many": "{n} países",
        "home.email": "Reciba por correo los países que sigue, o sígalos en un lector de noticias.",
        "home.feeds": "Siga los países que le interesan en un lector de noticias: cada uno tiene fuentes Atom, RSS y JSON.",
        "no_news": "Aún no hay noticias.", "archive": "Archivo", "read_original": "Leer el original",
        "all_feeds": "Todas las fuentes (OPML)", "newsletter_archive": "Archivo del boletín", "subscribe_feed": "Suscribirse",
        "latest.country": "Últimas noticias sobre {name}", "latest.all": "Últimas noticias",
        "latest.regional": "Últimas noticias regionales",
        "archive.title.country": "Boletín sobre {name}", "archive.title.all": "Boletín",
        "archive.title.regional": "Boletín regional",
        "archive.summary": "{issues}, del más reciente al más antiguo: solo los últimos {periods}.",
        "archive.summary.every": "{issues}, del más reciente al más antiguo.",
        "issues.one": "{n} número", "issues.many": "{n} números",
        "periods.daily": "{n} días", "periods.weekly": "{n} semanas", "periods.monthly": "{n} meses",
        "signup.heading": "Boletines por correo", "signup.heading.country": "Reciba las noticias sobre {name} por correo",
        "signup.email": "Su dirección de correo", "signup.lists": "Boletines", "signup.button": "Suscribirse",
        "signup.note": "Primero le enviamos un enlace para confirmar.", "signup.honeypot": "Deje esto vacío",
        "nl.view": "Ver en el navegador", "nl.view_text": "Ver en el navegador",
        "nl.more.daily": "Más noticias de este día", "nl.more.weekly": "Más noticias de esta semana",
        "nl.more.monthly": "Más noticias de este mes",
        "nl.why.country": "Recibe este mensaje porque se suscribió al boletín sobre {name} de {site}.",
        "nl.why.all": "Recibe este mensaje porque se suscribió al boletín de {site}.",
        "nl.why.regional": "Recibe este mensaje porque se suscribió al boletín regional de {site}.",
        "nl.unsubscribe": "Cancelar la suscripción", "nl.preferences": "Cambiar sus países",
        "nl.more.country": "Más sobre {name}", "nl.more.all": "Todas las noticias",
        "nl.more.regional": "Más noticias regionales",
        "nl.feed": "Fuente", "nl.preheader": "{items}: {first}",
        "feed.subtitle.country": "Noticias sobre {name} de {site}", "feed.subtitle.all": "Todas las noticias de {site}",
        "feed.subtitle.regional": "Noticias de {site} que no nombran un solo país",
        "week": "semana {week} de {year}",
        "subscribe.title": "Siga {name} en un lector de noticias",
        "subscribe.intro": "Copie la dirección de una fuente en su lector de noticias, o abra uno de los enlaces.",
        "subscribe.browser": "Abierta en un navegador, una fuente muestra su XML: esta página es para las personas.",
        "subscribe.latest": "Las noticias más recientes",
    },
    "fr": {
        "all": "Toutes les actualités", "regional": "Actualités régionales",
        "regional.about": "Des actualités qui ne nomment aucun pays en particulier.",
        "items.one": "{n} actualité", "items.many": "{n} actualités",
        "home.summary": "{items} sur {countries}.",
        "countries.one": "{n} pays", "countries.many": "{n} pays",
        "home.email": "Recevez par courriel les pays que vous suivez, ou suivez-les dans un lecteur de flux.",
        "home.feeds": "Suivez les pays qui vous intéressent dans un lecteur de flux : chacun a des flux Atom, RSS et JSON.",
        "no_news": "Pas encore d’actualités.", "archive": "Archives", "read_original": "Lire l’original",
        "all_feeds": "Tous les flux (OPML)", "newsletter_archive": "Archives de la lettre", "subscribe_feed": "S’abonner",
        "latest.country": "Dernières actualités : {name}", "latest.all": "Dernières actualités",
        "latest.regional": "Dernières actualités régionales",
        "archive.title.country": "Lettre d’information : {name}", "archive.title.all": "Lettre d’information",
        "archive.title.regional": "Lettre d’information régionale",
        "archive.summary": "{issues}, du plus récent au plus ancien : les {periods} les plus récents seulement.",
        "archive.summary.every": "{issues}, du plus récent au plus ancien.",
        "issues.one": "{n} numéro", "issues.many": "{n} numéros",
        "periods.daily": "{n} jours", "periods.weekly": "{n} semaines", "periods.monthly": "{n} mois",
        "signup.heading": "Lettres d’information par courriel", "signup.heading.country": "Recevez l’actualité : {name}",
        "signup.email": "Votre adresse électronique", "signup.lists": "Lettres d’information", "signup.button": "S’abonner",
        "signup.note": "Nous vous envoyons d’abord un lien de confirmation.", "signup.honeypot": "Laissez ce champ vide",
        "nl.view": "Voir dans le navigateur", "nl.view_text": "Voir dans le navigateur",
        "nl.more.daily": "Autres actualités du jour", "nl.more.weekly": "Autres actualités de la semaine",
        "nl.more.monthly": "Autres actualités du mois",
        "nl.why.country": "Vous recevez ce message car vous êtes abonné à la lettre de {site} : {name}.",
        "nl.why.all": "Vous recevez ce message car vous êtes abonné à la lettre de {site}.",
        "nl.why.regional": "Vous recevez ce message car vous êtes abonné à la lettre régionale de {site}.",
        "nl.unsubscribe": "Se désabonner", "nl.preferences": "Changer vos pays",
        "nl.more.country": "Plus sur {name}", "nl.more.all": "Toutes les actualités",
        "nl.more.regional": "Autres actualités régionales",
        "nl.feed": "Flux", "nl.preheader": "{items} : {first}",
        "feed.subtitle.country": "Actualités de {site} : {name}", "feed.subtitle.all": "Toutes les actualités de {site}",
        "feed.subtitle.regional": "Actualités de {site} qui ne nomment aucun pays en particulier",
        "week": "semaine {week}, {year}",
        "subscribe.title": "Suivre {name} dans un lecteur de flux",
        "subscribe.intro": "Copiez l’adresse d’un flux dans votre lecteur, ou ouvrez l’un des liens ci-dessous.",
        "subscribe.browser": "Ouvert dans un navigateur, un flux montre son XML : cette page est faite pour les personnes.",
        "subscribe.latest": "Les actualités les plus récentes",
    },
    "pt": {
        "all": "Todas as notícias", "regional": "Notícias regionais",
        "regional.about": "Notícias que não nomeiam um só país.",
        "items.one": "{n} notícia", "items.many": "{n} notícias",
        "home.summary": "{items} sobre {countries}.",
        "countries.one": "{n} país", "countries.many": "{n} países",
        "home.email": "Receba por e-mail os países que acompanha, ou siga-os num leitor de feeds.",
        "home.feeds": "Siga os países que lhe interessam num leitor de feeds: cada um tem feeds Atom, RSS e JSON.",
        "no_news": "Ainda não há notícias.", "archive": "Arquivo", "read_original": "Ler o original",
        "all_feeds": "Todos os feeds (OPML)", "newsletter_archive": "Arquivo do boletim", "subscribe_feed": "Assinar",
        "latest.country": "Últimas notícias sobre {name}", "latest.all": "Últimas notícias",
        "latest.regional": "Últimas notícias regionais",
        "archive.title.country": "Boletim sobre {name}", "archive.title.all": "Boletim",
        "archive.title.regional": "Boletim regional",
        "archive.summary": "{issues}, do mais recente ao mais antigo: apenas os últimos {periods}.",
        "archive.summary.every": "{issues}, do mais recente ao mais antigo.",
        "issues.one": "{n} edição", "issues.many": "{n} edições",
        "periods.daily": "{n} dias", "periods.weekly": "{n} semanas", "periods.monthly": "{n} meses",
        "signup.heading": "Boletins por e-mail", "signup.heading.country": "Receba as notícias sobre {name} por e-mail",
        "signup.email": "O seu endereço de e-mail", "signup.lists": "Boletins", "signup.button": "Assinar",
        "signup.note": "Primeiro enviamos-lhe um link para confirmar.", "signup.honeypot": "Deixe isto em branco",
        "nl.view": "Ver no navegador", "nl.view_text": "Ver no navegador",
        "nl.more.daily": "Mais notícias deste dia", "nl.more.weekly": "Mais notícias desta semana",
        "nl.more.monthly": "Mais notícias deste mês",
        "nl.why.country": "Recebe esta mensagem porque assinou o boletim sobre {name} de {site}.",
        "nl.why.all": "Recebe esta mensagem porque assinou o boletim de {site}.",
        "nl.why.regional": "Recebe esta mensagem porque assinou o boletim regional de {site}.",
        "nl.unsubscribe": "Cancelar a assinatura", "nl.preferences": "Mudar os seus países",
        "nl.more.country": "Mais sobre {name}", "nl.more.all": "Todas as notícias", "nl.more.regional": "Mais notícias regionais",
        "nl.feed": "Feed", "nl.preheader": "{items}: {first}",
        "feed.subtitle.country": "Notícias sobre {name} de {site}", "feed.subtitle.all": "Todas as notícias de {site}",
        "feed.subtitle.regional": "Notícias de {site} que não nomeiam um só país",
        "week": "semana {week} de {year}",
        "subscribe.title": "Siga {name} num leitor de feeds",
        "subscribe.intro": "Copie o endereço de um feed para o seu leitor, ou abra um dos links abaixo.",
        "subscribe.browser": "Aberto num navegador, um feed mostra o seu XML: esta página é para as pessoas.",
        "subscribe.latest": "As notícias mais recentes",
    },
}


def language_of(tag: str) -> str:
    """The table's language for a language tag: `es-MX` → `es`; unknown → `en`."""
    base = tag.split("-")[0].lower()
    return base if base in PHRASES else "en"


class Words:
    """The phrases and dates of one language. `t(key, **values)`; `kind(group)` is the key
    suffix of a list: `all`, `regional` or `country`."""

    def __init__(self, tag: str) -> None:
        self.lang = language_of(tag)
        self.table = PHRASES[self.lang]

    def t(self, key: str, **values) -> str:
        return self.table[key].format(**values)

    @staticmethod
    def kind(group: str) -> str:
        return group if group in ("all", "regional") else "country"

    def of(self, key: str, group: str, **values) -> str:
        """The form of phrase `key` for list `group` (`key.country`, `key.all`, `key.regional`)."""
        return self.t(f"{key}.{self.kind(group)}", **values)

    def count(self, key: str, n: int) -> str:
        return self.t(f"{key}.{'one' if n == 1 else 'many'}", n=n)

    def date(self, day: dt.date) -> str:
        return long_date(day, self.lang)

    def month(self, year: int, month: int) -> str:
        return month_year(year, month, self.lang)


@functools.lru_cache(maxsize=65536)
def long_date(day: dt.date, lang: str) -> str:
    """`26 August 2021`, `26 de agosto de 2021`, `26 août 2021`, `26 de agosto de 2021`."""
    if lang == "en":
        return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"
    from babel.dates import format_date

    return format_date(day, "long", locale=lang)


@functools.lru_cache(maxsize=4096)
def month_year(year: int, month: int, lang: str) -> str:
    """`August 2021`, `agosto de 2021`, `août 2021`, `agosto de 2021`."""
    if lang == "en":
        return f"{ENGLISH_MONTHS[month - 1]} {year}"
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM", dt.date(year, month, 1), locale=lang)


@functools.lru_cache(maxsize=512)
def country_name(code: str, lang: str, english: str) -> str:
    """A country's name in `lang` (CLDR through Babel); the gazetteer's English name in English."""
    if lang == "en":
        return english
    from babel import Locale

    return Locale.parse(lang).territories.get(code.upper(), english)


def group_title(group: str, words: Words, names) -> str:
    """A list's name on pages and in feeds: `All news`, `Regional news`, or the country's."""
    if group in ("all", "regional"):
        return words.t(group)
    return country_name(group, words.lang, names.get(group, group.upper()))


ENGLISH_MONTHS = ("January February March April May June July August September October November December").split()
