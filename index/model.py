"""The plain types every layer of the index shares, and the one framing vocabulary.

A leaf: it imports nothing of Parley, so the store, the search and the answer core can all
use these types without depending on the stage that produces them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, get_args

# The framing vocabulary, written once. The two framings the corpus argues:
Framing = Literal["race", "cooperation"]
FRAMINGS: tuple[Framing, ...] = get_args(Framing)
# What a passage presents as a whole: a framing, or "neutral" context that frames neither.
# "neutral" is part of the JSON contract of `parley search` and `parley ask`.
Stance = Literal["race", "cooperation", "neutral"]
STANCES: tuple[Stance, ...] = get_args(Stance)
# What one sentence (a claim) presents: a framing, or "none". "none" is the word of the
# reviewed labels file (corpus/claim-labels.jsonl) and of the review choices; the order is
# the code stored per sentence, so it must not change.
ClaimFraming = Literal["none", "race", "cooperation"]
CLAIM_FRAMINGS: tuple[ClaimFraming, ...] = get_args(ClaimFraming)


# Whose words a framed claim gives (docs/labelling-guide.md, "Whose words"): a named
# speaker's own words, or their view as the document reports it. A claim in the writer's
# own voice, or narration about someone, names no speaker. ``VOICES``' order is the code
# stored per sentence (0: no speaker named), so it must not change.
Voice = Literal["quoted", "reported"]
VOICES: tuple[Voice, ...] = get_args(Voice)
LabelVoice = Literal["quoted", "reported", "own", "narration"]
LABEL_VOICES: tuple[LabelVoice, ...] = get_args(LabelVoice)


def stance_of_claim(framing: ClaimFraming) -> Stance:
    """The passage-level word for a claim's framing: a framing stays, "none" is "neutral"."""
    return "neutral" if framing == "none" else framing


@dataclass(frozen=True)
class Passage:
    """A retrievable unit: ``text == cleaned_text[start:end]`` of document ``doc_id``.

    ``stance`` is how the passage frames US-China AI relations, set at index time.
    """

    passage_id: str
    doc_id: str
    text: str
    start: int
    end: int
    stance: Stance = "neutral"
    stance_confidence: float = 0.0


def passage_id(doc_id: str, text: str) -> str:
    """A stable id from the content: the same words in the same document, the same id."""
    return hashlib.sha256(f"{doc_id}\n{text}".encode()).hexdigest()[:16]


def claim_key(doc_id: str, text: str) -> str:
    """The key of a sentence's label: its document and its exact text."""
    return hashlib.sha256(f"{doc_id}\n{text}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DocumentHeader:
    """A served document without its text: what listings (``/sources``) need."""

    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    kind: str | None
    content_sha256: str
    passage_count: int


@dataclass(frozen=True)
class IndexedDocument(DocumentHeader):
    """A document as served: its metadata and the cleaned text quotes are cut from (plain
    data the answer core reads through a search's results)."""

    text: str


@dataclass(frozen=True)
class Point:
    """A point of the debate map as served: a sub-question the corpus argues, and its claims
    by framing and its facts as sentence numbers of the index (strongest first)."""

    point_id: str
    title: str
    scope: str
    phrasings: tuple[str, ...]
    claims: dict[str, tuple[int, ...]]  # by framing ("race", "cooperation")
    facts: tuple[int, ...] = ()
    neighbours: tuple[str, ...] = ()
