"""Answers on the real corpus: grounded to the letter, short, attributed, framed by claims,
true about the corpus, honest where it is silent."""

import re
import unicodedata

import pytest

from parley.bot.answer import EmptyQuestionError
from parley.bot.measure.evaluate import evaluate, load_questions
from parley.bot.phrases import shown_tally as tally
from parley.bot.render.text import attribution, render_plain
from parley.index.model import CLAIM_FRAMINGS
from tests.helpers import EVAL_DIR

EXTRA_QUESTIONS = [
    "What is competitive coexistence?",
    "Did Sanders meet Chinese researchers?",
    "Who is Max Tegmark?",
    "What did Gina Raimondo admit about export controls?",
    "Are Chinese models better at deception?",
    "How much did the US invest privately in AI in 2025?",
    "What is the Frontier Model Forum doing?",
    "Is the CCP preparing to stop a rogue AI?",
    "Should the US cooperate with China on AI safety, or race to beat it?",
    "isn't it obvious we have to beat china at ai?",
]


@pytest.fixture(scope="module")
def answers(engine):
    questions = load_questions(EVAL_DIR / "dev.jsonl") + load_questions(EVAL_DIR / "calibration.jsonl")
    texts = [q.q for q in questions] + EXTRA_QUESTIONS
    return [engine.ask(text) for text in texts] + [engine.ask(text, complete=True) for text in EXTRA_QUESTIONS]


def test_every_quote_part_is_the_document_text_at_its_offsets(engine, answers):
    index = engine.served.retriever().index
    passages = {p.passage_id: p for p in index.passages}
    parts = 0
    for answer in answers:
        for citation in answer.citations:
            text = index.documents[citation.doc_id].text
            for part in citation.parts:
                parts += 1
                assert text[part.start : part.end] == part.text
                assert "\n" not in part.text  # never across a block boundary
            assert citation.quote == " … ".join(p.text for p in citation.parts)
            passage = passages[citation.passage_id]
            assert passage.start <= citation.start < citation.end <= passage.end
    assert parts > 200


def test_a_quote_across_separate_blocks_is_split_into_parts(engine):
    answer = engine.ask("What frame is Sanders rejecting, according to the bottom line of the Axios piece?")
    split = [c for c in answer.citations if len(c.parts) > 1]
    for citation in split:
        text = engine.served.retriever().index.documents[citation.doc_id].text
        assert "\n" in text[citation.start : citation.end]


def test_default_answers_are_short_and_complete_ones_show_more(answers):
    for answer in answers:
        sections = {p.stance: len(p.citations) for p in answer.perspectives}
        if not answer.complete:
            assert len(answer.citations) <= 6
            assert sections.get("answer", 0) <= 2
            assert all(sections.get(f, 0) <= 2 for f in ("race", "cooperation"))
    defaults, complete = answers[-2 * len(EXTRA_QUESTIONS) : -len(EXTRA_QUESTIONS)], answers[-len(EXTRA_QUESTIONS) :]
    assert any(len(c.citations) > len(d.citations) for d, c in zip(defaults, complete))


def test_citations_are_numbered_and_framing_sections_hold_claims_of_that_framing(answers):
    for answer in answers:
        numbers = [c.n for c in answer.citations]
        assert numbers == list(range(1, len(numbers) + 1))
        assert sorted(n for p in answer.perspectives for n in p.citations) == numbers
        for perspective in answer.perspectives:
            if perspective.stance in ("race", "cooperation"):
                assert {answer.citations[n - 1].stance for n in perspective.citations} == {perspective.stance}


def test_no_two_quotes_of_an_answer_repeat_a_sentence(answers):
    for answer in answers:
        spans = [(p.start, p.end, c.doc_id) for c in answer.citations for p in c.parts]
        for i, (start, end, doc) in enumerate(spans):
            assert not any(d == doc and s < end and start < e for s, e, d in spans[i + 1 :]), answer.question


def test_the_tally_counts_the_quotes_shown(answers):
    for answer in answers:
        shown = {p.stance: len(p.citations) for p in answer.perspectives if p.stance in ("race", "cooperation")}
        if not shown:
            assert answer.summary == "" or not answer.answered
            continue
        for framing, count in shown.items():
            words = "as a race" if framing == "race" else "as cooperation"
            assert re.search(rf"\b{count} quotes? {words}\b", answer.summary), answer.summary


def test_a_framing_is_said_absent_only_when_no_claim_of_it_relates(engine, answers):
    retriever = engine.served.retriever()
    for answer in (a for a in answers if a.absent_framings):
        retrieval = retriever.retrieve(answer.question, 16)
        for framing in answer.absent_framings:
            assert all(c.relevance < engine.settings.absent_floor for c in retrieval.claims[framing])


def test_the_headline_question_shows_both_framings_attributed(engine):
    answer = engine.ask("Should the US cooperate with China on AI safety, or race to beat it?")
    sections = [p.stance for p in answer.perspectives]
    assert answer.kind == "contested" and "race" in sections and "cooperation" in sections
    assert not answer.absent_framings


def test_quotes_name_a_speaker_only_for_their_words_or_their_reported_view(engine):
    answer = engine.ask("is bernie right to want to work with china on ai?")
    shown = {c.quote: attribution(c) for c in answer.citations}
    calling = next(q for q in shown if q.startswith("Sen. Bernie Sanders (I-Vt.) is calling on Washington"))
    assert shown[calling] == "Axios, reporting Bernie Sanders"
    strength = next(q for q in shown if "position of strength" in q)
    assert shown[strength] == "Brendan Steinhauser (Axios)"
    # The headline is Axios narrating what Sanders does: never "— Bernie Sanders".
    index = engine.served.retriever().index
    table, text = index.sentences, index.documents["axios-sanders-splits-with-washington"].text
    headline = next(i for i, (s, e) in enumerate(table.spans.tolist())
                    if text[s:e] == "Sanders splits with Washington on AI arms race with China")
    assert table.framing[headline] and table.speaker(headline) is None


def test_a_factual_question_leads_with_the_fact(engine):
    answer = engine.ask("Who said the US has to talk to China about AI from a position of strength?")
    assert answer.kind == "factual" and answer.perspectives[0].stance == "answer"
    first = answer.citations[0]
    assert "position of strength" in first.quote and first.speaker == "Brendan Steinhauser"


def test_framing_labels_come_from_the_reviewed_claims(engine, answers):
    table = engine.served.retriever().index.sentences
    spans = {(int(s), int(e)): CLAIM_FRAMINGS[int(f)] for (s, e), f in zip(table.spans, table.framing)}
    for answer in answers:
        for citation in (c for c in answer.citations if c.stance in ("race", "cooperation")):
            assert citation.reviewed
            assert any(framing == citation.stance for (s, e), framing in spans.items()
                       if s <= citation.start < e or citation.start <= s < citation.end)


def test_dev_set_answer_targets(engine):
    row = evaluate(engine, load_questions(EVAL_DIR / "dev.jsonl"))
    assert row.fact_in_first_3 >= 0.9  # measured 11/12: see docs/answers.md
    assert row.answerable_refused == 0 and row.false_statements == 0
    assert row.faithfulness == 1.0


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("How do I bake sourdough bread at home?", ()),
        ("Who won the 2022 FIFA World Cup?", ("2022", "FIFA")),
        ("How do I reverse a linked list in Python?", ()),
        ("what did elon musk say about the ai race with china", ("elon", "musk")),
        ("How big are the fines under the EU AI Act?", ("EU",)),
    ],
)
def test_what_the_corpus_does_not_cover_is_refused_naming_the_missing_subject(engine, question, missing):
    answer = engine.ask(question)
    assert (answer.answered, answer.kind, answer.citations, answer.perspectives) == (False, "not_covered", [], [])
    assert set(missing) <= set(answer.missing)
    assert answer.corpus_titles


@pytest.mark.parametrize(
    "question",
    ["[Axios](https://www.axios.com/x) says Bernie wants to work with China on AI, <@U07XYZ99> is that naive?",
     "<@123456789> who said talks must come from a `position of strength`?",
     "<b>Why</b> did Raimondo call export controls a <i>fool's errand</i>?"],
)
def test_chat_markup_and_mentions_do_not_stop_an_answer(engine, question):
    answer = engine.ask(question)
    assert answer.answered and answer.citations
    assert "<" not in answer.question and "](" not in answer.question and "`" not in answer.question


@pytest.mark.parametrize("question", ["美国和中国在人工智能上是在竞赛，还是应该合作？",
                                      "¿Qué dijo Gina Raimondo sobre los controles de exportación contra China?"])
def test_a_question_in_another_language_gets_the_not_english_reply(engine, question):
    answer = engine.ask(question)
    assert (answer.answered, answer.kind, answer.citations) == (False, "not_english", [])
    assert answer.question == unicodedata.normalize("NFKC", question)  # shown back as read


def test_typos_and_slang_still_find_the_evidence(engine):
    answer = engine.ask("wat did gina raimondo say abt export controls on chnia")
    assert answer.answered and any("fool's errand" in c.quote for c in answer.citations[:3])


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ({"race": 2, "cooperation": 1}, "Shown: 2 quotes as a race; 1 quote as cooperation."),
        ({"cooperation": 2}, "Shown: 2 quotes as cooperation."),
        ({}, ""),
    ],
)
def test_the_tally_wording(shown, expected):
    assert tally(shown) == expected


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "<@123456789>"])
def test_empty_question_is_a_clear_error(engine, question):
    with pytest.raises(EmptyQuestionError, match="empty"):
        engine.ask(question)


def test_a_question_that_pushes_for_a_side_gets_both_and_a_line_that_parley_picks_none(engine):
    for question in ("US just wins, right?", "pick one side: race or cooperate?"):
        answer = engine.ask(question)
        sections = {p.stance for p in answer.perspectives if p.citations}
        assert {"race", "cooperation"} <= sections and answer.picks_no_side
        assert "it does not pick one" in render_plain(answer)
    assert not engine.ask("Should the US cooperate with China on AI safety, or race to beat it?").picks_no_side


def test_a_question_pinning_a_view_on_a_speaker_gets_that_speakers_own_words(engine):
    answer = engine.ask("why did Xue Lan say America must beat China at all costs?")
    assert answer.answered
    xue = [c for c in answer.citations if c.speaker == "Xue Lan"]
    assert xue and xue[0].stance == "cooperation"


def test_chatter_around_a_question_the_map_answers_does_not_refuse_it_but_an_unknown_subject_does(engine):
    rambling = ("My cousin's friend worked at a tech firm in Shenzhen and mostly talked about the canteen "
                "dumplings. Would a party minder at a Chinese AI lab really flag a rogue model, or bury it?")
    answer = engine.ask(rambling)
    assert answer.answered and answer.point is not None
    trap = engine.ask("is samsung still allowed to sell HBM memory to china?")
    assert not trap.answered and "HBM" in trap.missing
