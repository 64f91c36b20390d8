"""What the answer core returns: plain data that every adapter renders its own way."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Stance = Literal["race", "cooperation", "neutral"]


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
    question: str
    answered: bool
    text: str  # the whole answer as plain text
    perspectives: list[Perspective]
    citations: list[Citation]
    # One line such as "2 passages frame this as a race, 3 as cooperation."; or why not.
    summary: str
    # Said before the answer when the question had to be changed (e.g. shortened).
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``parley ask --json`` contract (exactly these keys)."""
        return {
            "question": self.question,
            "answered": self.answered,
            "text": self.text,
            "perspectives": [asdict(p) for p in self.perspectives],
            "citations": [asdict(c) for c in self.citations],
        }


@dataclass(frozen=True)
class SourceSummary:
    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    passages: int
    stances: dict[str, int]
