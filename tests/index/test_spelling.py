"""Typos in questions, corrected against the corpus's words (index/spelling.py)."""

import re

from parley.bot.measure.evaluate import holds, load_questions
from parley.index.store.spelling import corrected, count_words
from tests.helpers import EVAL_DIR

CORPUS = count_words(["The government of China answered the export controls on Nvidia chips.",
                      "Export controls, export rules, government talks."])
EVERYDAY = {"sourdough": 1, "bread": 2, "china": 2}


def test_a_typo_of_a_corpus_word_is_searched_as_that_word():
    assert corrected("what did the goverment of chian say abt exprot controls?", CORPUS, EVERYDAY) == (
        "what did the government of china say abt export controls?")


def test_a_leading_capital_is_kept_and_correct_words_are_left_alone():
    assert corrected("Goverment answred", CORPUS, EVERYDAY) == "Government answered"
    assert corrected("Is sourdough bread healthy?", CORPUS, EVERYDAY) == "Is sourdough bread healthy?"


def test_short_words_and_words_far_from_the_corpus_are_left_alone():
    # "ai" and "us" have too many neighbours; "zebras" is no corpus word's typo.
    assert corrected("ai vs us, zebras", CORPUS, EVERYDAY) == "ai vs us, zebras"
    assert corrected("anything", {}, EVERYDAY) == "anything"


def test_the_commonest_of_several_neighbours_wins():
    words = {"controls": 9, "contrails": 1}
    assert corrected("contrals", words, {}) == "controls"


def _swap_letters(question: str) -> str:
    """The question with two neighbouring letters of its longest word swapped."""
    word = max(re.findall(r"[A-Za-z]{6,}", question), key=len)
    return question.replace(word, word[:2] + word[3] + word[2] + word[4:], 1)


def test_questions_with_a_typo_find_what_the_question_as_written_finds(engine):
    # The tuning set with one typo in each factual question: search must still find the
    # fact as often as for the questions as written (without the correction it found the
    # fact for 31 of them, against 34 as written).
    questions = [q for q in load_questions(EVAL_DIR / "tuning.jsonl") if q.kind == "factual"]
    found_clean = sum(any(holds(h.passage.text, q.gold) for h in engine.search(q.q, 5)) for q in questions)
    found_typo = sum(any(holds(h.passage.text, q.gold) for h in engine.search(_swap_letters(q.q), 5))
                     for q in questions)
    assert found_typo == found_clean


def test_the_answer_repeats_the_question_as_asked(engine):
    answer = engine.ask("What did Sanders say about the goverment?")
    assert answer.question == "What did Sanders say about the goverment?"
