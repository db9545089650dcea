"""Document text quoted in an answer that is not prose: table rows become a table, slide text a quotation.

Cleaning keeps a document's table as one line per row with cells joined by `` | `` (ingest/cleaning.py);
an answer that quotes rows carries them on in its running text ("Göteborg | EGIL Kostnad") or as list
items. Here each run of quoted rows becomes a table whose header is the table's first row in the
document, when the text before the first cited row shows where the table starts; without a header the
rows become a list, one row an item. A quote of slide text (short lines without sentence ends, run together by the
answer) is set in quotation marks, so that it reads as the slide's words and not as a broken sentence.
The words stay the answer's own: only their layout changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# One claim of an answer line and the marker group that ends it ("... text [1]", "[1][2]").
_CLAIM = re.compile(r"(.*?)(\[\d+(?:\s*[,;]\s*\d+)*\](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*|$)")
_CELL_SEPARATOR = " | "
_LIST_BULLET = re.compile(r"^\s*[-*•]\s+")


def is_row(text: str) -> bool:
    return _CELL_SEPARATOR in text


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split(_CELL_SEPARATOR.strip())]


def table_header(before: str, row: str) -> str | None:
    """The first row of the table that the cited ``row`` belongs to, given the document text ``before`` it.

    ``row`` itself when the table starts with it; None when the context was cut inside the table (its
    start is not known) or the cited span starts mid-line.
    """
    lines = before.split("\n")
    if lines[-1].strip():
        return None
    rows = []
    for line in reversed(lines[:-1]):
        if not line.strip() or not is_row(line):
            break
        rows.append(line)
    else:
        return None  # reached the start of the context inside the table
    return rows[-1] if rows else row


def _row_start(claim: str, quoted: str) -> int:
    """Where the quoted document row starts in an answer's claim, whether the answer shows it as the
    document writes it or with its figures told apart ("Piteå 74 000 53 000" as "Piteå | 74 000 | 53 000");
    -1 when the claim does not hold it."""
    words = quoted.replace("|", " ").split()
    if not words:
        return -1
    found = re.search(r"(?:\s*\|\s*|\s+)".join(map(re.escape, words)), claim)
    return found.start() if found else -1


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    width = max(len(header), *(len(row) for row in rows))

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cells + [""] * (width - len(cells))) + " |"

    return "\n".join([line(header), "|" + " --- |" * width] + [line(row) for row in rows])


def _with_marker(row: str, marker: str) -> list[str]:
    cells = _cells(row)
    cells[-1] = f"{cells[-1]} {marker}".strip()
    return cells


def _first_number(marker: str) -> int | None:
    found = re.search(r"\d+", marker)
    return int(found.group(0)) if found else None


def lay_out_quotes(text: str, cited: Mapping[int, tuple[str, str]]) -> str:
    """``text`` with quoted table rows laid out as a table (or a list) and slide text in quotation marks.

    ``cited``: for each source number, its quote and the document text just before it.
    """
    return _tabulate("\n".join(_quote_fragments(line, cited) for line in text.split("\n")), cited)


def is_fragmentary(quote: str) -> bool:
    """Slide text: three or more lines, most of them not ending a sentence, none a table row."""
    lines = [line.strip() for line in quote.split("\n") if line.strip()]
    if len(lines) < 3 or any(is_row(line) for line in lines):
        return False
    return sum(line[-1] not in ".!?:;" for line in lines) >= 0.6 * len(lines)


def _quote_fragments(line: str, cited: Mapping[int, tuple[str, str]]) -> str:
    out = []
    for match in _CLAIM.finditer(line):
        claim, marker = match.group(1), match.group(2)
        number = _first_number(marker)
        quote = cited.get(number, ("", ""))[0] if number is not None else ""
        flat = " ".join(quote.split())
        at = claim.find(flat) if flat and is_fragmentary(quote) else -1
        if at >= 0:
            claim = f"{claim[:at]}”{flat}”{claim[at + len(flat):]}"
        out.append(claim + marker)
    return "".join(out)


def _layout(rows: list[tuple[str, str]], header: str | None) -> str:
    if header is not None and _cells(header) == _cells(rows[0][0]) and len(rows) > 1:
        return _markdown_table(_with_marker(*rows[0]), [_with_marker(*row) for row in rows[1:]])
    if header is not None and _cells(header) != _cells(rows[0][0]):
        return _markdown_table(_cells(header), [_with_marker(*row) for row in rows])
    return "\n".join(f"- {' – '.join(_cells(row))} {marker}".rstrip() for row, marker in rows)


def _tabulate(text: str, cited: Mapping[int, tuple[str, str]]) -> str:
    """Runs of row claims, on one line or on consecutive lines (list items), become one table each."""
    out: list[str] = []
    rows: list[tuple[str, str]] = []
    header: str | None = None

    def flush_rows() -> None:
        if rows:
            out.extend(["", _layout(rows, header), ""])
            rows.clear()

    for line in text.split("\n"):
        claims = [(m.group(1), m.group(2)) for m in _CLAIM.finditer(line) if m.group(0)]
        if not any(is_row(claim) for claim, _ in claims):
            if line.strip():
                flush_rows()
            out.append(line)
            continue
        prose = ""
        for claim, marker in claims:
            if not is_row(claim):
                if claim.strip():
                    flush_rows()
                prose += claim + marker
                continue
            number = _first_number(marker)
            quote, before = cited.get(number, ("", "")) if number is not None else ("", "")
            row = _LIST_BULLET.sub("", claim)
            # "Enligt X: Göteborg | EGIL": the lead-in is prose, the quoted row starts where the quote does.
            first_line = _LIST_BULLET.sub("", quote.strip().split("\n")[0]).strip()
            at = _row_start(row, first_line)
            prose += row[:at] if at > 0 else ""
            if prose.strip():
                flush_rows()
                out.append(prose.strip())
            prose = ""
            row = row[max(at, 0):].strip()
            if not rows:  # a row the answer split into cells ("Piteå | 74 000 | 53 000") has no header row
                header = table_header(before, row) if is_row(first_line) else None
            rows.append((row, marker))
        if prose.strip():
            flush_rows()
            out.append(prose.strip())
    flush_rows()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
