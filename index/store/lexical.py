"""BM25 over the passages (with their title and publisher): names and rare terms that
mean little to the embedding model. bm25s is imported only when an index is built or read.

Its arrays are memory-mapped. Up to ``PRUNED_ABOVE`` passages a question's top rows come
from adding up every posting of its terms (under 1 ms at 100,000 passages); above, from
block-max pruning over the same scores (pruned.py), which the build prepares."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

# A question's specific subjects: a capitalised word after the first, an acronym, a name
# with digits (H200, GPT-4), a year. Lower-case words are left to the other signals.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*[A-Za-z0-9]|[A-Za-z0-9]")
_YEAR = re.compile(r"(?:19|20)\d\d")


_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@functools.cache
def _stop_words_and_stemmer():
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN), Stemmer.Stemmer("english")


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens; the same function for passages and queries.

    What ``bm25s.tokenize(texts, stopwords="en", stemmer=english, return_ids=False)``
    returns (a test holds them equal), without its per-text set-up: it rebuilt its stop
    word set for every text, and answering tokenizes a few hundred sentences a question.
    """
    stop_words, stemmer = _stop_words_and_stemmer()
    words = [[w for w in _TOKEN.findall(text.lower()) if w not in stop_words] for text in texts]
    return [stemmer.stemWords(ws) if ws else [] for ws in words]


# Chat words rarer than everyday English that name nothing: a question in them is still
# a question about the corpus.
CHAT_WORDS = frozenset(
    "lowkey highkey ngl tbh imo imho idk idc smh fr rn bc cuz coz tho thru ppl govt gov pls plz thx lol lmao "
    "bruh bro dunno gonna wanna gotta kinda sorta ya yall y'all ok okay nah yeah yep nope btw afaik iirc tl;dr "
    "tldr eli5 vs w/ w/o aint ain't whats what's hows who's wtf af asap fwiw irl ofc prob probs rly srsly".split())


# Titles are capitalised before a name but name nothing themselves.
TITLES = frozenset("senator sen president secretary professor prof dr mr mrs ms minister chairman chair general "
                   "governor rep representative ceo founder director premier chancellor ambassador".split())


def specific_terms(question: str, common_words: Mapping[str, int] | None = None) -> list[str]:
    """The words of ``question`` that name something specific: a name with digits (H200),
    a year, an acronym, a capitalised word after the first that is not everyday English,
    and, with ``common_words`` (word -> 2 everyday, 1 uncommon), two rare words in a row (a
    lower-case name such as "jensen huang"). A lone rare lower-case word does not count:
    "checkable" and "asml" are equally rare, and refusing an answerable question is worse
    than answering a trap."""
    words = [w.rstrip(".'’") for w in _WORD.findall(question)]
    bands = common_words or {}

    def band(word: str) -> int:
        lowered = word.lower()
        if not bands or not word.isalpha() or len(word) <= 2 or lowered in CHAT_WORDS:
            return 2
        return bands.get(lowered, 0)

    found = []
    for position, word in enumerate(words):
        has_digit, has_alpha = any(c.isdigit() for c in word), any(c.isalpha() for c in word)
        neighbours = words[max(0, position - 1) : position] + words[position + 1 : position + 2]
        if (
            (has_digit and has_alpha)
            or _YEAR.fullmatch(word)
            or (has_alpha and len(word) > 1 and word.isupper())
            or (position > 0 and word[:1].isupper() and word[1:].islower() and len(word) > 2 and band(word) < 2)
            or (word.islower() and band(word) < 2 and any(n.islower() and band(n) < 2 for n in neighbours))
        ):
            if bm25_tokens([word])[0] and word.lower() not in TITLES:  # "The", "Senator" name nothing
                found.append(word)
    return list(dict.fromkeys(found))


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        # one substitution, or two neighbours swapped ("chnia" for "china")
        return len(differ) <= 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                    and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


# Adding up every posting costs ~1 ms at 100,000 passages and ~10 ms at a million (its
# p95, on 2 cores): above this, the top rows come from pruned.py.
PRUNED_ABOVE = 200_000


class LexicalIndex:
    """BM25 scores of passages, row i for passage i, and the share of a question's words a
    passage holds."""

    def __init__(self, bm25, count: int, pruned=None):
        self._bm25 = bm25
        self.count = count
        self._pruned = pruned  # pruned.PrunedBM25 for a large index, else None

    def knows(self, term: str) -> bool:
        """Whether any passage holds ``term`` (stemmed), or a word one typo away from it (a
        letter added, dropped or changed, or two swapped)."""
        tokens = bm25_tokens([term.lower()])[0]
        vocabulary = self._bm25.vocab_dict
        return all(token in vocabulary or (len(token) >= 5 and any(
            word[:1] == token[:1] and _within_one_edit(word, token) for word in vocabulary)) for token in tokens)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        tokens = bm25_tokens(texts)
        # The vocabulary in sorted order, not bm25s's set order (which follows the process's
        # string hash seed): the same corpus then writes the same bytes, so every host that
        # builds it reaches the same content digest (docs/multi-host.md).
        vocabulary = {token: column for column, token in enumerate(sorted({t for text in tokens for t in text}))}
        bm25 = bm25s.BM25()
        bm25.index(([[vocabulary[t] for t in text] for text in tokens], vocabulary), show_progress=False)
        return cls(bm25, len(texts))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)
        if self.count > PRUNED_ABOVE:
            from parley.index.store.pruned import write_ranges

            scores = self._bm25.scores
            write_ranges(directory, scores["data"], scores["indices"], scores["indptr"], self.count)

    @classmethod
    def load(cls, directory: Path, count: int) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        pruned = None
        if count > PRUNED_ABOVE:
            from parley.index.store.pruned import PrunedBM25

            pruned = PrunedBM25(directory, bm25.scores["data"], bm25.scores["indices"], count)
        return cls(bm25, count, pruned)

    def _term_ids(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The ids of the query's known terms and how often each occurs in it."""
        ids: dict[int, int] = {}
        for token in bm25_tokens([query])[0]:
            column = self._bm25.vocab_dict.get(token)
            if column is not None:
                ids[column] = ids.get(column, 0) + 1
        return (np.fromiter(ids, dtype=np.int64, count=len(ids)),
                np.fromiter(ids.values(), dtype=np.float32, count=len(ids)))

    def top(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the ``k`` passages with the highest (positive) BM25 scores,
        best first: exact either way (see the module docstring)."""
        if self._pruned is not None:
            terms, weights = self._term_ids(query)
            if not len(terms):
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            rows, scores = self._pruned.search(terms, weights, k)
            keep = scores > 0
            return rows[keep], scores[keep]
        scores = self.scores(query)
        rows = top_rows(scores, k)
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return rows, scores[rows]

    def scores_of(self, query: str, rows: np.ndarray) -> np.ndarray:
        """The BM25 scores of the passages at ``rows`` (sorted), looked up in each term's
        postings: the same figures as ``scores``, without scoring every passage."""
        rows = np.asarray(rows, dtype=np.int64)
        totals = np.zeros(len(rows), dtype=np.float32)
        scores = self._bm25.scores
        indptr, indices, data = scores["indptr"], scores["indices"], scores["data"]
        terms, weights = self._term_ids(query)
        # The rows in the postings' own dtype: searching int32 postings for int64 rows makes
        # numpy copy the whole posting list first (0.1 ms and more for a common term).
        keys = rows.astype(indices.dtype)
        for column, weight in zip(terms, weights):
            start, end = int(indptr[column]), int(indptr[column + 1])
            postings = indices[start:end]
            at = np.searchsorted(postings, keys)  # a column's rows are sorted
            inside = at < len(postings)
            found = np.zeros(len(rows), dtype=bool)
            found[inside] = postings[at[inside]] == rows[inside]
            totals[found] += weight * data[start + at[found]]
        return totals

    def exhaustive_scores(self, query: str) -> np.ndarray:
        """Every passage's score, adding up every posting: what ``top`` is checked against."""
        return self.scores(query)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query term is known)."""
        tokens = bm25_tokens([query])[0]
        if not tokens:  # only stop words, emoji or punctuation: BM25 has nothing to match
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def term_coverage(self, query: str, row: int) -> float:
        """Share of the query's terms, weighted by IDF, that occur in passage ``row``.

        A term the corpus never uses counts as the rarest possible, so a question about
        something absent ("sourdough") can never be covered.
        """
        terms = list(dict.fromkeys(bm25_tokens([query])[0]))
        if not terms:
            return 0.0
        scores = self._bm25.scores
        indptr, indices = scores["indptr"], scores["indices"]
        total_passages = self.count
        covered = total = 0.0
        for term in terms:
            column = self._bm25.vocab_dict.get(term)
            postings = indices[indptr[column] : indptr[column + 1]] if column is not None else indices[:0]
            frequency = len(postings)
            idf = float(np.log(1 + (total_passages - frequency + 0.5) / (frequency + 0.5)))
            total += idf
            at = int(np.searchsorted(postings, row))  # a column's rows are sorted
            if at < frequency and postings[at] == row:
                covered += idf
        return covered / total if total else 0.0


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest positive ``scores`` (fewer when fewer are positive), in
    no particular order. Exact, and about 1 ms at a million rows where one
    ``argpartition`` takes 10: a strided sample gives a threshold that a few times ``k``
    rows pass, and only those are partitioned."""
    total = len(scores)
    if total <= 50_000:
        positive = np.flatnonzero(scores > 0)
        if len(positive) <= k:
            return positive
        return positive[np.argpartition(scores[positive], len(positive) - k)[len(positive) - k:]]
    sample = scores[:: total // 20_000]
    threshold = float(np.quantile(sample, 1 - min(1.0, 4 * k / total)))
    passing = np.flatnonzero(scores >= threshold) if threshold > 0 else np.flatnonzero(scores > 0)
    if len(passing) < k:
        if threshold <= 0:  # fewer than k rows score at all
            return passing
        return _exact_top(scores, k)
    # Every row outside ``passing`` scores below the threshold, and ``passing`` holds at
    # least k rows at or above it: the top k are all inside.
    return passing[np.argpartition(scores[passing], len(passing) - k)[len(passing) - k:]]


def _exact_top(scores: np.ndarray, k: int) -> np.ndarray:
    rows = np.argpartition(scores, len(scores) - k)[len(scores) - k:]
    return rows[scores[rows] > 0]
