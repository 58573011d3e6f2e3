"""Find the countries an entry is about.

One Aho-Corasick automaton (ahocorasick-rs) holds every folded name of the gazetteer, in every
language, and scans each text once; of the names found, those that stand as whole words are
taken leftmost-longest, so "Papua New Guinea" beats "Guinea" and "New Mexico" (an exclusion)
beats "Mexico". Matching is case-sensitive, so names that are also ordinary words ("turkey",
"chad") count only when capitalised; all-caps text is matched separately. The automaton is
built in a few milliseconds, so a process pays little for a tagger it uses once.

The names of other languages (Spanish, French and Portuguese demonyms, "venezolanos", "Les
Haïtiens") count in every entry, but the few that are also English words ("american") only
when the entry's own words are not English (`language.is_english`); the date line's language
decides only when its words do not.
"""

from __future__ import annotations

import functools
import os
import re

import ahocorasick_rs

from newsletter.content.gazetteer import DATA, Gazetteer, fold
from newsletter.content.language import is_english

_FOREIGN = 1  # a name of another language: taken only in text that is not English
_LOWER = 2  # starts in lower case
# what else `Tagger._scan` asks of a name before it takes it (`Tagger._info`)
_PERSON = 4  # a first name, or a capitalised word: a surname may follow ("Jordan Alvarez")
_FIRST_NAME = 8  # a first name of the US census
_LANGUAGE = 16  # also a language's name ("Russian interpreters")
_PLACE = 32  # also a state or province of another country ("Georgia")
_CITY = 64  # also a city of another country ("Tripoli, Lebanon")
_CONTEXT = _PERSON | _LANGUAGE | _PLACE | _CITY
_Info = tuple[str, int, "str | None", "frozenset[str] | None"]
# Of each byte of a folded (ASCII) text: whether a name that ends before it is part of a longer
# word (1: a letter, digit or "_"; 2: "." — only before one of those), and whether a name that
# starts after it is (a letter, digit, "_", "'" or ".")
_AFTER = bytes(1 if chr(b).isalnum() and b < 0x80 or b == 0x5F else 2 if b == 0x2E else 0 for b in range(256))
_BEFORE = bytes(1 if chr(b).isalnum() and b < 0x80 or chr(b) in "_'." else 0 for b in range(256))

# Words next to a language's name that say it is the language ("Russian interpreters", "she
# speaks German", "Dutch-speaking volunteers", "classes in Arabic."): the names come from CLDR
# (see `Gazetteer.languages`), these are the words of the grammar around them.
# "Teachers" and "tutors" are left out: "Swedish teachers strike" are teachers from Sweden (a
# language's teachers are "teachers of Swedish", "Swedish-language teachers"); "a Spanish teacher" is one.
_LANGUAGE_AFTER = frozenset(
    """class classes lesson lessons course courses teacher teaching tuition tutor
    tutoring interpreter interpreters interpreting interpretation translator translators translation translations
    speaker speakers skills literacy proficiency instruction version versions subtitles dictionary grammar
    exam exams test tests language""".split()
)
_LANGUAGE_BEFORE = frozenset(
    """speak speaks spoke speaking spoken fluent learn learns learned learnt learning teach
    teaches taught teaching translate translates translated translating interpret interprets understand
    understands write writes read reads""".split()
)
# Spanish, French and Portuguese: the language's name (masculine singular, lower case: "francés",
# "turc", "alemão") after these words is the language ("clases de francés", "un cours en turc",
# "hablan alemán", "l'allemand", "el español es"); after a noun it is the country's adjective
# ("el gobierno español", "le ministre portugais").
_FOREIGN_LANGUAGE_BEFORE = frozenset(
    """de en em al ao du do d' l' el le o
    habla hablan hablar hablando hable parle parlent parler parlant fala falam falar falando
    aprender apprendre enseñar enseigner ensinar traducir traduire traduzir
    traducido traducida traduit traduite traduzido traduzida""".split()
)
# A word of level or register between the verb and the language ("teaches basic Greek", "speaks
# fluent Dari", "learn conversational French"): the verb still governs the language.
_LANGUAGE_LEVEL = frozenset(
    """basic elementary beginner beginners intermediate advanced conversational everyday business
    spoken written fluent simple plain good better some more""".split()
)
# "Teach" also takes the people taught ("teach Ukrainian children to read": children from Ukraine):
# after it the language's name ends its phrase or is followed by one of these ("teaches Greek to
# staff", "teach Arabic online"); before any other word it is that noun's adjective.
_TEACH = frozenset("teach teaches taught teaching".split())
_LANGUAGE_PHRASE_END = frozenset(
    """the and of to in for with on at from by as or but so while when where who which that than
    after before during since until if is are was were be been has have had will would can
    well fluently online too again now today daily together at abroad here there""".split()
)
_LANGUAGE_SUFFIX = ("-speak", "-language", "-lang", "-medium")
# "Georgia's governor": the state's offices after a name that is also a state of another country
_STATE_OFFICES = frozenset(
    "governor legislature lawmakers senate senator senators statehouse county counties attorney secretary".split()
)
_LIST_NEXT = re.compile(r"(?:,| and| or|, and|, or) ([A-Z][a-z]+)\b")
_UNIVERSITY = (" State University", " Tech ", " Tech.", " Tech,")
# "Georgia Southern University", "Georgia Gwinnett College": one word between the state and its school
_UNIVERSITY_AFTER = re.compile(r" [A-Z][a-z]+ (?:University|College)\b")
# ", in northern Lebanon": the country a town of the city's name lies in (one to three words of it)
_COUNTRY_AFTER = re.compile(
    r",(?: in)?(?: (?:[Nn]orth|[Ss]outh|[Ee]ast|[Ww]est|[Cc]entral)(?:ern)?(?:-?(?:east|west)(?:ern)?)?)?"
    r" ([A-Z][A-Za-z'-]+(?: [A-Z][A-Za-z'-]+){0,2})(?=[ .,;:!?)\n]|$)"
)
_SURNAME = re.compile(r" ([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")
_NEXT_WORD = re.compile(r" ([A-Za-z][A-Za-z'-]*)")
_COMPOUND_WORDS = 4  # the most words after the name in a compound noun (tools/build_gazetteer.py COMPOUND_WORDS)

Why = list[tuple[str, "str | None", str]]
"""(words, code or None, why): what `explain` says of each name it found or passed over."""


class Tagger:
    """Tags texts with ISO 3166-1 alpha-2 codes (lower case)."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        names = gazetteer.names
        self._codes = {
            name: (code.lower() if code and name not in gazetteer.ambiguous else None) for name, code in names.items()
        }
        # a demonym of another language counts in any text, unless it is also an English word
        # ("american"): then only in an entry whose words are not English
        foreign = {name for name in gazetteer.foreign if name.lower() in gazetteer.english_words}
        self._foreign = foreign
        self._names = list(names)
        self._infos: list[_Info | None] = [None] * len(self._names)
        self._finder = _Finder(self._names, gazetteer.finder)
        # "Mexico, Missouri": a country's name, a comma and a state or province of another
        # country name a town there (checked only where a country's name is followed by ", ", " (" or
        # a word that ends town names: see `_town_of`).
        self._places = gazetteer.places
        self._place_words = gazetteer.place_words
        self._place_initials: frozenset[str] | None = None  # of `_places`, made when first asked
        self._upper_codes: dict[str, str | None] = {}
        self._upper_finder: _Finder | None = None
        self._upper_names: list[str] = []
        self._upper_infos: list[_Info | None] = []
        self._languages = gazetteer.languages
        self._first_names = gazetteer.first_names
        self._cities = gazetteer.cities
        self._surnames: set[str] | None = None
        # "French fries", "Brussels sprouts": looked up in the words after a name, not put in the
        # automaton (a thousand WordNet compounds would double the time it takes to build)
        self._compounds = gazetteer.compounds
        self._upper_compounds: dict[str, frozenset[str]] = {}

    def _surname_after(self, text: str, end: int, patronymic: bool = False) -> int:
        """The end of the surname that follows a first name ending at `end` ("Kenya Barris"), or 0:
        a surname of the US census (newsletter/data/surnames.txt, read the first time it is asked);
        with `patronymic`, only a Spanish one in -ez ("Francia Márquez", "Argentina Rodríguez":
        Spanish first names the US census lacks)."""
        m = _SURNAME.match(text, end)
        if m is None or (patronymic and not m.group(1).endswith("ez")):
            return 0
        if self._surnames is None:
            data = (DATA / "surnames.txt").read_text(encoding="utf-8")
            self._surnames = _lines(data)
        return m.end() if m.group(1).split("-")[0] in self._surnames and m.group(1) not in self._codes else 0

    def _compound_after(self, text: str, end: int, rests: frozenset[str]) -> int:
        """The end of the compound common noun that a name ending at `end` starts ("French
        fries", "Guinea Fowl", "Brussels sprouts": `rests` are the words that follow the name in
        them, case-folded), the longest one; or 0."""
        heads, most, initials = _compound_shape(rests)
        if text[end : end + 1] != " " or text[end + 1 : end + 2].lower() not in initials:
            return 0  # (what the test of the next word below asks first, without a regex)
        m = _NEXT_WORD.match(text, end)
        if m is None or m.group(1).casefold() not in heads:
            return 0  # no compound starts with the next word (most names, most of the time)
        found, words, pos = 0, "", end
        for _ in range(min(_COMPOUND_WORDS, most)):
            m = _NEXT_WORD.match(text, pos)
            if m is None:
                break
            words = f"{words} {m.group(1).casefold()}" if words else m.group(1).casefold()
            pos = m.end()
            if words in rests:
                found = pos
        return found

    def _institution_of(self, text: str, start: int, end: int, name: str) -> str | None:
        """ "University of Georgia", "Georgia State University", "Georgia Southern University",
        "Georgia Tech": the code of the
        country whose state bears the name."""
        owner = self._places.get(name)
        if owner is None or owner == "-" or owner.lower() == self._codes.get(name):
            return None
        if (
            text.endswith(("University of ", "College of "), 0, start)
            or text.startswith(_UNIVERSITY, end)
            or _UNIVERSITY_AFTER.match(text, end)
        ):
            return owner.lower()
        return None

    def _country_after(self, text: str, end: int, name: str) -> str:
        """ "Tripoli, Lebanon", "Tripoli, in northern Lebanon": the other country named right
        after a city's name, of which it is a town; or ""."""
        m = _COUNTRY_AFTER.match(text, end)
        if m is None:
            return ""
        words = m.group(1).split(" ")
        for n in range(len(words), 0, -1):
            other = " ".join(words[:n])
            country = self._codes.get(other)
            if country:
                if other in self._cities or country == self._codes.get(name):
                    return ""  # "Nairobi, Quito and Dhaka": a list of cities
                return other
        return ""

    def _office_of(self, text: str, end: int, name: str) -> str | None:
        """ "Georgia's governor", "Georgia lawmakers": the code of the country whose state bears the
        name, if one of a state's offices follows it."""
        owner = self._places.get(name)
        if owner is None or owner == "-":
            return None
        if text[end : end + 3] == "'s ":
            end += 2
        elif text[end : end + 1] != " ":
            return None
        word = (text[end + 1 : end + 20].split(None, 1) or [""])[0].rstrip(".,;:")
        return owner.lower() if word.lower() in _STATE_OFFICES else None

    def _upper(self) -> _Finder:
        """The automaton for all-caps text, built the first time such text is seen."""
        if self._upper_finder is None:
            for name, code in self._codes.items():
                # Two-letter names in capitals ("US") are ordinary words in an all-caps headline.
                if len(name) > 3 or code is None:
                    self._upper_codes.setdefault(name.upper(), code)
            self._upper_names = list(self._upper_codes)
            self._upper_compounds = {name.upper(): rests for name, rests in self._compounds.items()}
            self._upper_infos = [None] * len(self._upper_names)
            self._upper_finder = _Finder(self._upper_names)
        return self._upper_finder

    def _info(self, index: int, caps: bool) -> _Info:
        """What `_scan` asks of the name its automaton (`caps`: the all-caps one) found as
        `index`, once a name: the name, its `_FOREIGN`... bits, its code and the words that
        follow it in its compounds (or None)."""
        if caps:
            name = self._upper_names[index]
            kind, code, rests = 0, self._upper_codes[name], self._upper_compounds.get(name)
        else:
            name = self._names[index]
            kind = (_FOREIGN if name in self._foreign else 0) | (_LOWER if name[:1].islower() else 0)
            code, rests = self._codes[name], self._compounds.get(name)
        first_name = name in self._first_names
        if first_name or (name[:1].isupper() and " " not in name):
            kind |= _PERSON | (_FIRST_NAME if first_name else 0)
        if name in self._languages:
            kind |= _LANGUAGE
        if name in self._places:
            kind |= _PLACE
        if name in self._cities:
            kind |= _CITY
        info = (name, kind, code, rests)
        (self._upper_infos if caps else self._infos)[index] = info
        return info

    def _town_of(self, text: str, end: int, name: str) -> str | None:
        """The code of the country of the town whose name starts with the country's name
        `name` ending at `end`, if the text names a state or province of another country right after it
        ("Mexico, Missouri", "Panama City, Florida", "Jordan Valley, Utah", "Armenia
        (Quindío)"): the town's country. Dictionary look-ups of the next one to four words."""
        if not self._places:
            return None
        if self._place_initials is None:
            self._place_initials = frozenset(place[:1] for place in self._places)
        initials = self._place_initials
        town = False  # whether a word that ends town names came first ("Panama City, Florida")
        after = text[end : end + 2]
        if after == ", " or after == " (":
            if text[end + 2 : end + 3] not in initials:
                return None  # no state or province starts so (in the text below: `words[0]`)
        if after == ", ":
            words = text[end + 2 : end + 64].split("\n", 1)[0].split(" ")[:4]
        elif after == " (":
            words = text[end + 2 : end + 64].split(")", 1)[0].split("\n", 1)[0].split(" ")[:4]
        elif after[:1] == " ":
            # "Jordan Valley, Utah": one word that ends many town names, then a comma
            comma = text.find(", ", end + 1, end + 18)
            if (
                comma < 0
                or text[end + 1 : comma] not in self._place_words
                or text[comma + 2 : comma + 3] not in initials
            ):
                return None
            words = text[comma + 2 : comma + 64].split("\n", 1)[0].split(" ")[:4]
            town = True
        else:
            return None
        country = (self._codes.get(name) or "").upper()
        for n in range(len(words), 0, -1):
            place = " ".join(words[:n]).rstrip(".,;:!?)")
            owner = self._places.get(place)
            if owner is not None:  # a list of countries ("Mexico, Guatemala and Peru") names no town
                if owner == country or self._codes.get(place) is not None or (owner == "-" and not town):
                    return None  # "Kenya, Northern Uganda": a name two countries' provinces bear needs "City"…
                return owner.lower()  # "-": a state or province of that name lies in two countries
        return None

    def _scan(self, text: str, foreign: list, why: Why | None = None) -> set[str | None]:
        """Codes of the names in one folded text. `foreign[0]`: whether names of other languages
        count (True, False, or None: not known yet, decided by `_foreign_counts(*foreign[1:])`
        the first time such a name is found)."""
        caps = text.isupper() and _is_all_caps(text)  # (the first test alone: most texts fail it)
        if caps:
            finder, names, infos = self._upper(), self._upper_names, self._upper_infos
        else:
            finder, names, infos = self._finder, self._names, self._infos
        found: set[str | None] = set()
        data = text.encode()  # (folded: ASCII, so that a byte's offset is its character's)
        candidates = []
        inside: list[tuple[int, int, int]] = []  # (end, start, index) of the names inside a longer word
        length = len(data)
        leaves, wholes = finder.leaves, finder.names
        for leaf, start, _end in finder.automaton.find_matches_as_indexes(data, overlapping=True):
            # the byte before a name is none of a letter, digit, "_", "'" or "." (but the ' of
            # "l'" and "d'"), the byte after none of a letter, digit or "_", nor a "." before one
            within = start and _BEFORE[data[start - 1]] and not _elided(text, start)
            if within and why is None:
                continue  # (every name of the leaf starts there)
            for index in leaves[leaf]:
                whole = wholes[index]
                if not data.startswith(whole, start):
                    continue
                end = start + len(whole)
                if (
                    end < length
                    and (after := _AFTER[data[end]])
                    and (after == 1 or (end + 1 < length and _AFTER[data[end + 1]] == 1))
                ):
                    continue
                if within:
                    inside.append((end, start, index))
                else:
                    candidates.append((start, -end, index))
        if inside and why is not None:
            inside.sort()  # in the order an automaton of the whole names finds them: by end, then start
            for end, start, index in inside:
                if not (infos[index] or self._info(index, caps))[1] & _LOWER:
                    why.append(
                        (
                            names[index],
                            None,
                            f"not taken: part of a longer word ({text[max(0, start - 8) : end]!r})",
                        )
                    )
        if not candidates:
            return found
        if len(candidates) > 1:
            candidates.sort()
        pos = 0
        for start, end, index in candidates:
            if start < pos:
                continue
            end = -end
            name, kind, code, rests = infos[index] or self._info(index, caps)
            if kind & _FOREIGN:
                if foreign[0] is None:
                    foreign[0] = _foreign_counts(*foreign[1:])
                if not foreign[0]:
                    if why is not None:
                        why.append(
                            (
                                name,
                                None,
                                "not taken: a name in another language that is also an English "
                                "word, and the entry is in English",
                            )
                        )
                    continue
            pos = end
            if rests is not None and (compound := self._compound_after(text, end, rests)):
                pos = compound  # "Brussels sprouts": a vegetable, and no word of it names a country
                if why is not None:
                    why.append((text[start:compound], None, "a common noun, not a country (WordNet's compounds)"))
                continue
            if not caps and _may_name_a_town(text, end) and (town := self._town_of(text, end, name)) is not None:
                found.add(None if town == "-" else town)
                if why is not None:
                    why.append(
                        (
                            name,
                            None if town == "-" else town,
                            "a town: followed by a state or province of another country, which counts instead"
                            if town != "-"
                            else "a town: followed by a state or province that two countries name",
                        )
                    )
                continue
            if kind & _CONTEXT:  # (most names: none of these)
                follows = text[end : end + 1]
                if (
                    kind & _PERSON
                    and follows == " "
                    and text[end + 1 : end + 2].isupper()
                    and (person := self._surname_after(text, end, not kind & _FIRST_NAME))
                ):
                    pos = person  # "Jordan Alvarez": a person, and the surname is no place either
                    if why is not None:
                        why.append((text[start:person], None, "a person: a first name and a surname (US census)"))
                    continue
                if kind & _LANGUAGE and _language_use(text, start, end, self._languages):
                    if why is not None:
                        why.append((name, None, "a language here, not a country (the words around it say so)"))
                    continue
                if kind & _PLACE and (state := self._institution_of(text, start, end, name)) is not None:
                    found.add(state)
                    if why is not None:
                        why.append((name, state, "a state of another country: one of its universities"))
                    continue
                if kind & _CITY and follows == "," and (country := self._country_after(text, end, name)):
                    if why is not None:
                        why.append((name, None, f"a town of that name in the country named after it ({country!r})"))
                    continue
                if kind & _PLACE and (state := self._office_of(text, end, name)) is not None:
                    found.add(state)
                    if why is not None:
                        why.append((name, state, "a state of another country: its office follows"))
                    continue
            found.add(code)
            if why is not None:
                if name in self.gazetteer.ambiguous:
                    why.append(
                        (
                            name,
                            None,
                            "names no country in running text: a bigger city elsewhere bears the name "
                            f"(a Countries: line still takes it for {self.gazetteer.names[name]})",
                        )
                    )
                elif caps:
                    why.append(
                        (name, code, "all-caps text" if code else "a phrase that names no country (an exclusion)")
                    )
                elif kind & _FOREIGN:
                    why.append(
                        (
                            name,
                            code,
                            "a name in Spanish, French or Portuguese that is also an English word "
                            "(the entry is not in English)",
                        )
                    )
                elif name in self.gazetteer.foreign:
                    why.append((name, code, "a name in Spanish, French or Portuguese"))
                else:
                    why.append(
                        (
                            name,
                            code,
                            "name, alias, demonym or place (the gazetteer's table)"
                            if code
                            else "a phrase that names no country (an exclusion)",
                        )
                    )
        return found

    def countries_in(self, text: str, *, lower_case: bool = True) -> set[str]:
        """Codes of the countries named in `text`; `lower_case=False` leaves out the names of
        other languages that are also English words ("american")."""
        found = self._scan(fold(text), [lower_case])
        found.discard(None)
        return found  # type: ignore[return-value]

    def tag(self, title: str, body: str, language: str | None = None) -> tuple[str, ...]:
        """Sorted codes for an entry with this title and body, as the build tags it. Names of
        other languages count when the entry's words are not English, or, when its words do not
        say, when `language` (its date line's, its `Language:` line's or the site's) is not."""
        return self._tag(title, body, language, None)

    def explain_entry(self, title: str, body: str, language: str | None = None) -> tuple[tuple[str, ...], Why]:
        """What `tag` returns, and (words, code or None, why) for every name it found and every
        near miss: what `newsletter tag` prints, so that an editor can see why an entry landed where it did."""
        why: Why = []
        codes = self._tag(title, body, language, why)
        taken = {words.casefold() for words, _code, _why in why}
        lower = {n.casefold(): n for n, c in self._codes.items() if c}
        for piece in (title, *body.split("\n\n")):
            folded = fold(piece)
            if _is_all_caps(folded):
                continue
            for word in re.finditer(r"[A-Za-z][A-Za-z'-]+", folded):
                exact = lower.get(word.group().casefold())
                if exact is not None and exact != word.group() and word.group().casefold() not in taken:
                    why.append(
                        (
                            word.group(),
                            None,
                            f"near miss: {exact!r} counts only as written (case matters, "
                            "so that ordinary words such as 'turkey' or 'chad' do not tag)",
                        )
                    )
        return codes, why

    def explain(self, text: str, language: str | None = None) -> Why:
        """`explain_entry` of a text with no title."""
        return self.explain_entry(text, "", language)[1]

    def _tag(self, title: str, body: str, language: str | None, why: Why | None) -> tuple[str, ...]:
        # (folding reads a character at a time: an ASCII body, most bodies, is not read again)
        folded_title = fold(title)
        if body:
            folded_body = fold(body)
            folded = folded_title + "\n\n" + folded_body
        else:
            folded = folded_title
        foreign: list = [None, folded, title, body, language]  # (what `_foreign_counts` reads)
        # (`folded.split("\n\n")` reads every character at 1.5 ns; a title and a body without a
        # line break, most entries, are its pieces, known from two searches for one character)
        if body and "\n" not in folded_title and "\n" not in folded_body:
            pieces = [folded_title, folded_body]
        else:
            pieces = folded.split("\n\n")
        if any(map(str.isupper, pieces)) and any(_is_all_caps(piece) for piece in pieces):
            found: set[str | None] = set()
            for piece in pieces:  # an all-caps headline is matched on its own
                found |= self._scan(piece, foreign, why)
        else:
            found = self._scan(folded, foreign, why)
        found.discard(None)
        return tuple(sorted(found))  # type: ignore[arg-type]

    def resolve(self, value: str) -> tuple[tuple[str, ...], list[str]]:
        """Codes for a `Countries:` value such as "Mexico, PA"; also the names not understood."""
        codes, unknown = [], []
        for item in re.split(r"[,;]", value):
            item = item.strip()
            if not item or item.lower() in ("none", "-", "regional"):
                continue
            code = self.gazetteer.lookup(item)
            if code is None:
                unknown.append(item)
            else:
                codes.append(code.lower())
        return tuple(codes), unknown


class _Finder:
    """Where names may stand in a text: an automaton of their first bytes, each of its patterns
    ("leaves") the first `_PREFIX` bytes of a few names, or more where more than `_SHARED` names
    share them ("Republic of A", "Republic of B"...), or a whole shorter name; `leaves[i]` the
    indexes of the names (`names`, as bytes) that start with pattern `i`, which a match of it is of only
    where the text goes on with one of them (`bytes.startswith`). Of the 6,500 names' 75,000
    bytes, 3,000 patterns: a DFA built in 6 ms that scans an entry in 2 µs (one of the whole
    names takes 34 ms and scans in 2.4 µs, a contiguous NFA 7 ms and 5.3 µs, more out of the
    processor's caches); every name any of them finds, at the same places."""

    def __init__(self, names: list[str], stored: list | None = None) -> None:
        """`stored`: `[_PREFIX, _SHARED, patterns, leaves]` as `finder_table` made them for these
        names (data/gazetteer.marshal holds the bundled names' table: 5 ms of every start)."""
        encoded = [name.encode() for name in names]
        if stored is not None and stored[0] == _PREFIX and stored[1] == _SHARED:
            patterns, self.leaves = stored[2], stored[3]
        else:
            patterns, self.leaves = _leaves(encoded)
        self.automaton = ahocorasick_rs.BytesAhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.DFA)
        self.names = encoded


def _leaves(encoded: list[bytes]) -> tuple[list[bytes], list[list[int]]]:
    """The patterns of `_Finder` for these names (as bytes) and the indexes of the names each one starts."""
    groups: dict[bytes, list[int]] = {}
    for index, name in enumerate(encoded):
        groups.setdefault(name[:_PREFIX], []).append(index)
    leaves: dict[bytes, list[int]] = {}
    todo = []
    for key, group in groups.items():
        if len(group) > _SHARED:
            todo.append((_PREFIX + 1, group))
        else:
            leaves[key] = group
    while todo:  # the first bytes that many names share: one byte more than all of them do
        size, group = todo.pop()
        size = max(size, len(os.path.commonprefix([encoded[index] for index in group])) + 1)
        groups = {}
        for index in group:
            groups.setdefault(encoded[index][:size], []).append(index)
        for key, more in groups.items():
            if len(more) > _SHARED and any(len(encoded[index]) > size for index in more):
                todo.append((size + 1, more))
            else:
                leaves[key] = more
    return list(leaves), list(leaves.values())


def finder_table(names: list[str]) -> list:
    """What `_Finder(names, stored)` takes as `stored` (tools/build_gazetteer.py writes the bundled
    names' into data/gazetteer.marshal)."""
    patterns, leaves = _leaves([name.encode() for name in names])
    return [_PREFIX, _SHARED, patterns, leaves]


_PREFIX = 5
_SHARED = 8


def _foreign_counts(folded: str, title: str, body: str, language: str | None) -> bool:
    """Whether the names of other languages that are also English words count in an entry
    (`folded`: its title and body as `Tagger._tag` folds them): its words are not English, or
    they do not say and `language` is not English."""
    english = is_english(folded)
    if english is None and any(c.isalpha() and not c.isascii() for c in title + body):
        english = False  # no function words, but accented letters ("Familles syriennes relogées")
    return not (language or "").lower().startswith("en") if english is None else not english


@functools.lru_cache(maxsize=256)
def _compound_shape(rests: frozenset[str]) -> tuple[frozenset[str], int, frozenset[str]]:
    """The first words of `rests` (the words after a name in its compounds), the most words
    one of them has (`Tagger._compound_after` reads no further) and the first letters of the
    first words."""
    heads = frozenset(rest.split(" ")[0] for rest in rests)
    return heads, max((rest.count(" ") + 1 for rest in rests), default=0), frozenset(head[:1] for head in heads)


def _language_use(text: str, start: int, end: int, languages: frozenset[str], way: int = 0) -> bool:
    """Whether the language's name at text[start:end] names the language: "-speaking" or a
    word of teaching or translating after it, a verb of speaking before it, or "in"/"into" before
    it at the end of a phrase ("classes in Arabic.") or after a word of teaching ("classes in
    Portuguese for adults"); in a list ("Polish and Romanian interpreters", "into Thai, Burmese
    and Lao") as the other languages of the list (`way`: -1 looks only back, 1 only forward)."""
    if text.startswith(_LANGUAGE_SUFFIX, end):
        return True
    after = (
        text[end + 1 : end + 20].split(None, 1)[0].rstrip(".,;:!?)")
        if text[end : end + 1] == " " and text[end + 1 : end + 2].strip()
        else ""
    )
    if after.lower() in _LANGUAGE_AFTER:
        return True
    if way >= 0 and (listed := _next_in_list(text, end, languages)) is not None:
        if _language_use(text, listed[0], listed[1], languages, 1):
            return True  # "Polish and Romanian interpreters": as the last one
    if way > 0:
        return False
    if text[start - 2 : start] in ("d'", "l'") and text[start].islower():
        return True  # "cours d'allemand", "l'espagnol"
    words = text[max(0, start - 60) : start].split(" ") if text[start - 1 : start] == " " else []
    before = words[-4:-1]
    previous = before[-1].lower() if before else ""
    if previous in _LANGUAGE_LEVEL and len(before) >= 2 and before[-2].lower() in _LANGUAGE_BEFORE:
        before, previous = before[:-1], before[-2].lower()  # "teaches basic Greek"
    if previous in _TEACH:
        # "teach Ukrainian children to read": the children's adjective, not the verb's object
        return not after or after.lower() in _LANGUAGE_PHRASE_END or after.lower().endswith("ly")
    if previous in _LANGUAGE_BEFORE:
        return True
    if text[start].islower() and previous in _FOREIGN_LANGUAGE_BEFORE:
        # "el español Carlos Alcaraz", "o português João": the man, not the language
        return previous not in ("el", "le", "o") or not text[end + 1 : end + 2].isupper()
    if previous.endswith(",") and previous[:-1] in {w.lower() for w in languages}:
        # "into Thai, Burmese and Khmer": as the one before it
        start = start - len(previous) - 1
        return _language_use(text, start, start + len(previous) - 1, languages, -1)
    if previous == "from" and any(w.lower() in _LANGUAGE_BEFORE for w in words[-7:-2]):
        return True  # "translates court papers from Ukrainian"
    if previous in ("in", "into") and (
        end == len(text)
        or text[end] in ".,;:!?)\n"
        or text.startswith((" and ", " or "), end)
        or (len(before) >= 2 and before[-2].lower() in _LANGUAGE_BEFORE | _LANGUAGE_AFTER)
    ):
        return True  # "classes in Arabic.", "fluent in Turkish", "lessons in Portuguese for adults"
    if previous in ("and", "or", "y", "et", "e", "ou") and len(before) >= 2 and before[-2] in languages:
        start = start - len(previous) - len(before[-2]) - 2  # "into Arabic and Spanish": as the first one
        return _language_use(text, start, start + len(before[-2]), languages, -1)
    return False


def _next_in_list(text: str, end: int, languages: frozenset[str]) -> tuple[int, int] | None:
    """The span of the language's name that follows text[:end] in a list (", Romanian", " and
    Romanian", " or Romanian"), or None."""
    m = _LIST_NEXT.match(text, end)
    if m is None or m.group(1) not in languages:
        return None
    return m.start(1), m.end(1)


_LINE_ENDS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines splits
_COMMENT = re.compile(f"#[^{_LINE_ENDS}]*")


def _lines(data: str) -> set[str]:
    """The lines of `data` but empty ones and comments (those that start with "#"): 38,000
    surnames in 4.5 ms, where testing each line took 8 (the comments are found by their "#")."""
    comments = [m.group() for m in _COMMENT.finditer(data) if m.start() == 0 or data[m.start() - 1] in _LINE_ENDS]
    lines = set(data.splitlines())
    lines.difference_update(comments, ("",))
    return lines


def _may_name_a_town(text: str, end: int) -> bool:
    """What `Tagger._town_of` asks first of the text after a name ending at `end`: ", ", " (",
    or a space and ", " within the next 17 characters; it names no town otherwise."""
    after = text[end : end + 2]
    return after == ", " or after == " (" or (after[:1] == " " and text.find(", ", end + 1, end + 18) >= 0)


def _elided(text: str, start: int) -> bool:
    """A name right after French `l'` or `d'` ("l'Algérie", "d'Équateur"): the apostrophe
    (straight or curly, folded to ') belongs to the article, not to the name."""
    if start < 2 or text[start - 1] != "'" or text[start - 2] not in "lLdD":
        return False
    return start == 2 or not text[start - 3].isalnum()


def _is_all_caps(text: str) -> bool:
    return text.isupper() and sum(c.isalpha() for c in text[:64]) >= 4
