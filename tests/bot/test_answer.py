"""Answers: grounded, balanced where the corpus is, honest where it is silent."""

import re

import pytest

from parley.bot.answer import EmptyQuestionError
from parley.bot.answer.compose import tally
from parley.bot.measure.evaluate import evaluate, load_questions
from parley.bot.render.text import render_plain
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
    "What is AI 2027?",
    "Why are chips so central to the rivalry?",
]


@pytest.fixture(scope="module")
def all_questions():
    return load_questions(EVAL_DIR / "dev.jsonl") + load_questions(EVAL_DIR / "calibration.jsonl")


@pytest.fixture(scope="module")
def answers(engine, all_questions):
    texts = [q.q for q in all_questions] + EXTRA_QUESTIONS
    return [engine.ask(text) for text in texts]


def test_every_quote_is_the_document_text_at_its_offsets(engine, answers):
    index = engine.served.retriever().index
    passages = {p.passage_id: p for p in index.passages}
    quotes = 0
    for answer in answers:
        for citation in answer.citations:
            quotes += 1
            assert index.documents[citation.doc_id].text[citation.start : citation.end] == citation.quote
            passage = passages[citation.passage_id]
            assert passage.start <= citation.start < citation.end <= passage.end
    assert quotes > 200


def test_citations_are_numbered_and_every_perspective_points_at_them(answers):
    for answer in answers:
        numbers = [c.n for c in answer.citations]
        assert numbers == list(range(1, len(numbers) + 1))
        pointed = [n for p in answer.perspectives for n in p.citations]
        assert sorted(pointed) == numbers
        for perspective in answer.perspectives:
            stances = {answer.citations[n - 1].stance for n in perspective.citations}
            assert stances == {perspective.stance}


def test_plain_text_shows_every_quote_with_its_number_and_source(answers):
    for answer in (a for a in answers if a.answered):
        for citation in answer.citations:
            assert f'"{citation.quote}" [{citation.n}]' in render_plain(answer)
            assert f"[{citation.n}] {citation.title}" in render_plain(answer)
        assert answer.summary in render_plain(answer)


def test_the_tally_agrees_with_the_framings_shown(engine, answers):
    for answer in [a for a in answers if a.answered] + [engine.ask("Who is Xue Lan?")]:
        shown = {p.stance for p in answer.perspectives}
        cited = {s: sum(1 for c in answer.citations if c.stance == s) for s in ("race", "cooperation")}
        race = re.search(r"(\d+) passages? frames? this as a race", answer.summary)
        cooperation = re.search(r"(\d+) (?:passages? frames? this )?as cooperation", answer.summary)
        if "race" in shown:
            assert race and int(race.group(1)) >= cited["race"], answer.summary
        if "cooperation" in shown:
            assert cooperation and int(cooperation.group(1)) >= cited["cooperation"], answer.summary
        if not shown & {"race", "cooperation"}:
            assert "context only" in answer.summary


def test_quotes_are_trimmed_to_at_most_three_sentences(answers):
    for answer in answers:
        for citation in answer.citations:
            assert len(re.findall(r"[.!?][\"')]*\s+[\"'(]?[A-Z]", citation.quote)) <= 2


def test_dev_set_answer_targets(engine):
    row = evaluate(engine, load_questions(EVAL_DIR / "dev.jsonl"))
    assert row.citation_hit_rate >= 0.95
    assert row.refusal_accuracy == 1.0
    assert row.faithfulness == 1.0


@pytest.mark.parametrize(
    "question",
    [
        "How do I bake sourdough bread at home?",
        "Who won the 2022 FIFA World Cup?",
        "How do I reverse a linked list in Python?",
        "Recommend a good sci-fi novel.",
    ],
)
def test_off_topic_questions_are_refused_kindly_without_citations(engine, question):
    answer = engine.ask(question)
    assert (answer.answered, answer.citations, answer.perspectives) == (False, [], [])
    assert "couldn't find anything in the corpus" in render_plain(answer)
    assert "/sources" in render_plain(answer)


def test_a_contested_question_shows_both_framings_with_a_tally(engine):
    answer = engine.ask("Is open-weight AI from China a threat or an opportunity?")
    stances = [p.stance for p in answer.perspectives]
    assert "race" in stances and "cooperation" in stances
    assert re.search(r"\d+ passages? frames? this as a race, \d+ as cooperation\.", render_plain(answer))
    assert "Race framing" in render_plain(answer) and "Cooperation framing" in render_plain(answer)


def test_framings_are_shown_strongest_first(answers):
    for answer in (a for a in answers if len(a.perspectives) > 1):
        best = [max(answer.citations[n - 1].score for n in p.citations) for p in answer.perspectives]
        assert best == sorted(best, reverse=True)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((2, 3), "2 passages frame this as a race, 3 as cooperation."),
        ((1, 1), "1 passage frames this as a race, 1 as cooperation."),
        ((0, 2), "Only one framing appears: 2 passages frame this as cooperation; none of the corpus passages found frames it as a race."),
        ((1, 0), "Only one framing appears: 1 passage frames this as a race; none of the corpus passages found frames it as cooperation."),
        ((0, 0), "The passages found give context only: none frames this as a race or as cooperation."),
    ],
)
def test_tally_says_plainly_which_framings_are_present(counts, expected):
    assert tally(counts) == expected


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_a_clear_error(engine, question):
    with pytest.raises(EmptyQuestionError, match="empty"):
        engine.ask(question)
