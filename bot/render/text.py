"""Plain text and JSON: what ``parley`` prints, the console shows and ``--json`` carries.

One wording per report: a build reads the same after ``parley index build`` as after
/reindex in a channel (a channel is never shown server paths).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.bot import phrases
from parley.index import SAFE_URL

if TYPE_CHECKING:
    from parley.bot.answer import Answer, Citation, PointSummary, SourceSummary
    from parley.bot.service import Ready
    from parley.bot.state.votes import VoteRecord
    from parley.index import BuildReport, Hit, IndexedDocument, Manifest

HEADINGS = {
    "answer": "From the corpus",
    "race": "Race framing",
    "cooperation": "Cooperation framing",
    "neutral": "Context",  # answers from before sections: still rendered
}


def answer_json(answer: Answer) -> dict[str, Any]:
    """The ``parley ask --json`` contract (exactly these keys)."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "kind": answer.kind,
        "text": render_plain(answer),
        "perspectives": [asdict(p) for p in answer.perspectives],
        "citations": [{**asdict(c), "score": finite(c.score), "parts": parts_json(c)} for c in answer.citations],
        "point": {"id": answer.point.point_id, "title": answer.point.title} if answer.point else None,
    }


def parts_json(citation: Citation) -> list[dict[str, Any]]:
    """The verbatim slices of a citation as {start, end, text}; a quote without parts is one slice."""
    if not citation.parts:
        return [{"start": citation.start, "end": citation.end, "text": citation.quote}]
    return [asdict(part) for part in citation.parts]


def render_plain(answer: Answer, *, more_how: str = phrases.MORE_IN_CLI) -> str:
    """The answer as a person reads it: sections of quotes with [n], the tally, sources; or
    a refusal by its kind. A note on the question (it was shortened) comes first.
    ``more_how`` says how to see the passages the answer leaves out (a command, a button)."""
    body = _body(answer, more_how) if answer.answered else refusal(answer)
    return f"({answer.note})\n{body}" if answer.note else body


def refusal(answer: Answer, *, brief: bool = False) -> str:
    """What an unanswered question gets, by kind; ``brief`` where the question is already
    shown (a chat message's title). It never cites anything."""
    if answer.kind == "not_english":
        return phrases.not_english(answer.question)
    if brief:
        return phrases.brief_refusal(answer.missing)
    return phrases.refusal(answer.question, answer.corpus_titles, answer.missing)


def _body(answer: Answer, more_how: str) -> str:
    by_number = {c.n: c for c in answer.citations}
    lines = [answer.question, *opening_lines(answer), ""]
    for perspective in answer.perspectives:
        lines.append(HEADINGS[perspective.stance])
        for n in perspective.citations:
            citation = by_number[n]
            said = f" — {attribution(citation)}" if attribution(citation) else ""
            marker = f" ({phrases.UNREVIEWED})" if marks_unreviewed(citation, perspective.stance) else ""
            lines.append(f'  "{shown_quote(citation)}" [{n}]{said}{marker}')
        lines.append("")
    closing = closing_lines(answer, more_how)
    if closing:
        lines += [*closing, ""]
    lines.append("Sources")
    for numbers, citation in by_document(answer.citations):
        lines.append(f"  {''.join(f'[{n}]' for n in numbers)} {source_line(citation)}")
    return "\n".join(lines)


def finite(score: float) -> float | None:
    """A score for JSON: ``null`` when it is not a number, which strict JSON cannot hold
    (an index that passed its hash check never gives one; the contract holds anyway)."""
    return round(score, 4) if math.isfinite(score) else None


def link_target(url: str | None) -> str | None:
    """The URL when it is safe to put in a chat link; ``None`` means show the text alone.
    The corpus refuses unsafe URLs on load, and this second check keeps any other path
    (an old index, a future source) from writing ``<!channel>`` into a link."""
    return url if url and SAFE_URL.fullmatch(url) else None


def shown_quote(citation: Citation) -> str:
    """The quote as shown: its verbatim parts joined with " … "."""
    return " … ".join(part.text for part in citation.parts) if citation.parts else citation.quote


def attribution(citation: Citation) -> str | None:
    """Whose the quote is, when it is not simply the publication's: "Speaker (Publisher)"
    for a speaker's own words, "Publisher, reporting Speaker" for their view in the
    writer's words. A quote without a voice names no one (docs/labelling-guide.md)."""
    speaker = (citation.speaker or "").strip()
    if not speaker or citation.voice is None or citation.publisher.strip().casefold().startswith(speaker.casefold()):
        return None
    if citation.voice == "reported":
        return phrases.reported_view(citation.publisher, speaker)
    return f"{speaker} ({citation.publisher})"


def marks_unreviewed(citation: Citation, section: str) -> bool:
    """A framing no person checked is marked where the answer shows it as a framing."""
    from parley.bot.answer.types import FRAMING_SECTIONS

    return not citation.reviewed and section in FRAMING_SECTIONS


def opening_lines(answer: Answer) -> list[str]:
    """What comes before the sections: the point of the debate the answer is on, and, to
    a question that pushed for a side, that Parley picks none."""
    lines = [phrases.on_point(answer.point.title)] if answer.point else []
    return lines + ([phrases.PICKS_NO_SIDE] if answer.picks_no_side else [])


def closing_lines(answer: Answer, more_how: str) -> list[str]:
    """What follows the sections: the tally, framings the corpus lacks here, and how many
    passages the answer leaves out (with ``more_how`` to see them)."""
    lines = [answer.summary] if answer.summary else []
    if answer.absent_framings:
        lines.append(phrases.absent_framings(answer.absent_framings))
    if offers_more(answer):
        lines.append(phrases.more_passages(answer.more, more_how))
    if answer.related:
        lines.append(phrases.related_points([p.title for p in answer.related]))
    return lines


def offers_more(answer: Answer) -> bool:
    """The answer leaves relevant passages out, and a complete one would show them."""
    return answer.answered and not answer.complete and any(n > 0 for n in answer.more.values())


def by_document(citations: Sequence[Citation]) -> list[tuple[list[int], Citation]]:
    """Citations grouped by document, in order of each document's first citation: the
    numbers citing it, and one of its citations (for title, publisher and url)."""
    groups: dict[str, list[Citation]] = {}
    for citation in sorted(citations, key=lambda c: c.n):
        groups.setdefault(citation.doc_id, []).append(citation)
    return [([c.n for c in group], group[0]) for group in groups.values()]


def source_line(citation: Citation) -> str:
    """"Title — Publisher (url)" for a citation."""
    line = f"{citation.title} — {citation.publisher}"
    return f"{line} ({citation.url})" if citation.url else line


def describe_build(report: BuildReport, *, path: bool = False) -> str:
    """What a build or re-index did. ``path`` (the CLI) names the served folder; a chat
    message instead lists skipped files, which the CLI reports on stderr."""
    if report.changed:
        text = (f"Indexed {report.documents} documents into {report.passages} passages in {report.seconds:.1f} s: "
                f"{report.embedded} passages embedded, {report.reused} reused, {report.removed} documents removed.")
    else:
        text = (f"Index is up to date: {report.documents} documents, {report.passages} passages, "
                f"nothing to embed ({report.seconds:.2f} s).")
    if path:
        return f"{text}\nServing {report.index}"
    if report.problems:
        skipped = "; ".join(f"{p.file} ({p.reason})" for p in report.problems)
        text += f"\nSkipped: {skipped}."
    return text


def build_warnings(report: BuildReport) -> list[str]:
    """What the build passed over, one line each (the CLI's stderr)."""
    lines = [f"skipped {problem.file}: {problem.reason}" for problem in report.problems]
    if report.previous_unusable:
        lines.append(f"previous index not reused: {report.previous_unusable}")
    return lines


def build_json(report: BuildReport) -> dict[str, Any]:
    """The ``parley index build --json`` contract (exactly these keys)."""
    return {
        "documents": report.documents,
        "passages": report.passages,
        "embedded": report.embedded,
        "reused": report.reused,
        "removed": report.removed,
        "seconds": round(report.seconds, 3),
        "index": str(report.index),
    }


def status_json(version: Path, manifest: Manifest) -> dict[str, Any]:
    """The ``parley index status --json`` contract (exactly these keys)."""
    return {
        "documents": len(manifest.documents),
        "passages": manifest.passage_count,
        "model": manifest.model.name,
        "dimension": manifest.model.dimension,
        "built_at": manifest.built_at,
        "bytes": manifest.total_bytes(version),
        "index": str(version),
    }


def describe_status(version: Path, manifest: Manifest) -> str:
    """``parley index status`` for people: one labelled figure a line."""
    status = status_json(version, manifest)
    vectors = "exact search" if manifest.vector_index == "flat" else f"approximate search, {manifest.vector_index}"
    return (
        f"Index      {status['index']}\n"
        f"Documents  {status['documents']}\n"
        f"Passages   {status['passages']}\n"
        f"Model      {status['model']} ({status['dimension']} dimensions)\n"
        f"Vectors    {vectors}\n"
        f"Built      {status['built_at']}\n"
        f"Size       {status['bytes'] / 1e6:.2f} MB"
    )


def search_json(question: str, hits: Sequence[Hit], documents: dict[str, IndexedDocument]) -> dict[str, Any]:
    """The ``parley search --json`` contract: the question and its ranked passages."""
    results = [
        {
            "rank": rank,
            "passage_id": hit.passage.passage_id,
            "doc_id": hit.passage.doc_id,
            "title": documents[hit.passage.doc_id].title,
            "text": hit.passage.text,
            "start": hit.passage.start,
            "end": hit.passage.end,
            "score": finite(hit.score),
            "stance": hit.passage.stance,
        }
        for rank, hit in enumerate(hits, start=1)
    ]
    return {"question": question, "results": results}


def render_search(payload: dict[str, Any]) -> str:
    """``parley search`` for people: rank, framing, title, score, then the passage."""
    return "\n".join(
        f"{r['rank']}. [{r['stance']}] {r['title']} (score {r['score']:.3f})\n   {r['text']}\n"
        for r in payload["results"]
    )


def render_sources(sources: Sequence[SourceSummary]) -> str:
    """The corpus, one document a line, with its passages by framing."""
    lines = [f"The corpus holds {len(sources)} documents:"]
    for source in sources:
        details = ", ".join(x for x in (source.publisher, source.date, source.url) if x)
        lines.append(f"- {source.title} ({details}): {phrases.tally(source.passages, source.stances)}; "
                     f"{phrases.claims_tally(source.claims, source.reviewed)}")
    return "\n".join(lines)


def describe_corpus(sources: Sequence[SourceSummary]) -> str:
    """``parley corpus status``: each document's id and title, its passages and claims by
    framing, then the corpus's claims in all (what a curator checks before reviewing)."""
    lines = [f"{source.doc_id}: {source.title}\n  {phrases.tally(source.passages, source.stances)}\n"
             f"  {phrases.claims_tally(source.claims, source.reviewed)}" for source in sources]
    totals = {f: sum(s.claims.get(f, 0) for s in sources) for f in ("race", "cooperation", "none")}
    lines.append(f"{len(sources)} documents; {phrases.claims_tally(totals, sum(s.reviewed for s in sources))}")
    return "\n".join(lines)


def describe_points(points: Sequence[PointSummary]) -> str:
    """``parley points``: each point's id, its title and its claims by framing."""
    if not points:
        return phrases.NO_POINTS
    return "\n".join(f"{p.point_id}: {phrases.point_line(p.title, p.claims)}" for p in points)


def describe_gaps(questions: int, groups: Sequence[dict[str, Any]]) -> str:
    """``parley feedback gaps``: the unanswered questions under their commonest terms, up
    to three questions a term."""
    lines = [f"{questions} questions were not answered. Their commonest terms:"]
    for group in groups:
        shown = "; ".join(f"“{q}”" for q in group["questions"][:3])
        more = f" (+{len(group['questions']) - 3} more)" if len(group["questions"]) > 3 else ""
        where = "" if group["in_corpus"] else ", not in the corpus"
        lines.append(f"  {group['term']} ({len(group['questions'])}{where}): {shown}{more}")
    return "\n".join(lines)


def describe_added(source: str, status: str, detail: str, title: str | None) -> str:
    """``parley corpus add``, one input: added as which file, or why not."""
    if status == "added":
        return f"added {source} as {detail} (“{title}”)"
    return f"parley: {'a duplicate' if status == 'duplicate' else 'refused'}: {source}: {detail}"


def describe_added_total(added: int, inputs: int, corpus_dir: Path, *, will_build: bool) -> str:
    """``parley corpus add``'s last line, with the next step when there is one."""
    hint = " Run `parley index build` to answer from them." if added and not will_build else ""
    return f"{added} of {inputs} added to {corpus_dir}.{hint}"


def describe_export(votes: int, path: Path) -> str:
    return f"Wrote {votes} votes to {path}"


def describe_purge(votes: int, answers: int, days: float, where: str) -> str:
    return f"Deleted {votes} votes and {answers} answers older than {days:g} days from {where}."


def describe_ready(platform: str, ready: Ready) -> str:
    """The ``--check`` report: what would be served."""
    return (f"Parley is ready for {platform}: {ready.passages} passages from {ready.directory} "
            "(--check: not connecting).")


def votes_jsonl(votes: Iterable[VoteRecord]) -> list[str]:
    """``parley feedback export``: one JSON line per vote, oldest first."""
    return [json.dumps(asdict(vote), ensure_ascii=False) + "\n" for vote in votes]
