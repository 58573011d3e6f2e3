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
import re

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "all": "All news",
        "regional": "Regional news",
        "regional.about": "News that names no single country.",
        "items.one": "{n} news item",
        "items.many": "{n} news items",
        "home.summary": "{items} about {countries}.",
        "countries.one": "{n} country",
        "countries.many": "{n} countries",
        "home.email": "Get the countries you follow by email, or follow them in a feed reader.",
        "home.feeds": "Follow the countries you care about in a feed reader: each has Atom, RSS and JSON feeds.",
        "home.all_news": "All news ({items})",
        "home.countries": "Countries",
        "home.follow": "Follow in a feed reader",
        "home.follow.text": "Every country has feeds of its own; these carry all the news.",
        "no_news": "No news yet.",
        "archive": "Archive",
        "read_original": "Read the original",
        "all_feeds": "All feeds (OPML)",
        "newsletter_archive": "Newsletter archive",
        "subscribe_feed": "Subscribe",
        "latest.country": "Latest news about {name}",
        "latest.all": "Latest news",
        "latest.regional": "Latest regional news",
        "archive.title.country": "Newsletter about {name}",
        "archive.title.all": "Newsletter",
        "archive.title.regional": "Regional newsletter",
        "archive.summary": "{issues}, newest first: {periods} only.",
        "archive.summary.every": "{issues}, newest first.",
        "issues.one": "{n} issue",
        "issues.many": "{n} issues",
        "periods.daily": "the newest {n} days",
        "periods.weekly": "the newest {n} weeks",
        "periods.monthly": "the newest {n} months",
        "colon": ": ",
        "signup.heading": "Newsletters by email",
        "signup.heading.country": "Get news about {name} by email",
        "signup.email": "Your email address",
        "signup.lists": "Newsletters",
        "signup.button": "Subscribe",
        "signup.note": "We email you a link to confirm first.",
        "signup.honeypot": "Leave this empty",
        "nl.view": "View in browser",
        "nl.view_text": "View in a browser",
        "nl.more.daily": "More news this day",
        "nl.more.weekly": "More news this week",
        "nl.more.monthly": "More news this month",
        "nl.why.country": "You receive this because you subscribed to the newsletter about {name} from {site}.",
        "nl.why.all": "You receive this because you subscribed to the newsletter from {site}.",
        "nl.why.regional": "You receive this because you subscribed to the regional newsletter from {site}.",
        "nl.unsubscribe": "Unsubscribe",
        "nl.preferences": "Change your countries",
        "nl.more.country": "More about {name}",
        "nl.more.all": "All news",
        "nl.more.regional": "More regional news",
        "nl.feed": "Feed",
        "nl.preheader": "{items}: {first}",
        "feed.subtitle.country": "News about {name}",
        "feed.subtitle.all": "All the news, newest first",
        "feed.subtitle.regional": "News that names no single country",
        "nl.visitor.country": "This is the web copy of the newsletter about {name}.",
        "nl.visitor.all": "This is the web copy of the newsletter.",
        "nl.visitor.regional": "This is the web copy of the regional newsletter.",
        "nl.signup": "Get it by email",
        "nl.manage": "Already subscribed? Change your subscription",
        "nl.follow": "Follow it in a feed reader",
        "week": "week {week}, {year}",
        "subscribe.title": "Follow {name} in a feed reader",
        "subscribe.intro": "Copy the address of a feed into your feed reader, or open one of the links below.",
        "subscribe.browser": "Opened in a browser, a feed shows as a plain page, or as code where the browser no longer styles feeds: this page is for people.",
        "xsl.note": "This is a web feed. Copy its address into your feed reader to follow this news.",
        "xsl.visit": "Visit the web page",
        "xsl.kind": "feed",
        "subscribe.latest": "The newest items",
        # newsletter serve: its pages and its own messages
        "web.change": "Change your subscription",
        "web.subscribe.title": "Subscribe",
        "web.subscribe.h1": "Get {site} by email",
        "web.subscribe.intro": "Choose the countries you follow. We send a newsletter with the news of each, and a link to confirm first.",
        "web.subscribe.error": "Give an email address and choose at least one country.",
        "web.inbox.title": "Check your inbox",
        "web.inbox.text": "If {email} can receive our newsletters, a message with a link is on its way to it. Open that link to finish.",
        "web.inbox.spam": "Nothing arrived after a few minutes? Look in the spam folder, or try again later.",
        "web.confirmed.title": "You are subscribed",
        "web.confirmed.lists": "You will receive newsletters about: {lists}.",
        "web.confirmed.change": "Change your countries or leave",
        "web.confirmed.anytime": "at any time; every newsletter has the same link.",
        "web.unsubscribe.title": "Unsubscribe",
        "web.unsubscribe.ask": "Stop sending {list} newsletters to {email}?",
        "web.unsubscribed.title": "You are unsubscribed",
        "web.unsubscribed.list": "{email} will receive no more {list} newsletters.",
        "web.unsubscribed.all": "{email} will receive no more newsletters from {site}.",
        "web.unsubscribed.again": "Changed your mind?",
        "web.unsubscribed.choose": "Choose your countries again",
        "web.prefs.title": "Your newsletters",
        "web.prefs.for": "Newsletters for {email}:",
        "web.prefs.save": "Save",
        "web.prefs.leave": "Leave everything",
        "web.saved.title": "Saved",
        "web.saved.lists": "{email} will receive newsletters about: {lists}.",
        "web.saved.again": "Change again",
        "web.manage.intro": "Give your address and we will email you a link to your preferences.",
        "web.manage.send": "Send me the link",
        "web.bad.title": "This link does not work",
        "web.bad.text": "{reason} Nothing was changed. Sign up again, or use the link in your latest newsletter.",
        "web.bad.expired": "This confirmation link has expired.",
        "web.bad.confirm": "This confirmation link is not valid.",
        "web.bad.unsubscribe": "This unsubscribe link is not valid.",
        "web.bad.preferences": "This preferences link is not valid.",
        "web.404.title": "Not found",
        "web.404.text": "There is no page here.",
        "web.405.title": "Not allowed",
        "web.405.text": "This page does not take that kind of request.",
        "web.413.title": "Too much",
        "web.413.text": "That form was too large.",
        "web.403.title": "Not sent",
        "web.403.text": "This form can only be sent from our own pages.",
        "web.429.title": "Too many requests",
        "web.429.text": "Please wait a few minutes and try again.",
        "web.503.title": "Not available",
        "web.503.text": "This service is briefly unavailable. Nothing was recorded; please try again in a few minutes.",
        "mail.confirm.subject": "Confirm your subscription to {site}",
        "mail.confirm.text": "Someone, probably you, asked to receive {site} newsletters about: {lists}.\n\nTo confirm, open this link within {hours}:\n{confirm}\n\nIf it was not you, ignore this message: nothing will be sent to you.",
        "mail.already.subject": "You are already subscribed to {site}",
        "mail.already.text": "Someone, probably you, asked to subscribe this address to {site} newsletters. It already receives them.\n\nTo change your countries or leave, open:\n{preferences}",
        "mail.manage.subject": "Your {site} preferences",
        "mail.manage.text": "To change the countries you receive {site} newsletters about, or to leave, open:\n{preferences}",
    },
    "es": {
        "all": "Todas las noticias",
        "regional": "Noticias regionales",
        "regional.about": "Noticias que no nombran un solo país.",
        "items.one": "{n} noticia",
        "items.many": "{n} noticias",
        "home.summary": "{items} sobre {countries}.",
        "countries.one": "{n} país",
        "countries.many": "{n} países",
        "home.email": "Reciba por correo los países que sigue, o sígalos en un lector de noticias.",
        "home.feeds": "Siga los países que le interesan en un lector de noticias: cada uno tiene fuentes Atom, RSS y JSON.",
        "home.all_news": "Todas las noticias ({items})",
        "home.countries": "Países",
        "home.follow": "Siga las noticias en un lector",
        "home.follow.text": "Cada país tiene sus propias fuentes; estas llevan todas las noticias.",
        "no_news": "Aún no hay noticias.",
        "archive": "Archivo",
        "read_original": "Leer el original",
        "all_feeds": "Todas las fuentes (OPML)",
        "newsletter_archive": "Archivo del boletín",
        "subscribe_feed": "Suscribirse",
        "latest.country": "Últimas noticias sobre {name}",
        "latest.all": "Últimas noticias",
        "latest.regional": "Últimas noticias regionales",
        "archive.title.country": "Boletín sobre {name}",
        "archive.title.all": "Boletín",
        "archive.title.regional": "Boletín regional",
        "archive.summary": "{issues}, del más reciente al más antiguo: solo {periods}.",
        "archive.summary.every": "{issues}, del más reciente al más antiguo.",
        "issues.one": "{n} número",
        "issues.many": "{n} números",
        "periods.daily": "los últimos {n} días",
        "periods.weekly": "las últimas {n} semanas",
        "periods.monthly": "los últimos {n} meses",
        "colon": ": ",
        "signup.heading": "Boletines por correo",
        "signup.heading.country": "Reciba las noticias sobre {name} por correo",
        "signup.email": "Su dirección de correo",
        "signup.lists": "Boletines",
        "signup.button": "Suscribirse",
        "signup.note": "Primero le enviamos un enlace para confirmar.",
        "signup.honeypot": "Deje esto vacío",
        "nl.view": "Ver en el navegador",
        "nl.view_text": "Ver en el navegador",
        "nl.more.daily": "Más noticias de este día",
        "nl.more.weekly": "Más noticias de esta semana",
        "nl.more.monthly": "Más noticias de este mes",
        "nl.why.country": "Recibe este mensaje porque se suscribió al boletín sobre {name} de {site}.",
        "nl.why.all": "Recibe este mensaje porque se suscribió al boletín de {site}.",
        "nl.why.regional": "Recibe este mensaje porque se suscribió al boletín regional de {site}.",
        "nl.unsubscribe": "Cancelar la suscripción",
        "nl.preferences": "Cambiar sus países",
        "nl.more.country": "Más sobre {name}",
        "nl.more.all": "Todas las noticias",
        "nl.more.regional": "Más noticias regionales",
        "nl.feed": "Fuente",
        "nl.preheader": "{items}: {first}",
        "feed.subtitle.country": "Noticias sobre {name}",
        "feed.subtitle.all": "Todas las noticias, de la más reciente a la más antigua",
        "feed.subtitle.regional": "Noticias que no nombran un solo país",
        "nl.visitor.country": "Esta es la copia web del boletín sobre {name}.",
        "nl.visitor.all": "Esta es la copia web del boletín.",
        "nl.visitor.regional": "Esta es la copia web del boletín regional.",
        "nl.signup": "Recíbalo por correo",
        "nl.manage": "¿Ya está suscrito? Cambie su suscripción",
        "nl.follow": "Sígalo en un lector de noticias",
        "week": "semana {week} de {year}",
        "subscribe.title": "Siga {name} en un lector de noticias",
        "subscribe.intro": "Copie la dirección de una fuente en su lector de noticias, o abra uno de los enlaces.",
        "subscribe.browser": "Abierta en un navegador, una fuente se ve como una página sencilla, o como código donde el navegador ya no le da estilo: esta página es para las personas.",
        "xsl.note": "Esta es una fuente web. Copie su dirección en su lector de noticias para seguir estas noticias.",
        "xsl.visit": "Visitar la página web",
        "xsl.kind": "fuente web",
        "subscribe.latest": "Las noticias más recientes",
        # newsletter serve: its pages and its own messages
        "web.change": "Cambiar su suscripción",
        "web.subscribe.title": "Suscribirse",
        "web.subscribe.h1": "Reciba {site} por correo",
        "web.subscribe.intro": "Elija los países que sigue. Enviamos un boletín con las noticias de cada uno, y antes un enlace para confirmar.",
        "web.subscribe.error": "Escriba una dirección de correo y elija al menos un país.",
        "web.inbox.title": "Revise su correo",
        "web.inbox.text": "Si {email} puede recibir nuestros boletines, le llega un mensaje con un enlace. Ábralo para terminar.",
        "web.inbox.spam": "¿No llegó nada en unos minutos? Mire en la carpeta de correo no deseado o vuelva a intentarlo más tarde.",
        "web.confirmed.title": "Está suscrito",
        "web.confirmed.lists": "Recibirá boletines sobre: {lists}.",
        "web.confirmed.change": "Cambie sus países o salga",
        "web.confirmed.anytime": "cuando quiera; cada boletín lleva el mismo enlace.",
        "web.unsubscribe.title": "Cancelar la suscripción",
        "web.unsubscribe.ask": "¿Dejar de enviar boletines de {list} a {email}?",
        "web.unsubscribed.title": "Suscripción cancelada",
        "web.unsubscribed.list": "{email} no recibirá más boletines de {list}.",
        "web.unsubscribed.all": "{email} no recibirá más boletines de {site}.",
        "web.unsubscribed.again": "¿Cambió de opinión?",
        "web.unsubscribed.choose": "Elija de nuevo sus países",
        "web.prefs.title": "Sus boletines",
        "web.prefs.for": "Boletines para {email}:",
        "web.prefs.save": "Guardar",
        "web.prefs.leave": "Salir de todo",
        "web.saved.title": "Guardado",
        "web.saved.lists": "{email} recibirá boletines sobre: {lists}.",
        "web.saved.again": "Cambiar de nuevo",
        "web.manage.intro": "Escriba su dirección y le enviaremos un enlace a sus preferencias.",
        "web.manage.send": "Enviarme el enlace",
        "web.bad.title": "Este enlace no funciona",
        "web.bad.text": "{reason} No se cambió nada. Suscríbase de nuevo o use el enlace de su último boletín.",
        "web.bad.expired": "Este enlace de confirmación ha caducado.",
        "web.bad.confirm": "Este enlace de confirmación no es válido.",
        "web.bad.unsubscribe": "Este enlace para cancelar no es válido.",
        "web.bad.preferences": "Este enlace de preferencias no es válido.",
        "web.404.title": "No encontrado",
        "web.404.text": "Aquí no hay ninguna página.",
        "web.405.title": "No permitido",
        "web.405.text": "Esta página no acepta ese tipo de petición.",
        "web.413.title": "Demasiado grande",
        "web.413.text": "El formulario era demasiado grande.",
        "web.403.title": "No enviado",
        "web.403.text": "Este formulario solo puede enviarse desde nuestras páginas.",
        "web.429.title": "Demasiadas peticiones",
        "web.429.text": "Espere unos minutos y vuelva a intentarlo.",
        "web.503.title": "No disponible",
        "web.503.text": "El servicio no está disponible por un momento. No se ha registrado nada; vuelva a intentarlo en unos minutos.",
        "mail.confirm.subject": "Confirme su suscripción a {site}",
        "mail.confirm.text": "Alguien, probablemente usted, pidió recibir los boletines de {site} sobre: {lists}.\n\nPara confirmar, abra este enlace en un plazo de {hours}:\n{confirm}\n\nSi no fue usted, ignore este mensaje: no se le enviará nada.",
        "mail.already.subject": "Ya está suscrito a {site}",
        "mail.already.text": "Alguien, probablemente usted, pidió suscribir esta dirección a los boletines de {site}. Ya los recibe.\n\nPara cambiar sus países o salir, abra:\n{preferences}",
        "mail.manage.subject": "Sus preferencias de {site}",
        "mail.manage.text": "Para cambiar los países sobre los que recibe boletines de {site}, o para salir, abra:\n{preferences}",
    },
    "fr": {
        "all": "Toutes les actualités",
        "regional": "Actualités régionales",
        "regional.about": "Des actualités qui ne nomment aucun pays en particulier.",
        "items.one": "{n} actualité",
        "items.many": "{n} actualités",
        "home.summary": "{items} sur {countries}.",
        "countries.one": "{n} pays",
        "countries.many": "{n} pays",
        "home.email": "Recevez par courriel les pays que vous suivez, ou suivez-les dans un lecteur de flux.",
        "home.feeds": "Suivez les pays qui vous intéressent dans un lecteur de flux : chacun a des flux Atom, RSS et JSON.",
        "home.all_news": "Toutes les actualités ({items})",
        "home.countries": "Pays",
        "home.follow": "Suivre dans un lecteur de flux",
        "home.follow.text": "Chaque pays a ses propres flux ; ceux-ci portent toutes les actualités.",
        "no_news": "Pas encore d’actualités.",
        "archive": "Archives",
        "read_original": "Lire l’original",
        "all_feeds": "Tous les flux (OPML)",
        "newsletter_archive": "Archives de la lettre",
        "subscribe_feed": "S’abonner",
        "latest.country": "Dernières actualités : {name}",
        "latest.all": "Dernières actualités",
        "latest.regional": "Dernières actualités régionales",
        "archive.title.country": "Lettre d’information : {name}",
        "archive.title.all": "Lettre d’information",
        "archive.title.regional": "Lettre d’information régionale",
        "archive.summary": "{issues}, du plus récent au plus ancien : {periods} seulement.",
        "archive.summary.every": "{issues}, du plus récent au plus ancien.",
        "issues.one": "{n} numéro",
        "issues.many": "{n} numéros",
        "periods.daily": "les {n} jours les plus récents",
        "periods.weekly": "les {n} semaines les plus récentes",
        "periods.monthly": "les {n} mois les plus récents",
        "colon": " : ",
        "signup.heading": "Lettres d’information par courriel",
        "signup.heading.country": "Recevez l’actualité : {name}",
        "signup.email": "Votre adresse électronique",
        "signup.lists": "Lettres d’information",
        "signup.button": "S’abonner",
        "signup.note": "Nous vous envoyons d’abord un lien de confirmation.",
        "signup.honeypot": "Laissez ce champ vide",
        "nl.view": "Voir dans le navigateur",
        "nl.view_text": "Voir dans le navigateur",
        "nl.more.daily": "Autres actualités du jour",
        "nl.more.weekly": "Autres actualités de la semaine",
        "nl.more.monthly": "Autres actualités du mois",
        "nl.why.country": "Vous recevez ce message car vous êtes abonné à la lettre de {site} : {name}.",
        "nl.why.all": "Vous recevez ce message car vous êtes abonné à la lettre de {site}.",
        "nl.why.regional": "Vous recevez ce message car vous êtes abonné à la lettre régionale de {site}.",
        "nl.unsubscribe": "Se désabonner",
        "nl.preferences": "Changer vos pays",
        "nl.more.country": "Plus sur {the_name}",
        "nl.more.all": "Toutes les actualités",
        "nl.more.regional": "Autres actualités régionales",
        "nl.feed": "Flux",
        "nl.preheader": "{items} : {first}",
        "feed.subtitle.country": "Actualités sur {the_name}",
        "feed.subtitle.all": "Toutes les actualités, des plus récentes aux plus anciennes",
        "feed.subtitle.regional": "Actualités qui ne nomment aucun pays en particulier",
        "nl.visitor.country": "Ceci est la version web de la lettre sur {the_name}.",
        "nl.visitor.all": "Ceci est la version web de la lettre.",
        "nl.visitor.regional": "Ceci est la version web de la lettre régionale.",
        "nl.signup": "La recevoir par courriel",
        "nl.manage": "Déjà abonné ? Modifiez votre abonnement",
        "nl.follow": "La suivre dans un lecteur de flux",
        "week": "semaine {week}, {year}",
        "subscribe.title": "Suivre {the_name} dans un lecteur de flux",
        "subscribe.intro": "Copiez l’adresse d’un flux dans votre lecteur, ou ouvrez l’un des liens ci-dessous.",
        "subscribe.browser": "Ouvert dans un navigateur, un flux s’affiche comme une page simple, ou comme du code là où le navigateur ne le met plus en forme : cette page est faite pour les personnes.",
        "xsl.note": "Ceci est un flux web. Copiez son adresse dans votre lecteur de flux pour suivre ces actualités.",
        "xsl.visit": "Voir la page web",
        "xsl.kind": "flux",
        "subscribe.latest": "Les actualités les plus récentes",
        # newsletter serve: its pages and its own messages
        "web.change": "Modifier votre abonnement",
        "web.subscribe.title": "S’abonner",
        "web.subscribe.h1": "Recevoir {site} par courriel",
        "web.subscribe.intro": "Choisissez les pays que vous suivez. Nous envoyons une lettre avec l’actualité de chacun, et d’abord un lien de confirmation.",
        "web.subscribe.error": "Indiquez une adresse électronique et choisissez au moins un pays.",
        "web.inbox.title": "Consultez votre messagerie",
        "web.inbox.text": "Si {email} peut recevoir nos lettres, un message avec un lien est en route. Ouvrez ce lien pour terminer.",
        "web.inbox.spam": "Rien reçu après quelques minutes ? Regardez dans les indésirables, ou réessayez plus tard.",
        "web.confirmed.title": "Vous êtes abonné",
        "web.confirmed.lists": "Vous recevrez les lettres sur : {lists}.",
        "web.confirmed.change": "Changez vos pays ou désabonnez-vous",
        "web.confirmed.anytime": "à tout moment ; chaque lettre porte le même lien.",
        "web.unsubscribe.title": "Se désabonner",
        "web.unsubscribe.ask": "Ne plus envoyer la lettre {list} à {email} ?",
        "web.unsubscribed.title": "Vous êtes désabonné",
        "web.unsubscribed.list": "{email} ne recevra plus la lettre {list}.",
        "web.unsubscribed.all": "{email} ne recevra plus aucune lettre de {site}.",
        "web.unsubscribed.again": "Vous avez changé d’avis ?",
        "web.unsubscribed.choose": "Choisissez de nouveau vos pays",
        "web.prefs.title": "Vos lettres",
        "web.prefs.for": "Lettres pour {email} :",
        "web.prefs.save": "Enregistrer",
        "web.prefs.leave": "Tout quitter",
        "web.saved.title": "Enregistré",
        "web.saved.lists": "{email} recevra les lettres sur : {lists}.",
        "web.saved.again": "Modifier encore",
        "web.manage.intro": "Indiquez votre adresse et nous vous enverrons un lien vers vos préférences.",
        "web.manage.send": "M’envoyer le lien",
        "web.bad.title": "Ce lien ne fonctionne pas",
        "web.bad.text": "{reason} Rien n’a été modifié. Abonnez-vous de nouveau, ou utilisez le lien de votre dernière lettre.",
        "web.bad.expired": "Ce lien de confirmation a expiré.",
        "web.bad.confirm": "Ce lien de confirmation n’est pas valide.",
        "web.bad.unsubscribe": "Ce lien de désabonnement n’est pas valide.",
        "web.bad.preferences": "Ce lien de préférences n’est pas valide.",
        "web.404.title": "Introuvable",
        "web.404.text": "Il n’y a pas de page ici.",
        "web.405.title": "Non autorisé",
        "web.405.text": "Cette page n’accepte pas ce type de requête.",
        "web.413.title": "Trop volumineux",
        "web.413.text": "Ce formulaire était trop volumineux.",
        "web.403.title": "Non envoyé",
        "web.403.text": "Ce formulaire ne peut être envoyé que depuis nos pages.",
        "web.429.title": "Trop de requêtes",
        "web.429.text": "Attendez quelques minutes et réessayez.",
        "web.503.title": "Indisponible",
        "web.503.text": "Le service est momentanément indisponible. Rien n’a été enregistré ; réessayez dans quelques minutes.",
        "mail.confirm.subject": "Confirmez votre abonnement à {site}",
        "mail.confirm.text": "Quelqu’un, sans doute vous, a demandé à recevoir les lettres de {site} sur : {lists}.\n\nPour confirmer, ouvrez ce lien sous {hours} :\n{confirm}\n\nSi ce n’était pas vous, ignorez ce message : rien ne vous sera envoyé.",
        "mail.already.subject": "Vous êtes déjà abonné à {site}",
        "mail.already.text": "Quelqu’un, sans doute vous, a demandé à abonner cette adresse aux lettres de {site}. Elle les reçoit déjà.\n\nPour changer vos pays ou vous désabonner, ouvrez :\n{preferences}",
        "mail.manage.subject": "Vos préférences pour {site}",
        "mail.manage.text": "Pour changer les pays sur lesquels vous recevez les lettres de {site}, ou pour vous désabonner, ouvrez :\n{preferences}",
    },
    "pt": {
        "all": "Todas as notícias",
        "regional": "Notícias regionais",
        "regional.about": "Notícias que não nomeiam um só país.",
        "items.one": "{n} notícia",
        "items.many": "{n} notícias",
        "home.summary": "{items} sobre {countries}.",
        "countries.one": "{n} país",
        "countries.many": "{n} países",
        "home.email": "Receba por e-mail os países que acompanha, ou siga-os num leitor de feeds.",
        "home.feeds": "Siga os países que lhe interessam num leitor de feeds: cada um tem feeds Atom, RSS e JSON.",
        "home.all_news": "Todas as notícias ({items})",
        "home.countries": "Países",
        "home.follow": "Siga num leitor de feeds",
        "home.follow.text": "Cada país tem os seus próprios feeds; estes trazem todas as notícias.",
        "no_news": "Ainda não há notícias.",
        "archive": "Arquivo",
        "read_original": "Ler o original",
        "all_feeds": "Todos os feeds (OPML)",
        "newsletter_archive": "Arquivo do boletim",
        "subscribe_feed": "Assinar",
        "latest.country": "Últimas notícias sobre {name}",
        "latest.all": "Últimas notícias",
        "latest.regional": "Últimas notícias regionais",
        "archive.title.country": "Boletim sobre {name}",
        "archive.title.all": "Boletim",
        "archive.title.regional": "Boletim regional",
        "archive.summary": "{issues}, do mais recente ao mais antigo: apenas {periods}.",
        "archive.summary.every": "{issues}, do mais recente ao mais antigo.",
        "issues.one": "{n} edição",
        "issues.many": "{n} edições",
        "periods.daily": "os últimos {n} dias",
        "periods.weekly": "as últimas {n} semanas",
        "periods.monthly": "os últimos {n} meses",
        "colon": ": ",
        "signup.heading": "Boletins por e-mail",
        "signup.heading.country": "Receba as notícias sobre {name} por e-mail",
        "signup.email": "O seu endereço de e-mail",
        "signup.lists": "Boletins",
        "signup.button": "Assinar",
        "signup.note": "Primeiro enviamos-lhe um link para confirmar.",
        "signup.honeypot": "Deixe isto em branco",
        "nl.view": "Ver no navegador",
        "nl.view_text": "Ver no navegador",
        "nl.more.daily": "Mais notícias deste dia",
        "nl.more.weekly": "Mais notícias desta semana",
        "nl.more.monthly": "Mais notícias deste mês",
        "nl.why.country": "Recebe esta mensagem porque assinou o boletim sobre {name} de {site}.",
        "nl.why.all": "Recebe esta mensagem porque assinou o boletim de {site}.",
        "nl.why.regional": "Recebe esta mensagem porque assinou o boletim regional de {site}.",
        "nl.unsubscribe": "Cancelar a assinatura",
        "nl.preferences": "Mudar os seus países",
        "nl.more.country": "Mais sobre {name}",
        "nl.more.all": "Todas as notícias",
        "nl.more.regional": "Mais notícias regionais",
        "nl.feed": "Feed",
        "nl.preheader": "{items}: {first}",
        "feed.subtitle.country": "Notícias sobre {name}",
        "feed.subtitle.all": "Todas as notícias, da mais recente à mais antiga",
        "feed.subtitle.regional": "Notícias que não nomeiam um só país",
        "nl.visitor.country": "Esta é a cópia web do boletim sobre {name}.",
        "nl.visitor.all": "Esta é a cópia web do boletim.",
        "nl.visitor.regional": "Esta é a cópia web do boletim regional.",
        "nl.signup": "Receba-o por e-mail",
        "nl.manage": "Já assina? Altere a sua assinatura",
        "nl.follow": "Siga-o num leitor de feeds",
        "week": "semana {week} de {year}",
        "subscribe.title": "Siga {name} num leitor de feeds",
        "subscribe.intro": "Copie o endereço de um feed para o seu leitor, ou abra um dos links abaixo.",
        "subscribe.browser": "Aberto num navegador, um feed aparece como uma página simples, ou como código onde o navegador já não lhe dá estilo: esta página é para as pessoas.",
        "xsl.note": "Este é um feed web. Copie o seu endereço para o seu leitor de feeds para acompanhar estas notícias.",
        "xsl.visit": "Visitar a página web",
        "xsl.kind": "feed",
        "subscribe.latest": "As notícias mais recentes",
        # newsletter serve: its pages and its own messages
        "web.change": "Alterar a sua assinatura",
        "web.subscribe.title": "Assinar",
        "web.subscribe.h1": "Receba {site} por e-mail",
        "web.subscribe.intro": "Escolha os países que acompanha. Enviamos um boletim com as notícias de cada um, e antes um link para confirmar.",
        "web.subscribe.error": "Indique um endereço de e-mail e escolha pelo menos um país.",
        "web.inbox.title": "Verifique o seu e-mail",
        "web.inbox.text": "Se {email} puder receber os nossos boletins, uma mensagem com um link está a caminho. Abra esse link para terminar.",
        "web.inbox.spam": "Não chegou nada após alguns minutos? Veja a pasta de spam, ou tente mais tarde.",
        "web.confirmed.title": "Assinatura confirmada",
        "web.confirmed.lists": "Receberá boletins sobre: {lists}.",
        "web.confirmed.change": "Mude os seus países ou saia",
        "web.confirmed.anytime": "quando quiser; cada boletim traz o mesmo link.",
        "web.unsubscribe.title": "Cancelar a assinatura",
        "web.unsubscribe.ask": "Deixar de enviar boletins de {list} para {email}?",
        "web.unsubscribed.title": "Assinatura cancelada",
        "web.unsubscribed.list": "{email} não receberá mais boletins de {list}.",
        "web.unsubscribed.all": "{email} não receberá mais boletins de {site}.",
        "web.unsubscribed.again": "Mudou de ideia?",
        "web.unsubscribed.choose": "Escolha de novo os seus países",
        "web.prefs.title": "Os seus boletins",
        "web.prefs.for": "Boletins para {email}:",
        "web.prefs.save": "Guardar",
        "web.prefs.leave": "Sair de tudo",
        "web.saved.title": "Guardado",
        "web.saved.lists": "{email} receberá boletins sobre: {lists}.",
        "web.saved.again": "Alterar de novo",
        "web.manage.intro": "Indique o seu endereço e enviaremos um link para as suas preferências.",
        "web.manage.send": "Enviar-me o link",
        "web.bad.title": "Este link não funciona",
        "web.bad.text": "{reason} Nada foi alterado. Assine de novo, ou use o link do seu último boletim.",
        "web.bad.expired": "Este link de confirmação expirou.",
        "web.bad.confirm": "Este link de confirmação não é válido.",
        "web.bad.unsubscribe": "Este link de cancelamento não é válido.",
        "web.bad.preferences": "Este link de preferências não é válido.",
        "web.404.title": "Não encontrado",
        "web.404.text": "Não há nenhuma página aqui.",
        "web.405.title": "Não permitido",
        "web.405.text": "Esta página não aceita esse tipo de pedido.",
        "web.413.title": "Demasiado grande",
        "web.413.text": "O formulário era demasiado grande.",
        "web.403.title": "Não enviado",
        "web.403.text": "Este formulário só pode ser enviado a partir das nossas páginas.",
        "web.429.title": "Demasiados pedidos",
        "web.429.text": "Aguarde alguns minutos e tente de novo.",
        "web.503.title": "Indisponível",
        "web.503.text": "O serviço está indisponível por um momento. Nada foi registado; tente de novo dentro de alguns minutos.",
        "mail.confirm.subject": "Confirme a sua assinatura de {site}",
        "mail.confirm.text": "Alguém, provavelmente você, pediu para receber os boletins de {site} sobre: {lists}.\n\nPara confirmar, abra este link no prazo de {hours}:\n{confirm}\n\nSe não foi você, ignore esta mensagem: nada lhe será enviado.",
        "mail.already.subject": "Já assina {site}",
        "mail.already.text": "Alguém, provavelmente você, pediu para inscrever este endereço nos boletins de {site}. Ele já os recebe.\n\nPara mudar os seus países ou sair, abra:\n{preferences}",
        "mail.manage.subject": "As suas preferências de {site}",
        "mail.manage.text": "Para mudar os países sobre os quais recebe boletins de {site}, ou para sair, abra:\n{preferences}",
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
        if self.lang == "en":  # the common case, on every page: no cache look-up
            self.date = english_date  # type: ignore[method-assign]

    def t(self, key: str, **values) -> str:
        phrase = self.table[key]
        if "{the_name}" in phrase:  # French phrases only: "sur le Pérou", "Suivre la France"
            values["the_name"] = french_with_article(values["name"])
        return phrase.format(**values)

    @staticmethod
    def title(first: str, second: str) -> str:
        return joined_title(first, second)

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


def date_pattern(lang: str) -> tuple[list[tuple[str, str]], list[str]]:
    """How `long_date` writes a date in `lang`, for a stylesheet to do the same: the parts of
    the pattern (("d"|"m"|"y"|"text", text)) and the twelve month names as they appear in it."""
    sample = dt.date(2021, 8, 26)
    months = [long_date(dt.date(2021, m, 26), lang) for m in range(1, 13)]
    shown = long_date(sample, lang)
    # the month's name: what differs between August's and the other months' renderings
    start = next(i for i in range(len(shown)) if any(i >= len(o) or o[i] != shown[i] for o in months if o != shown))
    tail = next(i for i in range(1, len(shown)) if any(o[-i] != shown[-i] for o in months if o != shown)) - 1
    names = [m[start : len(m) - tail] for m in months]
    before, after = shown[:start], shown[len(shown) - tail :]
    parts: list[tuple[str, str]] = []
    for text in (before, None, after):
        if text is None:
            parts.append(("m", ""))
            continue
        for piece in re.split(r"(26|2021)", text):
            if piece:
                parts.append(("d" if piece == "26" else "y" if piece == "2021" else "text", piece))
    return parts, names


def english_date(day: dt.date) -> str:
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


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


# French puts an article before most country names ("Actualités sur le Pérou"), and its form is
# not in CLDR: Babel knows the names, not their gender.  The rules French grammars give (names
# ending in -e are feminine, the others masculine, l’ before a vowel) and the names they list as
# exceptions: masculine names in -e, feminine names that do not end in -e, plural names, and the
# islands and city states that take no article.
FRENCH_MASCULINE_E = frozenset(
    {"Belize", "Cambodge", "Mexique", "Mozambique", "Royaume-Uni", "Suriname", "Territoire britannique de l’océan Indien", "Zimbabwe"}
)  # fmt: skip
FRENCH_FEMININE = frozenset({"Sierra Leone"})
FRENCH_PLURAL = frozenset(
    {"Bahamas", "Bermudes", "Comores", "Émirats arabes unis", "États-Unis", "Fidji", "Maldives", "Palaos",
     "Pays-Bas", "Pays-Bas caribéens", "Philippines", "Samoa américaines", "Seychelles",
     "Terres australes françaises", "Territoires palestiniens", "Tokelau"}
)  # fmt: skip
FRENCH_NO_ARTICLE = frozenset(
    {"Anguilla", "Antigua-et-Barbuda", "Aruba", "Bahreïn", "Chypre", "Cuba", "Curaçao", "Djibouti", "Gibraltar",
     "Guam", "Guernesey", "Haïti", "Israël", "Jersey", "Kiribati", "Madagascar", "Malte", "Maurice", "Mayotte", "Monaco",
     "Montserrat", "Nauru", "Niue", "Oman", "Porto Rico", "Saint-Barthélemy", "Saint-Kitts-et-Nevis",
     "Saint-Marin", "Saint-Martin", "Saint-Pierre-et-Miquelon", "Saint-Vincent-et-les Grenadines", "Sainte-Hélène",
     "Sainte-Lucie", "Samoa", "Sao Tomé-et-Principe", "Singapour", "Taïwan", "Tonga", "Trinité-et-Tobago",
     "Tuvalu", "Wallis-et-Futuna"}
)  # fmt: skip


@functools.lru_cache(maxsize=512)
def french_territories() -> frozenset[str]:
    from babel import Locale

    return frozenset(Locale.parse("fr").territories.values())


@functools.lru_cache(maxsize=512)
def french_with_article(name: str) -> str:
    """`le Pérou`, `la France`, `l’Argentine`, `les Philippines`, `Cuba`; a name that is no
    country's French name (a list's title) as it is."""
    if name not in french_territories() or name in FRENCH_NO_ARTICLE:
        return name
    if name.startswith(("R.A.S. ", "La ", "Saint-", "Sainte-")):  # Hong Kong, La Réunion, Saint-Martin
        return name
    if name in FRENCH_PLURAL or name.startswith("Îles "):
        return f"les {name}"
    if name[0] in "AEIOUÂÉÈÊÎÔ":
        return f"l\u2019{name}"
    head = name.replace("-", " ").split(" ")[0]
    feminine = name in FRENCH_FEMININE or (head.endswith("e") and name not in FRENCH_MASCULINE_E)
    return f"la {name}" if feminine else f"le {name}"


def joined_title(first: str, second: str) -> str:
    """`first — second` for a page's, a feed's or a list's title; one of them alone when both
    say the same (a site titled "Newsletter" or "All news" does not stutter)."""
    return first if first.casefold() == second.casefold() else f"{first} \u2014 {second}"


def group_title(group: str, words: Words, names) -> str:
    """A list's name on pages and in feeds: `All news`, `Regional news`, or the country's."""
    if group in ("all", "regional"):
        return words.t(group)
    return country_name(group, words.lang, names.get(group, group.upper()))


ENGLISH_MONTHS = ("January February March April May June July August September October November December").split()


# -- digests (one message per subscriber per period, issue #18): their own phrases ------------
DIGEST_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "digest.also": "Also about {names}",
        "digest.why": "You receive this because you subscribed to news from {site} about: {lists}.",
        "digest.site": "All the news on the site",
    },
    "es": {
        "digest.also": "También sobre {names}",
        "digest.why": "Recibe este mensaje porque se suscribió a las noticias de {site} sobre: {lists}.",
        "digest.site": "Todas las noticias del sitio",
    },
    "fr": {
        "digest.also": "Concerne aussi {names}",
        "digest.why": "Vous recevez ce message car vous êtes abonné aux actualités de {site} sur : {lists}.",
        "digest.site": "Toutes les actualités du site",
    },
    "pt": {
        "digest.also": "Também sobre {names}",
        "digest.why": "Você recebe esta mensagem porque assinou as notícias de {site} sobre: {lists}.",
        "digest.site": "Todas as notícias do site",
    },
}
for _lang, _phrases in DIGEST_PHRASES.items():
    PHRASES[_lang].update(_phrases)


# serve's own mails and preferences page (newsletter/web/): the HTML part's sentences around
# its button (the text part keeps `mail.*.text`, with the link in full).
SERVE_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "mail.confirm.intro": "Someone, probably you, asked to receive {site} newsletters about: {lists}.",
        "mail.confirm.button": "Confirm my subscription",
        "mail.confirm.after": "The button works for {hours}. If it was not you, ignore this message: nothing will be sent to you.",
        "mail.already.intro": "Someone, probably you, asked to subscribe this address to {site} newsletters. It already receives them.",
        "mail.already.button": "Change my newsletters",
        "mail.already.after": "Nothing has changed. To choose other countries or to leave, use the button.",
        "mail.manage.intro": "Here is the link to your {site} newsletters: choose the countries you receive, or leave.",
        "mail.manage.button": "Change my newsletters",
        "mail.manage.after": "If you did not ask for this link, ignore this message: nothing has changed.",
        "mail.why": "You receive this message because this address was entered on {site}.",
        "web.prefs.yours": "You receive",
        "web.prefs.more": "More newsletters",
        "web.prefs.filter": "Find a country",
        "web.frequency": "How often",
        "web.frequency.daily": "Every day",
        "web.frequency.weekly": "Once a week",
        "web.frequency.monthly": "Once a month",
        "web.unsubscribe.ask.all": "Stop sending every {site} newsletter to {email}?",
        "web.notconfirmed.title": "You are not subscribed",
        "web.notconfirmed.text": "You left after this confirmation link was sent, so it no longer subscribes you.",
        "web.notconfirmed.again": "Sign up again",
    },
    "es": {
        "mail.confirm.intro": "Alguien, probablemente usted, pidió recibir los boletines de {site} sobre: {lists}.",
        "mail.confirm.button": "Confirmar mi suscripción",
        "mail.confirm.after": "El botón funciona durante {hours}. Si no fue usted, ignore este mensaje: no se le enviará nada.",
        "mail.already.intro": "Alguien, probablemente usted, pidió suscribir esta dirección a los boletines de {site}. Ya los recibe.",
        "mail.already.button": "Cambiar mis boletines",
        "mail.already.after": "No ha cambiado nada. Para elegir otros países o salir, use el botón.",
        "mail.manage.intro": "Este es el enlace a sus boletines de {site}: elija los países que recibe, o salga.",
        "mail.manage.button": "Cambiar mis boletines",
        "mail.manage.after": "Si no pidió este enlace, ignore este mensaje: no ha cambiado nada.",
        "mail.why": "Recibe este mensaje porque esta dirección se escribió en {site}.",
        "web.prefs.yours": "Usted recibe",
        "web.prefs.more": "Más boletines",
        "web.prefs.filter": "Buscar un país",
        "web.frequency": "Con qué frecuencia",
        "web.frequency.daily": "Cada día",
        "web.frequency.weekly": "Una vez por semana",
        "web.frequency.monthly": "Una vez al mes",
        "web.unsubscribe.ask.all": "¿Dejar de enviar todos los boletines de {site} a {email}?",
        "web.notconfirmed.title": "No está suscrito",
        "web.notconfirmed.text": "Se dio de baja después de que se enviara este enlace de confirmación, así que ya no le suscribe.",
        "web.notconfirmed.again": "Suscribirse de nuevo",
    },
    "fr": {
        "mail.confirm.intro": "Quelqu’un, sans doute vous, a demandé à recevoir les lettres de {site} sur : {lists}.",
        "mail.confirm.button": "Confirmer mon abonnement",
        "mail.confirm.after": "Le bouton fonctionne pendant {hours}. Si ce n’était pas vous, ignorez ce message : rien ne vous sera envoyé.",
        "mail.already.intro": "Quelqu’un, sans doute vous, a demandé à abonner cette adresse aux lettres de {site}. Elle les reçoit déjà.",
        "mail.already.button": "Modifier mes lettres",
        "mail.already.after": "Rien n’a changé. Pour choisir d’autres pays ou vous désabonner, utilisez le bouton.",
        "mail.manage.intro": "Voici le lien vers vos lettres de {site} : choisissez les pays que vous recevez, ou désabonnez-vous.",
        "mail.manage.button": "Modifier mes lettres",
        "mail.manage.after": "Si vous n’avez pas demandé ce lien, ignorez ce message : rien n’a changé.",
        "mail.why": "Vous recevez ce message parce que cette adresse a été saisie sur {site}.",
        "web.prefs.yours": "Vous recevez",
        "web.prefs.more": "Autres lettres",
        "web.prefs.filter": "Chercher un pays",
        "web.frequency": "À quelle fréquence",
        "web.frequency.daily": "Chaque jour",
        "web.frequency.weekly": "Une fois par semaine",
        "web.frequency.monthly": "Une fois par mois",
        "web.unsubscribe.ask.all": "Ne plus envoyer aucune lettre de {site} à {email} ?",
        "web.notconfirmed.title": "Vous n’êtes pas abonné",
        "web.notconfirmed.text": "Vous vous êtes désabonné après l’envoi de ce lien de confirmation : il ne vous abonne plus.",
        "web.notconfirmed.again": "Vous abonner de nouveau",
    },
    "pt": {
        "mail.confirm.intro": "Alguém, provavelmente você, pediu para receber os boletins de {site} sobre: {lists}.",
        "mail.confirm.button": "Confirmar a minha assinatura",
        "mail.confirm.after": "O botão funciona durante {hours}. Se não foi você, ignore esta mensagem: nada lhe será enviado.",
        "mail.already.intro": "Alguém, provavelmente você, pediu para inscrever este endereço nos boletins de {site}. Ele já os recebe.",
        "mail.already.button": "Mudar os meus boletins",
        "mail.already.after": "Nada mudou. Para escolher outros países ou sair, use o botão.",
        "mail.manage.intro": "Eis o link para os seus boletins de {site}: escolha os países que recebe, ou saia.",
        "mail.manage.button": "Mudar os meus boletins",
        "mail.manage.after": "Se não pediu este link, ignore esta mensagem: nada mudou.",
        "mail.why": "Recebe esta mensagem porque este endereço foi escrito em {site}.",
        "web.prefs.yours": "Você recebe",
        "web.prefs.more": "Mais boletins",
        "web.prefs.filter": "Procurar um país",
        "web.frequency": "Com que frequência",
        "web.frequency.daily": "Todos os dias",
        "web.frequency.weekly": "Uma vez por semana",
        "web.frequency.monthly": "Uma vez por mês",
        "web.unsubscribe.ask.all": "Deixar de enviar todos os boletins de {site} para {email}?",
        "web.notconfirmed.title": "Você não está inscrito",
        "web.notconfirmed.text": "Você saiu depois de este link de confirmação ser enviado, por isso ele já não o inscreve.",
        "web.notconfirmed.again": "Inscrever-se de novo",
    },
}
for _lang, _phrases in SERVE_PHRASES.items():
    PHRASES[_lang].update(_phrases)
