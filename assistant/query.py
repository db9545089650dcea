"""Reading a question before it is searched: conversation context and time words (pure functions)."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.schemas import Message

_LATEST = re.compile(
    r"\b(i dag|idag|nu|numera|just nu|för närvarande|i dagsläget|aktuell\w*|senast\w*|nuvarande|"
    r"today|now|currently|current|latest|most recent|at present|these days)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
# Words that point back to something said earlier in the conversation.
_ANAPHORA = re.compile(
    r"\b(det|den|dess|denna|detta|dessa|de|dem|deras|där|dit|samma|it|its|they|them|their|this|that|"
    r"these|those|there|he|she|his|her)\b",
    re.IGNORECASE,
)
_SHORT_QUESTION_WORDS = 7
# A question that opens with a conjunction goes on with the conversation ("And what was the corresponding
# figure in the 2025 budget?"), however long it is.
_CONTINUES = re.compile(r"^\W*(och|men|samt|and|but|also)\b", re.IGNORECASE)
# Interrogatives that ask for a figure or a date, and for several things: the grammar of a question,
# in both languages, not words of any document.
_QUANTITY = re.compile(
    r"\b(hur många|hur mycket|hur stor\w*|hur lång\w*|hur hög\w*|vilket år|vilket datum|how many|"
    r"how much|how large|how big|how long|how high|number of|what year|which year|what date|which date)\b|"
    # "Vad kostar X?", "Vad skulle X kosta?", "What does X cost?": a sum of money is asked for, as by
    # "hur mycket kostar"
    r"\bvad\s+(?:(?:skulle|ska|kommer|har|hade|kan|bör)\s+(?:\S+\s+){1,5}?)?kosta\w*|"
    r"\bwhat\s+(?:does|did|do|will|would)\s+(?:\S+\s+){1,5}?(?<!the )(?<!a )cost\b|"
    # "när" / "when" asks for a date where it opens the question or a clause ("..., and by when?", "Sedan
    # när ..."); in "what did he say when the plan was presented" it only says which occasion, and so in
    # "Hur går det till när ...", where "till" is the verb's ("gå till", "hänvisa till"), not "until".
    r"(?:^|[,;–]\s*|\b(?:and|och)\s+)(?:(?:by|since|sedan|until|till)\s+)?(?:när|when)\b", re.IGNORECASE,
)
_LIST = re.compile(
    r"\b(vilka|lista|räkna upp|list|enumerate)\b|"
    r"\b(which|what)\s+(?!(?:is|was|are|were|do|does|did|has|have)\b)"
    # a plural noun ("Which services Sambruk offers?"), or one after up to three words that are no
    # preposition or auxiliary ("What possible new networks ...", not "what share of its ...", "which year
    # must ..."), which is not a verb ending in s: a verb has an object ("Which municipality runs the
    # network?"); an acronym ending in S ("LMS") is one thing
    r"(?:\w+(?-i:[a-zåäö]s)\b|(?:(?!(?:of|in|on|at|for|to|by|from|with|must|can|could|should|will|would|"
    r"may|might|shall|is|was|are|were|do|does|did|has|have|had)\b)\w+\s+){1,3}"
    r"(?!(?:is|was|does|has|its|this|his)\b)\w+(?-i:[a-zåäö]s)\b"
    r"(?!\s+(?:(?:the|a|an|its|their|this|that|these|those)\b|(?-i:[A-ZÅÄÖ]))))|"
    # "Which of Gartner's trends are listed?": several, by the verb's number ("Which of the goals was ..."
    # asks for one)
    r"\b(?:which|what)\s+of\b[^?,]*?\b(?:are|were|have)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_][\w-]*")
# "Hur många X ...", "Hur många av (Sveriges) X ...": the word a count is asked of (Swedish: it is matched
# against Swedish stems); "av" and a genitive after it only say of which whole.
_COUNTED = re.compile(r"\bhur många\s+(?:av\s+(?:(?:de|dessa|[\w-]+s)\s+(?:\d+\s+)?(?=[^\W\d_]))?)?"
                      r"([^\W\d_][\w-]*)", re.IGNORECASE)


# Month names, Swedish and English, by number: the calendar, not words of any document
_MONTH_NUMBER = {name: n for n, names in enumerate((
    ("januari", "january"), ("februari", "february"), ("mars", "march"), ("april",), ("maj", "may"),
    ("juni", "june"), ("juli", "july"), ("augusti", "august"), ("september",), ("oktober", "october"),
    ("november",), ("december",)), 1) for name in names}
MONTH_NAMES = "|".join(_MONTH_NUMBER)
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?::[ae])?\s+({MONTH_NAMES})\s+((?:19|20)\d\d)\b",
                             re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b({MONTH_NAMES})\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b", re.IGNORECASE)
ISO_DAY = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")


def days_mentioned(question: str) -> list[str]:
    """The days a question names with their year, as ISO dates: "den 22 juni 2022", "on 4 May 2022",
    "May 4, 2022" and "2022-05-04" alike; minutes are known by the day of their meeting."""
    days = [(y, _MONTH_NUMBER[m.lower()], d) for d, m, y in _DAY_MONTH_YEAR.findall(question)]
    days += [(y, _MONTH_NUMBER[m.lower()], d) for m, d, y in _MONTH_DAY_YEAR.findall(question)]
    days += [(y, m, d) for y, m, d in ISO_DAY.findall(question)]
    return list(dict.fromkeys(f"{y}-{int(m):02d}-{int(d):02d}" for y, m, d in days))


@lru_cache(maxsize=64)  # asked of every unit for each day a question names
def day_written(iso_day: str) -> re.Pattern[str]:
    """How a text may write a day: "2022-05-04", "220504" (the minutes' file names), "4 maj", "May 4"."""
    year, month, day = iso_day.split("-")
    names = "|".join(name for name, n in _MONTH_NUMBER.items() if n == int(month))
    day_number = str(int(day))
    return re.compile(rf"{iso_day}|(?<!\d){year[2:]}{month}{day}(?!\d)|"
                      rf"\b{day_number}(?::[ae])?\s+(?:{names})\b|\b(?:{names})\s+{day_number}\b",
                      re.IGNORECASE)


def wants_latest(question: str) -> bool:
    return bool(_LATEST.search(question))


def years_mentioned(question: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(question)]


def is_follow_up(question: str, history: list[Message]) -> bool:
    """A question that leans on the conversation: it refers back, goes on from it, or is too short to
    stand alone."""
    if not any(m.role == "user" for m in history):
        return False
    return bool(_ANAPHORA.search(question) or _CONTINUES.match(question)) \
        or len(question.split()) <= _SHORT_QUESTION_WORDS


def contextualize(question: str, history: list[Message], max_turns: int = 2, *, always: bool = False) -> str:
    """The text to search for: a follow-up (or, with ``always``, any question asked in a conversation)
    is searched together with the user's previous questions."""
    if not (is_follow_up(question, history) or (always and any(m.role == "user" for m in history))):
        return question
    earlier = [m.content.strip() for m in history if m.role == "user" and m.content.strip()]
    if years_mentioned(question):  # "Och för 2022?" asks of its own year, not the earlier question's too
        earlier = [_YEAR.sub("", text) for text in earlier]
    return " ".join([*earlier[-max_turns:], question])


# "året därpå", "the year before", "tio år tidigare": a year counted from the one the conversation asked
# about (the grammar of both languages; numbers to ten in words)
_COUNT_WORDS = {w: n for words in ("ett två tre fyra fem sex sju åtta nio tio",
                                   "one two three four five six seven eight nine ten")
                for n, w in enumerate(words.split(), 1)}
_RELATIVE_YEAR = re.compile(
    r"\b(?:år(?:et)?\s+(därpå|efter|därefter|innan|före|dessförinnan)|(följande|föregående)\s+år|"
    r"the\s+(?:year\s+(after|before)|(following|next|previous|preceding)\s+year)|a\s+year\s+(later|earlier)|"
    rf"(\d{{1,2}}|{'|'.join(_COUNT_WORDS)})\s+(?:år|years?)\s+"
    r"(tidigare|senare|innan|efter|före|earlier|later|before|after))\b",
    re.IGNORECASE)
_LATER = {"därpå", "efter", "därefter", "följande", "after", "following", "next", "later", "senare"}


def dated(question: str, history: list[Message]) -> str:
    """A follow-up that counts its year from the conversation's, with that year written out: "Och året
    innan?" after a question about 2011 asks "Och året innan (2010)?", which retrieval and the year
    checks read like any question naming its year."""
    match = _RELATIVE_YEAR.search(question)
    earlier = [y for m in history if m.role == "user" for y in years_mentioned(m.content)]
    if not match or not earlier or years_mentioned(question):
        return question
    *said, count, direction = match.groups()
    word = (direction or next(g for g in said if g)).lower()
    years = 1 if count is None else int(count) if count.isdigit() else _COUNT_WORDS[count.lower()]
    year = earlier[-1] + (years if word in _LATER else -years)
    return f"{question[:match.end()]} ({year}){question[match.end():]}"


_WHEN = re.compile(r"\b(när|vilket år|vilket datum|when|what year|which year|what date)\b",
                   re.IGNORECASE)


# "Vilket datum ...", "On what date ...": a day of a month, not a year
_DAY = re.compile(r"\b(vilket datum|vilken dag|what date|which date|which day|what day)\b", re.IGNORECASE)


def asks_day(question: str) -> bool:
    """A year is no answer to it: "Vilket datum hölls stämman 2011?" is not answered by "2010"."""
    return bool(_DAY.search(question))


def asks_date(question: str) -> bool:
    """"När ...", "Which year ...": the figure asked for is a date or a year (else an amount)."""
    return bool(_WHEN.search(question))


# a Swedish compound names a sum by its last part ("medlemsavgiften", "licenskostnad", "timpriset")
_COST = re.compile(r"\b(kosta\w*|\w*(?:kostnad(?:er|en|erna)?|avgift(?:er|en|erna)?|pris(?:er|et|erna)?)|"
                   r"cost\w*|price\w*|fee\w*|charge\w*)\b", re.IGNORECASE)


def asks_cost(question: str) -> bool:
    """"Vad kostar ...", "How much does X cost": the figure asked for is a sum of money."""
    return asks_quantity(question) and bool(_COST.search(question))


def asks_quantity(question: str) -> bool:
    """"How many", "when": the answer is a figure or a date."""
    return bool(_QUANTITY.search(question))


# "Vilka kommuner ...", "Vilka är de sex kommuner ...": the things a Swedish list question asks for, the
# noun after "vilka" (not a verb), or after "vilka är de" and a number
_LISTED = re.compile(r"\bvilka\s+(?:(?:är|var)\s+(?:de|dessa)\s+(?:\w+\s+(?=\w+\s+som\b))?)?"
                     r"(?!(?:är|var|blir|blev|har|hade|ska|skulle|kan|kunde)\b)([^\W\d_][\w-]*)",
                     re.IGNORECASE)


def listed_noun(question: str) -> str | None:
    """What a Swedish list question asks for: "kommuner" in "Vilka kommuner anslöt under 2025?"."""
    match = _LISTED.search(question)
    return match.group(1) if match else None


# "Hur stor var den årliga medlemsavgiften ...", "Hur stort eget kapital ...": the size of a thing, named
# after a copula, determiners, genitives ("Sambruks", "e-nämndens") and adjectives ("årliga", "budgeterade")
_SIZED = re.compile(r"\bhur\s+(?:stora?|stort)\s+(?:(?:är|var|blir|blev)\s+)?"
                    r"(?:(?:den|det|de|[\w-]+s|[\w-]+(?:a|e))\s+)*"
                    r"(?!(?:del|andel)\b|[\w-]+(?:s|a|e)\b)([^\W\d_][\w-]*)",
                    re.IGNORECASE)


def counted(question: str) -> str | None:
    """What a Swedish "how many / how large" question counts or measures: "deltagare" in "Hur många
    deltagare hade mötet?", "medlemsavgiften" in "Hur stor var den årliga medlemsavgiften 2011?" (a share,
    "hur stor del / andel", is measured in per cent of something the question names after it)."""
    match = _COUNTED.search(question) or _SIZED.search(question)
    return match.group(1) if match else None


# "Vad kostar X per elev och år?", "... per inhabitant and year": what a figure asked for is counted per;
# "varje kommun", "en enskild kommun" ask it per one of them as "per kommun" does
_PER = re.compile(r"\b(?:per|varje|enskild)\s+([^\W\d_]+)(?:\s+(?:och|and)\s+([^\W\d_]+))?", re.IGNORECASE)


def rates(question: str) -> list[str]:
    """The words a figure asked for is counted per: "elev" and "år" in "Vad kostar Egil per elev och år?"
    (a total of all members' fees is no fee per inhabitant), "kommun" in "Hur mycket betalar en enskild
    kommun ...?" (nor the fee of one member)."""
    return [word for match in _PER.finditer(question) for word in match.groups() if word]


# "How many e-book loans were made ...", "How large was the one-off membership contribution ...": the
# English noun phrase after the interrogative (a copula and determiners skipped), up to the first auxiliary,
# preposition or determiner; a pronoun ("How much did it ...", "How much of that ...") or a share ("how large
# a share") names nothing to count
_COUNTED_EN = re.compile(
    r"\bhow\s+(?:many|much|large|big)\s+(?:(?:is|was|are|were)\s+)?(?:(?:the|a|an)\s+)?"
    r"(?!(?:share|part|proportion|percentage|of|it|its|that|this|they|he|she|did|does|do|is|was|are|were|"
    r"will|would|can|could|has|have|had)\b)"
    r"((?:(?!(?:do|does|did|have|has|had|are|were|is|was|will|would|can|could|should|must|of|in|for|at|on|"
    r"to|from|through|by|per|with|a|an|the|and|or)\b)[\w'’-]+\s*){1,4}?)(?=\s+\S|[?,.(]|$)",
    re.IGNORECASE)


def counted_english(question: str) -> str | None:
    """What an English "how many / how much" question counts or measures: "e-book loans" in "How many
    e-book loans were made through Bibblix during 2021?". It is matched against the Swedish text through
    the model (``evidence.select``'s ``likeness``), as ``counted`` is through stems."""
    match = _COUNTED_EN.search(question)
    if match is None:
        return None
    # "How large was Sambruk's income ...": the name is asked about (the anchors), the income counted
    names = set(names_in(question))
    words = [w for w in match.group(1).split() if re.sub(r"['’]s$", "", w) not in names]
    return " ".join(words) or None


_HOW = re.compile(r"\b(hur|how)\b", re.IGNORECASE)


def asks_how(question: str) -> bool:
    """"Hur går man till väga ...", "How do municipalities report ...": a way, not a figure."""
    return bool(_HOW.search(question)) and not asks_quantity(question)


def asks_list(question: str) -> bool:
    """"Vilka ...", "Which services ...": the answer is several things."""
    return bool(_LIST.search(question))


_NAME = re.compile(r"\b(vem|vilken|vilket|who|whom|which)\b", re.IGNORECASE)
_WHO = re.compile(r"\b(vem|vems|who|whom|whose)\b", re.IGNORECASE)


def asks_name(question: str) -> bool:
    """"Vem ...", "Vilket system ...", "Who ...": the answer names one thing (not a list, not a figure)."""
    return bool(_NAME.search(question)) and not asks_list(question) and not asks_quantity(question)


def asks_who(question: str) -> bool:
    """"Vem ...", "Who ...": the answer names a person or an organisation."""
    return bool(_WHO.search(question))


def _opens_clause(text: str, at: int) -> bool:
    """The word at ``at`` opens the question or a clause of it: after a preposition ("I vilket skede
    ...", "On which grounds ...") "which X" says when or how, and names no one."""
    before = text[:at].rstrip()
    return not before or before[-1] in ",;:–-" or before.split()[-1].lower() in ("och", "and", "samt")


_WHICH = re.compile(r"\b(vilket|vilken|which)\s+[^\W\d_][\w-]*", re.IGNORECASE)


def who_and_what(question: str) -> tuple[str, str] | None:
    """A "which X" question asked as "who" and as "what" ("Vilken byrå granskar X?": "Vem granskar X?",
    "Vad granskar X?"): the model tells which of the two the question is nearer, whether X is someone (a
    firm, a party, a municipality) or something (a figure, a way, a plan)."""
    match = _WHICH.search(question)
    if match is None or not asks_name(question) or asks_who(question) \
            or not _opens_clause(question, match.start()):
        return None
    english = match.group(1).lower() == "which"

    def asked(word: str) -> str:  # written as the question wrote "which": capitalised where it opens one
        return question[:match.start()] + (word if match.group(1)[0].isupper() else word.lower()) \
            + question[match.end():]

    return asked("Who" if english else "Vem"), asked("What" if english else "Vad")


# English writes months capitalised; they date what is asked ("on 16 December 2021") and name nothing, and
# the Swedish text writes them otherwise ("2021-12-16", "16 december"). The year stays an anchor.
_MONTH = re.compile(r"(?:January|February|March|April|May|June|July|August|September|October|November|"
                    r"December)")


def names_in(question: str) -> list[str]:
    """Proper names the question asks about: capitalised words that open no sentence (not months; "Vi har
    en idé ... . Hur går man till väga?" names no "Hur"), and acronyms."""
    found = [(re.sub(r"['’]s$", "", m.group()), not question[:m.start()].strip()
              or question[:m.start()].rstrip()[-1] in ".!?")
             for m in _WORD.finditer(question) if not _MONTH.fullmatch(m.group())]
    # In a compound of a name and a common noun ("ABC-projektet", "XYZ-avtalet") the name is
    # the part before the hyphen.
    found = [(re.sub(r"^([^\W\d_]*[A-ZÅÄÖ][^\W\d_]*)-[a-zåäö][\w-]*$", r"\1", w), opens)
             for w, opens in found]
    return [w for w, opens in found if sum(c.isupper() for c in w) > 1 or (not opens and w[:1].isupper())]


# "..., och vad betalar en ny medlem?": a second question, joined by "och / and" before its question word.
_CLAUSE = re.compile(
    r",?\s+(?:och|and)\s+(?=(?:(?:from|of|in|on|to|by|with|for|från|av|i|på|till|med|för)\s+)?"
    r"(?:vad|hur|vem|vilk\w*|när|varför|what|how|who|which|when|why)\b)", re.IGNORECASE)
_CLAUSE_WORDS = 3  # "... och varför?" alone asks nothing the first question does not carry


def later_questions(question: str) -> list[str]:
    """The questions a question asks after its first that stand on their own: "Hur kunde kommuner bli
    medlemmar, och vad betalar en ny medlem?" also asks "vad betalar en ny medlem?". One that points
    back ("... och vem har betalat för den?") means nothing without the first, which it is part of."""
    return [part.strip() for part in _CLAUSE.split(question)[1:]
            if len(part.split()) >= _CLAUSE_WORDS and not _ANAPHORA.search(part)]
