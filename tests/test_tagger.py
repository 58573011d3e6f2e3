"""Country tagging: names, aliases, demonyms, other languages, look-alikes and exclusions."""

from __future__ import annotations

import pytest

from newsletter.content.gazetteer import load_gazetteer
from newsletter.content.tagger import Tagger


@pytest.fixture(scope="module")
def tagger():
    return Tagger(load_gazetteer())


@pytest.mark.parametrize(
    "text, expected",
    [
        # names, short names and aliases
        ("Talks in Mexico", {"mx"}),
        ("The USA and the United States of America", {"us"}),
        ("U.S. officials", {"us"}),
        ("Türkiye and Turkey", {"tr"}),
        ("Côte d'Ivoire", {"ci"}),
        ("Cote d\u2019Ivoire", {"ci"}),
        ("Ivory Coast", {"ci"}),
        ("the Democratic Republic of the Congo", {"cd"}),
        ("Republic of the Congo", {"cg"}),
        ("Bosnia and Herzegovina", {"ba"}),
        ("Trinidad and Tobago", {"tt"}),
        ("the Kingdom of the Netherlands and Holland", {"nl"}),
        # demonyms, plurals, possessives
        ("Belizean front-line actors", {"bz"}),
        ("Mexican institutions", {"mx"}),
        ("Nigerians and Nigeriens", {"ng", "ne"}),
        ("Mexico's and Panama\u2019s units", {"mx", "pa"}),
        ("Afro-Colombian leaders", {"co"}),
        ("the Mexico-Guatemala border", {"mx", "gt"}),
        # Spanish, French and Portuguese, with or without accents
        ("México y Panamá", {"mx", "pa"}),
        ("Mexico y Panama", {"mx", "pa"}),
        ("República Dominicana", {"do"}),
        ("Republica Dominicana", {"do"}),
        ("Perú, Brasil y Haití", {"pe", "br", "ht"}),
        ("le Mexique et la Guinée", {"mx", "gn"}),
        ("Costa do Marfim e Moçambique", {"ci", "mz"}),
        ("Estados Unidos Mexicanos", {"mx"}),
        ("Estados Unidos", {"us"}),
        # longest match wins; names inside other names
        ("Papua New Guinea", {"pg"}),
        ("Guinea-Bissau and Equatorial Guinea", {"gw", "gq"}),
        ("Niger and Nigeria", {"ne", "ng"}),
        ("South Sudan", {"ss"}),
        ("Sudan", {"sd"}),
        ("Dominica and the Dominican Republic", {"dm", "do"}),
        ("American Samoa", {"as"}),
        ("British Virgin Islands", {"vg"}),
        ("French Guiana", {"gf"}),
        ("Indiana", set()),
        ("Omani and Romanian", {"om", "ro"}),
        # states and cities named after countries; regional adjectives
        ("New Mexico", set()),
        ("New Jersey", set()),
        ("Latin American Local Governments", set()),
        ("Central American migrants", set()),
        ("South American and North American partners", set()),
        ("Inter-American Court", set()),
        ("Mesoamerica", set()),
        ("Mexico City", {"mx"}),
        # ordinary words count only when capitalised
        ("we ate turkey in a china bowl", set()),
        ("chad and jordan are names here", set()),
        ("Turkey and China", {"tr", "cn"}),
        # all-caps headlines
        ("MEXICO AND TURKEY SIGN AGREEMENT", {"mx", "tr"}),
        ("CHILEAN AND ARGENTINE VOLUNTEERS", {"cl", "ar"}),
        ("JOIN US IN PERU", {"pe"}),
        ("NEW MEXICO", set()),
    ],
)
def test_countries_in_text(tagger, text, expected):
    assert tagger.countries_in(text) == expected


# The reference bulletin's items (title and the sentences that name places) and the
# expected result: mx 4, pa 2, cr 2, sv 1, bz 1, do 1, hn 1, one regional.
REFERENCE = [
    (
        "Mexico\u2019s Beta Group Works with Panama\u2019s Humanitarian Border Security Unit",
        "From Panama\u2019s and Mexico\u2019s diverse contexts, both the USFROH and the INM Beta Group are working.",
        ("mx", "pa"),
    ),
    (
        "IOM and FLACSO Costa Rica Train Communication Professionals from Mexico and Central America to Address Migration",
        "More than 50 journalists and media professionals from 6 countries participated.",
        ("cr", "mx"),
    ),
    (
        "IOM and RCM Strengthen Local Government Capacities in Mesoamerica with Policy and Governance Training Program",
        "The virtual module Migration Trends in Latin America. Participants enjoyed a panel with representatives of the "
        "local governments of Costa Rica and El Salvador, and the Federation of Local Governments of Latin America (FLACMA).",
        ("cr", "sv"),
    ),
    (
        "Latin American Local Governments Join IOM in Search of Better Local Governance of Migration",
        'More than 100 people from 24 countries met on August 4 in the "Seminar on International Migration". '
        "Target 10.7 of the 2030 Agenda for Sustainable Development.",
        (),
    ),
    (
        "IOM trains Belizean front-line actors to better protect migrant children",
        "The protection of migrant children in Belize, a country where 15 per cent of the total population are migrants.",
        ("bz",),
    ),
    (
        "IOM Provides Border Workshops for Emergency Prevention and Response in the Dominican Republic",
        "More than 300 officials from national and provincial institutions participated.",
        ("do",),
    ),
    (
        "IOM Develops Practical Exercise for Mexican Institutions to Assist Migrant Children and Adolescents",
        "Emphasizing the importance of thinking of children and adolescents as a heterogeneous group.",
        ("mx",),
    ),
    (
        "Mexico Concludes Specialized Course on Labour Mobility Programs",
        "Mobility of migrant workers in southern Mexico. The National Institute for Migration participated.",
        ("mx",),
    ),
    (
        "Panama is committed to the fight against Trafficking in Persons",
        "Panama joins the global efforts to eradicate Trafficking in Persons.",
        ("pa",),
    ),
    (
        "IOM Builds Synergies within Local Migration Networks in Honduras",
        "Migration management in Honduras, including government authorities.",
        ("hn",),
    ),
]


@pytest.mark.parametrize("title, body, expected", REFERENCE, ids=[r[0][:40] for r in REFERENCE])
def test_reference_bulletin_mapping(tagger, title, body, expected):
    assert tagger.tag(title, body) == expected


@pytest.mark.parametrize(
    "value, codes, unknown",
    [
        ("Mexico, PA", ("mx", "pa"), []),
        ("mx; cr", ("mx", "cr"), []),
        ("Côte d'Ivoire", ("ci",), []),
        ("cote d'ivoire", ("ci",), []),
        ("Belizean", ("bz",), []),
        ("Narnia, Peru", ("pe",), ["Narnia"]),
        ("EE.UU., Francia", ("us", "fr"), []),  # initials as running text takes them, final point and all
        ("EE. UU.; R.U.", ("us", "gb"), []),
        ("RCA", ("cf",), []),
        ("none", (), []),
    ],
)
def test_countries_metadata_values(tagger, value, codes, unknown):
    assert tagger.resolve(value) == (codes, unknown)


def test_configured_aliases_and_exclusions():
    tagger = Tagger(load_gazetteer().with_overrides({"Quisqueya": "DO"}, ["Panama Papers"]))
    assert tagger.countries_in("Quisqueya and the Panama Papers") == {"do"}


def test_every_iso_country_has_a_name_that_tags_it(tagger):
    gazetteer = load_gazetteer()
    assert len(gazetteer.display) == 249
    for code, name in gazetteer.display.items():
        assert code.lower() in tagger.countries_in(f"News from {name} today"), name


@pytest.mark.parametrize(
    "text",
    [
        "xPapua New Guinea and Peru",
        "TheMexico desk",
        "'Mexico' and .Peru and a_Chile",
        "xSouth Africa, Chile",
        "El Salvador.Honduras",
        "Costa Rican and Panamanian",
        "xxCosta Rica Rica Panama",
        "US-Mexico border",
        "xNorth Macedonia",
        "xDemocratic Republic of the Congo",  # a rejected match is retried one character on
    ],
)
def test_match_rule_equals_the_lookbehind_pattern(tagger, text):
    """The tagger checks "not after a word character, ' or ." on the automaton's matches; it must
    find exactly what the equivalent lookbehind pattern (longest names first) finds."""
    import re

    names = sorted(tagger.gazetteer.names, key=len, reverse=True)
    reference = re.compile(r"(?<![\w'.])(?:" + "|".join(map(re.escape, names)) + r")(?!\w|\.\w)")
    expected = {tagger._codes[m.group()] for m in reference.finditer(text)} - {None}
    assert tagger.countries_in(text) == expected
