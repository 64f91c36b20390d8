"""Plain-text rendering of an answer: the ``text`` of ``parley ask`` and the console."""

from __future__ import annotations

from parley.bot.answer import Citation, Perspective

HEADINGS = {
    "race": "Race framing",
    "cooperation": "Cooperation framing",
    "neutral": "Context",
}


def render_plain(question: str, perspectives: list[Perspective], citations: list[Citation],
                 summary: str) -> str:
    """The answer as a person reads it: framings, quotes with [n], tally, sources."""
    by_number = {c.n: c for c in citations}
    lines = [question, ""]
    for perspective in perspectives:
        lines.append(HEADINGS[perspective.stance])
        for n in perspective.citations:
            lines.append(f'  "{by_number[n].quote}" [{n}]')
        lines.append("")
    lines.append(summary)
    lines.append("")
    lines.append("Sources")
    for citation in citations:
        lines.append(f"  [{citation.n}] {source_line(citation)}")
    return "\n".join(lines)


def source_line(citation: Citation) -> str:
    """"Title — Publisher (url)" for a citation."""
    line = f"{citation.title} — {citation.publisher}"
    return f"{line} ({citation.url})" if citation.url else line
