"""Cut a cleaned document into passages: whole sentences, roughly 40–120 words each.

A passage is a slice of the cleaned text, ``text[start:end]``, so a quote taken from it can
always be traced back to the document character for character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.index.model import Passage, passage_id

# A sentence ends at . ! or ? (perhaps followed by closing quotes or brackets), before
# whitespace and something that can open a sentence.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9•\-])")
# A period after these is not the end of a sentence ("Sen. Sanders", "U.S. National").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sen rep gov gen lt col sgt st jr sr inc ltd co corp vs etc e.g i.e "
    "no fig jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_INITIALS = re.compile(r"(?:\b[A-Za-z]\.)+$")
_WORD = re.compile(r"\S+")
# No prose sentence is this long: a longer run without a sentence end (a list pasted as
# one line, a capture that lost its punctuation) is cut at word boundaries, so that a
# passage's size stays bounded whatever the text's shape.
MAX_SENTENCE_WORDS = 200


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    words: int
    ends_paragraph: bool


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``; every line break ends a sentence."""
    return [(s.start, s.end) for s in _sentences(text)]


def chunk_document(
    doc_id: str, text: str, *, min_words: int = 40, max_words: int = 120
) -> list[Passage]:
    """Group whole sentences into passages of ``min_words``–``max_words`` words.

    A passage closes at a paragraph end once it is long enough, or before a sentence that
    would take it past ``max_words``. A sentence is never cut: one longer than
    ``max_words`` is a passage of its own. A short tail is merged into its neighbour, so no
    tiny fragment is left (unless the whole document is that short).
    """
    groups: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    for sentence in _sentences(text):
        if current and _words(current) + sentence.words > max_words:
            groups.append(current)
            current = []
        current.append(sentence)
        if sentence.ends_paragraph and _words(current) >= min_words:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    groups = _merge_short(groups, min_words)

    passages = []
    for group in groups:
        start, end = group[0].start, group[-1].end
        passage_text = text[start:end]
        passages.append(
            Passage(
                passage_id=passage_id(doc_id, passage_text),
                doc_id=doc_id,
                text=passage_text,
                start=start,
                end=end,
            )
        )
    return passages


def _sentences(text: str) -> list[_Sentence]:
    """Every sentence of ``text``, in order; linear in its length whatever its shape."""
    sentences: list[_Sentence] = []
    offset = 0
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        start = line_start + (len(line) - len(line.lstrip()))
        line_end = line_start + len(line.rstrip())
        for match in _BOUNDARY.finditer(text, start, line_end):
            if _is_abbreviation(_last_word(text, start, match.start() + 1)):
                continue
            sentences += _bounded(text, start, match.end(), ends_paragraph=False)
            start = match.end()
            while text[start].isspace():
                start += 1
        sentences += _bounded(text, start, line_end, ends_paragraph=True)
    return sentences


def _last_word(text: str, start: int, end: int) -> str:
    """The last word of ``text[start:end]``, found without copying or scanning the whole
    span (a run of abbreviations would otherwise make the search quadratic). Cleaned text
    separates words with single spaces."""
    space = text.rfind(" ", start, end)
    return text[space + 1 if space >= 0 else start : end]


def _bounded(text: str, start: int, end: int, *, ends_paragraph: bool) -> list[_Sentence]:
    """The sentence ``text[start:end]``, cut into pieces of ``MAX_SENTENCE_WORDS`` words
    when it is longer."""
    sentence = _sentence(text, start, end, ends_paragraph=ends_paragraph)
    if sentence.words <= MAX_SENTENCE_WORDS:
        return [sentence]
    words = list(_WORD.finditer(text, start, end))
    pieces = []
    for first in range(0, len(words), MAX_SENTENCE_WORDS):
        chunk = words[first : first + MAX_SENTENCE_WORDS]
        last = first + MAX_SENTENCE_WORDS >= len(words)
        pieces.append(_Sentence(chunk[0].start(), chunk[-1].end(), len(chunk), ends_paragraph and last))
    return pieces


def _sentence(text: str, start: int, end: int, *, ends_paragraph: bool) -> _Sentence:
    return _Sentence(start, end, len(text[start:end].split()), ends_paragraph)


def _is_abbreviation(last_word: str) -> bool:
    if not last_word.endswith("."):
        return False
    if _INITIALS.search(last_word):
        return True
    return last_word.rstrip(".").lower().lstrip("(\"'") in _ABBREVIATIONS


def _words(group: list[_Sentence]) -> int:
    return sum(s.words for s in group)


def _merge_short(groups: list[list[_Sentence]], min_words: int) -> list[list[_Sentence]]:
    """Merge every group under ``min_words`` into its smaller neighbour."""
    groups = [list(g) for g in groups]
    index = 0
    while len(groups) > 1 and index < len(groups):
        if _words(groups[index]) >= min_words:
            index += 1
            continue
        if index == 0:
            neighbour = 1
        elif index == len(groups) - 1:
            neighbour = index - 1
        else:
            before, after = groups[index - 1], groups[index + 1]
            neighbour = index - 1 if _words(before) <= _words(after) else index + 1
        low, high = sorted((index, neighbour))
        groups[low : high + 1] = [groups[low] + groups[high]]
        index = low
    return groups
