"""Loose comparisons between a registry record and what a clinic's site says about itself.

Matching is deliberately forgiving: a false "unrelated" would accuse a clinic wrongly, so
any shared distinctive word, city or disease counts as a match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

from app.verify.models import Location, SiteContext

LocationMatch = Literal["facility", "city", "country", "none", "unknown"]


def normalise(text: str) -> str:
    """Lowercase ASCII words separated by single spaces; accents and possessives dropped."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"['’]s\b", "", text.casefold())  # Parkinson's → parkinson
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _stem(token: str) -> str:
    # Crude plural folding, applied the same way on both sides of every comparison.
    return (
        token[:-1] if len(token) > 4 and token.endswith("s") and not token.endswith("ss") else token
    )


def _words(text: str) -> list[str]:
    return [_stem(token) for token in normalise(text).split()]


def _phrase(text: str) -> str:
    return " ".join(_words(text))


def _contains(haystack: str, needle: str) -> bool:
    """Whole-word containment of one normalised phrase in another."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def _wordset(words: str) -> frozenset[str]:
    return frozenset(_stem(word) for word in words.split())


# Words every clinic, company or hospital name may share; a match needs something rarer.
_GENERIC_NAME_WORDS = _wordset(
    "the and of for at in on by a an de del la le el y "
    "clinic clinics clinica clinique center centre centro centers institute instituto medical "
    "medicine health healthcare regenerative regeneration stem cell cells therapy therapies "
    "therapeutics treatment wellness care group llc inc ltd co corp company pllc pc pa sa gmbh ag "
    "research foundation hospital university college school department faculty national general "
    "international global america usa us new life bio biologics biotech lab labs science sciences "
    "service services spine orthopedic orthopaedic ortho pain joint sports anti aging integrative "
    "functional advanced innovative institutes dr md doctor doctors physician physicians "
    "associates partners practice pharma pharmaceutical pharmaceuticals network trial trials "
    "study saint st www com net org io info"
)
# Words that say nothing about which disease is meant.
_GENERIC_CONDITION_WORDS = _wordset(
    "the of and in with without or to disease diseases disorder disorders syndrome chronic acute "
    "type injury injuries condition conditions pain failure healthy volunteer volunteers adult "
    "adults patient patients severe moderate mild primary secondary early late stage refractory"
)

# Alternative names of one disease; the first phrase names the concept.
_CONDITION_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("rheumatoid arthritis", "ra"),
    ("multiple sclerosis", "ms"),
    ("osteoarthritis", "oa", "degenerative joint disease", "degenerative arthritis"),
    ("copd", "chronic obstructive pulmonary disease", "emphysema", "chronic bronchitis"),
    ("amyotrophic lateral sclerosis", "als", "lou gehrig", "motor neuron disease"),
    ("parkinson", "parkinson disease", "parkinsonism"),
    ("alzheimer", "alzheimer disease", "dementia"),
    ("autism", "asd", "autism spectrum disorder"),
    ("spinal cord injury", "sci"),
    ("traumatic brain injury", "tbi"),
    ("heart failure", "chf", "congestive heart failure", "cardiomyopathy"),
    ("diabetes", "diabetes mellitus", "t1d", "t2d", "t1dm", "t2dm"),
    ("chronic kidney disease", "ckd", "kidney failure", "renal failure"),
    ("lupus", "sle", "systemic lupus erythematosus"),
    ("inflammatory bowel disease", "ibd", "crohn", "crohn disease", "ulcerative colitis"),
    ("macular degeneration", "amd", "age related macular degeneration"),
    ("stroke", "cerebrovascular accident", "cva"),
    ("erectile dysfunction", "ed"),
    ("graft versus host disease", "gvhd"),
    ("cerebral palsy", "cp"),
)
_CONCEPTS = tuple(tuple(_phrase(name) for name in names) for names in _CONDITION_SYNONYMS)

# Country spellings the registry and clinic sites use differently; the key is the registry's.
_COUNTRY_ALIASES = {
    _phrase(country): tuple(_phrase(alias) for alias in aliases)
    for country, aliases in {
        "United States": ("usa", "us", "u s", "u s a", "united states of america"),
        "United Kingdom": ("uk", "u k", "great britain", "britain", "england", "scotland"),
        "Korea, Republic of": ("south korea", "korea"),
        "Russian Federation": ("russia",),
        "United Arab Emirates": ("uae", "u a e"),
        "Iran, Islamic Republic of": ("iran",),
        "Czechia": ("czech republic",),
    }.items()
}

_ACADEMIC_CLASSES = frozenset({"NIH", "FED", "OTHER_GOV"})
_ACADEMIC_NAME = re.compile(
    r"\b(?:universi\w*|college|hospital\w*|hopital|ospedale|klinikum|academ\w*"
    r"|school of medicine|medical school|faculty of medicine|institutes? of health)\b"
)

_TREATMENT = (
    r"(?:treatments?|therapy|therapies|procedures?|cells?|stem cells?|injections?|infusions?"
    r"|products?|interventions?|participation|study (?:treatment|product|drug))"
)
# Pay-to-participate wording (Turner, Regenerative Medicine 2017). Each pattern needs the money
# to go from the participant towards the treatment, so "travel costs" alone does not count.
_PATIENT_PAYS = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(?:patient|self|participant)[\s-](?:funded|financed|pay)\b",
        r"\bpay[\s-]to[\s-]participate\b",
        r"\b(?:participants?|patients?|subjects?|volunteers?)\s+(?:\w+\s+){0,3}?"
        r"(?:pay|pays|paying|cover|covers|bear|bears)\s+(?:\w+\s+){0,5}?"
        rf"(?:{_TREATMENT}|fees?)\b",
        rf"\b(?:cost|costs|price|fees?)\s+of\s+(?:\w+\s+){{0,3}}?{_TREATMENT}\s+(?:\w+\s+){{0,3}}?"
        r"(?:is|are|will be)\s+(?:\w+\s+){0,2}?(?:responsibility|borne|paid|covered)\s+(?:of|by)"
        r"\s+(?:the\s+)?(?:participants?|patients?|subjects?)\b",
        r"\b(?:participants?|patients?|subjects?)\s+(?:\w+\s+){0,2}?"
        rf"(?:responsible|charged|billed)\s+for\s+(?:\w+\s+){{0,4}}?{_TREATMENT}\b",
        r"\bat\s+(?:the\s+)?(?:participant|patient|subject)s?(?:['’]s?)?\s+(?:own\s+)?"
        r"(?:expense|cost)\b",
    )
)
_NEGATION = re.compile(r"\b(?:no|not|never|without|neither|nor|free)\b|n['’]t\b")


def distinctive_words(text: str, ignore: Iterable[str] = ()) -> set[str]:
    """Words of a name that could tell one organisation from another."""
    skip = _GENERIC_NAME_WORDS | set(ignore)
    return {w for w in _words(text) if len(w) >= 3 and not w.isdigit() and w not in skip}


def names_match(
    site_names: Sequence[str], others: Iterable[str | None], *, ignore: Iterable[str] = ()
) -> bool | None:
    """Whether a site name shares a distinctive word with any of ``others``.

    ``ignore`` holds words to disregard, such as the clinic's city: "Miami Stem Cell" and
    "University of Miami" share only a place. ``None`` when either side has nothing to compare.
    """
    ignored = set(ignore)
    mine = set().union(*(distinctive_words(name, ignored) for name in site_names))
    theirs = set().union(*(distinctive_words(other, ignored) for other in others if other))
    if not mine or not theirs:
        return None
    return bool(mine & theirs)


def place_words(places: Iterable[str]) -> set[str]:
    """Every word of the site's place strings (to keep city names out of name matching)."""
    return {word for place in places for word in _words(place)}


def _countries(places: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for place in places:
        phrase = _phrase(place)
        found.add(phrase)
        found.add(_phrase(place.rsplit(",", 1)[-1]))  # "Cancún, Mexico" → mexico
        for country, aliases in _COUNTRY_ALIASES.items():
            if any(_contains(phrase, name) for name in (country, *aliases)):
                found.add(country)
    return found


def _country(name: str) -> str:
    phrase = _phrase(name)
    for country, aliases in _COUNTRY_ALIASES.items():
        if phrase in aliases:
            return country
    return phrase


def match_location(site: SiteContext, locations: Sequence[Location]) -> LocationMatch:
    """The closest tie between the trial's sites and the clinic: its name, city or country."""
    if not locations or not (site.places or site.names):
        return "unknown"
    facilities = [location.facility for location in locations]
    if names_match(site.names, facilities, ignore=place_words(site.places)):
        return "facility"
    if not site.places:
        return "unknown"
    places = [_phrase(place) for place in site.places]
    for location in locations:
        city = _phrase(location.city or "")
        if city and any(_contains(place, city) or _contains(city, place) for place in places):
            return "city"
    countries = _countries(site.places)
    if any(location.country and _country(location.country) in countries for location in locations):
        return "country"
    return "none"


def _condition_terms(condition: str) -> set[str]:
    phrase = _phrase(condition)
    concepts = {names[0] for names in _CONCEPTS if any(_contains(phrase, n) for n in names)}
    words = {w for w in phrase.split() if len(w) >= 3 and w not in _GENERIC_CONDITION_WORDS}
    return concepts | words


def conditions_match(
    site_conditions: Sequence[str], trial_conditions: Sequence[str]
) -> bool | None:
    """Whether the trial studies a disease the site sells treatment for (``None``: unknown)."""
    if not site_conditions or not trial_conditions:
        return None
    mine = set().union(*(_condition_terms(condition) for condition in site_conditions))
    theirs = set().union(*(_condition_terms(condition) for condition in trial_conditions))
    return bool(mine & theirs)


def is_academic(sponsor: str | None, sponsor_class: str | None) -> bool:
    """A government sponsor, or an ``OTHER`` sponsor named like a university or hospital."""
    if sponsor_class in _ACADEMIC_CLASSES:
        return True
    return sponsor_class == "OTHER" and bool(sponsor and _ACADEMIC_NAME.search(normalise(sponsor)))


def is_patient_funded(*texts: str | None) -> bool:
    """Whether a description says participants pay for the treatment they receive."""
    for text in texts:
        if not text:
            continue
        flat = " ".join(text.casefold().split())
        for pattern in _PATIENT_PAYS:
            for match in pattern.finditer(flat):
                # "Participants will not pay for the cells" and "at no cost" must not count.
                if not _NEGATION.search(flat[max(0, match.start() - 20) : match.end()]):
                    return True
    return False
