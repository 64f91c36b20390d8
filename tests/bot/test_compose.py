"""The composer on hand-built retrievals: no index, no model, just the data it is given."""

from __future__ import annotations

from types import MappingProxyType

from parley.bot.answer.compose import AnswerSettings, compose
from parley.index.chunk import Passage
from parley.index.corpus import IndexedDocument
from parley.index.search import Hit, Retrieval, SentenceMatch

RACE_TEXT = ("Chips are the front line. Washington must win the AI race before Beijing does. "
             "Export controls buy time.")
COOPERATION_TEXT = "Both powers fear rogue AI. Joint safety testing would help everyone. Talks resumed in May."


def document(doc_id: str, title: str, text: str) -> IndexedDocument:
    return IndexedDocument(doc_id=doc_id, title=title, publisher="Pub", url=None, date=None, kind=None,
                           content_sha256="0" * 64, text=text, passage_count=1)


DOCUMENTS = MappingProxyType({
    "race-doc": document("race-doc", "The race", RACE_TEXT),
    "coop-doc": document("coop-doc", "The talks", COOPERATION_TEXT),
})


def sentences_of(text: str, cosines: list[float]) -> tuple[SentenceMatch, ...]:
    """Sentence spans of ``text`` (split after ". "), scored with ``cosines``."""
    spans, start = [], 0
    for piece in text.split(". "):
        end = start + len(piece) + (0 if piece.endswith(".") else 1)
        spans.append((start, end))
        start = end + 1
    return tuple(SentenceMatch(s, e, c, 0.0) for (s, e), c in zip(spans, cosines, strict=True))


def hit(row: int, doc_id: str, stance: str, *, score: float, dense: float, cosines: list[float],
        bm25: float = 1.0) -> Hit:
    text = DOCUMENTS[doc_id].text
    passage = Passage(passage_id=f"p{row}", doc_id=doc_id, text=text, start=0, end=len(text), stance=stance)
    return Hit(row=row, passage=passage, score=score, dense=dense, sentence=max(cosines), bm25=bm25,
               bm25_share=1.0, sentences=sentences_of(text, cosines))


def retrieval(*hits: Hit, coverage: float = 0.0, lexical_best: Hit | None = None) -> Retrieval:
    best = lexical_best or max(hits, key=lambda h: h.bm25, default=None)
    return Retrieval(question="Who wins the AI race?", hits=hits, lexical_best=best, coverage=coverage,
                     documents=DOCUMENTS)


def test_far_from_everything_is_refused_with_what_the_corpus_covers_and_no_citation():
    answer = compose(retrieval(hit(0, "race-doc", "race", score=1.0, dense=0.2, cosines=[0.1, 0.2, 0.1])),
                     AnswerSettings())
    assert not answer.answered and answer.citations == [] and answer.perspectives == []
    assert answer.corpus_titles == ("The race", "The talks")


def test_a_question_whose_words_one_passage_holds_passes_the_lexical_gate():
    weak = hit(0, "race-doc", "race", score=1.0, dense=0.1, cosines=[0.1, 0.15, 0.1], bm25=0.5)
    named = hit(1, "coop-doc", "cooperation", score=0.4, dense=0.2, cosines=[0.1, 0.2, 0.1], bm25=9.0)
    assert not compose(retrieval(weak, named, coverage=0.5), AnswerSettings()).answered
    answer = compose(retrieval(weak, named, coverage=0.9), AnswerSettings())
    assert answer.answered and [c.passage_id for c in answer.citations] == ["p1"]


def test_both_framings_are_shown_with_a_tally_of_what_is_cited():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    cooperation = hit(1, "coop-doc", "cooperation", score=0.8, dense=0.5, cosines=[0.3, 0.6, 0.2])
    answer = compose(retrieval(race, cooperation), AnswerSettings())
    assert [p.stance for p in answer.perspectives] == ["race", "cooperation"]
    assert answer.summary == "1 passage frames this as a race, 1 as cooperation."


def test_the_quote_is_the_sentence_that_answers_cut_from_the_document():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.2, 0.2, 0.8])
    [citation] = compose(retrieval(race), AnswerSettings(max_quote_words=6)).citations
    assert citation.quote == "Export controls buy time."
    assert RACE_TEXT[citation.start:citation.end] == citation.quote


def test_close_neighbours_ride_along_within_the_word_limit():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.75, 0.8, 0.2])
    [citation] = compose(retrieval(race), AnswerSettings()).citations
    assert citation.quote == "Chips are the front line. Washington must win the AI race before Beijing does."
    [short] = compose(retrieval(race), AnswerSettings(max_quote_words=10)).citations
    assert short.quote == "Washington must win the AI race before Beijing does."
