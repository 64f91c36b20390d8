"""BM25 over the passages (with their title and publisher): names and rare terms that
mean little to the embedding model. bm25s is imported only when an index is built or read."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens; the same function for passages and queries."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(
        texts,
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )


class LexicalIndex:
    """BM25 scores of passages, row i for passage i, and the share of a question's words a
    passage holds."""

    def __init__(self, bm25, count: int):
        self._bm25 = bm25
        self.count = count

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index(bm25_tokens(texts), show_progress=False)
        return cls(bm25, len(texts))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, count: int) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False), count)

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
