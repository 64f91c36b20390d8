"""The composer on hand-built retrievals: no index, no model, just the data it is given."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from parley.bot.answer.compose import AnswerSettings, compose, question_kind
from parley.index.model import IndexedDocument, Passage
from parley.index.search.retriever import ClaimHit, Hit, Retrieval, SentenceMatch

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
    return tuple(SentenceMatch(s, e, c, 0.0, sentence=i) for i, ((s, e), c) in enumerate(zip(spans, cosines, strict=True)))


def hit(row: int, doc_id: str, stance: str, *, score: float, dense: float, cosines: list[float],
        bm25: float = 1.0) -> Hit:
    text = DOCUMENTS[doc_id].text
    passage = Passage(passage_id=f"p{row}", doc_id=doc_id, text=text, start=0, end=len(text), stance=stance)
    return Hit(row=row, passage=passage, score=score, dense=dense, sentence=max(cosines), bm25=bm25,
               bm25_share=1.0, sentences=sentences_of(text, cosines))


def retrieval(*hits: Hit, coverage: float = 0.0, lexical_best: Hit | None = None, claims=None,
              question: str = "Who wins the AI race?", unknown: tuple[str, ...] = (), same_point=frozenset()) -> Retrieval:
    best = lexical_best or max(hits, key=lambda h: h.bm25, default=None)
    return Retrieval(question=question, hits=hits, lexical_best=best, coverage=coverage, documents=DOCUMENTS,
                     corpus_titles=tuple(d.title for d in DOCUMENTS.values()),
                     claims=MappingProxyType(claims or {}), same_point=same_point, unknown_terms=unknown)


def claim(row: int, doc_id: str, framing: str, sentence: int, relevance: float, speaker: str | None = None) -> ClaimHit:
    text = DOCUMENTS[doc_id].text
    passage = Passage(passage_id=f"p{row}", doc_id=doc_id, text=text, start=0, end=len(text), stance=framing)
    found = sentences_of(text, [0.0, 0.0, 0.0])[sentence]
    start, end = found.start, found.end
    match = SentenceMatch(start, end, relevance, 0.0, sentence=10 * row + sentence, framing=framing, speaker=speaker)
    return ClaimHit(row, passage, match, relevance)


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


def test_a_contested_question_shows_each_framings_claims_with_speakers_and_a_true_tally():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    claims = {"race": (claim(0, "race-doc", "race", 1, 0.5, "A Hawk"),),
              "cooperation": (claim(1, "coop-doc", "cooperation", 1, 0.4), claim(2, "coop-doc", "cooperation", 0, 0.2))}
    answer = compose(retrieval(race, claims=claims, question="Should the US race China or cooperate?"),
                     AnswerSettings())
    assert answer.kind == "contested"
    assert [p.stance for p in answer.perspectives][:2] == ["race", "cooperation"]
    race_quote = answer.citations[0]
    assert race_quote.quote == "Washington must win the AI race before Beijing does." and race_quote.speaker == "A Hawk"
    assert answer.summary == "Shown: 1 quote as a race; 2 quotes as cooperation."


def test_a_framing_is_absent_only_when_no_claim_of_it_relates():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    question = "Should the US race China?"
    weak = {"race": (claim(0, "race-doc", "race", 1, 0.5),),
            "cooperation": (claim(1, "coop-doc", "cooperation", 1, 0.05),)}
    answer = compose(retrieval(race, claims=weak, question=question), AnswerSettings())
    assert answer.absent_framings == () and "cooperation" not in answer.summary
    none = {"race": weak["race"], "cooperation": (claim(1, "coop-doc", "cooperation", 1, -0.2),)}
    answer = compose(retrieval(race, claims=none, question=question), AnswerSettings())
    assert answer.absent_framings == ("cooperation",)
    assert answer.summary == "Shown: 1 quote as a race."


def test_two_claims_making_the_same_point_are_quoted_once():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    first, twin = claim(1, "coop-doc", "cooperation", 1, 0.5), claim(2, "coop-doc", "cooperation", 0, 0.45)
    same = frozenset({(min(11, 20), max(11, 20))})
    answer = compose(retrieval(race, claims={"cooperation": (first, twin)}, question="Should we cooperate?",
                               same_point=same), AnswerSettings())
    assert [c.passage_id for c in answer.citations if c.stance == "cooperation"] == ["p1"]


def test_an_unknown_subject_is_refused_by_name():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.9, cosines=[0.3, 0.9, 0.3])
    answer = compose(retrieval(race, unknown=("Taiwan",)), AnswerSettings())
    assert (answer.answered, answer.kind, answer.missing, answer.citations) == (False, "not_covered", ("Taiwan",), [])


def test_a_question_after_a_figure_needs_a_sentence_that_holds_one():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    assert not compose(retrieval(race, question="How much did the chips cost?"), AnswerSettings()).answered


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


def test_a_direct_quote_is_widened_to_the_sentence_that_names_its_speaker():
    text = "Talks must come from strength. Nobody doubts that, said a senator from Ohio. Then the vote came."
    document = IndexedDocument(doc_id="said-doc", title="Said", publisher="Pub", url=None, date=None, kind=None,
                               content_sha256="0" * 64, text=text, passage_count=1)
    passage = Passage(passage_id="p9", doc_id="said-doc", text=text, start=0, end=len(text))
    hit = Hit(row=9, passage=passage, score=1.0, dense=0.6, sentence=0.8, bm25=1.0, bm25_share=1.0,
              sentences=(SentenceMatch(0, 30, 0.8, 0.0, sentence=0), SentenceMatch(31, 76, 0.1, 0.0, sentence=1),
                         SentenceMatch(77, 95, 0.1, 0.0, sentence=2)))
    retrieval = Retrieval(question="Who wants talks from strength?", hits=(hit,), lexical_best=hit, coverage=0.0,
                          documents=MappingProxyType({"said-doc": document}))
    [citation] = compose(retrieval, AnswerSettings()).citations
    assert citation.quote == "Talks must come from strength. Nobody doubts that, said a senator from Ohio."


@pytest.mark.parametrize(("question", "kind"), [
    # asks what to think: a yes/no question, an opinion, this-or-that about the framings
    ("will the chip war ever end with a deal?", "contested"),
    ("can washington trust beijing on ai at all", "contested"),
    ("tariffs on gpus = good move??", "contested"),
    ("what's the smarter play here, racing or talking?", "contested"),
    # asks for something the corpus states
    ("who runs the alliance for secure ai", "factual"),
    ("how do labs distill a model?", "factual"),
    ("what did the senator propose?", "factual"),
    ("why did the lab drop its pledge", "factual"),
])
def test_a_question_is_contested_when_it_asks_what_to_think_and_factual_when_it_asks_what_is_said(question, kind):
    assert question_kind(question) == kind


def test_a_plain_yes_no_question_leads_with_the_sentence_that_answers_it_then_the_framings():
    talks = hit(1, "coop-doc", "cooperation", score=1.0, dense=0.6, cosines=[0.2, 0.3, 0.8])
    claims = {"race": (claim(0, "race-doc", "race", 1, 0.5),), "cooperation": (claim(1, "coop-doc", "cooperation", 1, 0.4),)}
    answer = compose(retrieval(talks, claims=claims, question="Did the two sides resume talks?"), AnswerSettings())
    assert answer.kind == "contested"
    assert [p.stance for p in answer.perspectives] == ["answer", "race", "cooperation"]
    assert answer.citations[0].quote == "Talks resumed in May."
    opinion = compose(retrieval(talks, claims=claims, question="Should the two sides resume talks?"), AnswerSettings())
    assert [p.stance for p in opinion.perspectives] == ["race", "cooperation"]  # an opinion: the framings lead


def point_match(score: float, claims: dict, point_id: str = "chips", neighbours: tuple[str, ...] = ()):
    from parley.index.model import Point
    from parley.index.search.retriever import PointMatch

    point = Point(point_id, "Do chip controls work?", "", (), {}, (), neighbours)
    return PointMatch(point, score, score, MappingProxyType(claims))


def test_a_contested_question_matching_a_point_is_answered_from_that_points_claims():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    # The whole-corpus claim search prefers other claims, but by less than ``point_bonus``:
    # the point's claims are shown.
    general = {"race": (claim(0, "race-doc", "race", 1, 0.25),), "cooperation": (claim(1, "coop-doc", "cooperation", 1, 0.25),)}
    on_point = {"race": (claim(3, "race-doc", "race", 2, 0.01), claim(4, "race-doc", "race", 0, 0.0)),
                "cooperation": (claim(5, "coop-doc", "cooperation", 2, 0.02),)}
    other = point_match(1.1, {}, "talks")
    question = "Do chip controls even work, should we keep them?"
    answer = compose(replace(retrieval(race, claims=general, question=question),
                             points=(point_match(1.4, on_point, neighbours=("talks",)), other),
                             point_titles=MappingProxyType({"chips": "Do chip controls work?", "talks": "Talk?"})),
                     AnswerSettings())
    assert answer.point is not None and answer.point.point_id == "chips"
    # The framing whose best claim is closer to the question leads.
    assert [c.passage_id for c in answer.citations] == ["p5", "p3", "p4"]
    assert answer.citations[1].quote == "Export controls buy time."
    assert [r.point_id for r in answer.related] == ["talks"]
    assert answer.summary == "Shown: 2 quotes as a race; 1 quote as cooperation."


def test_a_claim_off_the_point_that_addresses_the_question_far_more_closely_comes_first():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    general = {"race": (claim(0, "race-doc", "race", 1, 0.9),)}
    on_point = {"race": (claim(3, "race-doc", "race", 2, 0.01), claim(4, "race-doc", "race", 0, 0.0))}
    answer = compose(replace(retrieval(race, claims=general, question="Should we keep chip controls?"),
                             points=(point_match(1.4, on_point),)), AnswerSettings())
    assert answer.point is not None
    assert [c.passage_id for c in answer.citations] == ["p0", "p3"]


def test_a_weak_point_match_falls_back_to_the_claim_search():
    race = hit(0, "race-doc", "race", score=1.0, dense=0.6, cosines=[0.3, 0.7, 0.3])
    general = {"race": (claim(0, "race-doc", "race", 1, 0.9),)}
    on_point = {"race": (claim(3, "race-doc", "race", 2, 0.01),)}
    answer = compose(replace(retrieval(race, claims=general, question="Should the US race China?"),
                             points=(point_match(0.5, on_point),)), AnswerSettings())
    assert answer.point is None and [c.passage_id for c in answer.citations] == ["p0"]
