"""The part of a cited passage that answers: 1-3 consecutive sentences, cut from the
document by offsets, so ``document.text[start:end]`` is the quote, always; and split into
parts where cleaning joined separate blocks, so no quote reads two paragraphs as one."""

from __future__ import annotations

import re

from parley.index import Hit, SentenceMatch

_LIST_MARKER = re.compile(r"(?:[-•*]|\d+[.)])\s+")
# A sentence that says who spoke: the quote is widened to it, so the words keep their speaker.
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|according to|wrote|writes|argued|argues|added)\b", re.IGNORECASE)


def quote_span(hit: Hit, text: str, *, max_words: int, margin: float) -> tuple[int, int]:
    """Document offsets of the 1-3 consecutive sentences of ``hit``'s passage that answer.

    ``text`` is the passage's document; sentences within ``margin`` of the best one make
    it into the quote, as long as the quote stays within ``max_words``.
    """
    if not hit.sentences:
        return hit.passage.start, hit.passage.end
    spans = [(s.start, s.end) for s in hit.sentences]
    # Cosine plus weighted term overlap: a sentence that names what was asked beats one
    # that is merely on the same theme.
    scores = [s.relevance for s in hit.sentences]

    # The window of 1-3 consecutive sentences (within the word limit) that holds the most
    # sentences close to the best one; a weak sentence between two good ones may ride along.
    threshold = max(scores) - margin
    best = scores.index(max(scores))
    # A window no better than a shorter one is not taken: a weak sentence rides along only
    # between two good ones, never at an edge.
    best_window, best_value = (best, best), -1.0
    for first in range(len(spans)):
        for last in range(first, min(first + 3, len(spans))):
            if _words(text, (spans[first][0], spans[last][1])) > max_words and last > first:
                break
            value = sum(max(0.0, scores[i] - threshold) for i in range(first, last + 1))
            shorter = last - first < best_window[1] - best_window[0]
            if value > best_value + 1e-9 or (abs(value - best_value) <= 1e-9 and shorter):
                best_window, best_value = (first, last), value
    first, last = best_window
    following = last + 1
    if (following < len(spans) and not _ATTRIBUTION.search(text, spans[first][0], spans[last][1])
            and _ATTRIBUTION.search(text, spans[following][0], spans[following][1])
            and _words(text, (spans[first][0], spans[following][1])) <= max_words + 30):
        last = following
    start = spans[first][0]
    # A list marker is layout, not words: the quote starts after it (still a verbatim slice).
    marker = _LIST_MARKER.match(text, start)
    if marker and marker.end() < spans[last][1]:
        start = marker.end()
    return start, spans[last][1]


def _words(text: str, span: tuple[int, int]) -> int:
    return len(text[span[0] : span[1]].split())


def claim_span(sentence: SentenceMatch, text: str) -> tuple[int, int]:
    """Document offsets of a claim's quote: its sentence, without a list marker."""
    start = sentence.start
    marker = _LIST_MARKER.match(text, start)
    if marker and marker.end() < sentence.end:
        start = marker.end()
    return start, sentence.end


def quote_parts(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """``span`` split at every line break of the cleaned text: a line break is where the
    capture had separate blocks, or where cleaning removed something (a heading, a
    metadata box) between them. Each part is an exact slice with no edge whitespace."""
    parts = []
    start = span[0]
    while start < span[1]:
        newline = text.find("\n", start, span[1])
        end = span[1] if newline < 0 else newline
        a, b = start, end
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            parts.append((a, b))
        start = end + 1
    return parts or [span]
