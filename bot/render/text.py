"""Plain text and JSON: what ``parley ask`` prints, the console shows and ``--json`` carries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from parley.bot import phrases
from parley.bot.answer import Answer, Citation
from parley.index.build import BuildReport

HEADINGS = {
    "race": "Race framing",
    "cooperation": "Cooperation framing",
    "neutral": "Context",
}


def answer_json(answer: Answer) -> dict[str, Any]:
    """The ``parley ask --json`` contract (exactly these keys)."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "text": render_plain(answer),
        "perspectives": [asdict(p) for p in answer.perspectives],
        "citations": [asdict(c) for c in answer.citations],
    }


def render_plain(answer: Answer) -> str:
    """The answer as a person reads it: framings, quotes with [n], tally, sources; or a
    kind refusal. A note on the question (it was shortened) comes first."""
    body = _body(answer) if answer.answered else phrases.refusal(answer.question, answer.corpus_titles)
    return f"({answer.note})\n{body}" if answer.note else body


def _body(answer: Answer) -> str:
    citations, summary = answer.citations, answer.summary
    by_number = {c.n: c for c in citations}
    lines = [answer.question, ""]
    for perspective in answer.perspectives:
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


def describe_build(report: BuildReport) -> str:
    """What a re-index changed, in one or two lines for a chat message."""
    if not report.changed:
        text = f"Index is up to date: {report.documents} documents, {report.passages} passages; nothing changed."
    else:
        text = (
            f"Re-indexed {report.documents} documents into {report.passages} passages in "
            f"{report.seconds:.1f} s: {report.embedded} new passages embedded, {report.reused} reused, "
            f"{report.removed} documents removed. Now serving the new index."
        )
    if report.problems:
        skipped = "; ".join(f"{p.file} ({p.reason})" for p in report.problems)
        text += f"\nSkipped: {skipped}."
    return text
