"""The answer that needs no LLM: the chosen evidence's own sentences, attributed and cited.

``evidence.select`` decides what answers the question; this module only writes it out: sentences
grouped by document ("Enligt <dokument> (<datum>): ... [n]"), or a list of entries, each once with
every passage that names it. English questions get the Swedish evidence quoted inside English
framing. Runs in well under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from assistant.answering.evidence import Evidence, Item, Unit, bare, shown
from assistant.answering.prompts import REFUSAL
from assistant.schemas import Language, Message, Mode, Passage
from ingest.segmenting import DEMONSTRATIVES

_TITLE_NOTE = re.compile(r"\s*\([^()]*\)$")  # "Protokoll 2022 (§ 8–16 med bilagor)": a title's closing note
_INTRO = {"sv": ("Enligt {}:", " och "), "en": ("According to {}:", " and ")}
_DEMONSTRATIVE = re.compile(f"({DEMONSTRATIVES})", re.IGNORECASE)


class ExtractiveBackend:
    name = "extractive"

    def stream(
        self,
        question: str,
        passages: list[Passage],
        evidence: Evidence,
        *,
        language: Language,
        history: Sequence[Message] = (),
        mode: Mode = "answer",  # a draft is built by the service from this same grounded answer
    ) -> Iterator[str]:
        """The answer cut after each citation group: one sentence or list entry per piece."""
        text = compose(evidence, passages, language)
        last = 0
        for match in re.finditer(r"\](?!\s*\[)\s*", text):
            yield text[last:match.end()]
            last = match.end()
        if last < len(text):
            yield text[last:]


def compose(evidence: Evidence, passages: list[Passage], language: Language) -> str:
    if evidence.shape == "list":
        return _format_list(evidence.items, passages, language)
    if evidence.shape == "sentences" and evidence.units:
        return _format_sentences(evidence.units, passages, language)
    return REFUSAL[language]


def source_name(passage: Passage) -> str:
    """The document as the reader knows it, with its date unless the title has it, and for minutes
    the item ("§ 10 Grundläggande granskning"): a decision means little without it. The title's note of
    the items the file holds ("(§ 8–16 med bilagor)") says nothing of the passage (its citation names
    the file): an attachment is "Norrbottens e-nämnd, protokoll 2022"."""
    date = passage.date or (str(passage.year) if passage.year else "")
    name = passage.title if not date or date in passage.title else f"{passage.title} ({date})"
    if passage.doc_type != "protokoll":
        return name
    item = passage.section.split(" > ")[0]
    name = _TITLE_NOTE.sub("", name)
    return f"{name}, {item}" if item.startswith("§") else name


def _format_list(items: list[Item], passages: list[Passage], language: Language) -> str:
    intro, conjunction = _INTRO[language]
    sources = list(dict.fromkeys(source_name(passages[p]) for item in items for p in item.passages))
    named = ", ".join(sources[:-1]) + conjunction + sources[-1] if len(sources) > 1 else sources[0]
    quoted = '"{}"' if language == "en" else "{}"
    lines = [f"- {quoted.format(_label(item, passages))} " + "".join(f"[{p + 1}]" for p in item.passages)
             for item in items]
    return "\n".join([intro.format(named), *lines])


def _label(item: Item, passages: list[Passage]) -> str:
    """An entry as the answer lists it: a table row (an entry of its own) with its figures told apart."""
    row = item.units[0] if len(item.units) == 1 and item.units[0].text == item.label else None
    return shown(row, passages) if row else item.label


def _format_sentences(units: list[Unit], passages: list[Passage], language: Language) -> str:
    """Units grouped by source (best first), in document order within one, each group named by its
    document: every figure says where, and so which year, it comes from."""
    by_source: dict[str, list[Unit]] = {}
    for unit in units:
        by_source.setdefault(source_name(passages[unit.passage]), []).append(unit)
    quoted = '"{}"' if language == "en" else "{}"
    parts = []
    for source, own in by_source.items():
        ordered = sorted(own, key=lambda u: (passages[u.passage].start + u.start))
        said: list[str] = []
        for unit in ordered:
            # "Detta är idag det nätverk ...": the heading it stands under says what "detta" is, unless
            # the answer said so already
            needs = refers_back(unit.text) or bare(unit)
            named = unit.label and needs and not any(unit.label in s for s in said)
            prefix = f"({unit.label}) " if named else ""
            said.append(prefix + quoted.format(shown(unit, passages)) + f" [{unit.passage + 1}]")
        parts.append(f"{_INTRO[language][0].format(source)} {' '.join(said)}")
    return "\n".join(parts)


def refers_back(sentence: str) -> bool:
    """A sentence that opens with a demonstrative ("Detta är idag det nätverk ..."): quoted alone, it does
    not say what it is about."""
    first = sentence.split(maxsplit=1)[0] if sentence.split() else ""
    return bool(_DEMONSTRATIVE.fullmatch(first.strip(",.:;")))
