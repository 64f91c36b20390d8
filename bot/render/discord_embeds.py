"""Render answers as Discord messages (embed JSON), within every Discord limit.

Pure functions: the adapter only sends what these return. A quote line or a source line
is never cut; lines are packed into fields, fields into embeds, embeds into messages, and
what does not fit starts the next message. Corpus text is Markdown-escaped, so a quote
cannot format (or break) the message; pings are stopped by the adapter's
``AllowedMentions.none()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parley.bot import phrases
from parley.bot.answer import Answer, Citation, PointSummary, SourceSummary
from parley.bot.render.text import (
    HEADINGS,
    attribution,
    by_document,
    closing_lines,
    link_target,
    marks_unreviewed,
    opening_lines,
    refusal,
    shown_quote,
)

if TYPE_CHECKING:
    from parley.index import ClaimToReview

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
EMBED_TOTAL_LIMIT = 6000
IN_THE_CORPUS = "In the corpus"  # the field with the tally and what the answer leaves out
FOOTER = "Parley · every quote is verbatim from the corpus · /sources lists it"
COLOUR = 0x5865F2
# The components' own words (phrases.py has the answer's and the review's).
FRAMING_PLACEHOLDER = "Wrong framing? Pick the citation"
SKIP_LABEL = "Skip"
OPTIONS_PER_SELECT = 25
OPTION_LABEL_LIMIT = 100
OPTION_VALUE_LIMIT = 100
PLACEHOLDER_LIMIT = 150

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#-])")


@dataclass
class DiscordMessage:
    """One message to send: ``content`` and embed dicts (Discord's JSON shape)."""

    content: str | None = None
    embeds: list[dict] = field(default_factory=list)


def escape(text: str) -> str:
    """Markdown-escape text from the corpus or a user; line breaks become spaces."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def render_answer(answer: Answer) -> list[DiscordMessage]:
    """An answer as one or more messages; a refusal as one short, kind message (no embed,
    nothing cited)."""
    note = f"*{escape(answer.note)}*" if answer.note else None
    if not answer.answered:
        text = escape(refusal(answer, brief=True))
        return [DiscordMessage(content=_fit(f"{note}\n{text}" if note else text, CONTENT_LIMIT))]
    by_number = {c.n: c for c in answer.citations}
    sections: list[tuple[str, list[str]]] = []
    for perspective in answer.perspectives:
        lines = [_quote_line(by_number[n], perspective.stance) for n in perspective.citations]
        sections.append((HEADINGS[perspective.stance], lines))
    closing = closing_lines(answer, phrases.MORE_BY_BUTTON)
    if closing:
        sections.append((IN_THE_CORPUS, [escape(line) for line in closing]))
    sections.append(("Sources", [_source_line(numbers, c) for numbers, c in by_document(answer.citations)]))
    description = "\n".join([*([note] if note else []), *(f"**{escape(line)}**" for line in opening_lines(answer))])
    return _pack(title=_fit(escape(answer.question), TITLE_LIMIT), description=description, sections=sections)


def render_sources(sources: list[SourceSummary]) -> list[DiscordMessage]:
    lines = []
    for source in sources:
        title = escape(source.title)
        name = _link(source.url, title) or f"**{title}**"
        details = " · ".join(escape(x) for x in (source.publisher, source.date) if x)
        lines.append(f"{name} — {details}\n{phrases.tally(source.passages, source.stances)}\n"
                     f"{phrases.claims_tally(source.claims, source.reviewed)}")
    return _pack(title="Sources in the corpus", description=f"{len(sources)} documents.",
                 sections=[("Documents", lines)])


def render_points(points: list[PointSummary]) -> list[DiscordMessage]:
    """The debate map's points, each title with its claims by framing (the menu to pick one
    goes under the last message: ``discord_views.PointMenus``)."""
    lines = [escape(phrases.point_line(point.title, point.claims)) for point in points]
    return _pack(title=phrases.POINTS_TITLE, description=escape(phrases.points_intro(len(points))),
                 sections=[("Points", lines)])


def point_option(title: str) -> str:
    """A point in a menu of points: its title, cut to a select option's label limit."""
    return _fit(" ".join(title.split()), OPTION_LABEL_LIMIT)


def points_placeholder(shown: int, total: int, *, related: bool = False) -> str:
    """The placeholder of a menu holding ``shown`` of ``total`` points."""
    return _fit(phrases.points_menu(shown, total, related=related), PLACEHOLDER_LIMIT)


def review_message(claim: ClaimToReview | None, prefix: str = "") -> str:
    """A claim to review as one message's content, after ``prefix`` (what the last decision
    did, from ``decision_said``); the empty queue's line when ``claim`` is ``None``."""
    if claim is None:
        return f"{prefix}{phrases.REVIEW_EMPTY}"
    prompt = escape(phrases.review_prompt(claim.title, claim.before, claim.text, claim.after, claim.framing,
                                          claim.confidence, claim.reviewed, claim.flags))
    text = f"{prefix}{prompt}"
    # The cut the review prompt has always had (``_fit`` would also drop a space before the …).
    return text if len(text) <= CONTENT_LIMIT else text[: CONTENT_LIMIT - 1] + "…"


def decision_said(result: str) -> str:
    """What a curator's decision did, as the paragraph above the next claim to review."""
    return escape(result) + "\n\n"


def review_label(choice: str) -> str:
    """The button of a review choice (``race``, ``cooperation``, ``none`` or ``skip``)."""
    return phrases.REVIEW_CHOICES.get(choice, SKIP_LABEL)


def citation_option(number: int) -> str:
    """Citation ``number`` among the "wrong framing?" select's options."""
    return f"Citation [{number}]"


def _link(url: str | None, label: str) -> str | None:
    """``[label](url)`` (``label`` already escaped), or ``None`` when there is no safe URL;
    parentheses are percent-encoded so that the link cannot end early."""
    target = link_target(url)
    return f"[{label}]({target.replace('(', '%28').replace(')', '%29')})" if target else None


def _quote_line(citation: Citation, section: str) -> str:
    number = _link(citation.url, f"\\[{citation.n}\\]") or f"\\[{citation.n}\\]"
    line = f"“{escape(shown_quote(citation))}” {number}"
    said = attribution(citation)
    if said:
        line += f" — {escape(said)}"
    if marks_unreviewed(citation, section):
        line += f" *\\({escape(phrases.UNREVIEWED)}\\)*"
    return line


def _source_line(numbers: list[int], citation: Citation) -> str:
    title = escape(citation.title)
    title = _link(citation.url, title) or title
    cited = "".join(f"\\[{n}\\]" for n in numbers)
    return f"{cited} {title} — {escape(citation.publisher)}"


def _pack(*, title: str, description: str, sections: list[tuple[str, list[str]]]) -> list[DiscordMessage]:
    """Lines into fields (<=1024), fields into one embed per message (<=25, <=6000)."""
    messages: list[DiscordMessage] = []
    embed = _new_embed(title, description)

    def flush() -> None:
        nonlocal embed
        if embed["fields"] or embed.get("description"):
            messages.append(DiscordMessage(embeds=[embed]))
        embed = _new_embed(_fit(f"{title} (continued)", TITLE_LIMIT), None)

    def add_field(name: str, part: int, value: str) -> None:
        field_name = _fit(name if part == 0 else f"{name} (continued)", FIELD_NAME_LIMIT)
        if len(embed["fields"]) >= FIELDS_PER_EMBED or _size(embed) + len(field_name) + len(value) > EMBED_TOTAL_LIMIT:
            flush()
        embed["fields"].append({"name": field_name, "value": value, "inline": False})

    for name, lines in sections:
        value = ""
        part = 0
        for line in lines:
            if len(line) > FIELD_VALUE_LIMIT:  # a single very long quote: its own embed body
                if value:
                    add_field(name, part, value)
                    part, value = part + 1, ""
                flush()
                embed["description"] = _fit(line, DESCRIPTION_LIMIT)
                flush()
                continue
            candidate = f"{value}\n{line}" if value else line
            if len(candidate) > FIELD_VALUE_LIMIT:
                add_field(name, part, value)
                part, candidate = part + 1, line
            value = candidate
        if value:
            add_field(name, part, value)
    flush()
    return messages


def _new_embed(title: str, description: str | None) -> dict:
    embed: dict = {"title": title, "color": COLOUR, "fields": [], "footer": {"text": FOOTER}}
    if description:
        embed["description"] = _fit(description, DESCRIPTION_LIMIT)
    return embed


def _size(embed: dict) -> int:
    return (len(embed.get("title", "")) + len(embed.get("description", "") or "")
            + len(embed["footer"]["text"])
            + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]))


def _fit(text: str, limit: int) -> str:
    """Shorten text that is ours or the user's (never a quote) to ``limit``."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
