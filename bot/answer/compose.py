"""Compose an answer from search hits, extractively: every word shown is the corpus's own.

1. Gate: when the passages are semantically far from the question and no passage holds
   its distinctive words either, the corpus does not cover it; say so and cite nothing.
2. Keep the relevant passages and group them by framing (race, cooperation, neutral).
3. From each cited passage quote only the sentences that answer (1-3 consecutive ones),
   by their document offsets, so ``document.text[start:end] == quote`` always holds.
4. Show the framings side by side, strongest first, with a one-line tally; when only one
   framing is present, say so plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from parley.bot.answer.types import Answer, Citation, Perspective
from parley.index.search import Hit
from parley.index.store import LoadedIndex, bm25_tokens

FRAMINGS = ("race", "cooperation")
_LIST_MARKER = re.compile(r"(?:[-•*]|\d+[.)])\s+")


@dataclass(frozen=True)
class AnswerSettings:
    # Passages considered for an answer (the search's top results, diversified).
    candidates: int = 16
    # Refuse when best-sentence cosine + best-passage cosine over the candidates is below
    # this: calibrated on off-topic versus factual questions (README, "Answering").
    gate: float = 0.70
    # ...unless one passage holds this share of the question's words, weighted by rarity:
    # names ("Who is Xue Lan?") carry little meaning for the embedding model.
    lexical_gate: float = 0.80
    # A candidate is relevant when its evidence (sentence + passage cosine) is at least
    # this, and no more than ``relevance_margin`` below the best candidate's; the best
    # candidate always is, once the gate is passed.
    relevance_floor: float = 0.80
    relevance_margin: float = 0.35
    # The most relevant passages are cited whatever their framing...
    top_passages: int = 3
    # ...then each framing gets up to this many of its best passages, from candidates
    # within this wider margin: a contested question's other side is often phrased
    # further from the question than the side it leans to.
    per_framing: int = 3
    framing_margin: float = 0.5
    max_citations: int = 8
    max_quote_words: int = 70
    # Sentences within this of the best sentence of a passage make it into the quote.
    quote_margin: float = 0.15


def compose(question: str, query: np.ndarray, hits: list[Hit], index: LoadedIndex,
            settings: AnswerSettings, *, lexical_best: Hit | None = None,
            coverage: float = 0.0) -> Answer:
    """The answer to ``question`` from ``hits`` (best first) of ``index``.

    ``lexical_best`` is the hit with the best BM25 score and ``coverage`` the share of the
    question's words (IDF-weighted) that it holds.
    """
    semantic = bool(hits) and evidence(hits) >= settings.gate
    lexical = lexical_best is not None and coverage >= settings.lexical_gate
    if not (semantic or lexical):
        return refusal(question, index)
    if lexical and not semantic:
        # Answer from the passage that names what was asked, and what is close to it.
        hits = [lexical_best] + [h for h in hits if h.row != lexical_best.row]
    best = max(_evidence(h) for h in hits)

    def within(margin: float) -> list[Hit]:  # in fused-score order
        floor = min(best, max(settings.relevance_floor, best - margin))
        return [hit for hit in hits if _evidence(hit) >= floor]

    relevant = within(settings.relevance_margin)
    framing_pool = within(settings.framing_margin)
    if lexical and not semantic:
        relevant = [lexical_best] + [h for h in relevant if h.row != lexical_best.row]
    chosen = relevant[: settings.top_passages]
    for stance in FRAMINGS:
        of_stance = [h for h in framing_pool if h.passage.stance == stance]
        have = sum(1 for h in chosen if h.passage.stance == stance)
        for hit in of_stance:
            if have >= settings.per_framing or len(chosen) >= settings.max_citations:
                break
            if hit not in chosen:
                chosen.append(hit)
                have += 1

    groups: dict[str, list[Hit]] = {}
    for hit in sorted(chosen, key=lambda h: -h.score):
        groups.setdefault(hit.passage.stance, []).append(hit)
    # Strongest first: the group whose best passage scores highest leads.
    order = sorted(groups, key=lambda stance: -groups[stance][0].score)

    query_terms = set(bm25_tokens([question])[0])
    citations: list[Citation] = []
    perspectives: list[Perspective] = []
    for stance in order:
        numbers = []
        for hit in groups[stance]:
            citations.append(_cite(len(citations) + 1, hit, query, query_terms, index, settings))
            numbers.append(len(citations))
        perspectives.append(Perspective(stance=stance, citations=numbers))

    # Count every relevant passage, the cited ones included (the lexical path can cite a
    # passage outside the framing pool).
    counted = {hit.row: hit for hit in framing_pool + chosen}.values()
    summary = tally(sum(1 for h in counted if h.passage.stance == s) for s in FRAMINGS)
    return Answer(
        question=question,
        answered=True,
        perspectives=perspectives,
        citations=citations,
        summary=summary,
    )


def evidence(hits: list[Hit]) -> float:
    """How strongly the corpus speaks to the question: the best sentence's cosine plus
    the best passage's. Either alone is fooled, a sentence by a stray phrase ("science
    fiction"), a passage by the shared topic; together they separate on- from off-topic."""
    return max(h.sentence for h in hits) + max(h.dense for h in hits)


def tally(counts) -> str:
    """One line on the framings among the relevant passages."""
    race, cooperation = counts
    if race and cooperation:
        return (
            f"{_passages(race)} {'frames' if race == 1 else 'frame'} this as a race, "
            f"{cooperation} as cooperation."
        )
    if race or cooperation:
        present, absent = ("race", "cooperation") if race else ("cooperation", "race")
        count = race or cooperation
        framing = "as a race" if present == "race" else "as cooperation"
        other = "as cooperation" if absent == "cooperation" else "as a race"
        return (
            f"Only one framing appears: {_passages(count)} {'frames' if count == 1 else 'frame'} "
            f"this {framing}; none of the corpus passages found frames it {other}."
        )
    return "The passages found give context only: none frames this as a race or as cooperation."


def refusal(question: str, index: LoadedIndex) -> Answer:
    """An honest 'not in the corpus', with what the corpus does cover; no citations."""
    return Answer(question=question, answered=False, perspectives=[], citations=[],
                  summary="Nothing in the corpus answers this.",
                  corpus_titles=tuple(d.title for d in index.documents.values()))


def _evidence(hit: Hit) -> float:
    return hit.sentence + hit.dense


def _cite(n: int, hit: Hit, query: np.ndarray, query_terms: set[str], index: LoadedIndex,
          settings: AnswerSettings) -> Citation:
    document = index.documents[hit.passage.doc_id]
    start, end = _quote_span(hit.row, query, query_terms, index, settings)
    return Citation(
        n=n,
        passage_id=hit.passage.passage_id,
        doc_id=document.doc_id,
        title=document.title,
        publisher=document.publisher,
        url=document.url,
        quote=document.text[start:end],
        start=start,
        end=end,
        stance=hit.passage.stance,
        score=round(hit.score, 4),
    )


def _quote_span(row: int, query: np.ndarray, query_terms: set[str], index: LoadedIndex,
                settings: AnswerSettings) -> tuple[int, int]:
    """Document offsets of the 1-3 consecutive sentences of passage ``row`` that answer."""
    table = index.sentences
    sentences = table.of_passage(row)
    passage = index.passages[row]
    if not len(sentences):
        return passage.start, passage.end
    text = index.documents[passage.doc_id].text
    spans = [tuple(int(x) for x in table.spans[i]) for i in sentences]
    cosines = table.vectors[sentences.start : sentences.stop].astype(np.float32) @ query
    scores = []
    for (start, end), cosine in zip(spans, cosines):
        terms = set(bm25_tokens([text[start:end]])[0])
        overlap = len(terms & query_terms) / len(query_terms) if query_terms else 0.0
        scores.append(float(cosine) + 0.15 * overlap)

    # The window of 1-3 consecutive sentences (within the word limit) that holds the most
    # sentences close to the best one; a weak sentence between two good ones may ride along.
    threshold = max(scores) - settings.quote_margin
    best_window, best_value = (int(np.argmax(scores)),) * 2, -1.0
    for first in range(len(spans)):
        for last in range(first, min(first + 3, len(spans))):
            if _words(text, (spans[first][0], spans[last][1])) > settings.max_quote_words and last > first:
                break
            value = sum(max(0.0, scores[i] - threshold) for i in range(first, last + 1))
            if value > best_value + 1e-9:
                best_window, best_value = (first, last), value
    first, last = best_window
    start = spans[first][0]
    # A list marker is layout, not words: the quote starts after it (still a verbatim slice).
    marker = _LIST_MARKER.match(text, start)
    if marker and marker.end() < spans[last][1]:
        start = marker.end()
    return start, spans[last][1]


def _words(text: str, span: tuple[int, int]) -> int:
    return len(text[span[0] : span[1]].split())


def _passages(count: int) -> str:
    return f"{count} passage{'s' if count != 1 else ''}"
