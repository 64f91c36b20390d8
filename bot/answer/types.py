"""What the answer core returns: plain data that every adapter renders its own way."""

from __future__ import annotations

from dataclasses import dataclass

from parley.index.chunk import Stance


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: ``quote == document.text[start:end]`` of document ``doc_id``."""

    n: int
    passage_id: str
    doc_id: str
    title: str
    publisher: str
    url: str | None
    quote: str
    start: int
    end: int
    stance: Stance
    score: float


@dataclass(frozen=True)
class Perspective:
    stance: Stance
    citations: list[int]  # citation numbers, strongest first


@dataclass(frozen=True)
class Answer:
    """An answer as structure; what a person reads is made from it at the edge (``render/``)."""

    question: str
    answered: bool
    perspectives: list[Perspective]
    citations: list[Citation]
    # One line such as "2 passages frame this as a race, 3 as cooperation."; or why not.
    summary: str
    # Said before the answer when the question had to be changed (e.g. shortened).
    note: str | None = None
    # On a refusal, the titles of the documents the corpus does hold, to say what it covers.
    corpus_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceSummary:
    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    passages: int
    stances: dict[str, int]
