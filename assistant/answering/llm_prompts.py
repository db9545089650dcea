"""The chat messages sent to the answer LLM: fixed rules and one worked example, then the evidence.

Written for a small model (Qwen2.5-Coder-1.5B) on CPU: short, in the answer language, one few-shot
example that shows the [n] citations and year attribution we want. The system prompt and example
never vary within a language, so they form a constant prefix whose KV cache llama.cpp reuses;
only the passages and the question are evaluated per request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.evidence import Evidence, Unit, by_passage, shown
from assistant.answering.prompts import REFUSAL
from assistant.schemas import Language, Message, Passage

_SYSTEM = {
    "sv": (
        "Du svarar på frågor om föreningen Sambruk med hjälp av numrerade utdrag ur dess dokument.\n"
        "Regler:\n"
        "- Använd bara det som står i utdragen. Gissa aldrig.\n"
        "- Svara kort på svenska, högst tre meningar.\n"
        "- Sätt utdragets nummer efter varje mening, till exempel [1] eller [2].\n"
        "- Om siffror skiljer sig mellan år eller dokument: skriv vilket år eller dokument "
        "varje siffra gäller.\n"
        "- Om svaret inte finns i utdragen, svara exakt: {refusal}"
    ),
    "en": (
        "You answer questions about the Swedish municipal association Sambruk using numbered excerpts "
        "from its documents, which are in Swedish.\n"
        "Rules:\n"
        "- Use only what the excerpts say. Never guess.\n"
        "- Answer briefly in English, at most three sentences.\n"
        "- Put the excerpt number after every sentence, for example [1] or [2].\n"
        "- If figures differ between years or documents, say which year or document each figure belongs to.\n"
        "- If the excerpts do not contain the answer, reply exactly: {refusal}"
    ),
}

_LABELS = {
    # Concrete markers: given "[n]" the model writes a literal "[n]".
    "sv": ("Utdrag:", "Fråga:",
           "Svara kort på svenska och sätt utdragets nummer, t.ex. [1], efter varje mening."),
    "en": ("Excerpts:", "Question:",
           "Answer briefly in English and put the excerpt number, e.g. [1], after every sentence."),
}

# A fictional service, so that its figures cannot be mistaken for facts about the real corpus.
_EXAMPLE_PASSAGES = (
    ("Exempelföreningen verksamhetsberättelse 2019", "2019", "Tjänster > Solros",
     "Tjänsten Solros används vid årets slut av 41 kommuner. Två kommuner anslöt under hösten."),
    ("Exempelföreningen verksamhetsplan 2023", "2023", "Förvaltning",
     "Solros används nu av 58 kommuner och förvaltas av kansliet i Örebro."),
)
_EXAMPLE = {
    "sv": (
        "Hur många kommuner använder Solros?",
        "Solros används av 58 kommuner enligt verksamhetsplanen 2023 [2]. "
        "År 2019 var antalet 41 kommuner [1].",
    ),
    "en": (
        "How many municipalities use Solros?",
        "Solros is used by 58 municipalities according to the 2023 operational plan [2]. "
        "In 2019 the figure was 41 municipalities [1].",
    ),
}

_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_HISTORY_MESSAGES = 4  # the last two user/assistant turns
_HISTORY_CHARS = 600


def build_messages(
    question: str,
    passages: Sequence[Passage],
    evidence: Evidence,
    *,
    language: Language,
    history: Sequence[Message] = (),
) -> list[dict[str, str]]:
    """System + worked example (constant prefix), then short history, then evidence and question.

    The excerpts are the evidence's units, not whole passages: a few hundred characters a small
    model reads quickly and cannot wander off from. Each keeps its passage's number, so [n] maps to
    the passages as the extractive answer's markers do.
    """
    example_question, example_answer = _EXAMPLE[language]
    example = [_format_passage(i, title, date, section, text)
               for i, (title, date, section, text) in enumerate(_EXAMPLE_PASSAGES, start=1)]
    messages = [
        {"role": "system", "content": _SYSTEM[language].format(refusal=refusal_sentence(language))},
        {"role": "user", "content": _user_message(example, example_question, language)},
        {"role": "assistant", "content": example_answer},
    ]
    messages += _short_history(history)
    excerpts = [_format_passage(p + 1, passages[p].title, passages[p].date, passages[p].section,
                                _excerpt(units, passages))
                for p, units in by_passage(evidence).items()]
    messages.append({"role": "user", "content": _user_message(excerpts, question, language)})
    return messages


def refusal_sentence(language: Language) -> str:
    """REFUSAL's first sentence: what is_refusal() recognises; the service adds the rest itself."""
    return REFUSAL[language].split(".")[0] + "."


def _excerpt(units: Sequence[Unit], passages: Sequence[Passage]) -> str:
    """Units in document order, "…" where the passage skips text between them."""
    parts = []
    for previous, unit in zip([None, *units], units):
        if previous is not None and unit.index != previous.index + 1:
            parts.append("…")
        parts.append(shown(unit, passages))
    return " ".join(parts)


def _format_passage(n: int, title: str, date: str | None, section: str, text: str) -> str:
    dated = f" ({date})" if date else ""
    return f"[{n}] {title}{dated} — {section}\n{text}"


def _user_message(passages: list[str], question: str, language: Language) -> str:
    """The question before the excerpts too: a small model reads them knowing what to look for."""
    excerpts, ask, reminder = _LABELS[language]
    return f"{ask} {question}\n\n{excerpts}\n" + "\n\n".join(passages) + f"\n\n{ask} {question}\n{reminder}"


def _short_history(history: Sequence[Message]) -> list[dict[str, str]]:
    """The last two turns, without their [n] markers (they point at passages this prompt lacks), if short."""
    recent = [{"role": m.role, "content": _MARKER.sub("", m.content).strip()}
              for m in history[-_HISTORY_MESSAGES:]]
    if sum(len(m["content"]) for m in recent) > _HISTORY_CHARS:
        return []
    return recent
