"""Hybrid search over one loaded index: three signals fused, then diversified.

- passage dense: cosine of the question and the passage (embedded with its title);
- sentence dense: cosine of the question and the passage's best-matching sentence, so a
  one-sentence answer inside a long passage is not averaged away;
- BM25 over the passage (with title and publisher), for names and rare terms.

Fusion is a convex combination of the three, each scaled to [0, 1] over this query's
candidates. Unlike reciprocal-rank fusion it keeps how *much* better one passage is than
the next. MMR then keeps near-duplicates (the same point made twice) out of the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from parley.index.chunk import Passage
from parley.index.store import LoadedIndex

Mode = Literal["hybrid", "dense", "bm25"]


class QueryEncoder(Protocol):
    """Anything that turns texts into unit vectors of the index's dimension."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SearchSettings:
    # Weights of the fused signals (passage dense, best-sentence dense, BM25); sum 1.
    dense_weight: float = 0.4
    sentence_weight: float = 0.3
    bm25_weight: float = 0.3
    # Candidates taken from each retriever before fusion (all passages on a small corpus).
    candidates: int = 100
    # MMR trade-off: 1.0 is pure relevance, lower values push near-duplicates down.
    mmr_lambda: float = 0.9


@dataclass(frozen=True)
class Hit:
    """One search result with the evidence behind its rank."""

    row: int
    passage: Passage
    score: float  # fused relevance in [0, 1] among this query's candidates
    dense: float  # cosine similarity of question and passage (with its title)
    sentence: float  # cosine similarity of question and the passage's best sentence
    bm25: float  # raw BM25 score
    bm25_share: float  # BM25 score over the best BM25 score of the query, in [0, 1]


class Retriever:
    """Searches one ``LoadedIndex``; build a new one when the index is swapped."""

    def __init__(self, index: LoadedIndex, encoder: QueryEncoder, settings: SearchSettings = SearchSettings()):
        self.index = index
        self.encoder = encoder
        self.settings = settings

    def search(self, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` most relevant passages for ``question``, best first."""
        return self.search_vector(question, self.encoder.encode([question])[0], k, mode=mode)

    def search_vector(self, question: str, query: np.ndarray, k: int, *, mode: Mode = "hybrid") -> list[Hit]:
        """Like ``search``, with the question's vector already computed."""
        total = len(self.index.passages)
        k = min(k, total)
        if k <= 0:
            return []
        pool = min(total, max(self.settings.candidates, k))
        bm25_all = self.index.bm25_scores(question)
        dense_hits = self.index.dense_search(query, pool)
        rows = {hit.row for hit in dense_hits}
        rows.update(int(r) for r in top_rows(bm25_all, pool))
        rows_array = np.fromiter(sorted(rows), dtype=np.int64)

        dense = self.index.row_vectors(rows_array) @ query
        sentence = self.index.sentences.best_per_passage(rows_array, query)
        bm25 = bm25_all[rows_array]
        best_bm25 = float(bm25_all.max())
        bm25_share = bm25 / best_bm25 if best_bm25 > 0 else np.zeros_like(bm25)
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            fused = bm25
        else:
            weights = self.settings
            fused = (
                weights.dense_weight * _min_max(dense)
                + weights.sentence_weight * _min_max(sentence)
                + weights.bm25_weight * _min_max(bm25)
            )

        order = self._diversify(rows_array, fused, k) if mode == "hybrid" else np.argsort(-fused)[:k]
        relevance = _min_max(fused) if mode != "hybrid" else fused
        return [
            Hit(
                row=int(rows_array[i]),
                passage=self.index.passages[int(rows_array[i])],
                score=float(relevance[i]),
                dense=float(dense[i]),
                sentence=float(sentence[i]),
                bm25=float(bm25[i]),
                bm25_share=float(bm25_share[i]),
            )
            for i in order
        ]

    def _diversify(self, rows: np.ndarray, fused: np.ndarray, k: int) -> list[int]:
        """Maximal marginal relevance over the candidates, on passage-vector similarity."""
        lam = self.settings.mmr_lambda
        ranked = list(np.argsort(-fused))
        if lam >= 1.0:
            return ranked[:k]
        shortlist = ranked[: max(3 * k, 20)]
        vectors = self.index.row_vectors(rows[shortlist])
        similarity = vectors @ vectors.T
        chosen: list[int] = []
        remaining = list(range(len(shortlist)))
        while remaining and len(chosen) < k:
            def value(j: int) -> float:
                redundancy = max((similarity[j, c] for c in chosen), default=0.0)
                return lam * fused[shortlist[j]] - (1 - lam) * redundancy

            best = max(remaining, key=value)
            chosen.append(best)
            remaining.remove(best)
        return [shortlist[j] for j in chosen]


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


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)
