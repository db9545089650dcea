"""Evidence: which answer units of the retrieved passages answer the question, chosen by the model.

Every unit (sentence, list item, table row, slide fragment; see ``ingest.segmenting``) carries its
cosine to the question, computed by retrieval with the query vector it already had. Selection adds
only structure that holds for any question: a list question is answered by the items or child
headings that fit it, each once, newest document first, or by what stands under a heading that names
the list (a report's chapter it names, with what every document says of that chapter: ``join_chapter``,
once the service has searched each document for it); a "how many / when" question by a unit that
holds a figure about what it names; a "which / who" answer goes on until it names something the
question did not; a second document that fits nearly as well as the best one is heard too, and a
second question asked in the same sentence ("..., och vad betalar en ny medlem?") by its own nearest
unit. The refusal is decided by signals that do not depend on wording: the best unit's cosine,
whether the evidence holds the names and years the question asks about, whether a figure counts what
the question counts (an English question's noun meets the Swedish words around a figure through the
model: ``likeness``), and whether it names anyone new when someone is asked for. Every cut-off is a
setting (``AnswerSettings``), chosen on the dev split. Pure functions; the model is called only through
what the caller passes in (``heading_scores``, ``later``, ``likeness``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import takewhile
from typing import Literal

import numpy as np

from assistant.query import (
    ISO_DAY,
    MONTH_NAMES,
    asks_cost,
    asks_date,
    asks_day,
    asks_how,
    asks_list,
    asks_name,
    asks_quantity,
    asks_who,
    counted,
    counted_english,
    day_written,
    days_mentioned,
    listed_noun,
    names_in,
    rates,
    wants_latest,
    who_and_what,
    years_mentioned,
)
from assistant.schemas import DocumentMeta, Language, Passage
from assistant.settings import AnswerSettings
from ingest.language import detect_language
from ingest.screening import INSTRUCTION
from ingest.segmenting import LABEL_LEVEL, figure_columns, plain, points_back, row_run, table_heads
from ingest.sparse import analyze

Shape = Literal["sentences", "list", "refusal"]
HeadingKey = tuple[str, str]  # (document title, heading label)
HeadingScores = Callable[[list[HeadingKey]], Mapping[HeadingKey, float]]  # headings -> their cosines
Likeness = Callable[[str, list[str]], Sequence[float]]  # a phrase (as a query), texts -> their cosines
HOME_ORGANISATION = DocumentMeta.model_fields["organisation"].default  # whose documents these mostly are
_MONTHS = r"(?:jan|feb|mar|apr|maj|may|jun|jul|aug|sep|okt|oct|nov|dec)[a-z]*\b"
# A day of a month: "2010-03-17", "17 mars", "16:e december", "December 16"
_CALENDAR = re.compile(
    rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}|\b\d{{1,2}}(?::[ae])?\s+{_MONTHS}|\b{_MONTHS}\s+\d{{1,2}}\b",
    re.IGNORECASE)
# What a "when" question is answered by: a year, a day of a month, or a month ("Arbetet startar i mars");
# any digit is not ("Föreningen Sambruk 1" is a slide's number)
_DATE = re.compile(rf"(?<!\d)(?:19|20)\d\d(?!\d)|\b(?:{MONTH_NAMES})\b", re.IGNORECASE)
_MONEY = re.compile(r"\d\s?(?:kr|kronor|sek|öre|tkr|mkr|msek|€|euro|eur)\b|(?:sek|€)\s?\d", re.IGNORECASE)
# An amount: a figure that is not a year nor part of a name ("OS2"), or a number written out ("tre
# personer"; "en" and "ett" are articles too)
_NUMBER_WORDS = (r"två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo|hundra|tusen|"
                 r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand")
_AMOUNT = re.compile(rf"(?<![\w/-])(?!(?:19|20)\d\d(?![\d ]\d))\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
# A count of something: a figure that is no year, or a number word, and the three words after it, among
# which what it counts ("4 nya kommuner", "ytterligare 6 kommuner", "tre personer")
_COUNT = re.compile(rf"(?:(?<![\w/-])(?!(?:19|20)\d\d\b)\d[\d ]*|\b(?:{_NUMBER_WORDS}))"
                    rf"\s+((?:[\w-]+\s+){{0,2}}[\w-]+)", re.IGNORECASE)
_FIGURES = re.compile(r"[-–]?\s?\d[\d\s,.%]*")
_ROW_PHRASE_CHARS = 120  # a row's label and the start of its context: the head and heading come first
# A footnote's web address ("¹ https://www.gartner.com/.../top-strategic-technology-trends-for-2026"): it
# names where a claim comes from, and its words (often English) say nothing the text does not
_REFERENCE = re.compile(r"[\d¹²³⁴⁵⁶⁷⁸⁹⁰*]*\s*(?:https?://|www\.)\S+")
# A passive verb's agent: who does what the sentence says ("ska granskas årligen av ...", "drivs av",
# "approved by"); a noun in -s ("analys av skoldata", "process", "fokus", "kris") has no agent
_AGENT = re.compile(r"\b\w{2,}(?<![suyi])s\s+(?:\w+\s+)?av\s+\w|\b\w{3,}ed\s+by\s+\w", re.IGNORECASE)
_SECTION_MARK = re.compile(r"§\s*\d+")
_BARE_WORDS = 4  # "Drivs av Alingsås." (3); dev, test and the English probe unmoved, fresh 12-02d +1
# A decision in minutes stands under its organ's "beslut": "E-nämndens beslut", "Kommunfullmäktiges beslut"
_DECISION = re.compile(r"^\S+s beslut$", re.IGNORECASE)
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|§\s*\d+)\s+")
_CHAPTER = re.compile(r"^\d+(?:\.\d+)*\.?\s+\D")  # "5.6 Skola": a report's numbered chapter, no slide or §


@dataclass(frozen=True)
class Unit:
    passage: int  # index into the passages
    index: int  # index among the passage's units
    start: int  # offsets into passage.text
    end: int
    kind: str
    level: int
    score: float  # cosine to the question
    text: str  # as an answer shows it
    context: str = ""  # the headings it stands under: what it is about
    label: str = ""  # the innermost of them, as a reader would name what the unit is about


@dataclass
class Item:
    """One entry of a list answer: a list item or table row, or a child heading with its opening."""

    label: str
    score: float
    units: list[Unit]  # what the entry is quoted from
    passages: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Chapter:
    """A numbered chapter a list question names ("5.6 Skola" for "... för skolor?"): its sections are
    entries by their place, and the other documents are asked what they say of it (``join_chapter``)."""

    label: str
    doc_id: str


@dataclass(frozen=True)
class Evidence:
    shape: Shape
    units: list[Unit] = field(default_factory=list)  # sentences shape: in answer order
    items: list[Item] = field(default_factory=list)  # list shape
    best: float = 0.0  # the best unit's cosine (for diagnostics and the refusal)
    reason: str = ""  # why it refused
    chapter: Chapter | None = None  # list shape: the chapter the list is from, when the question names it


def shown(unit: Unit, passages: Sequence[Passage]) -> str:
    """A unit as an answer writes it: a table row with its figures told apart, as its table reads them
    ("Piteå | 74 000 | 53 000 | 145 200"); the text gives its cells one space apart."""
    if unit.kind != "row":
        return unit.text
    return figure_columns(unit.text, row_run(passages[unit.passage].text, unit.start))


def passage_units(passages: list[Passage], question: str = "", lexical_weight: float = 0.0) -> list[Unit]:
    """Every unit of every passage with its score: the cosine to the question, plus ``lexical_weight``
    times the share of the question's stems (IDF-weighted over these units) the unit and its heading
    hold (with its document's title where the question names that document: ``_scope``): the cosine says
    what a unit is about, the stems which unit names what was asked. Passages without unit vectors (none
    indexed) give none."""
    spans, stems, asked = [], [], set(analyze(question))
    titles = {passage.title: set(analyze(passage.title)) for passage in passages}
    for p, passage in enumerate(passages):
        if passage.unit_scores is None:
            continue
        heading, own_section = "", _path(passage)[-1]
        scope = _scope(passage.title, titles, asked)
        items: dict[int, str] = {}  # the latest list item of each nesting level
        texts = [plain(passage.text[max(0, start - passage.start):max(0, end - passage.start)])
                 for start, end, _, _ in passage.units]
        heads = table_heads([(kind, text)
                             for (_, _, kind, _), text in zip(passage.units, texts, strict=True)])
        for k, (start, end, kind, level) in enumerate(passage.units):
            lo, hi = start - passage.start, end - passage.start
            if lo < 0 or hi > len(passage.text):
                continue  # a unit of a neighbour chunk's overlap that this passage does not hold
            if kind == INSTRUCTION:
                continue  # it speaks to the assistant: never evidence (ingest.screening)
            text = texts[k]
            if kind == "heading":
                heading, items = text, {}
            elif kind == "item":
                items = {depth: item for depth, item in items.items() if depth < level} | {level: text}
            # a nested item stands under the items above it as under a heading ("Datacenter Norrbotten" /
            # "Grundplattformen 1 208 400 kr för 2023."), a table row under the line naming its columns
            head = " ".join(texts[j] for j in heads[k])
            over = " ".join(item for depth, item in sorted(items.items()) if depth < level) \
                if kind == "item" else head
            spans.append((p, k, lo, hi, kind, level, float(passage.unit_scores[k]), text,
                          f"{over} {heading} {passage.section}".strip(), heading or own_section))
            # what it and its heading say, and a row's head (a nested item's parents are not: test -1, t043)
            stems.append(set(analyze(f"{text} {heading} {passage.section} {head}")) | scope)
    weights = _idf(asked, stems)
    total = sum(weights.values()) or 1.0
    return [Unit(p, k, lo, hi, kind, level,
                 score + lexical_weight * sum(w for t, w in weights.items() if t in own) / total, text,
                 context, label)
            for (p, k, lo, hi, kind, level, score, text, context, label), own
            in zip(spans, stems, strict=True)]


def _scope(title: str, titles: Mapping[str, set[str]], asked: set[str]) -> set[str]:
    """The stems of a document's title (``titles`` holds those of every retrieved document), where the
    question names the document by a word of its title that no other document's title holds, a year aside
    ("enligt verksamhetsplanen för 2026"): then "Sambruk" and "2026" say where to look, which every unit
    of that plan is, not which of its units answers."""
    others = {t for other, stems in titles.items() if other != title for t in stems}
    return titles[title] if asked & {t for t in titles[title] - others if not t.isdigit()} else set()


def _idf(terms: set[str], documents: list[set[str]]) -> dict[str, float]:
    n = len(documents)
    return {t: math.log(1 + (n + 1) / (sum(t in d for d in documents) + 0.5)) for t in terms}


def select(question: str, passages: list[Passage], settings: AnswerSettings, *,
           language: Language | None = None, draft: bool = False,
           heading_scores: HeadingScores | None = None, later: Sequence[np.ndarray] = (),
           likeness: Likeness | None = None,
           embed_query: Callable[[str], np.ndarray] | None = None) -> Evidence:
    """The evidence for an answer; a staff draft (``draft``) gets room for more of it (and, from
    retrieval, only the documents that ``concerns`` admits). ``heading_scores`` gives headings' cosines
    to the question, where the caller can embed them: an English question about one item of the minutes
    meets the item's Swedish headings ("E-nämndens beslut") only through the model (a Swedish one
    through its stems), and ingest gives headings their chunk's vector, not their own. ``later`` holds
    the query vectors of the questions the question asks after its first (``later_questions``).
    ``likeness`` gives a phrase's cosines to short texts, where the caller can embed them: what an English
    question counts meets the Swedish words around a figure only through the model. ``embed_query`` gives
    a question's vector, where the caller can embed it: whether "which X" asks for someone."""
    language = language or detect_language(question)
    asked_question, question = question, _compounds_parted(question, passages)
    if language == "en" and likeness and settings.translated_name_similarity > 0:
        question = _names_translated(question, passages, likeness, settings)
    units = passage_units(passages, question, settings.lexical_weight)
    if draft:
        settings = settings.model_copy(update={"max_units": settings.draft_max_units,
                                               "max_chars": settings.draft_max_chars})

    def answering(candidates: list[Unit]) -> list[Unit]:  # a formal reply does not quote exclamations
        return [u for u in candidates if u.kind != "heading" and len(u.text) >= settings.min_unit_chars
                and not (draft and u.text.endswith("!")) and not _REFERENCE.fullmatch(u.text)
                and not _titles(u, passages)]

    content = answering(units)
    if not content:
        return Evidence("refusal", reason="no passage holds a sentence")
    content.sort(key=lambda u: u.score, reverse=True)
    best = content[0].score
    floor = similarity_floor(settings, language)
    if best < floor:
        return Evidence("refusal", best=best, reason=f"best unit {best:.2f} < {floor}")
    # A year, name or item the question asks about must be in a unit that is about the question too:
    # a question about one topic in year Y is not answered by a year-Y goal of another topic.
    near = best - _anchor_margin(question, settings)
    missing = [a for a in _anchors(question)
               if not any(_holds(u, a, passages, around=True) and u.score >= near for u in content)]
    if missing:
        return Evidence("refusal", best=best, reason=f"no unit close to the question mentions {missing}")
    if marks := _SECTION_MARK.findall(question):  # "§ 16": that item of the minutes, no other, lists too
        units = [u for u in units if any(_holds(u, m, passages) for m in marks)]
        if heading_scores and settings.heading_weight and language == "en":
            scores = heading_scores(sorted({_heading_key(u, passages) for u in units if u.label}))
            units = _weighed(units, passages, scores, settings.heading_weight)
        content = sorted(answering(units), key=lambda u: u.score, reverse=True)
        if not content:
            return Evidence("refusal", best=best, reason=f"no passage of {marks}")
        best = content[0].score  # what follows is measured from the best unit of the item, as weighed
    # A figure asked for must be in a unit close to the question that is about what it names and
    # counts: a count of one platform's followers does not answer for another platform; and about a
    # year it names: the 2022 budget's rows do not say what the budget was in 2021 (probes +1, +1, dev
    # and test unchanged).
    asked = names_in(question)
    names, noun = asked + days_mentioned(question), counted(question)
    years = [str(y) for y in years_mentioned(question)]
    per = rates(question) if language == "sv" else []  # English meets "invånare" only through the model
    reach = _paragraph_reach(content, passages)
    figure = _figure(question)
    each = any if _side_by_side(question) else all  # "A och B": a figure about either
    if (asks_quantity(question) or noun) and not any(
            figure(u) and reach(u) >= best - settings.figure_margin
            and each(_holds(u, n, passages, around=True) for n in names)
            and (not years or any(_holds(u, y, passages, around=True) for y in years))
            and all(_holds(u, r, passages, around=True) for r in per)
            and (noun is None or _counts(u, noun, passages)) for u in content):
        about = [*names, *([noun] if noun else []), *per]
        return Evidence("refusal", best=best, reason=f"no figure close to the question is about {about}")
    # "How many e-book loans ...?" is not answered by "för barn mellan 6 - 12 år": the figure must count
    # what the question counts, which an English question names in another language than the text
    counted_en = counted_english(question) if likeness and language == "en" else None
    if counted_en and settings.counted_similarity > 0:
        close = [u for u in content if figure(u) and reach(u) >= best - settings.figure_margin]
        phrases = [p for u in close[:settings.counted_phrases] for p in _figure_phrases(u)]
        if phrases and max(likeness(counted_en, phrases)) < settings.counted_similarity:
            return Evidence("refusal", best=best,
                            reason=f"no figure close to the question counts {counted_en!r}")
    if asks_list(question):
        chapter = named_chapter(question, units, passages)
        # an entry is about what the question names: it, its paragraph or a heading it stands under names it
        # ("Vilka trender lyfter Gartner fram?" is not answered by the plan's goals)
        items = [i for i in list_items(units, passages, settings)
                 if all(any(_holds(u, n, passages, around=True) for u in i.units) for n in asked)]
        if items:
            listed = heading_list(question, units, passages, settings, max(i.score for i in items))
            items = _across(listed, items, passages, settings, chapter) if listed else items
            items = _nested_under_named(items, asked, units) or items
        if len(items) >= settings.min_list_entries:
            # A list of sections (services, networks), or of lines inside the chapter the question names,
            # is completed from that chapter; a list of lines elsewhere is what its heading gives ("1.2.2
            # Samband med andra organisationer" lists organisations, and "5 Organisation" has nothing to add).
            if chapter and any(_is_line(i) and not _inside(i, chapter, passages) for i in items):
                chapter = None
            # A list written as a sentence ("A, B, C och D") leads it when it fits better than every entry,
            # or when the best unit's passage writes it and it names more than the entries found ("Vilka
            # organisationer medverkar i Digidelnätverket?": the bullet points are campaigns), unless the
            # list is a chapter's and written outside it ("Sambruks tjänster är indelade i de tre områdena
            # Skola, ..." names the chapters, not what "5.6 Skola" holds); names written inside are what
            # the chapter lists ("5.4.1 Bibblix": "Användande kommuner:" ... "Stockholm, Malmö, ...").
            prose = next((u for u in content if enumerated(u.text)), None)
            if prose is None or prose.score <= max(i.score for i in items):
                listing = _lead_listing(content, units, settings)
                prose = listing if listing and enumerated(listing.text, names=True) > len(items) else None
            if prose is not None:
                whole = [prose, *_listing_on(prose, units, passages)]
                written = Item(" ".join(u.text for u in whole), prose.score, whole, [prose.passage])
                if chapter is not None and enumerated(prose.text, names=True) \
                        and _inside(written, chapter, passages):
                    chapter = None
                if chapter is None:
                    items = [written, *items][:settings.max_items]
            items = _lines_whole(items, units, passages)
            return _covered(question, language, passages,
                            Evidence("list", items=items, best=best, chapter=chapter), settings)
    # A way of doing something that a heading the question names lists step by step ("Ny samverkan?":
    # idea, offer, "Sondera, skaka hand, besluta och kör!") is those steps, in order (dev +0.01; a
    # named heading without the margin: dev -0.01).
    steps = asks_how(question) and heading_list(question, units, passages, settings, best, named_only=True)
    if steps:
        steps = [_with_points(step, units) for step in steps]
        return _covered(question, language, passages, Evidence("list", items=steps, best=best), settings)
    chosen = _sentences(question, content, units, passages, settings, reach, figure, later)
    chosen = _rows_named(chosen, asked)
    # what the item of the minutes decided, before the lists the answer's sentences announce take the room
    # (§ 8 quotes the audit's findings as a list: English probe and fresh 12-02e +1 each)
    if not asks_quantity(question):
        chosen += _decided(question, chosen, units, passages, settings)
    chosen += _announced(chosen, units, settings)
    # one thing is asked for, unless the question asks a second ("när skulle X, och när skulle Y?": two
    # items of the plan's timeline, which the rest of it puts in order)
    if not ((asks_quantity(question) and not later) or asks_name(question) or asks_who(question)):
        chosen += _siblings(chosen, units, settings)
    chosen += _item_rest(chosen, units, passages, settings)
    chosen += _continued(question, chosen, units, settings)
    chosen += _parents(chosen, units, settings)
    # someone asked for ("vem", or "vilken X" where the model reads it so) is named by a unit as close to
    # the question as a figure asked for must be, or said by its agent ("granskas årligen av alla ingående
    # parter", "was approved by the board")
    if not any(_names_anyone(u, question) for u in chosen if reach(u) >= best - settings.figure_margin) \
            and (asks_who(question) or _asks_someone(asked_question, embed_query, settings)):
        return Evidence("refusal", best=best, reason="someone is asked for and the evidence names no one new")
    # "Vilka kommuner anslöt under 2025?" is not answered by "i 2025 anslöt 4 nya kommuner": a list that
    # the evidence counts and names none of
    asked_for = listed_noun(question)
    if asked_for and any(_counts_only(u, asked_for) for u in chosen) \
            and not any(_new_names(u, question) for u in chosen):
        return Evidence("refusal", best=best, reason=f"the evidence counts the {asked_for} and names none")
    chosen += _referred(chosen, units, settings)  # after the check: what it adds only goes on with a unit
    chosen += _antecedents(chosen, units, passages, settings)
    return _covered(question, language, passages, Evidence("sentences", units=chosen, best=best), settings)


def _asks_someone(question: str, embed_query: Callable[[str], np.ndarray] | None,
                  settings: AnswerSettings) -> bool:
    """A "which X" question the model finds nearer to itself asked with "who" than with "what": X is
    someone (a firm, a supplier, a party), whom the answer must name, not something (a figure, a choice,
    a way), which the evidence may say without a name. Two model calls, asked only of such a question
    whose evidence names no one (its own vector is retrieval's, cached)."""
    asked = who_and_what(question) if embed_query and settings.someone_margin is not None else None
    if asked is None:
        return False
    vector = embed_query(question)
    who, what = (float(embed_query(q) @ vector) for q in asked)
    return who - what > settings.someone_margin


def _compounds_parted(question: str, passages: list[Passage]) -> str:
    """A name the passages hold only as a part of the question's compound ("Norrbottenskommunerna": the
    passages write "Norrbottens kommuner") is asked as its parts: the name, then the word it qualifies."""
    names = names_in(question)
    if not names:  # most questions: no passage text to fold
        return question
    said = " " + _fold(" ".join(f"{p.title} {p.text}" for p in passages))
    for name in names:
        if _mentions(said, name):
            continue
        for cut in range(len(name) - 4, 3, -1):
            head, rest = name[:cut], name[cut:]
            if rest[0].islower() and re.search(rf"\b{re.escape(_fold(head))}\b", said) \
                    and " " + _fold(rest)[:max(4, len(rest) - 3)] in said:
                question = question.replace(name, f"{head} {rest}")
                break
    return question


def _names_translated(question: str, passages: list[Passage], likeness: Likeness,
                      settings: AnswerSettings) -> str:
    """A name of an English question that no passage holds ("Sweden", "Denmark": the text writes
    "Sveriges", "Danmark") is asked as the name, in a unit close to the question, that the model reads as
    the same: else no unit would hold it, and the question would be refused for it."""
    said = _fold(" ".join(f"{p.title} {p.text}" for p in passages))
    missing = [n for n in names_in(question) if not _mentions(said, n)]
    units = passage_units(passages) if missing else []
    best = max((u.score for u in units), default=0.0)
    close = sorted({n for u in units if u.score >= best - settings.anchor_margin for n in names_in(u.text)})
    for name in missing if close else ():
        scores = likeness(name, close)
        if max(scores) >= settings.translated_name_similarity:
            question = question.replace(name, close[scores.index(max(scores))])
    return question


def _titles(unit: Unit, passages: list[Passage]) -> bool:
    """A unit that says its document's title ("Informationsträff för formella medlemsrepresentanter i
    Sambruk" on the first slide): it names the document, as the answer's attribution does, and says nothing
    of what the document holds, though it shares the words of every question about it."""
    return _fold(unit.text) in _fold(passages[unit.passage].title)


def _heading_key(unit: Unit, passages: list[Passage]) -> HeadingKey:
    return passages[unit.passage].title, _label(unit.label)


def _weighed(units: list[Unit], passages: list[Passage], scores: Mapping[HeadingKey, float],
             weight: float) -> list[Unit]:
    """Each unit lowered by ``weight`` x how far its heading's cosine lies below the best heading's: in
    "§ 16" the decision stands under "E-nämndens beslut", the summary under "Sammanfattning av ärendet"."""
    keys = [_heading_key(u, passages) if u.label else None for u in units]
    top = max((scores[k] for k in keys if k in scores), default=None)
    if top is None:
        return units
    return [replace(u, score=u.score + weight * (scores[k] - top)) if u.kind != "heading" and k in scores
            else u for u, k in zip(units, keys, strict=True)]


def _figure(question: str) -> Callable[[Unit], bool]:
    """Whether a unit holds what answers a question for a figure: a day of a month for "which date", a
    year, month or day for "when" (any digit is not: "Föreningen Sambruk 1"); a sum of money for "what
    does it cost" (a table row of amounts counts: budgets leave the "kr" out); else an amount (a year
    does not say "how many")."""
    if asks_day(question):
        return lambda unit: bool(_CALENDAR.search(unit.text))
    if asks_date(question):
        return lambda unit: bool(_DATE.search(unit.text) or _CALENDAR.search(unit.text))
    if asks_cost(question):
        return lambda unit: bool(_MONEY.search(unit.text)
                                 or (unit.kind == "row" and _AMOUNT.search(unit.text)))
    return lambda unit: bool(_AMOUNT.search(unit.text))


def _paragraph_reach(content: list[Unit], passages: list[Passage]) -> Callable[[Unit], float]:
    """A unit's score, or its paragraph's best when higher: "Arbetet startar i mars." says when the
    work its paragraph opens with starts, though the question's words are in the opening; an item or row
    reaches as far as the sentence announcing its list."""
    def key(unit: Unit) -> tuple[int, int]:
        return unit.passage, _paragraph(unit, passages)[0]

    best: dict[tuple[int, int], float] = {}
    for unit in content:
        paragraph = key(unit)
        best[paragraph] = max(best.get(paragraph, unit.score), unit.score)
    # "... välja följande personer, att ingå i valberedning ...;" / "Frida Plym Forshell, ...": the name
    # asked for stands in an item whose own words hold little of the question
    announced: dict[tuple[int, int], float] = {}
    reach, passage = 0.0, None
    for unit in sorted(content, key=lambda u: (u.passage, u.start)):
        if unit.kind in ("item", "row") and reach and unit.passage == passage:
            announced[key(unit)] = max(reach, best[key(unit)])
            continue
        reach = best[key(unit)] if unit.kind == "sentence" and unit.text.rstrip()[-1:] in ":;" else 0.0
        passage = unit.passage
    best |= announced
    return lambda unit: best.get(key(unit), unit.score)


def _paragraph(unit: Unit, passages: list[Passage]) -> tuple[int, int]:
    """Offsets of the paragraph (logical line of the cleaned text) a unit stands in."""
    text = passages[unit.passage].text
    end = text.find("\n", unit.end)
    return text.rfind("\n", 0, unit.start) + 1, len(text) if end < 0 else end


def similarity_floor(settings: AnswerSettings, language: Language) -> float:
    """The best unit's score under which a question is refused. An English question shares no stems
    with the Swedish text, so its scores are the cosine alone and it has a floor of its own."""
    return settings.min_similarity_english if language == "en" else settings.min_similarity


def _covered(question: str, language: Language, passages: list[Passage], evidence: Evidence,
             settings: AnswerSettings) -> Evidence:
    """Refuse a Swedish question when the chosen evidence, with its headings and document titles, holds
    too little of what the question's words ask (IDF-weighted over the passages): a question about the
    phone number of the office is not answered by the office's address. English questions meet the
    Swedish text through the model alone, so they are not held to Swedish words."""
    if settings.min_coverage <= 0 or language != "sv":
        return evidence
    cited = evidence.units + [u for item in evidence.items for u in item.units]
    said = set(analyze(" ".join([*(u.text for u in cited), *(f"{passages[p].title} {passages[p].section}"
                                                            for p in {u.passage for u in cited})])))
    asked = set(analyze(question))
    weights = _idf(asked, [set(analyze(p.text)) for p in passages])
    total = sum(weights.values())
    share = sum(w for t, w in weights.items() if t in said) / total if total else 1.0
    if share < settings.min_coverage:
        return Evidence("refusal", best=evidence.best, reason=f"evidence holds {share:.2f} of the question")
    return evidence


def _sentences(question: str, content: list[Unit], units: list[Unit], passages: list[Passage],
               settings: AnswerSettings, reach: Callable[[Unit], float],
               figure: Callable[[Unit], bool], later: Sequence[np.ndarray] = ()) -> list[Unit]:
    """The best unit, then units close to it, within a budget; a figure leads a "how many" answer,
    every other document's best unit is heard when close (for an "i dag" question, only a document
    as new as the lead's), each question asked after the first (its query vector in ``later``) by the
    unit nearest it, and every year or name the question asks about is covered by the best unit that
    mentions it."""
    best = content[0].score
    pool = [u for u in content if u.score >= best - settings.margin]
    today = wants_latest(question)
    if today:  # "i dag": the newest document's best unit leads, if it fits nearly as well
        newest = max(_recency(passages[u.passage]) for u in content)
        latest = [u for u in content if _recency(passages[u.passage]) == newest
                  and u.score >= best - settings.latest_margin]
        if latest:
            pool = [latest[0], *(u for u in pool if u is not latest[0])]
    quantity, noun = asks_quantity(question), counted(question)

    def answers(unit: Unit) -> bool:  # a figure, about what the question counts ("anställda", not members)
        return figure(unit) and (noun is None or _counts(unit, noun, passages))

    if quantity:
        # The figure is the answer: the best unit holding one leads, if it fits nearly as well.
        figures = [u for u in pool[:1] + content if answers(u)
                   and reach(u) >= best - settings.figure_margin]
        if figures:
            pool = [figures[0], *(u for u in pool if u is not figures[0])]
    leads = pool[:1]
    if asks_list(question):
        opened = _lead_listing(content, units, settings), _list_opening(pool[0], units, passages)
        leads += [u for u in opened if u is not None]
    heard = {_document(passages[pool[0].passage])}
    for unit in content:  # each other document that fits nearly as well is heard, by its best unit
        if unit.score < best - settings.document_margin:
            break
        if today and _recency(passages[unit.passage]) < _recency(passages[pool[0].passage]):
            continue  # "i dag": an older document's figure is no answer for today
        if (document := _document(passages[unit.passage])) not in heard:
            heard.add(document)
            leads.append(unit)
    # "..., och vad betalar en ny medlem?": the unit nearest that question too, of those about the names
    # the whole question asks about ("Vad är Inclubit, och vilka kommuner är anslutna till tjänsten?")
    if later:
        names = names_in(question)
        about = [u for u in content if all(_holds(u, n, passages, around=True) for n in names)]
        for vector in later if about else ():
            nearest = max(about, key=lambda u: float(passages[u.passage].unit_vectors[u.index] @ vector))
            if nearest not in leads:
                leads.append(nearest)
    chosen: list[Unit] = []
    near = best - _anchor_margin(question, settings)
    # "2011" in "från 2011 till idag": that year's best unit; a day the question names: the best unit of
    # what stands under that day (a meeting's notes under its date)
    held = {a: [u for u in content
                if _holds(u, a, passages, around=bool(ISO_DAY.fullmatch(a))) and u.score >= near]
            for a in _anchors(question)}
    years = [(anchor, holders) for anchor, holders in held.items() if anchor.isdigit() and holders]
    compared = {} if quantity else _compared(years, passages, settings.year_likeness_weight)
    several = len(years) > 1
    for anchor, holders in held.items():
        # Across years, a year is answered by a unit that says it, not one whose document's title or date
        # holds it: the 2026 plan's "till 2025 hela 150 kommuner" says 2025, and the slides of June 2026
        # "152 kommuner"
        if several and anchor.isdigit():
            holders = [u for u in holders if u not in chosen]
            covered = any(anchor in _fold(u.text) for u in chosen)
        else:
            covered = any(_holds(u, anchor, passages) for u in chosen)
        # asked for a figure, that year's best unit holding one
        holder = next((u for u in holders if not quantity or answers(u)), holders[0] if holders else None)
        holder = compared.get(anchor, holder)
        if holder is not None and not covered and holder not in chosen:
            chosen.append(holder)
    chosen.sort(key=lambda u: -u.score)
    length = sum(len(u.text) for u in chosen)
    for unit in dict.fromkeys([*leads, *pool]):
        if len(chosen) >= settings.max_units:
            break
        if unit in chosen or (chosen and length + len(unit.text) > settings.max_chars):
            continue
        if any(_repeats(unit, c, passages) for c in chosen):
            continue
        chosen.append(unit)
        length += len(unit.text)
    return chosen


def _rows_named(chosen: list[Unit], asked: list[str]) -> list[Unit]:
    """A table row answers for what its label names: beside a row naming what the question asks about
    ("Piteå ..."), the rows of the same table naming none of it ("Pajala ...", "Överkalix ...") answer
    for others."""
    def names(unit: Unit) -> bool:  # in its own words: every row of the minutes holds "Norrbotten" in its title
        return any(_mentions(_fold(unit.text), n) for n in asked)

    tables = {(u.passage, u.context) for u in chosen if u.kind == "row" and names(u)}
    return [u for u in chosen if u.kind != "row" or names(u) or (u.passage, u.context) not in tables]


def _compared(held: list[tuple[str, list[Unit]]], passages: list[Passage], weight: float) -> dict[str, Unit]:
    """Years compared ("2011 ... 2021"; ``held``: each year the question names, with its candidate
    units): each year's unit, chosen together so that they say the same of their years ("Claes-Olof
    Olsson innehar funktionen Verkställande tjänsteman ..." / "Ulf Timerdahl är Verkställande
    tjänsteperson ..."), not each its best fit to the question's words: the two years' pair with the
    highest scores plus ``weight`` x their likeness, then each further year's unit by its score plus
    ``weight`` x its mean likeness to those chosen."""
    if len(held) < 2:
        return {}

    def vectors(units: list[Unit]) -> np.ndarray:
        return np.array([passages[u.passage].unit_vectors[u.index] for u in units])

    (first, a), (second, b), *rest = held
    fit = np.array([u.score for u in a])[:, None] + np.array([u.score for u in b])[None, :] \
        + weight * (vectors(a) @ vectors(b).T)
    fit[np.array([[u is v for v in b] for u in a])] = -np.inf  # one unit stands for one year
    i, j = np.unravel_index(int(np.argmax(fit)), fit.shape)
    chosen = {first: a[i], second: b[j]}
    for year, units in rest:
        likeness = weight * (vectors(units) @ vectors(list(chosen.values())).T).mean(axis=1)
        chosen[year] = units[int(np.argmax(np.array([u.score for u in units]) + likeness))]
    return chosen


def _announced(chosen: list[Unit], units: list[Unit], settings: AnswerSettings) -> list[Unit]:
    """What the chosen units announce: the items under "... har fokuserat på:", the rest of a sentence
    that a line break cut ("har uppgått till" / "2,5"), the rows under a table's header row, an item's
    nested items, within the answer's length budget plus ``announced_chars``."""
    added: list[Unit] = []
    length = sum(len(u.text) for u in chosen)
    for unit in list(chosen):
        own = [u for u in units if u.passage == unit.passage]
        position = own.index(unit)
        following = own[position + 1:]
        table = bool(_rows_under(unit, own))
        parent = unit.kind == "item" and _has_children(unit, following)
        if not (table or parent or _announces(unit)):
            continue
        # a sentence left open before a list ("Föreningens ändamål är därför att" / "• verka för ...")
        # announces the list's items as a colon does
        colon = unit.text.endswith(":") or (_announces(unit) and following[:1] != []
                                            and following[0].kind == "item")
        for after in following:
            if after.kind == "heading" or after in chosen or after in added or (table and after.kind != "row"):
                break
            if parent and after.kind == "item" and after.level <= unit.level:
                break  # the next item of the same list: the parent's own items end here
            if length + len(after.text) > settings.max_chars + settings.announced_chars:
                break
            added.append(after)
            length += len(after.text)
            table = table or after.kind == "row"  # announced rows ("har uppgått till" / "Kvinnor 1 1") go on
            if table or parent or _announces(after):
                continue  # a table's rows, an item's sub-items, or a unit that is open itself, go on
            if not colon or after.kind == "sentence":
                break  # the sentence is closed (after a colon, only a run of items or rows goes on)
    return added


def _siblings(chosen: list[Unit], units: list[Unit], settings: AnswerSettings) -> list[Unit]:
    """The other items of a list two of whose items answer ("Pågående samverkan", "Formella kontakter?"
    of a slide's agenda): the answer is that list, in its order; short items only (a list of paragraphs is
    no list of answers), within the answer's length budget plus ``announced_chars``."""
    blocks = [_list_of(unit, units) for unit in chosen if unit.kind == "item"]
    return _fitting([item for block in blocks if sum(u in chosen for u in block) >= 2 for item in block
                     if len(item.text) < settings.lead_context_chars], chosen, settings)


def _fitting(candidates: list[Unit], chosen: list[Unit], settings: AnswerSettings) -> list[Unit]:
    """The candidates not chosen yet, in order, each that the answer's length budget plus
    ``announced_chars`` still holds."""
    added: list[Unit] = []
    length = sum(len(u.text) for u in chosen)
    for unit in candidates:
        if unit not in chosen and unit not in added \
                and length + len(unit.text) <= settings.max_chars + settings.announced_chars:
            added.append(unit)
            length += len(unit.text)
    return added


def _list_of(item: Unit, units: list[Unit]) -> list[Unit]:
    """The items of the list an item stands in, at its level, in order."""
    own = [u for u in units if u.passage == item.passage]
    start = end = own.index(item)
    while start > 0 and not _item_of_other_list(own[start - 1], item):
        start -= 1
    while end + 1 < len(own) and not _item_of_other_list(own[end + 1], item):
        end += 1
    return [u for u in own[start:end + 1] if u.kind == "item" and u.level == item.level]


def _item_of_other_list(unit: Unit, item: Unit) -> bool:
    """A unit that ends ``item``'s list: a heading, a row or a fragment, or an item of a list it is nested in
    (an item's own sentences and the items nested under it go on with it)."""
    return unit.kind not in ("item", "sentence") or (unit.kind == "item" and unit.level < item.level)


def _item_rest(chosen: list[Unit], units: list[Unit], passages: list[Passage],
               settings: AnswerSettings) -> list[Unit]:
    """The sentences that end a chosen list item's line ("- Förvaltningsplan (…), där … utveckling." /
    "Baserad på NocoBase."): an item is one entry, however many sentences it holds; within the answer's
    length budget plus ``announced_chars``."""
    added: list[Unit] = []
    length = sum(len(u.text) for u in chosen)
    for unit in [u for u in chosen if u.kind == "item"]:
        for after in _line_rest(unit, units, passages):
            if after in chosen or after in added \
                    or length + len(after.text) > settings.max_chars + settings.announced_chars:
                break
            added.append(after)
            length += len(after.text)
    return added


def _line_rest(item: Unit, units: list[Unit], passages: list[Passage]) -> list[Unit]:
    """The sentences after a list item on its line."""
    text, previous, rest = passages[item.passage].text, item, []
    for after in _after(item, units):
        if after.kind != "sentence" or "\n" in text[previous.end:after.start]:
            break
        rest.append(after)
        previous = after
    return rest


def _lines_whole(items: list[Item], units: list[Unit], passages: list[Passage]) -> list[Item]:
    """A list answer's entries that are list items, each with the sentences that end its line ("Skiss -
    säker whiteboard applikation." / "... en fork av en öppen källkodsprodukt med namnet X ..."): an
    item is one entry, however many sentences it holds."""
    whole = []
    for item in items:
        rest = _line_rest(item.units[0], units, passages) \
            if len(item.units) == 1 and item.units[0].kind == "item" else []
        whole.append(replace(item, label=" ".join([item.label, *(u.text for u in rest)]),
                             units=[*item.units, *rest]) if rest else item)
    return whole


def _parents(chosen: list[Unit], units: list[Unit], settings: AnswerSettings) -> list[Unit]:
    """The item a chosen nested item stands under, in its passage ("Gemensam E-arkiv" for "I drift sedan
    2019": ingest embeds the point under it, and alone it does not say what is in operation); within the
    answer's length budget plus ``announced_chars``."""
    parents = [next((u for u in _before(unit, units)
                     if u.kind == "heading" or u.kind == "item" and u.level < unit.level), None)
               for unit in chosen if unit.kind == "item" and unit.level > 0]
    return _fitting([p for p in parents if p is not None and p.kind == "item"], chosen, settings)


def _after(unit: Unit, units: list[Unit]) -> list[Unit]:
    """The units that follow one in its passage, in order."""
    own = [u for u in units if u.passage == unit.passage]
    return own[own.index(unit) + 1:]


def _lead_listing(content: list[Unit], units: list[Unit], settings: AnswerSettings) -> Unit | None:
    """The longest list of names that the best unit's passage writes as a sentence, within the margin of
    the best ("Deltagande kommuner" / "Ale, Alingsås, ..." below the sentences about FixaMinGata) or
    announced by it ("Användande kommuner:" / a sentence / "Stockholm, Malmö, ..."): another passage's
    list is of another project."""
    lead = content[0]
    found = [u for u in content if u.passage == lead.passage and u.score >= lead.score - settings.margin
             and enumerated(u.text, names=True)]
    if lead.text.endswith(":"):
        section = takewhile(lambda u: u.kind != "heading", _after(lead, units))
        found += [u for u in section if enumerated(u.text, names=True)][:1]
    return max(found, key=lambda u: enumerated(u.text, names=True), default=None)


def _list_opening(lead: Unit, units: list[Unit], passages: list[Passage]) -> Unit | None:
    """The sentence of the lead's paragraph that opens a list of items ("För 2026 förutsäger Gartner
    några signifikanta trender ..." / "De fyra som ligger i topp på Gartners lista är:" / "1. ..."): what
    a list question asks is that list, which ``_announced`` then quotes."""
    end = _paragraph(lead, passages)[1]
    following = _after(lead, units)
    for unit, after in zip(following, following[1:]):
        if unit.start >= end:
            break
        if unit.kind == "sentence" and unit.text.endswith(":") and after.kind == "item":
            return unit
    return None


def _listing_on(unit: Unit, units: list[Unit], passages: list[Passage]) -> list[Unit]:
    """The sentences of its paragraph that go on with an enumeration's names ("..., Myndigheten för
    delaktighet." / "Folkhälsomyndigheten samt SeniorNet Sweden."): a stray period cut the list."""
    end = _paragraph(unit, passages)[1]
    out = []
    for after in _after(unit, units):
        parts = _parts(after.text)
        if after.kind != "sentence" or after.start >= end or len(parts) < 2 \
                or not all(_is_name(p) for p in parts):
            break
        out.append(after)
    return out


def _before(unit: Unit, units: list[Unit]) -> list[Unit]:
    """The units that precede one in its passage, nearest first."""
    own = [u for u in units if u.passage == unit.passage]
    return own[:own.index(unit)][::-1]


def _nested_under_named(items: list[Item], asked: list[str], units: list[Unit]) -> list[Item]:
    """The items nested under the one entry that names what the question asks about ("Vilka funktioner
    har Samverka?": "Samverka – samarbetsplattform" and its "Fildelning", "Planering", ...): the entry's
    own list, not the list it stands in. None when no single entry names it or it has none."""
    named = [i for i in items if len(i.units) == 1 and i.units[0].kind == "item"
             and any(_mentions(_fold(i.label), n) for n in asked)]
    if len(named) != 1:
        return []
    entry = named[0].units[0]
    nested = []
    for after in _after(entry, units):
        if after.kind == "heading" or (after.kind == "item" and after.level <= entry.level):
            break
        if after.kind == "item":
            nested.append(Item(after.text, after.score, [after], [after.passage]))
    return nested


def _has_children(item: Unit, following: list[Unit]) -> bool:
    """An item whose next item, before any heading, is nested under it (a "•" project, a "Status:" line,
    then its "o" points): its sub-items say what it is about."""
    for after in following:
        if after.kind == "heading":
            return False
        if after.kind == "item":
            return after.level > item.level
    return False


def _continued(question: str, chosen: list[Unit], units: list[Unit], settings: AnswerSettings) -> list[Unit]:
    """The sentence after a leading one that cannot be all of the answer, in its passage, when the answer
    has room for it: a short lead, the lead of a "which / who" answer that names no one the question did
    not (it restates the question; the name tends to follow: the first sentence of its section that names
    someone, "... Syftet är ... Drivs av Alingsås."), or the lead of a "how" answer (a way
    of doing something is told in sentences that follow each other: dev +0.01, answer_chars_p50 +15;
    a leading list item, a step, by the next item of its list: dev +0.01)."""
    if not chosen:
        return []
    lead = chosen[0]
    unnamed = asks_name(question) and not _names_anyone(lead, question)
    if len(lead.text) >= settings.lead_context_chars and not unnamed and not asks_how(question):
        return []
    following = _after(lead, units)
    if lead.kind == "item" and asks_how(question):  # a step goes on with the next step of its list
        steps = [u for u in following if not (u.kind == "item" and u.level > lead.level)]
        after = steps[0] if steps and steps[0].kind == "item" and steps[0].level == lead.level else None
    else:  # the name tends to follow, in the lead's section ("... Syftet är ... Drivs av Alingsås.")
        section = takewhile(lambda u: u.kind != "heading", following) if unnamed else ()
        after = next((u for u in section if _names_anyone(u, question)), None) \
            or (following[0] if following and following[0].kind == "sentence" else None)
    length = sum(len(u.text) for u in chosen)
    if after is not None and after not in chosen and length + len(after.text) <= settings.max_chars:
        return [after]
    return []


def _decided(question: str, chosen: list[Unit], units: list[Unit], passages: list[Passage],
             settings: AnswerSettings) -> list[Unit]:
    """What was decided in the item of the minutes the answer stands in (its first unit in an item: the
    lead may be an attachment's account of what the item received): the first unit under the
    item's "[organ]s beslut" ("E-nämndens beslut" / "E-nämnden beslutar att lägga informationen till
    handlingarna."), a sentence whose words say little of what the item is about and whose cosine to a
    question about the item is low, though the decision is what the item records; within the answer's
    length budget plus ``announced_chars``. A question that names the organ whose decision it asks
    ("Vad beslutade Arvidsjaurs kommunfullmäktige ...?") where the item records another organ's is
    answered from that organ's decision, in whichever passage records it (its best by the heading's
    score): the minutes quote a council's decision beside the committee's own."""
    sections = (passages[u.passage].section for u in chosen)
    section = next((section for section in sections if _SECTION_MARK.search(section)), None)
    if section is None:
        return []
    decisions = [u for u in units if u.kind == "heading" and _DECISION.search(u.text)]
    own = next((u for u in decisions if passages[u.passage].section == section), None)
    if own is None:
        return []
    # the organ the question names first is the one deciding ("Vad beslutade Arvidsjaurs
    # kommunfullmäktige ... granskningen av Norrbottens e-nämnd?"): the item's own decision if it is that
    # organ's or the question names none, else that organ's best
    words = analyze(question)
    named = [(min(words.index(w) for w in organ), u is not own, -u.score, k) for k, u in enumerate(decisions)
             if (organ := analyze(u.text)) and set(organ) <= set(words)]
    heading = decisions[min(named)[-1]] if named else own
    decision = next((u for u in _after(heading, units) if u.kind != "heading"), None)
    return _fitting([decision] if decision else [], chosen, settings)


def _referred(chosen: list[Unit], units: list[Unit], settings: AnswerSettings) -> list[Unit]:
    """The next sentence of any chosen one that refers back to it (``_refers_back``), within the
    answer's length budget plus ``announced_chars``: a decision announced is followed by what it was
    (dev +0.01, test and the English probe unchanged, answer_chars_p50 unchanged)."""
    added: list[Unit] = []
    length = sum(len(u.text) for u in chosen)
    for unit in chosen:
        after = _after(unit, units)[:1]
        if after and after[0] not in chosen and _refers_back(after[0], unit) \
                and length + len(after[0].text) <= settings.max_chars + settings.announced_chars:
            added.append(after[0])
            length += len(after[0].text)
    return added


def _antecedents(chosen: list[Unit], units: list[Unit], passages: list[Passage],
                 settings: AnswerSettings) -> list[Unit]:
    """The sentence before a leading one that points back ("Det innebär även att ..."), in its
    paragraph, and the one before that while it points back too ("Det innebär att ..." / "... LOU
    undantaget för internupphandling, tidigare benämnt Teckal-undantaget."): the lead was found with
    it (ingest embeds it under its antecedent) and says what it speaks of only with it. The lead's only:
    every chosen unit's gained as much (dev +1, probes +2, blind 12-02c +1 either way) but made dev's
    answer_chars_p50 514, over the 500 goal."""
    wanted: list[Unit] = []
    for unit in chosen[:1]:
        while unit.kind == "sentence" and points_back(unit.text):
            before = _before(unit, units)[:1]
            if not before or before[0].kind != "sentence" \
                    or before[0].start < _paragraph(unit, passages)[0]:
                break
            unit = before[0]
            wanted.append(unit)
    return _fitting(wanted, chosen, settings)


def _refers_back(unit: Unit, lead: Unit) -> bool:
    """A sentence that opens with what the one before it spoke of, in its definite form ("... fattade
    styrgruppen beslut om inriktningen." / "Beslutet blev att ..."): it says what that was. The word
    is written in lower case in the lead, so a name the two share ("Sambruk ...") does not count, and
    the opening is longer by its ending, so a preposition ("under ..." / "Under ...") does not."""
    if unit.kind != "sentence" or not unit.text.split():
        return False
    opening = _fold(unit.text.split()[0].strip(".,:;"))
    spoken = {w.strip(".,:;()”\"") for w in lead.text.split() if w.islower()}
    return any(len(w) >= 4 and opening != w and _inflects(opening, w) for w in spoken)


def _inflects(word: str, base: str) -> bool:
    """``word`` is ``base`` or ``base`` with an ending ("skolan", "Beslutet"), not a compound that
    begins with it ("verktygslådor" is no form of "verktyg"): it adds at most three letters."""
    return word.startswith(base) and len(word) - len(base) <= 3


def _new_names(unit: Unit, question: str) -> list[str]:
    """Names in a unit that the question does not hold (two letters, such as "IT", name no one)."""
    asked = _fold(question)
    return [n for n in names_in(unit.text) if len(n) >= 3 and not _mentions(asked, n)]


def _names_anyone(unit: Unit, question: str) -> bool:
    """A unit that says who: it names someone the question did not, or a passive verb's agent does
    ("ska granskas årligen av alla ingående parter", "was approved by the board")."""
    return bool(_new_names(unit, question) or _AGENT.search(unit.text))


def _announces(unit: Unit) -> bool:
    """A unit that leaves its sentence open ("... fokuserat på:", "... har uppgått till")."""
    last = unit.text.rstrip("*_ ")[-1:]
    return last in ":;" or (unit.kind == "sentence" and (last.isalpha() or last == ","))


def _anchor_margin(question: str, settings: AnswerSettings) -> float:
    """How close to the best unit the unit naming an asked year or name must be: a question across
    several years is answered by each year's own document, whose words differ from the best one's, and
    one about several things it names side by side ("A och B") by each one's own section."""
    several = len(years_mentioned(question)) > 1 or _side_by_side(question)
    return settings.anchor_margin_several_years if several else settings.anchor_margin


def _side_by_side(question: str) -> bool:
    """Two names the question joins by a comma or a conjunction: it asks about each of them."""
    names = names_in(question)
    return any(re.search(rf"\b{re.escape(a)}(?:{_PARTS.pattern}){re.escape(b)}\b", question)
               for a, b in zip(names, names[1:]))


def _anchors(question: str) -> list[str]:
    """What evidence must mention for the question to be answered: its years, days, proper names and
    numbered items ("§ 16")."""
    return [str(y) for y in years_mentioned(question)] + days_mentioned(question) + names_in(question) \
        + _SECTION_MARK.findall(question)


def _holds(unit: Unit, anchor: str, passages: list[Passage], *, around: bool = False) -> bool:
    """A unit mentions an anchor in its text, or its document's title or date does ("2021" for the
    annual report 2021); a name matches inflected ("Sambruks"). With ``around``, its paragraph up to it
    and the headings it stands under count too: a unit of the section "X", or the sentence after one
    naming X, is about X, though only a unit that names X shows it in an answer; the sentence before
    one naming X is not ("Multifråga har under 2023 lanserats ..." / "... där Jönköping är senaste medlem
    att ansluta" does not say when Jönköping joined)."""
    passage = passages[unit.passage]
    if anchor.startswith("§"):  # an item is held by the passages of that item
        return re.search(rf"§\s*{anchor[1:].strip()}\b", passage.section) is not None
    said = _fold(f"{unit.text} {passage.title} {passage.date or ''} {passage.year or ''}")
    if around:
        start = _paragraph(unit, passages)[0]
        said += _fold(f" {passage.text[start:unit.end]} {unit.context}")
    if anchor.isdigit():
        return anchor in said
    return bool(day_written(anchor).search(said)) if ISO_DAY.fullmatch(anchor) else _mentions(said, anchor)


def _counts(unit: Unit, noun: str, passages: list[Passage]) -> bool:
    """A unit with a figure is about what the question counts: a table row when it, or its section, holds
    the counted word's stem (the row's label; compounds too: "medlemskommuner"); a sentence when a figure
    counts it ("95 medlemmar", "ytterligare 6 kommuner") or follows it closely ("antalet medlemmar var
    152"): in "... självhjälpsguider och behovet av formella utbildningar i två separata system" the
    figure counts systems."""
    stem = analyze(noun)
    if not stem:
        return True
    if unit.kind == "row":
        return _mentions(_fold(f"{unit.text} {passages[unit.passage].section}"), stem[0])
    text = _fold(unit.text)
    for figure in _AMOUNT.finditer(text):  # the word before it, or up to three words before that
        before = analyze(" ".join(re.findall(r"[\w-]+", text[:figure.start()])[-4:]))
        if any(_names_noun(word, stem[0]) for word in before):
            return True
    return _counted(unit.text, stem[0])


# a figure with the three words on either side: what it counts stands there ("deltog 220 personer",
# "antalet medlemmar var 152")
_AROUND_FIGURE = re.compile(rf"(?:[\w-]+\W+){{0,3}}(?:{_COUNT.pattern})")


def _figure_phrases(unit: Unit) -> list[str]:
    """The words that say what a unit's figures count: around each figure of a sentence; a table row's
    label, alone and with what it stands under (its head, heading and section): a section path says what
    a row's figure is about, and dilutes what its label names ("Summa föreningens intäkter")."""
    if unit.kind == "row":
        label = _FIGURES.sub('', unit.text).strip()
        return [label, f"{label} {unit.context}"[:_ROW_PHRASE_CHARS]]
    return [m.group(0) for m in _AROUND_FIGURE.finditer(unit.text)]


def _counts_only(unit: Unit, noun: str) -> bool:
    """A unit that gives a count of what a list question asks for ("4 nya kommuner" for "kommuner")."""
    stem = analyze(noun)
    return bool(stem) and _counted(unit.text, stem[0])


def _counted(text: str, stem: str) -> bool:
    """A figure in ``text`` counts a word by its stem, in a compound on either side: "11 medlemskommuner"
    and "90 bör- och skallkrav" count "kommun" and "krav"; "150 kommuner" counts "medlemskommun"."""
    return any(_names_noun(word, stem) for match in _COUNT.finditer(_fold(text))
               for word in analyze(match.group(1).replace("-", " ")))


def _names_noun(word: str, stem: str) -> bool:
    """A word names the noun of ``stem`` in a compound on either side: "medlemskommuner" names "kommun",
    and "kommuner" or "beloppet" (inflected: at most three letters added) name "medlemskommun" and
    "grundbelopp" by their last part, of four letters or more."""
    return stem in word or any(word.startswith(stem[k:]) and len(word) - len(stem) + k <= 3
                               for k in range(len(stem) - 3))


def list_items(units: list[Unit], passages: list[Passage], settings: AnswerSettings) -> list[Item]:
    """List entries that fit the question: list items and table rows, and sections judged by their text.

    A section entry is named by its heading and scores as the best of its opening units, which say
    what it is: "Inclubit" counts as what "Inclubit är en plattform för fjärrundervisning ..." says.
    Text before a passage's first heading belongs to the passage's own section. Entries within the list
    margin of the best are kept, the same name once (citing every passage that has it), newest document
    first.
    """
    entries: list[Item] = []
    for p, passage in enumerate(passages):
        # Text before the passage's first heading belongs to the passage's own (innermost) section.
        entries += _entries([u for u in units if u.passage == p], _path(passage)[-1],
                            settings)
    if not entries:
        return []
    # Sections and list lines compete as kinds: an answer lists services or it lists bullet points.
    sections = [e for e in entries if not _is_line(e)]
    lines = [e for e in entries if _is_line(e)]
    entries = max((k for k in (sections, lines) if k), key=lambda k: max(e.score for e in k))
    top = max(e.score for e in entries)
    kept = _table_rows(sorted((e for e in entries if e.score >= top - settings.list_margin),
                              key=lambda e: -e.score), entries, units)
    return _each_once_newest_first(_whole_lists(kept, entries, units, settings), passages, settings)


def _across(listed: list[Item], entries: list[Item], passages: list[Passage], settings: AnswerSettings,
            chapter: Chapter | None = None) -> list[Item]:
    """What a heading lists in one document, then the sections of the other documents that fit (and,
    when the question names a chapter, speak of it): "5.6 Skola" of 2021 lists EGIL, Tillarbetslivet and
    UKA; the 2026 plan's services stand in no chapter. Their list lines are not added: a slide's agenda
    is not continued by a plan's goals."""
    own = {_document(passages[p]) for item in listed for p in item.passages}
    others = [e for e in entries if not _is_line(e)
              and any(_document(passages[p]) not in own for p in e.passages)
              and (chapter is None or _speaks_of(e, chapter.label))]
    return _each_once_newest_first([*listed, *others], passages, settings)


def named_chapter(question: str, units: list[Unit], passages: list[Passage]) -> Chapter | None:
    """The numbered chapter the question names, by a heading of the passages or by their section paths
    (a passage inside "5.6 Skola > 5.6.2 Tillarbetslivet" names the chapter it stands in); of several,
    the one the best passage holds ("Vilka tjänster erbjuder föreningen för skolor?" names "1.1
    Föreningen" too)."""
    asked = analyze(question)
    found = [(u.passage, u.text) for u in units if u.kind == "heading"]
    found += [(p, part) for p, passage in enumerate(passages) for part in passage.section.split(" > ")]
    return next((Chapter(_label(text), passages[p].doc_id) for p, text in sorted(found, key=lambda f: f[0])
                 if _CHAPTER.match(text) and _names(asked, _label(text))), None)


def _names(asked: list[str], label: str) -> bool:
    """A question's stems (``asked``) name a heading when each of its stems is one of them inflected."""
    said = analyze(label)
    return bool(said) and all(any(_inflects(a, s) for a in asked) for s in said)


def join_chapter(question: str, evidence: Evidence, passages: list[Passage], first: int,
                 settings: AnswerSettings) -> Evidence:
    """A list answer to a question that names a chapter, once every document's passages about it (from
    ``first`` on) are read: the chapter's own sections by their place (its heading and its last sections
    may be only in those), then the list as chosen, then the other documents' sections that name their
    subject and speak of the chapter. "5.6 Skola" of the 2021 report lists three services; the 2026
    plan's stand flat, and those for schools say "skolan", "skolhuvudmän" ("Inclubit ... hjälpa dem att
    komma tillbaka till skolan")."""
    chapter = evidence.chapter
    if chapter is None:
        return evidence
    units = passage_units(passages, question, settings.lexical_weight)
    heading = next((u for u in units if u.kind == "heading" and _CHAPTER.match(u.text) and _label(u.text)
                    == chapter.label and passages[u.passage].doc_id == chapter.doc_id), None)
    own = _under(heading, units, passages, settings, named=True) if heading else []
    # the chapter's sections are its list: the lines inside it are what they say
    kept = [i for i in evidence.items if not (own and _inside(i, chapter, passages))]
    found = [e for p in range(first, len(passages)) if passages[p].doc_id != chapter.doc_id
             for e in _entries([u for u in units if u.passage == p],
                               _path(passages[p])[-1], settings)
             if not _is_line(e) and _speaks_of(e, chapter.label)]
    found.sort(key=lambda e: -e.score)
    return replace(evidence, items=_each_once_newest_first([*own, *kept, *found], passages, settings))


def _inside(item: Item, chapter: Chapter, passages: list[Passage]) -> bool:
    """An entry of passages within the chapter: its document's, the chapter in their section paths."""
    return all(passages[p].doc_id == chapter.doc_id
               and chapter.label in _path(passages[p]) for p in item.passages)


def _speaks_of(entry: Item, chapter: str) -> bool:
    """A section whose opening (what it is) holds a word that begins with each stem of a chapter's name
    ("skolan", "skolhuvudmän" for "Skola"; not "högskolan"): "MedborgarPC" mentions its "SkolPC" three
    paragraphs in, and is no school service."""
    said = _fold(" ".join(u.text for u in entry.units[:2]))
    return all(re.search(rf"\b{re.escape(stem)}", said) for stem in analyze(chapter))


def _each_once_newest_first(entries: list[Item], passages: list[Passage],
                            settings: AnswerSettings) -> list[Item]:
    """The first ``max_items`` names, each once (citing every passage that has it), newest document first."""
    merged: list[Item] = []
    for entry in entries:
        same = next((m for m in merged if _same_name(m.label, entry.label)), None)
        if same is None:  # a copy: the entries given stay as they are
            merged.append(replace(entry, units=list(entry.units), passages=list(entry.passages)))
        elif new := [p for p in entry.passages if p not in same.passages]:
            same.passages.extend(new)
            same.units.extend(entry.units[:1])
    merged = merged[:settings.max_items]
    return sorted(merged, key=lambda e: max(_recency(passages[p]) for p in e.passages), reverse=True)


def _is_line(entry: Item) -> bool:
    """A list item or table row, not a section named by its heading."""
    return not entry.units or entry.units[0].kind in ("item", "row")


def _with_points(step: Item, units: list[Unit]) -> Item:
    """A step with the points nested under it ("Samverka fram erbjudande, t.ex." / "Kravbild?",
    "Intressenter?", ...): they say what the step is made of."""
    unit = step.units[0]
    if unit.kind != "item":
        return step
    points = list(takewhile(lambda u: u.kind == "item" and u.level > unit.level, _after(unit, units)))
    if not points:
        return step
    return replace(step, label=" ".join([step.label, *(p.text for p in points)]), units=[unit, *points])


def _entries(own: list[Unit], label: str, settings: AnswerSettings, *, exclaimed: bool = False) -> list[Item]:
    """The entries of a run of units in document order: each list item and table row, and each section
    (named by its heading, ``label`` for the text before the first) whose opening names its subject.
    An item that exclaims is a slogan ("Sparar tid och pengar!"), no entry, unless ``exclaimed``: under
    a heading, whatever its list holds is its list ("Sondera, skaka hand, besluta och kör!")."""
    entries: list[Item] = []
    body: list[Unit] = []
    for unit in [*own, None]:
        if unit is None or unit.kind == "heading":
            if body and label and _names_its_subject(label, body):
                opening = body[:settings.heading_opening] if settings.heading_opening else body
                entries.append(Item(label, max(u.score for u in opening), body, [body[0].passage]))
            if unit is not None:
                label, body = _label(unit.text), []
            continue
        if unit.kind in ("item", "row"):
            if exclaimed or not unit.text.endswith("!"):
                entries.append(Item(unit.text, unit.score, [unit], [unit.passage]))
        elif len(unit.text) >= settings.min_unit_chars:
            body.append(unit)
    return entries


def heading_list(question: str, units: list[Unit], passages: list[Passage], settings: AnswerSettings,
                 top: float, *, named_only: bool = False) -> list[Item]:
    """A list that a heading names: what stands under a heading that fits the question within
    ``list_margin`` of the best entry (``top``), in its order, when there are at least
    ``min_list_entries`` entries under it. A heading whose words the question holds, inflected or not,
    comes first (the slide's "Agenda" for a question about "agendan"; a compound, "verktygslådor",
    does not name "Verktyg"), the best-scoring one first; then the
    best heading of all. A heading scores as its chunk (ingest gives it the chunk's vector) plus the
    question's stems it holds. (Every heading within the margin, best first, until one has a list under
    it: dev -0.01, test -0.013. Headings scored by vectors of their own: dev -0.02. A named heading
    without the margin: dev -0.01, an English "how" naming the minutes' "Budget".) With
    ``named_only`` only a heading the question names will do."""
    fits = sorted((u for u in units if u.kind == "heading" and not u.text.isdigit()  # "7": a slide number
                   and u.score >= top - settings.list_margin), key=lambda u: -u.score)
    asked = analyze(question)
    named = [h for h in fits if _names(asked, _label(h.text))]
    for heading in dict.fromkeys([*named, *([] if named_only else fits[:1])]):
        entries = _under(heading, units, passages, settings, named=heading in named)
        if len(entries) >= settings.min_list_entries:
            return entries[:settings.max_items]
    return []


def _under(heading: Unit, units: list[Unit], passages: list[Passage], settings: AnswerSettings, *,
           named: bool = False) -> list[Item]:
    """The entries under a heading, in order. "Gemensamma verktyg" on a slide is followed by the tools, as
    items: its own items and rows (not their nested points). "Aktiva nätverk" in a plan is directly
    followed by a heading: it opens a group, a section for each network (the plan's contents list them
    flat beside it), up to the next heading of its level, in its passage and in the later passages of
    its section. The sections of a numbered chapter the question names ("5.6 Skola" for schools) are
    its entries by their place; under any other heading only sections that name their subject are
    (a report's "4 Analysområden" opens "Nuläge" and "Val av inriktning": topics, not things)."""
    after = _after(heading, units)
    if not (after and after[0].kind == "heading" and not after[0].text.isdigit()):
        body = takewhile(lambda u: u.kind != "heading", after)
        return [e for e in _entries([u for u in body if u.kind == "row" or u.level == 0], "", settings,
                                    exclaimed=True) if e.units[0].kind in ("item", "row")]
    passage = passages[heading.passage]
    name = _label(heading.text)
    later = sorted((p for p, q in enumerate(passages) if _document(q) == _document(passage)
                    and q.start > passage.start and name in _path(q)),
                   key=lambda p: passages[p].start)
    group = [*after, *(u for p in later for u in units if u.passage == p)]
    if heading.level < LABEL_LEVEL:  # a numbered chapter ends at the next heading of its level
        group = list(takewhile(lambda u: u.kind != "heading" or u.level > heading.level, group))
        if named:
            return _children(group, heading.level + 1, name, passages, settings)
    return [e for e in _entries(group, "", settings) if e.units[0].kind not in ("item", "row")]


def _children(group: list[Unit], level: int, chapter: str, passages: list[Passage],
              settings: AnswerSettings) -> list[Item]:
    """The numbered sections of one level in a chapter ("5.6.1", "5.6.2" under "5.6 Skola"), each an
    entry by its place, whatever its opening says ("Från Norrköpings kommun har ..." opens
    "5.6.2 Tillarbetslivet"), with its text. A later passage that opens inside one of them (no heading
    of its own yet) names it in its section path, after the chapter."""
    entries: list[Item] = []
    for previous, unit in zip([None, *group], group):
        child = unit.kind == "heading" and unit.level == level
        if not child and (previous is None or previous.passage != unit.passage):
            path = _path(passages[unit.passage])
            inside = path[path.index(chapter) + 1:][:1] if chapter in path else []
            if inside and not (entries and _same_name(entries[-1].label, inside[0])):
                entries.append(Item(inside[0], unit.score, [], [unit.passage]))
        if child:
            entries.append(Item(_label(unit.text), unit.score, [unit], [unit.passage]))
        elif entries and unit.kind != "heading" and len(unit.text) >= settings.min_unit_chars:
            entries[-1].units.append(unit)
    entries = [e for e in entries if e.units]  # a passage that opens inside one with nothing to quote
    for entry in entries:  # quoted from its opening, not its heading, where it has one
        entry.units = [u for u in entry.units if u.kind != "heading"] or entry.units
        entry.score = max(u.score for u in entry.units)
    return entries


def _table_rows(kept: list[Item], entries: list[Item], units: list[Unit]) -> list[Item]:
    """A table's first row that fits brings the rows under it, in their order, where it stood: a header
    ("Nya medlemmar 2021 | Anledning") says what the rows are, whose own words share little with the
    question; a slide's table has no header, and its first row is one of the entries."""
    by_unit = {e.units[0]: e for e in entries if len(e.units) == 1}
    out: list[Item] = []
    for entry in kept:
        head = entry.units[0]
        rows = _rows_under(head, [u for u in units if u.passage == head.passage])
        out.append(entry)
        out += [Item(r.text, entry.score, [r], list(entry.passages)) for r in rows if r in by_unit]
    seen: set[Unit] = set()
    return [e for e in out if not (e.units[0] in seen or seen.add(e.units[0]))]


def _whole_lists(kept: list[Item], entries: list[Item], units: list[Unit],
                 settings: AnswerSettings) -> list[Item]:
    """Two entries of one list of short items bring the rest of it, in its order, where the first stood:
    the list is the answer ("Möjliga nya nätverk?": seven networks, of which the model finds five close to
    "tänkbara nya nätverk"), as ``_siblings`` completes such a list in a sentences answer."""
    by_unit = {e.units[0]: e for e in entries if len(e.units) == 1}
    kept_units = {e.units[0] for e in kept}
    out: list[Item] = []
    for entry in kept:
        head = entry.units[0]
        block = _list_of(head, units) if head.kind == "item" else []
        if sum(u in kept_units for u in block) >= 2 and all(len(u.text) < settings.lead_context_chars
                                                           for u in block):
            out += [by_unit[u] for u in block if u in by_unit]
        else:
            out.append(entry)
    seen: set[Unit] = set()
    return [e for e in out if not (e.units[0] in seen or seen.add(e.units[0]))]


def _rows_under(unit: Unit, own: list[Unit]) -> list[Unit]:
    """The rows after a table's first row (``own``: the units of its passage); none for any other unit."""
    position = own.index(unit)
    if unit.kind != "row" or (position > 0 and own[position - 1].kind == "row"):
        return []
    return list(takewhile(lambda u: u.kind == "row", own[position + 1:]))


_PARTS = re.compile(r",\s+|\s+(?:och|samt|and|or|eller|&)\s+")


def enumerated(text: str, *, names: bool = False) -> int:
    """How many things a sentence lists in a row ("A, B, C och D", after a lead-in ending in a colon):
    its short comma- or conjunction-separated parts, when they are at least half of its parts and three
    or more, or two after a lead-in ("... har två valts ut: A samt B."); else 0.
    With ``names`` only parts that begin with a capital count ("Ale, Alingsås, ..."; not "Gemensam,
    nationell e-tjänst för ..., brister och andra problem i stadsmiljön, och kommunen")."""
    parts = _parts(text)
    short = [p for p in parts if _is_name(p) or (not names and len(p.split()) <= 3)]
    least = 2 if ": " in text else 3
    return len(short) if len(short) >= least and 2 * len(short) >= len(parts) else 0


def _parts(text: str) -> list[str]:
    """A sentence's comma- or conjunction-separated parts, after a lead-in ending in a colon."""
    return [p.strip() for p in _PARTS.split(text.rstrip(".;").split(": ", 1)[-1]) if p.strip()]


def _is_name(part: str) -> bool:
    """A part of an enumeration that names something: short, and it begins with a capital."""
    return len(part.split()) <= 3 and part[:1].isupper()


def _names_its_subject(label: str, body: list[Unit]) -> bool:
    """A section about a thing ("Egil" -> "Egil är en ..."; "... aktivitetsansvaret – UKA" -> "UKAs
    syfte ..."), not a topic ("Förvaltning av digitala tjänster"): its first two sentences mention its
    name, the heading's first word or one of its capitalised words (the association's own name is
    no such name). Only such sections are entries."""
    words = [w.strip("–-:,.()") for w in label.split()]
    names = {_fold(w) for i, w in enumerate(words) if (i == 0 or w[:1].isupper())
             and (len(w) >= 3 or (len(w) == 2 and w.isupper()))}  # "AI nätverket": an acronym names
    names = {n for n in names if not n.startswith(_fold(HOME_ORGANISATION))}
    opening = [_fold(u.text) for u in body[:2]]  # anywhere in them: a history may name it last
    return any(name in said for name in names for said in opening)


def _label(heading: str) -> str:
    return _NUMBERING.sub("", heading).strip()


def _path(passage: Passage) -> list[str]:
    """The labels of the headings a passage stands under, outermost first ("Skola" for "5.6 Skola")."""
    return [_label(part) for part in passage.section.split(" > ")]


def by_passage(evidence: Evidence) -> dict[int, list[Unit]]:
    """The units each passage contributes, in document order, best passage first: what an LLM reads."""
    grouped: dict[int, list[Unit]] = {}
    for unit in evidence.units + [u for item in evidence.items for u in item.units]:
        if unit not in grouped.setdefault(unit.passage, []):
            grouped[unit.passage].append(unit)
    return {p: sorted(units, key=lambda u: u.start) for p, units in grouped.items()}


def concerns(question: str, organisation: str) -> bool:
    """Whether documents of an organisation belong in a staff draft: the association's own, or one the
    question names ("e-nämnden" names "Norrbottens e-nämnd")."""
    if organisation == HOME_ORGANISATION:
        return True
    asked = _fold(question)
    return any(_mentions(asked, word) for word in organisation.split() if len(word) >= 4)


def _mentions(folded_text: str, name: str) -> bool:
    """A name in a casefolded text, inflected too: "Sambruks", "IT-rådet" for "IT-råd"; a hyphen and a
    space join its parts alike ("AB-baserad", "AB baserad")."""
    folded = _fold(name).replace("-", " ")
    return folded[:max(4, len(folded) - 2)] in folded_text.replace("-", " ")


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[^\W_]+", _fold(text))) + " "


def bare(unit: Unit) -> bool:
    """A sentence of a few words ("Drivs av Alingsås.") says what it is about only with the heading it
    stands under: it is shown with it, and the same words under another heading say something else. One
    that announces what follows ("STATUS:") is told by what follows."""
    return unit.kind == "sentence" and len(unit.text.split()) <= _BARE_WORDS and not _announces(unit)


def _repeats(unit: Unit, other: Unit, passages: list[Passage]) -> bool:
    """The same words, however spaced and hyphenated ("50/50-modell", "50/50- modell" where a line was
    broken), or nearly the same meaning."""
    if bare(unit) and bare(other) and unit.label != other.label:
        return False
    a, b = passages[unit.passage].unit_vectors, passages[other.passage].unit_vectors
    one, two = _words(unit.text), _words(other.text)
    if one in two or two in one:
        return True
    return bool(a is not None and b is not None and float(np.dot(a[unit.index], b[other.index])) > 0.95)


def _same_name(a: str, b: str) -> bool:
    """Two entries naming one thing: "EGIL – Provisioneringstjänst ..." and "Egil"; "UKA" and "UKAA"; not
    "Nätverk X" and "Nätverk Y": each word of the shorter label begins the longer one's word there. A
    heading "description – name" names its thing by either part ("Uppföljningssystem för ... – UKA")."""
    return any(_same_words(x, y) for x in a.split(" – ") for y in b.split(" – "))


def _same_words(a: str, b: str) -> bool:
    words_a, words_b = (_fold(x).replace("–", " ").split() for x in (a, b))
    shorter, longer = sorted((words_a, words_b), key=len)
    if not shorter or len(shorter[0]) < 3:
        return False
    return all(w2.startswith(w1) or w1.startswith(w2) for w1, w2 in zip(shorter, longer))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _document(passage: Passage) -> str:
    return passage.file or passage.title


def _recency(passage: Passage) -> tuple[str, int]:
    return passage.date or "", passage.year or 0

