"""Staff draft mode: the grounded answer as a formal Swedish reply, ready to edit and send."""

from __future__ import annotations

from assistant.schemas import Citation

_GREETING = "Hej,"
_THANKS = "Tack för din fråga till Föreningen Sambruk."
_NOT_ANSWERED = (
    "Vi har gått igenom föreningens dokument, men de besvarar tyvärr inte din fråga. "
    "Vi har därför skickat den vidare till den som ansvarar för området hos oss, "
    "som återkommer till dig så snart som möjligt."
)
_CLOSING = "Med vänliga hälsningar,\nFöreningen Sambruk"


def draft_reply(question: str, answer_text: str, citations: list[Citation], *, refused: bool) -> str:
    """Greeting, thanks, the answer with its [n] markers, closing, and the sources those markers name.

    A refused question gets no facts at all, only the promise to forward it. The question itself
    is not repeated: the reply goes back in the same thread.
    """
    body = _NOT_ANSWERED if refused else answer_text.strip()
    parts = [_GREETING, _THANKS, body, _CLOSING]
    if not refused and citations:
        parts.append("Källor:\n" + "\n".join(_source_line(c) for c in citations))
    return "\n\n".join(parts)


def _source_line(citation: Citation) -> str:
    details = [citation.title]
    if citation.section:
        details.append(citation.section)
    if citation.page is not None:
        details.append(f"s. {citation.page}")
    dated = f" ({citation.date})" if citation.date else ""
    return f"[{citation.n}] " + ", ".join(details) + dated
