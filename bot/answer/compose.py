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

from dataclasses import dataclass

from parley.bot.answer.quotes import quote_span
from parley.bot.answer.types import Answer, Citation, Perspective
from parley.index.chunk import FRAMINGS
from parley.index.corpus import IndexedDocument
from parley.index.search import Hit, Retrieval


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


def compose(retrieval: Retrieval, settings: AnswerSettings) -> Answer:
    """The answer to the retrieval's question from its hits (best first): pure, no I/O."""
    question, hits, lexical_best = retrieval.question, list(retrieval.hits), retrieval.lexical_best
    coverage = retrieval.coverage
    semantic = bool(hits) and evidence(hits) >= settings.gate
    lexical = lexical_best is not None and coverage >= settings.lexical_gate
    if not (semantic or lexical):
        return refusal(question, retrieval.documents.values())
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

    citations: list[Citation] = []
    perspectives: list[Perspective] = []
    for stance in order:
        numbers = []
        for hit in groups[stance]:
            citations.append(_cite(len(citations) + 1, hit, retrieval.documents[hit.passage.doc_id], settings))
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


def refusal(question: str, documents) -> Answer:
    """An honest 'not in the corpus', with what the corpus does cover; no citations."""
    return Answer(question=question, answered=False, perspectives=[], citations=[],
                  summary="Nothing in the corpus answers this.",
                  corpus_titles=tuple(d.title for d in documents))


def _evidence(hit: Hit) -> float:
    return hit.sentence + hit.dense


def _cite(n: int, hit: Hit, document: IndexedDocument, settings: AnswerSettings) -> Citation:
    start, end = quote_span(hit, document.text, max_words=settings.max_quote_words, margin=settings.quote_margin)
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


def _passages(count: int) -> str:
    return f"{count} passage{'s' if count != 1 else ''}"
