"""The tagger on a table of realistic headlines (tests/tagger_cases.py) and the coverage of its
data. `python tools/tagger_score.py` prints precision and recall per class, beside geotext and
country_converter."""

from __future__ import annotations

import pytest

from newsletter.content.gazetteer import fold, load_gazetteer
from newsletter.content.tagger import Tagger
from tagger_cases import CASES

TAGGER = Tagger(load_gazetteer())
ASSERTED = [c for c in CASES if c[2] != "town"]  # longer place names: not handled yet (README)


def test_the_table_is_large_and_covers_every_class():
    assert len(CASES) >= 300
    assert {kind for _, _, kind in CASES} == {"plain", "demonym", "elision", "titlecase", "inverted", "place", "town",
                                              "trap"}


@pytest.mark.parametrize("expected, text, kind", ASSERTED, ids=[f"{k}-{n}" for n, (_, _, k) in enumerate(ASSERTED)])
def test_headline_and_first_sentence(expected, text, kind):
    title, _, body = text.partition(". ")
    assert set(TAGGER.tag(title, body)) == set(expected.split())


# Countries without an English demonym of their own: uninhabited, or sharing it with another
# country ("Congolese", "Dominican", "Virgin Islander", "Channel Islander"…): never guessed.
NO_OWN_DEMONYM = {"BQ", "BV", "CD", "CG", "DM", "GG", "IO", "JE", "MP", "SJ", "TF", "VA", "VG", "VI"}


def test_every_country_has_its_names_in_four_languages_and_an_english_demonym():
    from babel import Locale

    gazetteer = load_gazetteer()
    codes = sorted(gazetteer.display)
    assert len(codes) == 249
    for lang in ("en", "es", "fr", "pt"):
        territories = Locale.parse(lang).territories
        unnamed = [code for code in codes if gazetteer.names.get(fold(territories[code])) != code]
        assert unnamed == [], lang
    with_demonym = {gazetteer.names[d] for d in gazetteer.demonyms if gazetteer.names.get(d)}
    assert sorted(set(codes) - with_demonym) == sorted(NO_OWN_DEMONYM)


def test_the_reference_examples_of_the_issue_classes():
    def tags(text: str) -> list[str]:
        return sorted(TAGGER.countries_in(text))
    assert tags("Les ministres de l'Algérie et de l'Équateur") == ["dz", "ec"]
    assert tags("Les Allemands visitent l\u2019Algérie") == ["de", "dz"]
    assert tags("Congo, the Democratic Republic of the") == ["cd"]
    assert tags("Migrantes venezolanos llegan a Colombia") == ["co", "ve"]
    assert tags("Los salvadoreños retornados") == ["sv"]
    assert tags("Migrantes haïtiens au Chili") == ["cl", "ht"]
    assert tags("Trabalhadores moçambicanos") == ["mz"]
    assert tags("Mexico, Missouri Holds a Job Fair") == [] and tags("Mexico, Chiapas: new shelters") == ["mx"]
    assert tags("Mexico, Guatemala and Panama sign") == ["gt", "mx", "pa"]  # a list of countries, not a town
    assert tags("IOM Hosts Uruguayan Humanitarian Units") == ["uy"]
    for compound in ("Brazil Nut Harvest", "Jersey Cattle Show", "Panama Hat Weavers", "Swiss Chard Farms"):
        assert tags(compound) == [], compound
    assert tags("Un cours en français") == [] and tags("Cursos en español") == []  # languages, not countries


def test_newsletter_tag_shows_what_matched_and_near_misses(capsys):
    from newsletter.cli import main
    assert main(["tag", "Chadian staff and turkey farmers met in l'Algérie"]) == 0
    out = capsys.readouterr().out
    assert "td  'Chadian'" in out and "dz  'Algerie'" in out
    assert "'turkey': near miss: 'Turkey' counts only as written" in out
    assert out.strip().endswith("→ dz td")
