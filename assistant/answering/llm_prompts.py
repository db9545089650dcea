"""The chat messages sent to the answer LLM: fixed rules and one worked example, then the evidence.

Written for a small model (Qwen2.5-Coder-1.5B) on CPU: short, in the answer language, one few-shot
example that shows the [n] citations and year attribution we want. The system prompt and example
never vary within a language, so they form a constant prefix whose KV cache llama.cpp reuses;
only the passages and the question are evaluated per request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.prompts import REFUSAL
from assistant.schemas import Language, Message, Passage
from ingest.sparse import analyze

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
_WRAPPED = re.compile(r"(?<![.!?:])\n(?=[a-zåäöé(])")  # a line break inside a sentence
_SEGMENT = re.compile(r"[^.!?\n]+[.!?]*")
_ELLIPSIS = " …"
_HISTORY_MESSAGES = 4  # the last two user/assistant turns
_HISTORY_CHARS = 600


def build_messages(
    question: str,
    passages: Sequence[Passage],
    *,
    language: Language,
    history: Sequence[Message] = (),
    max_passages: int,
    max_chars: int,
) -> list[dict[str, str]]:
    """System + worked example (constant prefix), then short history, then evidence and question."""
    example_question, example_answer = _EXAMPLE[language]
    example = [_format_passage(i, title, date, section, text)
               for i, (title, date, section, text) in enumerate(_EXAMPLE_PASSAGES, start=1)]
    messages = [
        {"role": "system", "content": _SYSTEM[language].format(refusal=refusal_sentence(language))},
        {"role": "user", "content": _user_message(example, example_question, language)},
        {"role": "assistant", "content": example_answer},
    ]
    messages += _short_history(history)
    trimmed = trim_passages(question, passages, max_passages, max_chars)
    evidence = [_format_passage(i, p.title, p.date, p.section, text)
                for i, (p, text) in enumerate(trimmed, start=1)]
    messages.append({"role": "user", "content": _user_message(evidence, question, language)})
    return messages


def refusal_sentence(language: Language) -> str:
    """REFUSAL's first sentence: what is_refusal() recognises; the service adds the rest itself."""
    return REFUSAL[language].split(".")[0] + "."


def trim_passages(question: str, passages: Sequence[Passage], max_passages: int,
                  max_chars: int) -> list[tuple[Passage, str]]:
    """The first ``max_passages`` passages, their texts cut to share ``max_chars`` between them.

    A short passage leaves its unused share to the ones after it; a long one keeps the window of
    whole sentences that mentions most question terms, not just its head.
    """
    kept = list(passages[:max_passages])
    terms = set(analyze(question))
    trimmed: list[tuple[Passage, str]] = []
    remaining = max_chars
    for i, passage in enumerate(kept):
        budget = remaining // (len(kept) - i)
        text = _best_window(_clean(passage.text), terms, budget)
        trimmed.append((passage, text))
        remaining -= len(text)
    return trimmed


def _best_window(text: str, terms: set[str], budget: int) -> str:
    """The contiguous run of sentences within ``budget`` characters with the most question terms."""
    if len(text) <= budget:
        return text
    budget -= len(_ELLIPSIS) * 2  # room for the marks that say the text goes on
    segments = [(m.start(), m.end(), len(terms.intersection(analyze(m.group()))))
                for m in _SEGMENT.finditer(text)]
    best: tuple[int, int, int] | None = None  # (score, start, end)
    for i, (start, _, _) in enumerate(segments):
        score, end = 0, None
        for seg_start, seg_end, seg_score in segments[i:]:
            if seg_end - start > budget:
                break
            score, end = score + seg_score, seg_end
        if end is not None and (best is None or score > best[0]):
            best = (score, start, end)
    if best is None:  # a single sentence longer than the budget: cut it at a word boundary
        return text[:max(budget, 0)].rsplit(" ", 1)[0] + _ELLIPSIS
    _, start, end = best
    return ("… " if start > 0 else "") + text[start:end].strip() + (_ELLIPSIS if end < len(text) else "")


def _clean(text: str) -> str:
    """Drop emphasis and blank lines, rejoin wrapped lines: slides split "152" from "kommuner",
    PDFs wrap sentences, and a small model reads the pieces as unrelated facts."""
    text = re.sub(r"[ \t]*\n\s*", "\n", text.replace("**", "")).strip()
    return _WRAPPED.sub(" ", text)


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
