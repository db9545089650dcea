"""Table rows quoted in an answer, shown as a markdown table instead of "Göteborg | EGIL Kostnad" text.

Cleaning keeps a document's table as one line per row with cells joined by `` | `` (ingest/cleaning.py);
an answer that quotes rows carries them on in its running text. Here the rows of one line of the
answer become a table whose header is the table's first row in the document, when the text before
the cited row shows where the table starts; without a header they become a list, one row an item.
The words stay the answer's own: only their layout changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# One claim of an answer line and the marker group that ends it ("... text [1]", "[1][2]").
_CLAIM = re.compile(r"(.*?)(\[\d+(?:\s*[,;]\s*\d+)*\](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*|$)")
_CELL_SEPARATOR = " | "


def is_row(text: str) -> bool:
    return _CELL_SEPARATOR in text


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split(_CELL_SEPARATOR.strip())]


def table_header(before: str) -> str | None:
    """The first row of the table that the text ``before`` a cited row ends in, if it starts there.

    None when the context was cut inside the table (its start is not known) or no table precedes.
    """
    lines = before.split("\n")
    if lines and lines[-1].strip():  # the cited span starts mid-line: not a row of its own
        return None
    rows = []
    for line in reversed(lines[:-1]):
        if not line.strip():
            break
        if not is_row(line):
            break
        rows.append(line)
    else:
        return None  # reached the start of the context inside the table
    return rows[-1] if rows else None


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


def tabulate_rows(text: str, cited: Mapping[int, tuple[str, str]]) -> str:
    """``text`` with each run of quoted table rows laid out as a table (or a list).

    ``cited``: for each source number, its quote and the document text just before it.
    """
    return "\n".join(_tabulate_line(line, cited) for line in text.split("\n"))


def _layout(rows: list[tuple[str, str]], header: str | None) -> str:
    if header is not None and _cells(header) == _cells(rows[0][0]) and len(rows) > 1:
        return _markdown_table(_with_marker(*rows[0]), [_with_marker(*row) for row in rows[1:]])
    if header is not None and _cells(header) != _cells(rows[0][0]):
        return _markdown_table(_cells(header), [_with_marker(*row) for row in rows])
    return "\n".join(f"- {' – '.join(_cells(row))} {marker}".rstrip() for row, marker in rows)


def _tabulate_line(line: str, cited: Mapping[int, tuple[str, str]]) -> str:
    claims = [(m.group(1), m.group(2)) for m in _CLAIM.finditer(line) if m.group(0)]
    if not any(is_row(claim) for claim, _ in claims):
        return line
    blocks: list[str] = []
    prose: list[str] = []
    rows: list[tuple[str, str]] = []
    header: str | None = None

    def flush(parts: list, render) -> None:
        if parts:
            blocks.append(render())
            parts.clear()

    for claim, marker in claims:
        number = _first_number(marker)
        quote, before = cited.get(number, ("", "")) if number is not None else ("", "")
        if not is_row(claim):
            flush(rows, lambda: _layout(rows, header))
            prose.append(claim + marker)
            continue
        # "Enligt X: Göteborg | EGIL": the lead-in is prose, the quoted row starts where the quote does
        first_line = quote.strip().split("\n")[0].strip()
        lead = claim[: claim.find(first_line)] if first_line and claim.find(first_line) > 0 else ""
        if lead.strip():
            flush(rows, lambda: _layout(rows, header))
            prose.append(lead)
        flush(prose, lambda: "".join(prose).strip())
        if not rows:
            header = table_header(before)
        rows.append((claim[len(lead):].strip(), marker))
    flush(rows, lambda: _layout(rows, header))
    flush(prose, lambda: "".join(prose).strip())
    return "\n\n".join(block for block in blocks if block)
