"""Hybrid search over one loaded index: three signals fused, then diversified.

- passage dense: cosine of the question and the passage (embedded with its title);
- sentence dense: cosine of the question and the passage's best-matching sentence, so a
  one-sentence answer inside a long passage is not averaged away;
- BM25 over the passage (with title and publisher), for names and rare terms.

The three are fused and diversified (MMR keeps the same point made twice out of the top)
by ``fusion.py``.

``Retriever.retrieve`` returns one frozen ``Retrieval``: the hits, each with the sentences
of its passage scored against the question, and the lexical signals the answer core's
gate reads. The answer core sees the index only through this data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal, Protocol

import numpy as np

from parley.index.model import CLAIM_FRAMINGS, ClaimFraming, IndexedDocument, Passage, Point, Voice
from parley.index.search.fusion import (
    claim_relevance,
    diversify,
    fuse,
    min_max,
    point_claim_rank,
    point_score,
    sentence_relevance,
)
from parley.index.store.columns import dots
from parley.index.store.lexical import bm25_tokens, specific_terms
from parley.index.store.points import PointTable
from parley.index.store.spelling import corrected
from parley.index.store.version import LoadedIndex

# Claims of each framing kept per question, and how alike two sentences must be to count
# as the same point (cosine of their vectors).
CLAIMS_PER_FRAMING = 32
# Above this many passages, BM25 (pruned, ~4 ms at a million) runs on its own thread while
# the question is embedded and the vectors searched.
PARALLEL_ABOVE = 200_000
SAME_POINT = 0.88
# Points of the debate map kept per question: the best, and its neighbours in the ranking
# (a question spanning two points, and what to offer next).
POINTS_PER_QUESTION = 3

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class LexicalLeg:
    """BM25's top rows and their scores; on a large index also those rows' passage cosines
    and best-sentence cosines (row -> value), computed on BM25's thread."""

    rows: np.ndarray
    scores: np.ndarray
    dense: Mapping[int, float] = field(default_factory=dict)
    sentence: Mapping[int, float] = field(default_factory=dict)


class QueryEncoder(Protocol):
    """Anything that turns texts into unit vectors of the index's dimension."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SearchSettings:
    # Weights of the fused signals (passage dense, best-sentence dense, BM25); sum 1.
    dense_weight: float = 0.2
    sentence_weight: float = 0.5
    bm25_weight: float = 0.3
    # Candidates taken from each retriever before fusion (all passages on a small corpus).
    candidates: int = 100
    # MMR trade-off: 1.0 is pure relevance, lower values push near-duplicates down.
    mmr_lambda: float = 0.9


@dataclass(frozen=True)
class SentenceMatch:
    """One sentence, scored against the question, with the claim it makes."""

    start: int  # offsets in the document's cleaned text
    end: int
    cosine: float  # with the question
    overlap: float  # share of the question's (stemmed, stop-worded) terms it holds
    sentence: int = -1  # its index in the index's sentence table
    framing: ClaimFraming = "none"
    speaker: str | None = None
    voice: Voice | None = None  # how the speaker is named: their words, or their view reported
    reviewed: bool = True
    confidence: float = 1.0

    @property
    def relevance(self) -> float:
        """Its cosine plus its weighted term overlap (``fusion.sentence_relevance``)."""
        return sentence_relevance(self.cosine, self.overlap)


@dataclass(frozen=True)
class ClaimHit:
    """A claim of one framing, found by searching every claim of that framing in the index."""

    row: int
    passage: Passage
    sentence: SentenceMatch
    # How closely it addresses the question: the mean of two cosines, question and claim,
    # question and the claim's passage, each taken after centring on the corpus's mean
    # sentence vector, plus weighted term overlap (``fusion.claim_relevance``). In a corpus that is all about the US,
    # China and AI, raw cosines are dominated by that shared topic, and the same few
    # generic claims would match every question.
    relevance: float


@dataclass(frozen=True)
class PointMatch:
    """A point of the debate map, scored against the question, with its claims ranked by
    how closely each addresses the question (``ClaimHit.relevance``; the map's strongest-
    first order breaks ties)."""

    point: Point
    score: float  # fused match of the question with the point (fusion.point_score)
    asked: float  # the best cosine of the question with the point's title and phrasings
    claims: Mapping[str, tuple[ClaimHit, ...]]  # by framing


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
    corpus_titles: tuple[str, ...] = ()  # their titles, in the same order
    # Each framing's claims closest to the question, over the whole index, best first.
    claims: Mapping[str, tuple[ClaimHit, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # Pairs (i < j) of sentence indices among the hits' sentences and the claims that are
    # close enough to make the same point: an answer quotes one of each pair.
    same_point: frozenset[tuple[int, int]] = frozenset()
    # The question's specific subjects (names, acronyms, figures) that no document mentions.
    unknown_terms: tuple[str, ...] = ()
    # The debate map's points closest to the question, best first (none without a map),
    # and every point's title by id.
    points: tuple[PointMatch, ...] = ()
    point_titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # The claims of the speakers the question names ("why did Xue Lan say..."), most
    # relevant first: whatever view the question pins on them, their own words are here.
    speaker_claims: tuple[ClaimHit, ...] = ()


def _in_point_order(members: tuple[int, ...], scored: Mapping[int, ClaimHit]) -> tuple[ClaimHit, ...]:
    """A point's claims of one framing, in the order they should answer the question
    (``fusion.point_claim_rank``: relevance, and the curators' strongest-first order)."""
    place = {sentence: i for i, sentence in enumerate(members)}
    return tuple(sorted((scored[i] for i in members),
                        key=lambda c: -point_claim_rank(c.relevance, place[c.sentence.sentence], len(members))))


class Retriever:
    """Searches one ``LoadedIndex``; build a new one when the index is swapped."""

    def __init__(self, index: LoadedIndex, encoder: QueryEncoder, settings: SearchSettings = SearchSettings()):
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self._mean = index.sentences.centre()
        self._spread = float(self._mean @ self._mean)  # |mean|², for centring a question

    def search(self, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` most relevant passages for ``question``, best first."""
        searched = self.corrected(question)
        query, lexical = self._embedded_while_lexical_runs(searched, k)
        return self.search_vector(searched, query, k, mode=mode, lexical=lexical)

    def corrected(self, question: str) -> str:
        """``question`` with its typos of corpus words corrected (spelling.py): what is searched."""
        return corrected(question, self.index.corpus_words, self.index.common_words)

    def retrieve(self, question: str, k: int, *, mode: Mode = "hybrid") -> Retrieval:
        """The ``k`` best hits with their sentences scored, and the lexical signals. The
        search reads the question with its typos corrected; the retrieval keeps it as asked."""
        asked, question = question, self.corrected(question)
        query, lexical = self._embedded_while_lexical_runs(question, k)
        hits = self.search_vector(question, query, k, mode=mode, lexical=lexical)
        lexical_best = max(hits, key=lambda hit: hit.bm25, default=None)
        coverage = self.index.lexical.term_coverage(question, lexical_best.row) if lexical_best else 0.0
        hits = self._with_sentences(hits, query, question)
        if lexical_best is not None:
            lexical_best = next(hit for hit in hits if hit.row == lexical_best.row)
        claims = {framing: self._claims_for(framing, query, question) for framing in self.index.claims}
        points = self._points_for(query, question)
        named = self._named_speakers_claims(question)
        speaker_claims = self._scored_claims(named, None, query, question) if len(named) else ()
        sentences = {m.sentence for hit in hits for m in hit.sentences}
        sentences.update(c.sentence.sentence for c in speaker_claims)
        sentences.update(c.sentence.sentence for found in claims.values() for c in found)
        sentences.update(c.sentence.sentence for match in points for found in match.claims.values() for c in found)
        return Retrieval(question=asked, hits=tuple(hits), lexical_best=lexical_best, coverage=coverage,
                         documents=MappingProxyType(self.index.documents), corpus_titles=self.corpus_titles,
                         claims=MappingProxyType(claims), points=points, point_titles=self.point_titles,
                         same_point=self._same_point(sorted(sentences)), speaker_claims=speaker_claims,
                         unknown_terms=tuple(t for t in specific_terms(question, self.index.common_words)
                                             if not self._mentioned(t)))

    def point_view(self, point_id: str) -> Retrieval | None:
        """A point of the debate map on its own, for browsing (``parley points ID``): its
        claims in the map's strongest-first order; ``None`` for an unknown id."""
        table = self.index.points
        point = table.by_id(point_id)
        if point is None:
            return None
        sentences = self.index.sentences
        claims = {}
        for framing, members in point.claims.items():
            chosen = np.asarray(members, dtype=np.int64)
            matches = self._matches(chosen, np.zeros(len(chosen), dtype=np.float32), point.title) if len(chosen) else []
            # Relevance falls with the map's rank, so the composer keeps the curators' order.
            claims[framing] = tuple(ClaimHit(int(sentences.rows[i]), self.index.passages[int(sentences.rows[i])],
                                             match, round(1.0 - rank / 1000, 4))
                                    for rank, (i, match) in enumerate(zip(chosen.tolist(), matches)))
        ids = sorted({c.sentence.sentence for found in claims.values() for c in found})
        match = PointMatch(point, 1.0, 1.0, MappingProxyType(claims))
        return Retrieval(question=point.title, hits=(), lexical_best=None, coverage=0.0,
                         documents=MappingProxyType(self.index.documents), corpus_titles=self.corpus_titles,
                         same_point=self._same_point(ids), points=(match,), point_titles=self.point_titles)

    def _mentioned(self, term: str) -> bool:
        """Whether the corpus uses ``term``, a typo of a word it uses, or, for an acronym,
        its dotted form ("DC" as "D.C.", which the tokenizer does not keep)."""
        if self.index.lexical.knows(term):
            return True
        return term.isupper() and term.lower() in self.index.acronyms

    def _named_speakers_claims(self, question: str) -> np.ndarray:
        """The sentences of every speaker the question names, by full name or surname."""
        words = {w.casefold() for w in re.findall(r"\w+", question)}
        found = [members for names, members in self._speakers if names & words]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    @functools.cached_property
    def _speakers(self) -> list[tuple[set[str], np.ndarray]]:
        """Each named speaker's sentences, with the words that name them: any part of the
        name of three letters or more ("Tegmark", "Xue", "Anthropic"), since members call
        people by either name. Once per version."""
        table = self.index.sentences
        result = []
        for code, speaker in enumerate(table.speakers):
            names = {part.casefold() for part in re.findall(r"\w+", speaker) if len(part) > 2}
            result.append((names, np.flatnonzero(table.speaker_ids == code).astype(np.int64)))
        return result

    @functools.cached_property
    def point_titles(self) -> Mapping[str, str]:
        """Every point of the debate map's title, by id (read once per version)."""
        return MappingProxyType({p.point_id: p.title for p in self.index.points.points})

    @functools.cached_property
    def corpus_titles(self) -> tuple[str, ...]:
        """Every served document's title, in corpus order (read once per version)."""
        return tuple(header.title for header in self.index.documents.headers())

    def _claims_for(self, framing: ClaimFraming, query: np.ndarray, question: str) -> tuple[ClaimHit, ...]:
        """The claims of ``framing`` closest to the question, over every claim in the index
        (found by centred cosine in the framing's claim index, claims.py)."""
        query_dot = float(query @ self._mean)
        query_norm = np.sqrt(max(1 - 2 * query_dot + self._spread, 1e-9))
        chosen, centred_cosines = self.index.claims[framing].search((query - self._mean) / query_norm,
                                                                     CLAIMS_PER_FRAMING)
        return self._scored_claims(chosen, centred_cosines, query, question)

    def _scored_claims(self, chosen: np.ndarray, centred_cosines: np.ndarray | None, query: np.ndarray,
                       question: str, terms: list[set[str]] | None = None) -> tuple[ClaimHit, ...]:
        """Sentences ``chosen`` as claims scored against the question, most relevant first
        (a stable sort: ties keep the order given). ``centred_cosines``: their centred
        cosines with the question when a claim index already found them."""
        if not len(chosen):
            return ()
        query_dot = float(query @ self._mean)
        query_norm = np.sqrt(max(1 - 2 * query_dot + self._spread, 1e-9))
        table = self.index.sentences
        cosines = dots(table.vectors, chosen, query)
        if centred_cosines is None:
            to_mean = dots(table.vectors, chosen, self._mean)
            norms = np.sqrt(np.maximum(1 - 2 * to_mean + self._spread, 1e-9))
            centred_cosines = (cosines - to_mean - query_dot + self._spread) / (norms * query_norm)
        # The point a claim makes depends on its passage: "these controls are a key front"
        # is about the Beijing summit because its passage is. Half the relevance is the
        # passage's centred cosine.
        rows = table.rows[chosen].astype(np.int64)
        passages = self.index.vectors.rows(rows)
        passage_norms = np.sqrt(np.maximum(1 - 2 * (passages @ self._mean) + self._spread, 1e-9))
        passage_centred = (passages @ query - passages @ self._mean - query_dot + self._spread) / (
            passage_norms * query_norm)
        matches = self._matches(chosen, cosines, question, terms)
        found = [ClaimHit(int(row), self.index.passages[int(row)], match,
                          claim_relevance(float(c), float(p), match.overlap))
                 for row, c, p, match in zip(rows, centred_cosines, passage_centred, matches)]
        return tuple(sorted(found, key=lambda c: -c.relevance))

    def _points_for(self, query: np.ndarray, question: str) -> tuple[PointMatch, ...]:
        """The debate map's points that best match the question, best first: compared with
        the ways each point is asked (question to question, what MiniLM is trained for) and
        with its claims (``fusion.point_score``)."""
        table = self.index.points
        if not table.points:
            return ()
        asked = np.full(len(table.points), -1.0, dtype=np.float32)
        np.maximum.at(asked, table.owner, table.vectors @ query)
        question_terms = set(bm25_tokens([question])[0])
        # Every claim of the map scored at once: one product, their terms known.
        members, terms = self._map_claims
        scored = {c.sentence.sentence: c for c in self._scored_claims(members, None, query, question, terms)}
        matches = []
        for point, best_asked, point_terms in zip(table.points, asked.tolist(), self._point_terms):
            ranked = {framing: _in_point_order(claims, scored) for framing, claims in point.claims.items()}
            relevances = sorted((c.relevance for found in ranked.values() for c in found), reverse=True)
            overlap = len(question_terms & point_terms) / len(question_terms) if question_terms else 0.0
            matches.append(PointMatch(point, point_score(best_asked, relevances, overlap), best_asked,
                                      MappingProxyType(ranked)))
        return tuple(sorted(matches, key=lambda m: -m.score)[:POINTS_PER_QUESTION])

    def _terms_of(self, members: np.ndarray) -> list[set[str]]:
        """The BM25 terms of sentences ``members``, in one tokenizer call."""
        table = self.index.sentences
        document_of_row = self.index.passages.records["doc"]
        text_of = self.index.documents.text_of
        texts = [text_of(int(document_of_row[table.rows[i]]))[int(table.spans[i][0]) : int(table.spans[i][1])]
                 for i in members]
        return [set(words) for words in bm25_tokens(texts)] if texts else []

    @functools.cached_property
    def _map_claims(self) -> tuple[np.ndarray, list[set[str]]]:
        """Every claim the debate map places, and its terms: the same for every question,
        so tokenized once per version."""
        points = self.index.points.points
        members = np.fromiter(sorted({i for p in points for m in p.claims.values() for i in m}), dtype=np.int64)
        return members, self._terms_of(members)

    @functools.cached_property
    def _point_terms(self) -> list[set[str]]:
        """Each point's terms, from its title and phrasings (tokenized once per version)."""
        return [set(terms) for terms in bm25_tokens([" ".join(PointTable.askings(p)) for p in self.index.points.points])]

    def _same_point(self, sentences: list[int]) -> frozenset[tuple[int, int]]:
        if len(sentences) < 2:
            return frozenset()
        vectors = self.index.sentences.vectors[np.asarray(sentences)].astype(np.float32)
        similar = np.argwhere(np.triu(vectors @ vectors.T, k=1) >= SAME_POINT)
        return frozenset((sentences[i], sentences[j]) for i, j in similar)

    def _matches(self, members: np.ndarray, cosines: np.ndarray, question: str,
                 terms: list[set[str]] | None = None) -> list[SentenceMatch]:
        """Sentences ``members`` of the table as matches: term overlap with the question
        (one tokenizer call for all of them, unless their ``terms`` are given) and the claim
        each makes."""
        table = self.index.sentences
        query_terms = set(bm25_tokens([question])[0])
        if terms is None:
            terms = self._terms_of(members)
        return [
            SentenceMatch(int(table.spans[i][0]), int(table.spans[i][1]), float(cosine),
                          len(set(words) & query_terms) / len(query_terms) if query_terms else 0.0,
                          sentence=int(i), framing=CLAIM_FRAMINGS[int(table.framing[i])], speaker=table.speaker(int(i)),
                          voice=table.voice(int(i)),
                          reviewed=bool(table.reviewed[i]), confidence=float(table.confidence[i]))
            for i, cosine, words in zip(members, cosines, terms)
        ]

    def _with_sentences(self, hits: list[Hit], query: np.ndarray, question: str) -> list[Hit]:
        """Each hit with every sentence of its passage scored: cosine, term overlap, claim.
        One matrix product and one tokenizer call for all of them."""
        if not hits:
            return hits
        table = self.index.sentences
        starts, ends = table.spans_of(np.array([hit.row for hit in hits]))
        members = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]).astype(np.int64)
        cosines = dots(table.vectors, members, query) if len(members) else np.zeros(0)
        matches = self._matches(members, cosines, question)
        result, at = [], 0
        for hit, a, b in zip(hits, starts, ends):
            count = int(b - a)
            result.append(replace(hit, sentences=tuple(matches[at : at + count])))
            at += count
        return result

    def _pool(self, k: int) -> int:
        """Candidates taken from each retriever before fusion."""
        return min(len(self.index.passages), max(self.settings.candidates, k))

    @functools.cached_property
    def _lexical_thread(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="parley-bm25")

    def _embedded_while_lexical_runs(self, question: str, k: int) -> tuple[np.ndarray, Future | LexicalLeg]:
        """The question's vector, with BM25's leg started first: on a large index it runs on
        another thread meanwhile (``_lexical_top``)."""
        query_ready: Future = Future()
        lexical = self._lexical_top(question, k, query_ready)
        try:
            query = self.encoder.encode([question])[0]
        except BaseException as error:
            query_ready.set_exception(error)  # the other thread stops waiting for it
            raise
        query_ready.set_result(query)
        return query, lexical

    def _lexical_top(self, question: str, k: int, query: Future) -> Future | LexicalLeg:
        """BM25's top rows for ``question``. On a large index they are found on another
        thread (its compiled loop releases the GIL) while the question is embedded and the
        vector index searched; that thread then scores its own rows' vectors and sentences
        against the question's vector (``query``, once it is ready), which this thread
        would otherwise do after it. On a small index, computed here (a thread hand-off
        would cost more than the search)."""
        pool = self._pool(k)
        if len(self.index.passages) <= PARALLEL_ABOVE:
            return LexicalLeg(*self.index.lexical.top(question, pool))
        return self._lexical_thread.submit(self._lexical_leg, question, pool, query)

    def _lexical_leg(self, question: str, pool: int, query_ready: Future) -> LexicalLeg:
        rows, scores = self.index.lexical.top(question, pool)
        query = query_ready.result()
        return LexicalLeg(rows, scores, dict(zip(rows.tolist(), self.index.vectors.cosines(rows, query).tolist())),
                          dict(zip(rows.tolist(), self.index.sentences.best_per_passage(rows, query).tolist())))

    def search_vector(self, question: str, query: np.ndarray, k: int, *, mode: Mode = "hybrid",
                      lexical: Future | LexicalLeg | None = None) -> list[Hit]:
        """Like ``search``, with the question's vector already computed."""
        total = len(self.index.passages)
        k = min(k, total)
        if k <= 0:
            return []
        pool = self._pool(k)
        if lexical is None:
            query_ready: Future = Future()
            query_ready.set_result(query)
            lexical = self._lexical_top(question, k, query_ready)
        dense_of = dict(self.index.vectors.search(query, pool))  # row -> cosine
        # The dense candidates' best sentences, and their BM25 scores when BM25's top rows
        # are still being found on the other thread.
        dense_rows = np.fromiter(sorted(dense_of), dtype=np.int64, count=len(dense_of))
        sentence_of = dict(zip(dense_rows.tolist(), self.index.sentences.best_per_passage(dense_rows, query).tolist()))
        bm25_of = {}  # row -> BM25 score
        if isinstance(lexical, Future):
            bm25_of = dict(zip(dense_rows.tolist(), self.index.lexical.scores_of(question, dense_rows).tolist()))
            lexical = lexical.result()
        lexical_scores = lexical.scores
        bm25_of.update(zip(lexical.rows.tolist(), lexical_scores.tolist()))
        for row, cosine in lexical.dense.items():  # scored on BM25's thread: the dense leg's own value wins
            dense_of.setdefault(row, cosine)
        for row, best in lexical.sentence.items():
            sentence_of.setdefault(row, best)
        rows_array = np.fromiter(sorted(dense_of.keys() | bm25_of.keys()), dtype=np.int64)

        # Each leg already scored its own candidates; only the other leg's are looked up.
        dense = np.array([dense_of.get(row, np.nan) for row in rows_array.tolist()], dtype=np.float32)
        missing = np.isnan(dense)
        if missing.any():
            dense[missing] = self.index.vectors.cosines(rows_array[missing], query)
        bm25 = np.array([bm25_of.get(row, np.nan) for row in rows_array.tolist()], dtype=np.float32)
        missing = np.isnan(bm25)
        if missing.any():
            bm25[missing] = self.index.lexical.scores_of(question, rows_array[missing])
        sentence = np.array([sentence_of.get(row, np.nan) for row in rows_array.tolist()], dtype=np.float32)
        missing = np.isnan(sentence)
        if missing.any():
            sentence[missing] = self.index.sentences.best_per_passage(rows_array[missing], query)
        best_bm25 = float(lexical_scores[0]) if len(lexical_scores) else 0.0
        bm25_share = bm25 / best_bm25 if best_bm25 > 0 else np.zeros_like(bm25)
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            fused = bm25
        else:
            weights = self.settings
            fused = fuse([(weights.dense_weight, dense), (weights.sentence_weight, sentence),
                          (weights.bm25_weight, bm25)])

        order = self._diversify(rows_array, fused, k) if mode == "hybrid" else np.argsort(-fused)[:k]
        relevance = min_max(fused) if mode != "hybrid" else fused
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
        def similarity_of(shortlist: list[int]) -> np.ndarray:
            vectors = self.index.vectors.rows(rows[shortlist])
            return vectors @ vectors.T

        return diversify(fused, k, self.settings.mmr_lambda, similarity_of)
