"""The answer that needs no LLM: the evidence's own sentences, chosen, ordered and cited.

Sentences (list items, table rows, slide fragments) are scored by how much of the question they
cover: stemmed terms (``ingest.sparse.analyze``) weighted by their rarity among the given
passages, names, numbers and "beslut" counting double, the words that introduce a list item
counting fully and a passage's title, section, headings and paragraph as weaker context. Swedish
inflection and compounds defeat exact stems ("medlem"/"medlemm", "skolan"/"skolhuvudman"), so
stems also match on a long common prefix or as a compound's tail. English questions reach the
Swedish evidence through a small glossary and get the Swedish sentences quoted inside English
framing. Figures from different years are attributed to their document, newest first when the
question asks about now. A question across years or documents ("förändrats mellan 2021 och 2026") gets
each document's best sentence first; a "how" question gets the list of steps under the heading or line
that fits it best (an agenda that restates the question is no such list), or else more sentences. A
glossary entry's Swedish words are alternatives ("samverkan" or "samarbete"), as are a few Swedish
synonyms ("använder" / "nyttjar"); a document's date also matches its month's name ("i juni 2026").
Runs in a few milliseconds.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from stop_words import get_stop_words

from ingest.segmenting import LABEL_LEVEL, plain, segment
from assistant.answering.prompts import REFUSAL
from assistant.query import is_follow_up, wants_latest, years_mentioned
from assistant.schemas import Language, Message, Mode, Passage
from ingest.sparse import analyze

# English domain words (and a few phrases) -> Swedish words as the documents write them; "" drops a word.
GLOSSARY: dict[str, str] = {
    # members and organisation
    "member": "medlem medlemmar", "membership": "medlemskap", "membership fee": "medlemsavgift",
    "municipality": "kommun kommuner", "municipal": "kommunal", "region": "region", "county": "län",
    "association": "förening", "board": "styrelse", "chairman": "ordförande", "chair": "ordförande",
    "chaired": "ordförande", "annual meeting": "årsstämma", "general meeting": "årsstämma stämma",
    "meeting": "möte sammanträde träff", "nomination committee": "valberedning",
    "convener": "sammankallande",
    "auditor": "revisor", "office": "kansli", "seat": "säte", "employee": "anställda medarbetare",
    "staff": "anställda personal", "executive officer": "verkställande tjänsteperson tjänsteman",
    "chief executive": "verkställande tjänsteperson tjänsteman", "officer": "tjänsteperson tjänsteman",
    "ceo": "verkställande", "new": "ny nya",
    "join": "ansluta", "joined": "anslutit nya", "connected": "anslutna anslutit", "leave": "lämna",
    "left": "lämnade", "founded": "startade bildades", "start": "starta startar", "started": "startade",
    # what Sambruk does
    "service": "tjänst tjänster", "e-service": "e-tjänst", "collaboration": "samverkan samarbete",
    "cooperation": "samverkan samarbete", "network": "nätverk", "project": "projekt",
    "school": "skola skolan",
    "pupil": "elev elever", "student": "elev elever", "teacher": "lärare", "library": "bibliotek",
    "citizen": "invånare medborgare", "inhabitant": "invånare", "resident": "invånare",
    "population": "befolkning", "young people": "ungdomar", "activity responsibility": "aktivitetsansvar",
    "platform": "plattform", "open source": "öppen källkod", "tool": "verktyg", "system": "system",
    "support": "support stöd", "security": "säkerhet", "cloud": "moln molntjänst", "website": "webbplats",
    "visitor": "besökare", "digitalisation": "digitalisering", "digitalization": "digitalisering",
    "development": "utveckling", "developed": "utvecklat", "management": "förvaltning",
    "maintenance": "förvaltning", "procurement": "upphandling", "agreement": "avtal", "contract": "avtal",
    "supplier": "leverantör", "provider": "leverantör", "company": "företag bolag", "owner": "ägare",
    "ownership": "ägarskapet", "available": "tillgänglig", "resource": "resurser", "goal": "mål",
    "target": "mål målsättning", "use": "använder används", "used": "används", "uses": "använder",
    "contact": "kontakt kontakta", "question": "frågor", "phone": "telefon telefonnummer",
    "telephone": "telefon telefonnummer", "email": "e-post", "inspiration": "inspiration",
    "area": "område områden",
    # money, plans and minutes
    "budget": "budget", "budgeted": "budget", "fee": "avgift", "cost": "kostnad kostar",
    "price": "pris kostnad", "revenue": "nettoomsättning intäkter", "net revenue": "nettoomsättning",
    "income": "intäkter", "profit": "resultat", "result": "resultat", "average": "genomsnitt medelantalet",
    "transaction": "transaktion", "plan": "plan", "business plan": "verksamhetsplan",
    "operational plan": "verksamhetsplan", "annual report": "verksamhetsberättelse",
    "report": "rapport verksamhetsberättelse", "e-committee": "e-nämnd", "committee": "nämnd",
    "minutes": "protokoll", "decide": "beslutade", "decision": "beslutade", "audit": "granskning",
    # words that only shape an English question
    "offer": "", "described": "", "today": "", "change": "", "changed": "", "compare": "", "number": "",
}
# Swedish question words the documents say otherwise: any of them will do ("använder" / "nyttjar").
_SYNONYMS: dict[str, str] = {
    stems[0]: "|".join(stems) for stems in (analyze(words) for words in (
        "använder nyttjar samverkar anslutna", "genomsnitt medelantalet",
    ))
}
# Words that shape a question rather than name what it is about ("Hur har antalet ... utvecklats"),
# and the association's own name, which every document is about.
_CUE_STEMS = frozenset(analyze(
    "antal antalet utvecklats förändrats ändrats jämfört erbjuder erbjuds beskrivs Sambruk Sambruks"
    " väga tillväga togs tas nämns nämndes"
))
_KEY_STEMS = frozenset(analyze("beslutade"))  # in minutes, the decision is what a question is after
_QUERY_WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé0-9][\w'’-]*")
_SECTION_MARK = re.compile(r"§\s*(\d{1,3})")
_NUMERIC = re.compile(
    r"\b(hur många|hur mycket|hur stor\w*|antal\w*|vilket år|vilket datum|när|how many|how much|number of|"
    r"what year|which year|when)\b", re.I,
)
_NUMBER = re.compile(r"\d|\b(två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo|hundra|tusen)\b", re.I)
_COUNTED = re.compile(r"\d(?:[\d ,.]*\d)?\s+(?:st\s+)?([^\W\d_]+)")
_ANAPHOR = re.compile(r"(Detta|Denna|Dessa|Det|Den|De|Tjänsten|Nätverket|Systemet|Lösningen|Projektet)\b")
_LIST = {
    "sv": re.compile(r"\b(vilka|lista|räkna upp)\b", re.I),
    "en": re.compile(r"\b(list|enumerate)\b|\b(which|what)\s+(?!(?:is|was|are|were|do|does|did|has|have)\b)"
                     r"(?:\w+\s+)?\w+s\b", re.I),
}
# A question across documents or years: a change, a comparison, "both ... and", a span "från 2011 till".
_SPANNING = re.compile(
    r"\b(jämför\w*|utvecklats|förändrats|ändrats|mellan\b.+\boch|både\b.+\boch|från\b.+\btill|"
    r"compar\w*|changed|evolved|developed|between\b.+\band|both\b.+\band|from\b.+\bto)\b", re.I,
)
# A question after a way of doing something: the steps, not a description.
_PROCEDURAL = re.compile(
    r"\b(hur (?:går (?:man|det) till|gör (?:man|vi|jag|en)|startar|ansöker|"
    r"ska\b.+\b(?:etableras|göras|gå till)|"
    r"kan (?:man|vi|jag|en)\b)|vad behöver\b.+\bgöra|steg för steg|"
    r"how (?:do|does|can|should|to)\b|what steps|which steps)", re.I,
)
_INTRO = {"sv": ("Enligt {}:", " och "), "en": ("According to {}:", " and ")}

ALTERNATIVE = "|"  # joins the Swedish stems of one glossary entry into one query term: any of them will do
NAME_WEIGHT = 2.0  # names, numbers and key stems must match: "Provisum", "2011", "§ 16", "beslutade"
UNKNOWN_ENGLISH_WEIGHT = 0.5  # an English word outside the glossary may still be a cognate
HISTORY_WEIGHT = 0.5  # terms of the previous questions, for a follow-up
CONTEXT_WEIGHT = 0.6  # a term found only in the title, section, headings or paragraph around the unit
FUZZY_MATCH = 0.8  # "medlemm" ~ "medlemskommun", "skolan" ~ "skolhuvudman"
COMPOUND_MATCH = 0.6  # "tjänst" as the tail of "samverkanstjänst"
NO_NUMBER = 0.6  # score factor of a unit without a number, for "how many" / "when" questions
UNCOUNTED = 0.85  # ... and of one whose figures count something else than the question asks about
MIN_WORD_SUPPORT = 0.3  # a figure alone ("2030") does not make a sentence about the question's words
RELATIVE_SUPPORT = 0.8  # sentences kept: at least this share of the best sentence's support
LIST_RELATIVE = 0.6  # list items kept: at least this share of the best item's relevance
LIST_VERSUS_SENTENCE = 0.7  # a list answers only if its best item fits about as well as the best sentence
LATEST_BONUS = 0.3  # "i dag", "latest": the newest document's sentences first
SAME_PASSAGE_DECAY = 0.75  # each further sentence from one passage: prefer spreading over sources
MAX_CHARS = 700  # of evidence text; the names of the sources come on top
MAX_LIST_ITEMS = 15
SPANNING_SENTENCES = 6  # a question across documents: one sentence from each, and room for them
SPANNING_RELATIVE = 0.4  # ... where a document's best sentence need only fit 40% as well as the best
PROCEDURAL_RELATIVE = 0.6  # a "how" question without a list of steps: sentences down to this share
STEPS_VERSUS_SENTENCE = 0.7  # a list of steps answers "how" if its intro and steps fit nearly as well
MAX_STEPS = 10
SECTION_OPENING = 2  # a section is judged as a list item by its heading and first sentences
FOLLOW_ON_CHARS = 300  # an answer this short gets the sentence after its best one


@dataclass(frozen=True)
class _Query:
    weights: dict[str, float]  # stem -> weight before rarity
    numeric: bool  # "how many", "when": the answer has a number
    listing: bool
    latest: bool
    section: re.Pattern[str] | None  # "§ 16": only that item of the minutes answers
    spanning: bool = False  # across documents or years: each document's best sentence
    procedural: bool = False  # "how do we ...": the steps


@dataclass(frozen=True)
class _Unit:
    passage: int
    position: int  # index among its passage's spans
    kind: str
    level: int
    start: int
    text: str  # as the answer shows it
    terms: frozenset[str]
    lead: frozenset[str]  # the heading or sentence that introduces a list item or table row
    context: frozenset[str]  # title, section, date, the headings above and the unit's own paragraph
    heading: str  # the nearest heading, to name what "Detta" or "Tjänsten" refers to
    number: bool  # has a figure, in digits or in words


@dataclass
class _Item:
    label: str
    terms: frozenset[str]
    passages: list[int] = field(default_factory=list)


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, max_sentences: int = 4, min_support: float = 0.4, min_similarity: float = 0.3):
        self.max_sentences = max_sentences
        self.min_support = min_support  # share of the question's weighted terms the best sentence covers
        self.min_similarity = min_similarity  # below it no passage is about the question at all

    def answer(self, question: str, passages: list[Passage], *, language: Language) -> str:
        return self._compose(question, passages, language, ())

    def stream(
        self,
        question: str,
        passages: list[Passage],
        *,
        language: Language,
        history: Sequence[Message] = (),
        mode: Mode = "answer",  # a draft is built by the service from this same grounded answer
    ) -> Iterator[str]:
        """The answer cut after each citation group: one sentence or list item per piece."""
        text = self._compose(question, passages, language, history)
        last = 0
        for match in re.finditer(r"\](?!\s*\[)\s*", text):
            yield text[last:match.end()]
            last = match.end()
        if last < len(text):
            yield text[last:]

    def _compose(self, question: str, passages: list[Passage], language: Language,
                 history: Sequence[Message]) -> str:
        refusal = REFUSAL[language]
        query = _query(question, language, history)
        if query.section:  # other items of the minutes say nothing about this one
            passages = [p if query.section.search(p.section) else p.model_copy(update={"text": ""})
                        for p in passages]
        similarity = max((p.similarity for p in passages), default=0.0)
        if not any(p.text.strip() for p in passages) or 0 < similarity < self.min_similarity:
            return refusal
        units = _units(passages)
        weights = _rarity(query.weights, units)
        # a unit must say something, and something the question does not already say
        candidates = [u for u in units if u.kind != "heading" and any(_novel(t, weights) for t in u.terms)
                      and len(u.terms) >= (2 if u.kind == "item" else 3)]
        support = {u: _support(weights, u) for u in candidates}
        words = {q: w for q, w in weights.items() if not q.isdigit()} or weights
        answering = [u for u in candidates if (u.number or not query.numeric)
                     and _support(words, u) >= MIN_WORD_SUPPORT]
        best = max((support[u] for u in answering), default=0.0)
        if best < self.min_support:
            return refusal
        if query.listing:
            items = _list_items(units, weights, best)
            if len(items) >= 2:
                return _format_list(items, passages, language)
        if query.procedural:
            steps = _steps(units, weights, best)
            if steps:
                return _format_list(steps, passages, language)
        floor = (SPANNING_RELATIVE if query.spanning else PROCEDURAL_RELATIVE if query.procedural
                 else RELATIVE_SUPPORT) * best
        kept = [u for u in candidates if support[u] >= floor]
        chosen = self._choose(kept, support, passages, query)
        return _format_sentences(_follow_on(chosen, units), passages, language, query.latest)

    def _choose(self, kept: list[_Unit], support: dict[_Unit, float], passages: list[Passage],
                query: _Query) -> list[_Unit]:
        """Greedy by score; a passage's further sentences and near-repeats count less or not at all."""

        newest = max(_recency(p) for p in passages)

        def score(unit: _Unit) -> float:
            figure = 1.0
            if query.numeric:
                figure = 1.0 if _counts(unit.text, query.weights) else UNCOUNTED if unit.number else NO_NUMBER
            prior = 0.1 * passages[unit.passage].similarity + 0.05 / (1 + unit.passage)
            if query.latest and _recency(passages[unit.passage]) == newest:
                prior += LATEST_BONUS
            return support[unit] * figure + prior

        chosen: list[_Unit] = []
        remaining = list(kept)
        length = 0
        most, limit = self.max_sentences, MAX_CHARS
        if query.procedural:  # no list of steps: the way is told in more sentences
            most, limit = max(most, SPANNING_SENTENCES), MAX_CHARS * 3 // 2
        if query.spanning:  # first each document's best sentence, best documents first
            most, limit = max(most, SPANNING_SENTENCES), MAX_CHARS * 3 // 2
            firsts: dict[str, _Unit] = {}
            for unit in sorted(kept, key=score, reverse=True):
                firsts.setdefault(_document(passages[unit.passage]), unit)
            for unit in list(firsts.values())[:most]:
                if chosen and length + len(unit.text) > limit:
                    continue
                chosen.append(unit)
                remaining.remove(unit)
                length += len(unit.text)
        while remaining and len(chosen) < most:
            used = [u.passage for u in chosen]
            unit = max(remaining, key=lambda u: score(u) * SAME_PASSAGE_DECAY ** used.count(u.passage))
            remaining.remove(unit)
            if any(_jaccard(unit.terms, c.terms) >= 0.7 for c in chosen):
                continue
            if chosen and length + len(unit.text) > limit:
                continue
            chosen.append(unit)
            length += len(unit.text)
        return chosen


def _document(passage: Passage) -> str:
    return passage.file or passage.title


# ------------------------------------------------------------------------------ the question


def _query(question: str, language: Language, history: Sequence[Message]) -> _Query:
    weights = _terms(question, language)
    years = set(years_mentioned(question))
    if len(years) > 1 or (years and wants_latest(question)):  # a span of time: no one year decides
        weights.update({str(year): 1.0 for year in years if str(year) in weights})
    earlier = [m.content for m in history if m.role == "user" and m.content.strip()]
    if earlier and is_follow_up(question, list(history)):
        for text in earlier[-2:]:
            for stem, weight in _terms(text, language).items():
                weights.setdefault(stem, HISTORY_WEIGHT * weight)
    mark = _SECTION_MARK.search(question)
    spanning = len(years) > 1 or bool(_SPANNING.search(question))
    return _Query(weights, bool(_NUMERIC.search(question)), bool(_LIST[language].search(question)),
                  wants_latest(question), re.compile(rf"§\s*{mark.group(1)}\b") if mark else None,
                  spanning, bool(_PROCEDURAL.search(question)))


def _terms(text: str, language: Language) -> dict[str, float]:
    """Stems of a question with their weights."""
    if language == "en":
        return _english_terms(text)
    words = _QUERY_WORD.findall(text)
    names = set(_stems(" ".join(w for i, w in enumerate(words) if _is_name(w, first=i == 0))))
    return _without_cues({_SYNONYMS.get(t, t): NAME_WEIGHT if t in names or t.isdigit() or t in _KEY_STEMS
                          else 1.0 for t in _stems(text)})


def _without_cues(weights: dict[str, float]) -> dict[str, float]:
    """The question's content stems; the cue stems only when there is nothing else ("Vad är Sambruk?")."""
    content = {t: w for t, w in weights.items() if t not in _CUE_STEMS}
    return content or weights


def _english_terms(text: str) -> dict[str, float]:
    """English words -> Swedish stems via the glossary; other content words kept, names at full weight."""
    words = [re.sub(r"['’]s?$", "", w) for w in _QUERY_WORD.findall(text)]
    weights: dict[str, float] = {}
    i = 0
    while i < len(words):
        pair = f"{words[i]} {words[i + 1]}".lower() if i + 1 < len(words) else ""
        word = words[i]
        swedish, weight = _glossary(pair), 1.0
        glossed = True
        if swedish is not None:
            i += 2
        else:
            i += 1
            swedish = _glossary(word.lower())
            if swedish is None:
                glossed = False
                if word.lower() in _english_stop_words():
                    continue
                swedish = word
                name = _is_name(word, first=i == 1) or word.isdigit()
                weight = NAME_WEIGHT if name else UNKNOWN_ENGLISH_WEIGHT
        stems = list(dict.fromkeys(_stems(swedish)))
        if glossed and len(stems) > 1:  # the glossary's words are alternatives: "samverkan samarbete"
            stems = [ALTERNATIVE.join(stems)]
        for stem in stems:
            key = any(s in _KEY_STEMS for s in stem.split(ALTERNATIVE))
            weights[stem] = max(weights.get(stem, 0.0), NAME_WEIGHT if key else weight)
    return _without_cues(weights)


def _glossary(english: str) -> str | None:
    return next((GLOSSARY[k] for k in (english, _singular(english)) if k in GLOSSARY), None)


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def _is_name(word: str, *, first: bool) -> bool:
    return sum(c.isupper() for c in word) > 1 or (word[:1].isupper() and not first)


@lru_cache(maxsize=1)
def _english_stop_words() -> frozenset[str]:
    return frozenset(get_stop_words("english"))


def _stems(text: str) -> list[str]:
    """Analyzer stems without single letters ("e" of "e-nämnd" would match everything)."""
    return [t for t in analyze(text) if len(t) > 1 or t.isdigit()]


# ------------------------------------------------------------------------------ the evidence


def _units(passages: list[Passage]) -> list[_Unit]:
    """Every span of every passage, with what surrounds it: headings, paragraph, introducing line."""
    units = []
    for index, passage in enumerate(passages):
        spans = segment(passage.text)
        raws = [passage.text[s.start:s.end] for s in spans]
        terms = [frozenset(_stems(raw)) for raw in raws]
        paragraphs: dict[int, frozenset[str]] = {}
        for span, t in zip(spans, terms):
            paragraphs[span.line] = paragraphs.get(span.line, frozenset()) | t
        when = f"{passage.date or ''} {_month(passage.date)}"
        base = frozenset(_stems(f"{passage.title} {passage.section} {when}"))
        headings: dict[int, tuple[str, frozenset[str]]] = {}
        lead: frozenset[str] = frozenset()
        previous = None
        for position, (span, raw, own) in enumerate(zip(spans, raws, terms)):
            level = span.level
            if span.kind == "heading" and level == LABEL_LEVEL and previous is not None \
                    and previous.kind == "heading" and previous.level < LABEL_LEVEL:
                level = previous.level + 1  # "§ 8" then its title: the title is not a sibling of "Beslut"
            if span.kind == "heading":
                headings = {lv: h for lv, h in headings.items() if lv < level}
            elif span.kind == "row" and (previous is None or previous.kind != "row"):
                lead = lead | own  # a table's first row names its columns
            nearest = headings[max(headings)][0] if headings else ""
            context = base.union(paragraphs[span.line], *(t for _, t in headings.values()))
            units.append(_Unit(
                index, position, span.kind, level, span.start, plain(raw), own,
                lead if span.kind in ("item", "row") else frozenset(), context, nearest,
                bool(_NUMBER.search(raw)),
            ))
            if span.kind == "heading":
                headings[level] = (_heading_label(plain(raw)), own)
            if span.kind not in ("item", "row"):
                lead = own
            previous = units[-1]
    return units


_MONTHS = ("januari january", "februari february", "mars march", "april", "maj may", "juni june", "juli july",
           "augusti august", "september", "oktober october", "november", "december")


def _month(date: str | None) -> str:
    """The month of an ISO date in words, as a question names it ("i juni 2026" for 2026-06-15)."""
    match = re.match(r"\d{4}-(\d{2})", date or "")
    return _MONTHS[int(match.group(1)) - 1] if match and 1 <= int(match.group(1)) <= 12 else ""


def _heading_label(text: str) -> str:
    return re.sub(r"^(?:\d+(?:\.\d+)*|§\s*\d+)\s+", "", text)


@lru_cache(maxsize=65536)
def _match(q: str, d: str) -> float:
    if q == d:
        return 1.0
    if q.isdigit() or d.isdigit():
        return 0.0
    if d == q + "s" or q == d + "s":  # genitive of a short name: "UKAs", "DSOs"
        return FUZZY_MATCH
    common = len(os.path.commonprefix([q, d]))
    if common >= 4 and common >= min(len(q), len(d)) - 2:
        return FUZZY_MATCH
    return COMPOUND_MATCH if len(q) >= 5 and d.endswith(q) else 0.0


@lru_cache(maxsize=65536)
def _strength(q: str, terms: frozenset[str]) -> float:
    if ALTERNATIVE in q:  # any one of a glossary entry's Swedish words
        return max(_strength(a, terms) for a in q.split(ALTERNATIVE))
    return 1.0 if q in terms else max((_match(q, d) for d in terms), default=0.0)


def _novel(term: str, weights: dict[str, float]) -> bool:
    """A term the question does not already say, not even inflected: what an answer adds ("tjänstekoll" is
    new to a question about "tjänst", "tjänsterna" is not)."""
    return all(q != term and len(os.path.commonprefix([q, term])) < max(len(q), len(term)) - 3
               for key in weights for q in key.split(ALTERNATIVE))


def _rarity(weights: dict[str, float], units: list[_Unit]) -> dict[str, float]:
    """Question weights times an IDF over the passages' units: a term that every sentence has, or sits
    under, decides little."""
    bodies = [u.terms | u.context for u in units if u.kind != "heading"]
    n = len(bodies)
    return {q: w * math.log(1 + (n + 1) / (sum(_strength(q, t) > 0 for t in bodies) + 0.5))
            for q, w in weights.items()}


def _support(weights: dict[str, float], unit: _Unit, terms: frozenset[str] | None = None) -> float:
    """Share of the question's weight a unit covers: its own terms and lead fully, its context less."""
    own = (terms if terms is not None else unit.terms) | unit.lead
    total = sum(weights.values())
    covered = sum(w * max(_strength(q, own), CONTEXT_WEIGHT * _strength(q, unit.context))
                  for q, w in weights.items())
    return covered / total if total else 0.0


def _counts(text: str, weights: dict[str, float]) -> bool:
    """A figure right before a word of the question: "109 medlemmar", "44 kommuner"."""
    return any(_strength(stem, frozenset(_stems(word))) >= FUZZY_MATCH
               for word in _COUNTED.findall(text) for stem in weights)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _follow_on(chosen: list[_Unit], units: list[_Unit]) -> list[_Unit]:
    """A short answer also gets the sentence after its best one ("SVADA – ..." -> "... av RISE")."""
    if not chosen or sum(len(u.text) for u in chosen) > FOLLOW_ON_CHARS:
        return chosen
    top = chosen[0]
    after = next((u for u in units if u.passage == top.passage and u.position == top.position + 1), None)
    if after is None or after.kind == "heading" or after in chosen:
        return chosen
    return [*chosen, after]


# ------------------------------------------------------------------------------ list answers

_Found = tuple[_Unit, str, frozenset[str]]  # the unit, the item's label, the terms judged for relevance


def _list_items(units: list[_Unit], weights: dict[str, float], sentence_best: float) -> list[_Item]:
    """Relevant items across passages, merged; none when a plain sentence answers better.

    Two kinds compete: sibling sections (each passage's shallowest headings that head text, such as
    EGIL, Tillarbetslivet, judged by their opening) and list lines (bullets, line lists, table rows,
    comma enumerations, judged with the line that introduces them); the kind whose best item fits
    the question better wins, list lines on a tie. An item whose label mostly repeats the question
    ("Aktiva nätverk" for "Vilka nätverk är aktiva?") names the category, not a member of it.
    """
    best_kind: list[tuple[float, _Unit, str]] = []
    for found in (_section_items(units), _line_items(units)):
        scored = [(_support(weights, unit, terms), unit, label) for unit, label, terms in found
                  if _adds_to(label, weights)]
        if scored and max(s for s, _, _ in scored) >= max((s for s, _, _ in best_kind), default=0.0):
            best_kind = scored
    top = max((s for s, _, _ in best_kind), default=0.0)
    if top < LIST_VERSUS_SENTENCE * sentence_best:
        return []
    floor = LIST_RELATIVE * top
    return _merge([(unit, label) for s, unit, label in best_kind if s >= floor])


def _steps(units: list[_Unit], weights: dict[str, float], sentence_best: float) -> list[_Item]:
    """The list items that follow the heading or sentence fitting a "how" question best ("Ny samverkan?"
    -> "Idé eller befintlig lösning", ..., "Sondera, skaka hand, besluta och kör!"), judged together with
    what introduces them; none when a plain sentence fits clearly better. A list with an item that
    restates the question is a table of contents or an agenda, not the steps."""
    best: tuple[float, list[_Unit]] = (0.0, [])
    for k, intro in enumerate(units):
        if intro.kind == "item":
            continue
        run = []
        for unit in units[k + 1:k + 1 + MAX_STEPS]:
            if unit.passage != intro.passage or unit.kind != "item":
                break
            run.append(unit)
        if len(run) < 2 or any(_restates(u, weights) for u in run):
            continue  # an item restates the question ("Att starta en ny samverkan"): an agenda, not steps
        fit = _support(weights, intro, intro.terms.union(*(u.terms for u in run)))
        if fit > best[0]:
            best = (fit, run)
    fit, run = best
    if not run or fit < STEPS_VERSUS_SENTENCE * sentence_best:
        return []
    return [_Item(unit.text, unit.terms, [unit.passage]) for unit in run]


def _restates(unit: _Unit, weights: dict[str, float]) -> bool:
    """An item that by its own words covers most of the question and adds at most one word to it."""
    total = sum(weights.values())
    own = sum(w * _strength(q, unit.terms) for q, w in weights.items())
    return total > 0 and own >= 0.5 * total and sum(_novel(t, weights) for t in unit.terms) <= 1


def _adds_to(label: str, weights: dict[str, float]) -> bool:
    terms = _stems(label)
    return bool(terms) and sum(not _novel(t, weights) for t in terms) <= 0.5 * len(terms)


def _section_items(units: list[_Unit]) -> list[_Found]:
    found = []
    for passage in sorted({u.passage for u in units}):
        own = [u for u in units if u.passage == passage]
        leaves = [k for k, u in enumerate(own[:-1]) if u.kind == "heading" and own[k + 1].kind != "heading"]
        if not leaves:
            continue
        level = min(own[k].level for k in leaves)
        for k in (k for k in leaves if own[k].level == level):
            body = []
            for unit in own[k + 1:]:
                if unit.kind == "heading" and unit.level <= level or len(body) == SECTION_OPENING:
                    break
                body.append(unit.terms)
            label = _heading_label(own[k].text)
            if _names_its_subject(label, body):
                found.append((own[k], label, own[k].terms.union(*body)))
    return found


def _names_its_subject(label: str, opening: list[frozenset[str]]) -> bool:
    """A section about a thing ("Provisum"; "Egil" -> "Egil är en ..."; "... – UKA" -> "UKAs syfte"), not
    a topic ("Tillgång till digitala tjänster"): a one-word heading, or one whose name recurs in its
    opening."""
    words = _QUERY_WORD.findall(label)
    if len(words) == 1:
        return True
    names = _stems(" ".join(w for i, w in enumerate(words) if i == 0 or _is_name(w, first=False)))
    return any(_strength(name, terms) >= FUZZY_MATCH for name in names for terms in opening)


def _line_items(units: list[_Unit]) -> list[_Found]:
    found: list[_Found] = []
    for unit in units:
        if unit.kind in ("item", "row"):
            found.append((unit, unit.text, unit.terms))
        elif unit.kind == "sentence":
            intro = frozenset(_stems(unit.text.split(":", 1)[0])) if ":" in unit.text else frozenset()
            found += [(unit, part, frozenset(_stems(part)) | intro) for part in _enumeration(unit.text)]
    return found


def _enumeration(sentence: str) -> list[str]:
    """The parts of "A, B, C och D" (after any "...:" lead-in), when there are three or more short ones."""
    body = sentence.split(":", 1)[-1]
    parts = [p.strip(" .") for p in re.split(r",\s*|\s+(?:och|samt|and)\s+", body)]
    return parts if len(parts) >= 3 and all(0 < len(p.split()) <= 4 for p in parts) else []


def _merge(found: list[tuple[_Unit, str]]) -> list[_Item]:
    """Near-identical items (same first word, one inside the other, mostly shared) become one, citing all."""
    items: list[_Item] = []
    for unit, label in found:
        terms = frozenset(_stems(label))
        same = next((i for i in items if _same_item(i, label, terms)), None)
        if same is None:
            items.append(_Item(label, terms, [unit.passage]))
            continue
        shorter, longer = sorted((label, same.label), key=len)
        if shorter.casefold() not in longer.casefold():  # renamed between documents: "UKA" / "UKAA"
            longer = f"{longer} / {shorter}"
        same.label, same.terms = longer, same.terms | terms
        if unit.passage not in same.passages:
            same.passages.append(unit.passage)
    return items[:MAX_LIST_ITEMS]


def _same_item(item: _Item, label: str, terms: frozenset[str]) -> bool:
    first = _stems(label)[:1] == _stems(item.label)[:1]
    return first or terms <= item.terms or item.terms <= terms or _jaccard(terms, item.terms) >= 0.5


# ------------------------------------------------------------------------------ writing it out


def _source(passage: Passage) -> str:
    """The document as the reader knows it, with its date unless the title already has it, and for minutes
    the item ("§ 10 Grundläggande granskning Älvsbyns kommun"): a decision means little without it."""
    date = passage.date or (str(passage.year) if passage.year else "")
    name = passage.title if not date or date in passage.title else f"{passage.title} ({date})"
    item = passage.section.split(" > ")[0]
    return f"{name}, {item}" if passage.doc_type == "protokoll" and item.startswith("§") else name


def _recency(passage: Passage) -> tuple[str, int]:
    return passage.date or "", passage.year or 0


def _format_list(items: list[_Item], passages: list[Passage], language: Language) -> str:
    intro, conjunction = _INTRO[language]
    sources = list(dict.fromkeys(_source(passages[i]) for item in items for i in item.passages))
    named = ", ".join(sources[:-1]) + conjunction + sources[-1] if len(sources) > 1 else sources[0]
    shown = '"{}"' if language == "en" else "{}"
    lines = [f"- {shown.format(item.label)} " + "".join(f"[{i + 1}]" for i in item.passages)
             for item in items]
    return "\n".join([intro.format(named), *lines])


def _format_sentences(chosen: list[_Unit], passages: list[Passage], language: Language, latest: bool) -> str:
    """Sentences grouped by passage, in document order within one; sources named when years differ (and
    always in English, for "now" questions and for minutes)."""
    by_passage: dict[int, list[_Unit]] = {}
    for unit in chosen:
        by_passage.setdefault(unit.passage, []).append(unit)
    order = list(by_passage)  # most relevant passage first
    if latest:
        order.sort(key=lambda i: _recency(passages[i]), reverse=True)
    years = {passages[i].year or (passages[i].date or "")[:4] for i in order}
    minutes = any(passages[i].doc_type == "protokoll" for i in order)
    attribute = language == "en" or latest or len(years) > 1 or minutes
    parts = []
    for i in order:
        shown = [_shown(u, language) + f" [{i + 1}]" for u in sorted(by_passage[i], key=lambda u: u.start)]
        body = " ".join(shown)
        parts.append(f"{_INTRO[language][0].format(_source(passages[i]))} {body}" if attribute else body)
    return ("\n" if attribute else " ").join(parts)


def _shown(unit: _Unit, language: Language) -> str:
    """The sentence, quoted in English; one that opens with "Detta"/"Tjänsten" is named by its heading."""
    text = f'"{unit.text}"' if language == "en" else unit.text
    return f"{unit.heading}: {text}" if unit.heading and _ANAPHOR.match(unit.text) else text
