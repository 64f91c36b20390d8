"""Typos in questions, corrected against the corpus's own words before searching.

"goverment" or "chian" is one keystroke from a word the corpus uses, but BM25 matches
nothing for it and the embedding model cuts it into meaningless word pieces. So a word of a
question that neither the corpus nor everyday English uses, and that is one edit (a letter
added, dropped or changed, or two neighbours swapped) from a word the corpus does use, is
searched as that word. Only the search sees the correction; the answer repeats the
question as asked.

Candidates are generated from the question's word (a few hundred edits) and looked up, so
the cost does not grow with the corpus's vocabulary. Words shorter than ``MIN_LENGTH``
are left alone: "ai" and "us" have too many neighbours to guess from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

MIN_LENGTH = 5
_WORD = re.compile(r"[A-Za-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def count_words(texts: Iterable[str]) -> Counter[str]:
    """How often each lower-cased alphabetic word of at least ``MIN_LENGTH`` letters occurs."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word for word in _WORD.findall(text.lower()) if len(word) >= MIN_LENGTH)
    return counts


def words_text(counts: Mapping[str, int]) -> str:
    """The words file's text: ``word count`` lines, most frequent first."""
    return "".join(f"{word} {count}\n" for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def read_words(path: Path) -> dict[str, int]:
    counts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition(" ")
        counts[word] = int(count)
    return counts


def corrected(question: str, corpus_words: Mapping[str, int], common_words: Mapping[str, int]) -> str:
    """``question`` with each typo of a corpus word replaced by that word (the most frequent
    one when several are one edit away), keeping a leading capital."""
    if not corpus_words:
        return question

    def fix(match: re.Match) -> str:
        word = match.group(0)
        lowered = word.lower()
        if len(lowered) < MIN_LENGTH or lowered in corpus_words or lowered in common_words:
            return word
        found = [candidate for candidate in _one_edit(lowered) if candidate in corpus_words]
        if not found:
            return word
        best = max(found, key=lambda candidate: (corpus_words[candidate], candidate))
        return best.capitalize() if word[:1].isupper() else best

    return _WORD.sub(fix, question)


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, swap of neighbours, replacement or insertion from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}
