"""Hybrid search over one loaded index: three signals fused, then diversified.

- passage dense: cosine of the question and the passage (embedded with its title);
- sentence dense: cosine of the question and the passage's best-matching sentence, so a
  one-sentence answer inside a long passage is not averaged away;
- BM25 over the passage (with title and publisher), for names and rare terms.

Fusion is a convex combination of the three, each scaled to [0, 1] over this query's
candidates. Unlike reciprocal-rank fusion it keeps how *much* better one passage is than
the next. MMR then keeps near-duplicates (the same point made twice) out of the top.

``Retriever.retrieve`` returns one frozen ``Retrieval``: the hits, each with the sentences
of its passage scored against the question, and the lexical signals the answer core's
gate reads. The answer core sees the index only through this data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal, Protocol

import numpy as np

from parley.index.chunk import Passage
from parley.index.corpus import IndexedDocument
from parley.index.lexical import bm25_tokens, top_rows
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
class SentenceMatch:
    """One sentence of a hit's passage, scored against the question."""

    start: int  # offsets in the document's cleaned text
    end: int
    cosine: float  # with the question
    overlap: float  # share of the question's (stemmed, stop-worded) terms it holds


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
    # The passage's sentences in order; filled by ``Retriever.retrieve`` only.
    sentences: tuple[SentenceMatch, ...] = ()


@dataclass(frozen=True)
class Retrieval:
    """Everything the answer core needs about one question's search, as plain data."""

    question: str
    hits: tuple[Hit, ...]  # best first
    # The hit with the best BM25 score, and the share of the question's words (weighted
    # by rarity) that its passage holds: names mean little to the embedding model.
    lexical_best: Hit | None
    coverage: float
    documents: Mapping[str, IndexedDocument]  # every served document, by id, in corpus order


class Retriever:
    """Searches one ``LoadedIndex``; build a new one when the index is swapped."""

    def __init__(self, index: LoadedIndex, encoder: QueryEncoder, settings: SearchSettings = SearchSettings()):
        self.index = index
        self.encoder = encoder
        self.settings = settings

    def search(self, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` most relevant passages for ``question``, best first."""
        return self.search_vector(question, self.encoder.encode([question])[0], k, mode=mode)

    def retrieve(self, question: str, k: int, *, mode: Mode = "hybrid") -> Retrieval:
        """The ``k`` best hits with their sentences scored, and the lexical signals."""
        query = self.encoder.encode([question])[0]
        hits = self.search_vector(question, query, k, mode=mode)
        lexical_best = max(hits, key=lambda hit: hit.bm25, default=None)
        coverage = self.index.lexical.term_coverage(question, lexical_best.row) if lexical_best else 0.0
        hits = self._with_sentences(hits, query, question)
        if lexical_best is not None:
            lexical_best = next(hit for hit in hits if hit.row == lexical_best.row)
        return Retrieval(question=question, hits=tuple(hits), lexical_best=lexical_best, coverage=coverage,
                         documents=MappingProxyType(self.index.documents))

    def _with_sentences(self, hits: list[Hit], query: np.ndarray, question: str) -> list[Hit]:
        """Each hit with every sentence of its passage scored: cosine and term overlap.
        One matrix product and one tokenizer call for all of them."""
        if not hits:
            return hits
        table = self.index.sentences
        starts, ends = table.spans_of(np.array([hit.row for hit in hits]))
        members = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]).astype(np.int64)
        cosines = table.vectors[members].astype(np.float32) @ query if len(members) else np.zeros(0)
        spans = table.spans[members]
        query_terms = set(bm25_tokens([question])[0])
        texts = [self.index.documents[hit.passage.doc_id].text for hit, a, b in zip(hits, starts, ends)
                 for _ in range(a, b)]
        terms = bm25_tokens([text[s:e] for text, (s, e) in zip(texts, spans)]) if len(members) else []
        matches = [
            SentenceMatch(int(s), int(e), float(cosine),
                          len(set(words) & query_terms) / len(query_terms) if query_terms else 0.0)
            for (s, e), cosine, words in zip(spans, cosines, terms)
        ]
        result, at = [], 0
        for hit, a, b in zip(hits, starts, ends):
            count = int(b - a)
            result.append(replace(hit, sentences=tuple(matches[at : at + count])))
            at += count
        return result

    def search_vector(self, question: str, query: np.ndarray, k: int, *, mode: Mode = "hybrid") -> list[Hit]:
        """Like ``search``, with the question's vector already computed."""
        total = len(self.index.passages)
        k = min(k, total)
        if k <= 0:
            return []
        pool = min(total, max(self.settings.candidates, k))
        bm25_all = self.index.lexical.scores(question)
        rows = {row for row, _ in self.index.vectors.search(query, pool)}
        rows.update(int(r) for r in top_rows(bm25_all, pool))
        rows_array = np.fromiter(sorted(rows), dtype=np.int64)

        dense = self.index.vectors.rows(rows_array) @ query
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
        vectors = self.index.vectors.rows(rows[shortlist])
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


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)
