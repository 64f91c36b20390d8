"""Render answers as Slack Block Kit messages, within Slack's limits.

Pure functions. Text from the corpus or a user is escaped (``&``, ``<``, ``>``), so it
can never become ``<!channel>``, ``<!here>`` or a user ping; quotes are never cut: a
message that would pass 50 blocks or a section that would pass 3000 characters is split
between quotes. Every message is checked with slack_sdk's own block models.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from parley.bot import phrases
from parley.bot.answer import Answer, Citation, PointSummary, SourceSummary
from parley.bot.render.text import (
    HEADINGS,
    attribution,
    by_document,
    closing_lines,
    link_target,
    marks_unreviewed,
    offers_more,
    opening_lines,
    refusal,
    render_plain,
    shown_quote,
)

BLOCKS_PER_MESSAGE = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
CONTEXT_ELEMENTS = 10
TEXT_LIMIT = 40000
VOTE_ACTIONS = ("parley_vote_up", "parley_vote_down")
FRAMING_ACTION = "parley_wrong_framing"
MORE_ACTION = "parley_more"
POINT_ACTION = "parley_point"  # a menu of the debate map's points (the list's, or a point's related ones)
OPTIONS_LIMIT = 100
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
PLACEHOLDER_LIMIT = 150
REVIEW_ACTIONS = {"race": "parley_review_race", "cooperation": "parley_review_cooperation",
                  "none": "parley_review_none", "skip": "parley_review_skip"}


@dataclass
class SlackMessage:
    text: str  # the plain-text fallback (notifications, screen readers)
    blocks: list[dict]


def escape(text: str) -> str:
    """Slack's three control characters; nothing else needs escaping in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, label: str) -> str | None:
    """``<url|label>`` (``label`` already escaped), or ``None`` when there is no safe URL."""
    target = link_target(url)
    return f"<{escape(target)}|{label}>" if target else None


def render_answer(answer: Answer, answer_id: str | None = None) -> list[SlackMessage]:
    """An answer (the question echoed in a header) as one or more messages; the feedback
    buttons (and More, when the answer leaves passages out) when it has an ``answer_id``."""
    header = {"type": "header", "text": {"type": "plain_text", "text": _fit(escape(answer.question), HEADER_LIMIT)}}
    if not answer.answered:
        text = escape(refusal(answer, brief=True))
        if answer.note:
            text = f"_{escape(answer.note)}_\n{text}"
        return [_checked(SlackMessage(text=f"{escape(answer.question)}\n{text}", blocks=[
            header, {"type": "section", "text": {"type": "mrkdwn", "text": text}}]))]
    by_number = {c.n: c for c in answer.citations}
    blocks: list[dict] = [header]
    if answer.note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{escape(answer.note)}_"}]})
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(line)}*"}} for line in opening_lines(answer)]
    for perspective in answer.perspectives:
        lines = [_quote_line(by_number[n], perspective.stance) for n in perspective.citations]
        blocks += _sections(f"*{HEADINGS[perspective.stance]}*", lines)
    closing = closing_lines(answer, phrases.MORE_BY_BUTTON)
    if closing:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(line)} for line in closing]})
    blocks += _sections("*Sources*", [_source_line(numbers, c) for numbers, c in by_document(answer.citations)])
    if answer_id:
        blocks.append(_actions(answer_id, len(answer.citations), more=offers_more(answer)))
    fallback = render_plain(answer, more_how=phrases.MORE_BY_BUTTON)
    return [_checked(m) for m in _split(blocks, _fit(escape(fallback), TEXT_LIMIT))]


def render_sources(sources: list[SourceSummary]) -> list[SlackMessage]:
    lines = []
    for source in sources:
        title = escape(source.title)
        name = _link(source.url, title) or f"*{title}*"
        details = " · ".join(escape(x) for x in (source.publisher, source.date) if x)
        lines.append(f"{name} — {details}\n{phrases.tally(source.passages, source.stances)}\n"
                     f"{phrases.claims_tally(source.claims, source.reviewed)}")
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Sources in the corpus"}}]
    blocks += _sections(f"*{len(sources)} documents*", lines)
    return [_checked(m) for m in _split(blocks, f"{len(sources)} documents in the corpus")]


def render_points(points: list[PointSummary]) -> list[SlackMessage]:
    """The debate map's points with their claims by framing, and a menu to pick one (its
    value the point id) under the last of them."""
    lines = [escape(phrases.point_line(point.title, point.claims)) for point in points]
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": phrases.POINTS_TITLE}},
              {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(phrases.points_intro(len(points)))}]}]
    blocks += _sections("*Points*", lines)
    messages = _split(blocks, escape(phrases.points_intro(len(points))))
    return [_checked(m) for m in _with_menu(messages, [(p.point_id, p.title) for p in points], related=False)]


def render_point(answer: Answer) -> list[SlackMessage]:
    """Both sides of one point of the debate map (``Service.point``), with a menu of its
    related points under the last message, to walk the map on."""
    messages = render_answer(answer)
    if not answer.related:
        return messages
    related = [(p.point_id, p.title) for p in answer.related]
    return [_checked(m) for m in _with_menu(messages, related, related=True)]


def _with_menu(messages: list[SlackMessage], points: list[tuple[str, str]], *, related: bool) -> list[SlackMessage]:
    """``messages`` with a menu of ``points`` after their last block (in a message of its
    own when the last is full)."""
    # An id past Slack's value limit could not come back from the menu: left out, and the
    # placeholder counts what the menu holds, so it never claims to list every point.
    choosable = [(point_id, title) for point_id, title in points if len(point_id) <= OPTION_VALUE_LIMIT]
    shown = choosable[:OPTIONS_LIMIT]
    if not shown:
        return messages
    menu = {"type": "actions", "elements": [{
        "type": "static_select", "action_id": POINT_ACTION,
        "placeholder": {"type": "plain_text", "text": _fit(phrases.points_menu(len(shown), len(points), related=related),
                                                            PLACEHOLDER_LIMIT)},
        "options": [{"text": {"type": "plain_text", "text": _fit_escaped(title, OPTION_TEXT_LIMIT)}, "value": point_id}
                    for point_id, title in shown]}]}
    last = messages[-1]
    if len(last.blocks) < BLOCKS_PER_MESSAGE:
        return [*messages[:-1], SlackMessage(text=last.text, blocks=[*last.blocks, menu])]
    return [*messages, SlackMessage(text=menu["elements"][0]["placeholder"]["text"], blocks=[menu])]


def _quote_line(citation: Citation, section: str) -> str:
    number = _link(citation.url, f"[{citation.n}]") or f"[{citation.n}]"
    line = f"> “{escape(' '.join(shown_quote(citation).split()))}” {number}"
    said = attribution(citation)
    if said:
        line += f" — {escape(said)}"
    if marks_unreviewed(citation, section):
        line += f" _({phrases.UNREVIEWED})_"
    return line


def _source_line(numbers: list[int], citation: Citation) -> str:
    title = escape(citation.title)
    title = _link(citation.url, title) or title
    return f"{''.join(f'[{n}]' for n in numbers)} {title} — {escape(citation.publisher)}"


def _sections(heading: str, lines: list[str]) -> list[dict]:
    """Sections of at most 3000 characters, cut between lines; a longer line is split
    at sentence ends (never mid-sentence unless a sentence alone passes the limit)."""
    sections, text = [], heading
    for line in lines:
        for piece in _pieces(line):
            candidate = f"{text}\n{piece}"
            if len(candidate) > SECTION_LIMIT:
                sections.append(text)
                candidate = piece
            text = candidate
    sections.append(text)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections]


def _pieces(line: str) -> list[str]:
    if len(line) <= SECTION_LIMIT:
        return [line]
    pieces, current = [], ""
    for sentence in line.replace(". ", ".\n").split("\n"):
        if current and len(current) + 1 + len(sentence) > SECTION_LIMIT:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    pieces.append(current)
    return [p[:SECTION_LIMIT] for p in pieces]


def _actions(answer_id: str, citations: int, *, more: bool) -> dict:
    elements: list[dict] = [
        {"type": "button", "action_id": VOTE_ACTIONS[0], "value": answer_id, "text": {"type": "plain_text", "text": "👍"}},
        {"type": "button", "action_id": VOTE_ACTIONS[1], "value": answer_id, "text": {"type": "plain_text", "text": "👎"}},
    ]
    if more:
        elements.append({"type": "button", "action_id": MORE_ACTION, "value": answer_id,
                         "text": {"type": "plain_text", "text": phrases.MORE_BUTTON}})
    if citations:
        elements.append({
            "type": "static_select", "action_id": FRAMING_ACTION,
            "placeholder": {"type": "plain_text", "text": "Wrong framing?"},
            "options": [{"text": {"type": "plain_text", "text": f"Citation [{n}]"}, "value": f"{answer_id}:{n}"}
                        for n in range(1, min(citations, 100) + 1)],
        })
    return {"type": "actions", "elements": elements}


def _split(blocks: list[dict], text: str) -> list[SlackMessage]:
    messages, chunk = [], []
    for block in blocks:
        if len(chunk) == BLOCKS_PER_MESSAGE:
            messages.append(chunk)
            chunk = []
        chunk.append(block)
    messages.append(chunk)
    return [SlackMessage(text=text if i == 0 else f"{text[:100]}… (continued)", blocks=b) for i, b in enumerate(messages)]


def render_review(said: str, claim) -> SlackMessage:
    """A claim to review (``claim``: a ``ClaimToReview``, or ``None`` when the queue is empty),
    after what the last decision did (``said``), with Race · Cooperation · Neither · Skip."""
    if claim is None:
        text = escape(f"{said}{phrases.REVIEW_EMPTY}")
        return _checked(SlackMessage(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]))
    prompt = escape(phrases.review_prompt(claim.title, claim.before, claim.text, claim.after, claim.framing,
                                          claim.confidence, claim.reviewed, claim.flags))
    text = _fit(escape(said) + prompt, SECTION_LIMIT)
    buttons = [{"type": "button", "action_id": action, "value": claim.key,
                "text": {"type": "plain_text", "text": phrases.REVIEW_CHOICES.get(choice, "Skip")}}
               for choice, action in REVIEW_ACTIONS.items()]
    return _checked(SlackMessage(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                                                    {"type": "actions", "elements": buttons}]))


def _checked(message: SlackMessage) -> SlackMessage:
    """Slack's own models reject a malformed block here rather than on the wire."""
    for block in Block.parse_all(message.blocks):
        block.validate_json()
    return message


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit_escaped(text: str, limit: int) -> str:
    """``text`` escaped and within ``limit``, cut before escaping so that no entity (``&amp;``)
    is cut in half."""
    text = " ".join(text.split())
    if len(escape(text)) <= limit:
        return escape(text)
    cut = limit - 1
    while len(escape(text[:cut])) > limit - 1:
        cut -= 1
    return escape(text[:cut].rstrip()) + "…"
