"""What the answer core returns: plain data that every surface renders its own way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from parley.index import ParleyError, Stance, Voice


class EmptyQuestionError(ParleyError):
    """The question has no words in it."""

# What kind of reply an answer is: it states a fact, it shows the framings of a contested
# point, the corpus does not cover the question, or the question is not in English.
AnswerKind = Literal["factual", "contested", "not_covered", "not_english"]
# A section of an answer: the quotes that answer directly, then each framing's.
Section = Literal["answer", "race", "cooperation"]
FRAMING_SECTIONS: tuple[Section, ...] = ("race", "cooperation")


@dataclass(frozen=True)
class QuotePart:
    """One verbatim slice: ``text == document.text[start:end]``, never across a place where
    cleaning removed text or joined separate blocks."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Citation:
    """A verbatim quote of document ``doc_id``: every part is an exact slice of its cleaned
    text; ``quote`` shows the parts joined with " … " (one part: the slice itself)."""

    n: int
    passage_id: str
    doc_id: str
    title: str
    publisher: str
    url: str | None
    quote: str
    start: int  # of the first part
    end: int  # of the last part
    stance: Stance  # the framing of the quoted claim ("neutral": it frames neither)
    score: float  # how closely it answers the question
    parts: tuple[QuotePart, ...] = ()
    speaker: str | None = None  # whose words or reported view the quote gives, when it is theirs
    voice: Voice | None = None  # "quoted": the speaker's words; "reported": their view, in the writer's words
    reviewed: bool = True  # False: the framing comes from the classifier, not a reviewed label


@dataclass(frozen=True)
class Perspective:
    stance: Section
    citations: list[int]  # citation numbers, strongest first


@dataclass(frozen=True)
class PointRef:
    """A point of the debate map, as an answer names it."""

    point_id: str
    title: str


@dataclass(frozen=True)
class Answer:
    """An answer as structure; what a person reads is made from it at the edge (``render/``)."""

    question: str
    answered: bool
    perspectives: list[Perspective]
    citations: list[Citation]
    # The tally of the framings shown, true of the corpus ("" when no framing is shown).
    summary: str
    # Said before the answer when the question had to be changed (e.g. shortened).
    note: str | None = None
    # On a refusal, the titles of the documents the corpus does hold, to say what it covers.
    corpus_titles: tuple[str, ...] = ()
    kind: AnswerKind = "factual"
    # On a refusal: the question's specific subjects (names, events, places) that no
    # document mentions.
    missing: tuple[str, ...] = ()
    # Framings the answer says the corpus does not hold on this point: said only when a
    # search of every claim of that framing in the whole corpus found none that addresses it.
    absent_framings: tuple[Section, ...] = ()
    # Passages holding each framing on this point beyond those shown (``parley ask --all``).
    more: dict[str, int] = field(default_factory=dict)
    # True when every relevant quote is shown (``--all``), not the short default.
    complete: bool = False
    # The debate map's point the answer is on, and points to offer next.
    point: PointRef | None = None
    related: tuple[PointRef, ...] = ()
    # The question pushed for a side ("pick one", "US just wins, right?"): the answer says
    # it shows the corpus's sides and picks none.
    picks_no_side: bool = False


@dataclass(frozen=True)
class PointSummary:
    """A point of the debate map as ``/points`` lists it."""

    point_id: str
    title: str
    scope: str
    claims: dict[str, int]  # by framing


@dataclass(frozen=True)
class SourceSummary:
    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    passages: int
    stances: dict[str, int]
    # Its sentences (claims) by framing (race, cooperation, none), and of those, how many a
    # person reviewed: what a curator looks at.
    claims: dict[str, int] = field(default_factory=dict)
    reviewed_claims: dict[str, int] = field(default_factory=dict)

    @property
    def reviewed(self) -> int:
        return sum(self.reviewed_claims.values())
