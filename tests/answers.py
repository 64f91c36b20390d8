"""Hand-built answers in the shape the answer core returns, and an engine that serves them.

Renderer and adapter tests use these where the words on the wire must be known in advance
(grouped sources, speakers, unreviewed framings, "more" counts), whatever the corpus and
the composer happen to produce.
"""

from __future__ import annotations

from dataclasses import replace

from parley.bot.answer import Answer, Citation, Perspective, SourceSummary
from parley.bot.answer.types import QuotePart

CONTESTED = "Is open-weight AI from China a threat or an opportunity?"
UNCOVERED = "Will Taiwan's TSMC keep making chips for Nvidia?"
NOT_ENGLISH = "¿Hay una carrera de inteligencia artificial entre EE. UU. y China?"
LETTER = "https://example.org/letter"
SUMMIT = "https://example.org/summit"


def citation(n: int, quote: str | tuple[str, ...], *, doc: str, title: str, publisher: str, url: str | None,
             stance: str = "neutral", speaker: str | None = None, voice: str | None = None,
             reviewed: bool = True) -> Citation:
    """A citation whose parts are consecutive slices of a made-up document."""
    texts = (quote,) if isinstance(quote, str) else quote
    parts, start = [], 100 * n
    for text in texts:
        parts.append(QuotePart(start, start + len(text), text))
        start += len(text) + 40  # a gap: the parts are not contiguous
    return Citation(n=n, passage_id=f"{doc}-p{n}", doc_id=doc, title=title, publisher=publisher, url=url,
                    quote=" … ".join(texts), start=parts[0].start, end=parts[-1].end, stance=stance, score=1.0,
                    parts=tuple(parts), speaker=speaker,
                    voice=voice or ("quoted" if speaker else None), reviewed=reviewed)


def _letter(n: int, quote: str, **kwargs) -> Citation:
    return citation(n, quote, doc="letter", title="The open letter", publisher="Axios", url=LETTER, **kwargs)


def _summit(n: int, quote: str | tuple[str, ...], **kwargs) -> Citation:
    return citation(n, quote, doc="summit", title="The Beijing summit", publisher="Podcast digest", url=SUMMIT,
                    **kwargs)


def _brief(n: int, quote: str, **kwargs) -> Citation:
    return citation(n, quote, doc="brief", title="A cooperation brief", publisher="Brookings", url=None, **kwargs)


def contested(*, more: dict[str, int] | None = None) -> Answer:
    """The short answer: one quote that answers directly, two race quotes (one in two parts
    said by a named speaker, one whose framing is unreviewed), one cooperation quote; the
    letter is cited twice ([1] and [3])."""
    citations = [
        _letter(1, "Open-weight models from China are now close to the frontier.", reviewed=False),
        _summit(2, ("China will not slow down for anyone.", "The race is already on."), stance="race",
                speaker="Xue Lan"),
        _letter(3, "Washington sees a geopolitical foot race.", stance="race", speaker="Axios", reviewed=False),
        _brief(4, "Both countries face a common threat from non-state actors.", stance="cooperation"),
    ]
    return Answer(CONTESTED, True, [Perspective("answer", [1]), Perspective("race", [2, 3]),
                                    Perspective("cooperation", [4])], citations,
                  "2 passages frame this as a race, 1 as cooperation.", kind="contested",
                  more={"race": 2, "cooperation": 1} if more is None else more)


def contested_complete() -> Answer:
    """The complete answer to the same question: every relevant quote, nothing more to show."""
    short = contested()
    extra = [
        _summit(5, "Export controls only sharpen the contest.", stance="race", reviewed=False),
        _brief(6, "Shared evaluations of frontier models would help both sides.", stance="cooperation"),
        _summit(7, "Whoever sets the standards wins the market.", stance="race"),
    ]
    return replace(short, citations=[*short.citations, *extra], complete=True, more={},
                   perspectives=[Perspective("answer", [1]), Perspective("race", [2, 3, 5, 7]),
                                 Perspective("cooperation", [4, 6])],
                   summary="4 passages frame this as a race, 2 as cooperation.")


def uncovered() -> Answer:
    return Answer(UNCOVERED, False, [], [], "", kind="not_covered", missing=("Taiwan", "TSMC"),
                  corpus_titles=("The open letter", "The Beijing summit", "A cooperation brief"))


def not_english() -> Answer:
    return Answer(NOT_ENGLISH, False, [], [], "", kind="not_english")


class ScriptedEngine:
    """The answer engine's interface over hand-built answers: ``ask`` returns the answer
    scripted for the question (the complete one when ``complete``) and keeps every call."""

    def __init__(self, short: dict[str, Answer], complete: dict[str, Answer] | None = None):
        self.short = short
        self.complete = complete or {}
        self.asked: list[tuple[str, bool]] = []

    def ask(self, question: str, *, mode: str = "hybrid", complete: bool = False) -> Answer:
        self.asked.append((question, complete))
        return (self.complete if complete else self.short)[question]

    def sources(self) -> list[SourceSummary]:
        return []


def scripted_engine() -> ScriptedEngine:
    """The contested question (short and complete) and the two refusals."""
    return ScriptedEngine({CONTESTED: contested(), UNCOVERED: uncovered(), NOT_ENGLISH: not_english()},
                          {CONTESTED: contested_complete()})
