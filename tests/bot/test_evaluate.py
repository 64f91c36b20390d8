"""The metrics of ``parley eval``, on hand-built answers: each test would fail if its
metric broke (tests/eval/README.md defines them)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from parley.bot.answer.types import Answer, Citation, Perspective, QuotePart
from parley.bot.measure import bench
from parley.bot.measure.evaluate import (
    WIDTH,
    Question,
    Run,
    as_json,
    evaluate,
    format_table,
    load_questions,
    score,
)
from parley.index.errors import ParleyError
from tests.helpers import EVAL_DIR

DOC = (
    "Washington fears it will cede leadership to China if it slows down. "
    "Others say there are no winners in an AI race and urge the two powers to prioritize cooperation with them. "
    "Beijing is building homegrown chips, models, and software ecosystems. "
    "The 2023 open letter asked for a six\u2011month halt to giant AI experiments. "
    "Officials worry about autonomous weapons and AI-enabled cyber capabilities."
)
DOCUMENTS = {"d1": DOC}


def cite(n: int, *pieces: str, stance: str = "neutral", doc_id: str = "d1") -> Citation:
    """A citation of ``pieces`` of DOC, each an exact slice (one part per piece)."""
    parts = []
    for piece in pieces:
        start = DOC.index(piece)
        parts.append(QuotePart(start, start + len(piece), piece))
    return Citation(n=n, passage_id=f"p{n}", doc_id=doc_id, title="T", publisher="P", url=None,
                    quote=" … ".join(pieces), start=parts[0].start, end=parts[-1].end, stance=stance,
                    score=1.0, parts=tuple(parts))


def answer(*sections: tuple[str, list[Citation]], **fields) -> Answer:
    """An answered question showing ``sections`` in order: (section, its citations)."""
    citations = [c for _, cs in sections for c in cs]
    perspectives = [Perspective(stance=name, citations=[c.n for c in cs]) for name, cs in sections]
    return Answer(**{"question": "q", "answered": True, "perspectives": perspectives, "citations": citations,
                     "summary": "", **fields})


def refusal(kind: str = "not_covered", **fields) -> Answer:
    return Answer(**{"question": "q", "answered": False, "perspectives": [], "citations": [], "summary": "",
                     "kind": kind, **fields})


def factual(qid: str = "f1", gold=("homegrown chips",), kind: str = "factual", **fields) -> Question:
    return Question(id=qid, kind=kind, q="What is China building?", gold=tuple(gold), **fields)


def contested(qid: str = "c1", kind: str = "contested", **fields) -> Question:
    return Question(id=qid, kind=kind, q="Race or cooperation?", race=("cede leadership to china",),
                    cooperation=("prioritize cooperation with them", "no winners"), **fields)


def run(question: Question, reply: Answer, *, text: str = "a b c", top5=(), ms: float = 10.0) -> Run:
    return Run(question, reply, ms, text, tuple(top5))


def row_of(*runs: Run):
    return score(list(runs), DOCUMENTS)


RACE = "Washington fears it will cede leadership to China if it slows down."
COOPERATION = "Others say there are no winners in an AI race"
CHIPS = "Beijing is building homegrown chips, models, and software ecosystems."
HALT = "The 2023 open letter asked for a six\u2011month halt to giant AI experiments."
WEAPONS = "Officials worry about autonomous weapons"


# --- question files -------------------------------------------------------------------


def write(tmp_path: Path, *objects: dict) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    return path


def test_every_kind_loads_and_foreign_and_markup_carry_their_inner_kind(tmp_path):
    path = write(tmp_path,
                 {"id": "f", "kind": "factual", "q": "a", "gold": ["x"]},
                 {"id": "c", "kind": "contested", "q": "b", "race": ["r"], "cooperation": ["c"]},
                 {"id": "n", "kind": "neartopic", "q": "c"},
                 {"id": "o", "kind": "offtopic", "q": "d"},
                 {"id": "x", "kind": "foreign", "inner_kind": "contested", "q": "e", "race": ["r"], "cooperation": ["c"]},
                 {"id": "m", "kind": "markup", "inner_kind": "factual", "q": "<b>f</b>", "gold": ["x"]})
    questions = load_questions(path)
    assert [q.kind for q in questions] == ["factual", "contested", "neartopic", "offtopic", "foreign", "markup"]
    assert [q.scored_as for q in questions] == ["factual", "contested", "neartopic", "offtopic", "foreign", "factual"]
    assert questions[4].race == ("r",) and questions[5].gold == ("x",)
    assert bench.load_questions([path]) == ["a", "b", "c", "d", "e", "<b>f</b>"]


@pytest.mark.parametrize("bad, says", [
    ({"id": "m", "kind": "markup", "q": "x", "gold": ["y"]}, "inner_kind"),
    ({"id": "x", "kind": "foreign", "inner_kind": "offtopic", "q": "x"}, "inner_kind"),
    ({"id": "f", "kind": "factual", "inner_kind": "factual", "q": "x", "gold": ["y"]}, "inner_kind"),
    ({"id": "f", "kind": "factual", "q": "x"}, "gold"),
    ({"id": "c", "kind": "contested", "q": "x", "race": ["r"]}, "cooperation"),
    ({"id": "m", "kind": "markup", "inner_kind": "contested", "q": "x", "gold": ["y"]}, "race"),
    ({"id": "f", "kind": "factual", "q": "x", "gold": "one phrase, not a list"}, "gold"),
    ({"id": "f", "kind": "opinion", "q": "x"}, "kind"),
])
def test_a_malformed_question_is_one_error_naming_its_line(tmp_path, bad, says):
    path = write(tmp_path, {"id": "ok", "kind": "offtopic", "q": "fine"}, bad)
    with pytest.raises(ParleyError, match=f"line 2: .*{says}"):
        load_questions(path)


def test_an_id_used_twice_is_an_error(tmp_path):
    path = write(tmp_path, {"id": "a", "kind": "offtopic", "q": "x"}, {"id": "a", "kind": "offtopic", "q": "y"})
    with pytest.raises(ParleyError, match="line 2: id 'a' is used twice"):
        load_questions(path)


@pytest.mark.parametrize("name", ["dev", "calibration", "tuning", "kept-aside-1", "kept-aside-2"])
def test_the_shipped_question_files_load(name):
    assert load_questions(EVAL_DIR / f"{name}.jsonl")


# --- contested ------------------------------------------------------------------------


def test_each_framing_quoted_in_its_own_section_is_both_framings_on_point():
    row = row_of(run(contested(), answer(("race", [cite(1, RACE, stance="race")]),
                                         ("cooperation", [cite(2, COOPERATION, stance="cooperation")]))))
    assert (row.both_framings_on_point, row.both_framings_shown) == (1.0, 1.0)
    assert row.failing["both_framings_on_point"] == []


def test_a_race_phrase_quoted_in_the_cooperation_section_does_not_count():
    # Both phrases are quoted and both sections shown, but each under the other framing.
    reply = answer(("race", [cite(1, COOPERATION)]), ("cooperation", [cite(2, RACE)]))
    row = row_of(run(contested("c7"), reply))
    assert row.both_framings_on_point == 0.0 and row.failing["both_framings_on_point"] == ["c7"]
    assert row.both_framings_shown == 1.0


def test_phrases_in_the_direct_answer_section_count_for_neither_framing():
    reply = answer(("answer", [cite(1, RACE), cite(2, COOPERATION)]), ("race", [cite(3, CHIPS)]),
                   ("cooperation", [cite(4, HALT)]))
    assert row_of(run(contested(), reply)).both_framings_on_point == 0.0


def test_both_framings_shown_needs_both_sections_with_quotes():
    one_section = answer(("race", [cite(1, RACE)]), ("answer", [cite(2, COOPERATION)]))
    empty_section = answer(("race", [cite(1, RACE)]), ("cooperation", []))
    row = row_of(run(contested("c1"), one_section), run(contested("c2"), empty_section))
    assert row.both_framings_shown == 0.0 and row.failing["both_framings_shown"] == ["c1", "c2"]
    assert row.n["both_framings_shown"] == 2


def test_a_markup_question_is_scored_as_its_inner_kind():
    reply = answer(("race", [cite(1, RACE)]), ("cooperation", [cite(2, COOPERATION)]))
    row = row_of(run(contested("m1", kind="markup", inner_kind="contested"), reply),
                 run(factual("m2", kind="markup", inner_kind="factual"), answer(("answer", [cite(3, CHIPS)]))))
    assert row.n["both_framings_on_point"] == 1 and row.both_framings_on_point == 1.0
    assert row.n["fact_in_first_3"] == 1 and row.fact_in_first_3 == 1.0


# --- factual --------------------------------------------------------------------------


def test_the_fact_must_be_within_the_first_three_quotes_in_the_order_shown():
    late = answer(("answer", [cite(1, RACE), cite(2, COOPERATION), cite(3, HALT), cite(4, CHIPS)]))
    row = row_of(run(factual("late"), late))
    assert (row.fact_in_first_3, row.citation_hit_rate) == (0.0, 1.0)
    assert row.failing["fact_in_first_3"] == ["late"]
    # The same citation numbers, but the section holding the fact is shown first.
    early = answer(("race", [cite(4, CHIPS)]), ("answer", [cite(1, RACE), cite(2, COOPERATION), cite(3, HALT)]))
    assert row_of(run(factual("early"), early)).fact_in_first_3 == 1.0


def test_a_citation_no_section_shows_is_not_a_quote():
    reply = answer(("answer", [cite(1, RACE)]))
    reply = Answer(**{**reply.__dict__, "citations": [*reply.citations, cite(2, CHIPS)]})
    assert row_of(run(factual(), reply)).citation_hit_rate == 0.0


def test_phrases_match_after_normalisation_on_the_quote_parts():
    # U+2011 in the document, a plain hyphen and other case in the gold phrase.
    reply = answer(("answer", [cite(1, HALT)]))
    assert row_of(run(factual(gold=["SIX-MONTH halt"]), reply)).fact_in_first_3 == 1.0


def test_a_phrase_is_matched_within_a_part_never_across_the_gap_between_parts():
    two_parts = answer(("answer", [cite(1, "Beijing is building", "homegrown chips, models")]))
    assert row_of(run(factual(gold=["homegrown chips"]), two_parts)).citation_hit_rate == 1.0
    assert row_of(run(factual(gold=["building homegrown"]), two_parts)).citation_hit_rate == 0.0


def test_recall_and_mrr_come_from_the_top_five_search_results():
    hit_second = run(factual("a"), refusal(), top5=["nothing", CHIPS, "other"])
    no_hit = run(factual("b"), refusal(), top5=["nothing", "x", "y", "z", "w", CHIPS])  # sixth: too late
    row = row_of(hit_second, no_hit)
    assert (row.recall_at_5, row.mrr) == (0.5, 0.25)
    assert row.failing["recall_at_5"] == ["b"] and row.n["mrr"] == 2


# --- refusal --------------------------------------------------------------------------


def test_near_and_off_topic_are_refused_only_without_citations_and_reported_per_kind():
    row = row_of(run(Question("n1", "neartopic", "q"), refusal()),
                 run(Question("n2", "neartopic", "q"), answer(("answer", [cite(1, CHIPS)]))),
                 run(Question("o1", "offtopic", "q"), refusal()),
                 run(Question("o2", "offtopic", "q"), Answer("q", False, [], [cite(1, CHIPS)], "")))
    assert (row.neartopic_refused, row.offtopic_refused) == (0.5, 0.5)
    assert row.failing["neartopic_refused"] == ["n2"] and row.failing["offtopic_refused"] == ["o2"]


def test_answerable_refused_counts_factual_contested_and_markup_refusals_only():
    row = row_of(run(factual("f1"), refusal()),
                 run(contested("c1"), refusal()),
                 run(factual("m1", kind="markup", inner_kind="factual"), refusal("not_english")),
                 run(factual("f2"), answer(("answer", [cite(1, CHIPS)]))),
                 run(Question("o1", "offtopic", "q"), refusal()),
                 run(factual("x1", kind="foreign", inner_kind="factual"), refusal("not_english")))
    assert row.answerable_refused == 3 and row.failing["answerable_refused"] == ["f1", "c1", "m1"]
    assert row.n["answerable_refused"] == 4


def test_a_foreign_question_must_get_the_not_english_reply_without_citations():
    row = row_of(run(factual("x1", kind="foreign", inner_kind="factual"), refusal("not_english")),
                 run(factual("x2", kind="foreign", inner_kind="factual"), refusal()),
                 run(factual("x3", kind="foreign", inner_kind="factual"),
                     answer(("answer", [cite(1, CHIPS)]), kind="not_english")))
    assert row.foreign_not_english == pytest.approx(1 / 3, abs=1e-4) and row.failing["foreign_not_english"] == ["x2", "x3"]
    assert row.n["fact_in_first_3"] == 0  # not scored as factual


# --- false statements about the corpus ------------------------------------------------


def test_a_framing_said_absent_while_the_question_lists_its_evidence_is_a_false_statement():
    said_absent = answer(("race", [cite(1, RACE)]), absent_framings=("cooperation",))
    row = row_of(run(contested("c1"), said_absent))
    assert row.false_statements == 1 and row.failing["false_statements"] == ["c1"]
    assert row.false_statement_list == [{"id": "c1", "says": "cooperation framing absent"}]


def test_a_framing_said_absent_is_true_when_the_question_lists_no_evidence_for_it():
    said_absent = answer(("answer", [cite(1, CHIPS)]), absent_framings=("race", "cooperation"))
    assert row_of(run(factual(), said_absent)).false_statements == 0


def test_not_covered_for_a_question_the_corpus_answers_is_a_false_statement():
    row = row_of(run(factual("f1"), refusal()),
                 run(contested("c1"), refusal(absent_framings=("race",))),
                 run(factual("f2"), Answer("q", False, [], [], "")),  # a refusal of the old kind
                 run(Question("o1", "offtopic", "q"), refusal()),
                 run(Question("n1", "neartopic", "q"), refusal()),
                 run(factual("x1", kind="foreign", inner_kind="factual"), refusal("not_english")))
    assert row.false_statements == 4
    assert row.failing["false_statements"] == ["f1", "c1", "f2"]
    assert {(s["id"], s["says"]) for s in row.false_statement_list} == {
        ("f1", "not covered"), ("c1", "not covered"), ("c1", "race framing absent"), ("f2", "not covered")}


# --- faithfulness and size ------------------------------------------------------------


def test_faithfulness_is_exact_over_every_part():
    good = cite(1, "Beijing is building", "homegrown chips")
    start = DOC.index("Officials")
    case_changed = Citation(2, "p2", "d1", "T", "P", None, "officials worry", start, start + 15, "neutral", 1.0,
                            parts=(QuotePart(start, start + 15, "officials worry"),))
    unknown_document = cite(3, CHIPS, doc_id="missing")
    row = row_of(run(factual("f1"), answer(("answer", [good]))),
                 run(factual("f2"), answer(("answer", [case_changed, unknown_document]))))
    assert row.n["faithfulness"] == 4 and row.unfaithful_parts == 2 and row.faithfulness == 0.5
    assert row.failing["faithfulness"] == ["f2"]


def test_a_citation_without_parts_is_checked_as_one_part_at_its_offsets():
    start = DOC.index(CHIPS)
    legacy = Citation(1, "p1", "d1", "T", "P", None, CHIPS, start, start + len(CHIPS), "neutral", 1.0)
    shifted = Citation(2, "p2", "d1", "T", "P", None, CHIPS, start + 1, start + 1 + len(CHIPS), "neutral", 1.0)
    row = row_of(run(factual(), answer(("answer", [legacy, shifted]))))
    assert (row.n["faithfulness"], row.unfaithful_parts) == (2, 1)


def test_a_quote_that_is_not_its_parts_joined_is_reported():
    honest = cite(1, "Beijing is building", "homegrown chips")
    start = DOC.index("Officials")
    padded = Citation(2, "p2", "d1", "T", "P", None, "Officials worry about more", start, start + 9, "neutral", 1.0,
                      parts=(QuotePart(start, start + 9, "Officials"),))
    row = row_of(run(factual("f9"), answer(("answer", [honest, padded]))))
    assert row.quotes_show_parts == 0.5 and row.failing["quotes_show_parts"] == ["f9"]
    assert row.faithfulness == 1.0  # the parts themselves are exact


def test_citations_and_length_are_over_answered_questions_only():
    row = row_of(run(factual("a"), answer(("answer", [cite(1, CHIPS)])), text="one two three"),
                 run(factual("b"), answer(("answer", [cite(1, CHIPS), cite(2, HALT), cite(3, WEAPONS)])),
                     text="one two three four five six seven"),
                 run(Question("o", "offtopic", "q"), refusal(), text="a very long refusal " * 50))
    assert (row.citations_per_answer_mean, row.citations_per_answer_max) == (2.0, 3)
    assert row.answer_words_median == 5 and row.n["citations_per_answer"] == 2


def test_latency_percentiles_are_over_every_question():
    row = row_of(*(run(Question(f"o{i}", "offtopic", "q"), refusal(), ms=float(i)) for i in range(1, 101)))
    assert row.p50_ms == 50.5 and row.p95_ms == pytest.approx(95.05)


# --- output ---------------------------------------------------------------------------


def many_failures():
    runs = [run(factual(f"factual-question-{i:02}"), refusal()) for i in range(30)]
    runs += [run(contested(f"contested-{i:02}"), answer(("race", [cite(1, COOPERATION)]),
                                                         absent_framings=("cooperation",))) for i in range(30)]
    runs += [run(Question("n1", "neartopic", "q"), answer(("answer", [cite(1, CHIPS)]))),
             run(factual("x1", kind="foreign", inner_kind="factual"), refusal())]
    return [run.question for run in runs], score(runs, DOCUMENTS), score(runs, DOCUMENTS, "bm25")


def test_the_table_is_one_block_per_mode_within_a_hundred_columns():
    questions, row, baseline = many_failures()
    text = format_table([row, baseline], questions)
    assert [line for line in text.splitlines() if line in ("Parley (hybrid)", "BM25 only")] == [
        "Parley (hybrid)", "BM25 only"]
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    for label in ("both framings, on-point evidence", "both framings shown", "fact in the first 3 quotes",
                  "citation hit (any quote)", "Recall@5 (search)", "MRR (search)", "neartopic refused",
                  "foreign: the not-English reply", "answerable refused (target 0)",
                  "false statements about the corpus", "faithful quote parts (exact)",
                  "citations per answer, mean / max", "answer length, median words", "p50 / p95 ms"):
        assert text.count(label) == 2, label
    assert "+" in text and "more" in text  # long id lists are cut, not wrapped
    assert "offtopic refused" not in text  # a kind with no question shows no line


def test_json_holds_every_figure_and_every_failing_id():
    questions, row, _ = many_failures()
    report = json.loads(as_json([row], questions, {"extra": 1}))
    assert report["questions"] == 62 and report["extra"] == 1
    assert report["kinds"]["factual"] == 30 and report["scored_as"]["foreign"] == 1
    data = report["rows"][0]
    for key in ("both_framings_on_point", "both_framings_shown", "fact_in_first_3", "citation_hit_rate",
                "recall_at_5", "mrr", "neartopic_refused", "offtopic_refused", "foreign_not_english",
                "answerable_refused", "false_statements", "faithfulness", "quotes_show_parts",
                "citations_per_answer_mean", "citations_per_answer_max", "answer_words_median", "p50_ms", "p95_ms"):
        assert key in data, key
    assert len(data["failing"]["answerable_refused"]) == 30
    assert len(data["failing"]["both_framings_on_point"]) == 30
    assert len(data["false_statement_list"]) == 61  # 30 not covered, 30 framings absent, the foreign one


# --- the runner -----------------------------------------------------------------------


class FakeEngine:
    """Just what ``evaluate`` uses of an ``AnswerEngine``."""

    def __init__(self, replies: dict[str, Answer]):
        self.replies = replies
        self.asked: list[str] = []
        self.searched: list[str] = []
        index = SimpleNamespace(documents={"d1": SimpleNamespace(text=DOC)})
        self.served = SimpleNamespace(retriever=lambda: SimpleNamespace(index=index))

    def ask(self, question: str, *, mode: str = "hybrid") -> Answer:
        self.asked.append(question)
        return self.replies[question]

    def search(self, question: str, k: int = 5, *, mode: str = "hybrid"):
        self.searched.append(question)
        return [SimpleNamespace(passage=SimpleNamespace(text=text)) for text in ("x", CHIPS)][:k]


def test_evaluate_asks_every_question_searches_the_factual_ones_and_renders_the_answers():
    questions = [Question("f1", "factual", "What is China building?", gold=("homegrown chips",)),
                 Question("c1", "contested", "Race?", race=("cede leadership",), cooperation=("no winners",)),
                 Question("o1", "offtopic", "Sourdough?")]
    engine = FakeEngine({
        "What is China building?": answer(("race", [cite(1, CHIPS, stance="race")])),
        "Race?": answer(("race", [cite(1, RACE)]), ("cooperation", [cite(2, COOPERATION)])),
        "Sourdough?": refusal(corpus_titles=("T",)),
    })
    row = evaluate(engine, questions, "bm25")
    assert engine.asked == ["What is China building?", *[q.q for q in questions]]  # a warm-up first
    assert engine.searched == ["What is China building?"]
    assert (row.name, row.mode, row.recall_at_5, row.mrr) == ("BM25 only", "bm25", 1.0, 0.5)
    assert (row.fact_in_first_3, row.both_framings_on_point, row.offtopic_refused, row.faithfulness) == (1, 1, 1, 1)
    assert row.answer_words_median > 5  # words of the rendered text, not of the question
