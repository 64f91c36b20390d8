"""Plain text and the --json shape of hand-built answers: exactly what a person reads."""

import json
from dataclasses import replace

from parley.bot import phrases
from parley.bot.answer import Answer, Perspective
from parley.bot.render.text import answer_json, render_plain
from tests.answers import NOT_ENGLISH, UNCOVERED, citation, contested, contested_complete, not_english, uncovered


def test_a_contested_answer_reads_section_by_section_with_sources_grouped_by_document():
    assert render_plain(contested()) == """\
Is open-weight AI from China a threat or an opportunity?

From the corpus
  "Open-weight models from China are now close to the frontier." [1]

Race framing
  "China will not slow down for anyone. … The race is already on." [2] — Xue Lan (Podcast digest)
  "Washington sees a geopolitical foot race." [3] (framing not reviewed)

Cooperation framing
  "Both countries face a common threat from non-state actors." [4]

2 passages frame this as a race, 1 as cooperation.
On this point the corpus holds 2 more passages with the race framing and 1 with the cooperation framing. \
Ask again with parley ask --all to see them all.

Sources
  [1][3] The open letter — Axios (https://example.org/letter)
  [2] The Beijing summit — Podcast digest (https://example.org/summit)
  [4] A cooperation brief — Brookings"""


def test_the_more_line_appears_only_when_passages_are_left_out():
    assert "parley ask --all" not in render_plain(contested(more={"race": 0, "cooperation": 0}))
    assert "parley ask --all" not in render_plain(contested(more={}))
    complete = render_plain(contested_complete())
    assert "parley ask --all" not in complete and "4 passages frame this as a race" in complete
    assert "On this point the corpus holds 1 more passage with the cooperation framing." in render_plain(
        contested(more={"race": 0, "cooperation": 1}))
    # Marked complete, nothing is offered even if counts were left in.
    assert "parley ask --all" not in render_plain(replace(contested(), complete=True))


def test_no_tally_line_when_no_framing_is_shown_and_absent_framings_are_said():
    quote = citation(1, "The letter asked for a six month halt.", doc="letter", title="The open letter",
                     publisher="Axios", url=None)
    factual = Answer("What did the letter ask for?", True, [Perspective("answer", [1])], [quote], "")
    assert render_plain(factual).splitlines() == [
        "What did the letter ask for?", "", "From the corpus", '  "The letter asked for a six month halt." [1]', "",
        "Sources", "  [1] The open letter — Axios"]
    said = render_plain(replace(factual, absent_framings=("cooperation",)))
    assert "No passage in the corpus frames this as cooperation." in said


def test_not_covered_names_what_the_corpus_covers_and_the_subjects_it_never_mentions():
    text = render_plain(uncovered())
    assert f'"{UNCOVERED}"' in text
    assert "The corpus doesn't mention Taiwan or TSMC." in text
    assert phrases.CORPUS_SCOPE in text and '"The open letter"' in text
    assert "[1]" not in text and "Sources" not in text


def test_not_english_shows_the_question_back_and_asks_for_english():
    text = render_plain(not_english())
    assert text == phrases.not_english(NOT_ENGLISH)
    assert f'"{NOT_ENGLISH}"' in text and "written in English" in text
    assert "ask again in English" in text and "Sources" not in text


def test_json_carries_kind_and_every_citations_parts_speaker_and_review():
    payload = answer_json(contested())
    assert set(payload) == {"question", "answered", "kind", "text", "perspectives", "citations", "point"}
    assert payload["kind"] == "contested"
    assert [p["stance"] for p in payload["perspectives"]] == ["answer", "race", "cooperation"]
    second = payload["citations"][1]
    assert second["speaker"] == "Xue Lan" and second["reviewed"] is True
    assert second["parts"] == [{"start": 200, "end": 236, "text": "China will not slow down for anyone."},
                               {"start": 276, "end": 299, "text": "The race is already on."}]
    assert second["quote"] == " … ".join(part["text"] for part in second["parts"])
    assert [c["reviewed"] for c in payload["citations"]] == [False, True, False, True]
    json.dumps(payload)  # plain JSON all the way down
    refusal = answer_json(not_english())
    assert (refusal["kind"], refusal["answered"], refusal["citations"]) == ("not_english", False, [])


def test_a_citation_without_parts_is_one_part_of_its_own_quote():
    quote = replace(citation(1, "Whole sentence.", doc="d", title="T", publisher="P", url=None), parts=())
    payload = answer_json(Answer("q", True, [Perspective("answer", [1])], [quote], ""))
    assert payload["citations"][0]["parts"] == [{"start": quote.start, "end": quote.end, "text": "Whole sentence."}]


def test_a_score_that_is_not_a_number_is_null_in_strict_json():
    nan = replace(citation(1, "A quote.", doc="d", title="T", publisher="P", url=None, stance="race"), score=float("nan"))
    payload = answer_json(Answer("q?", True, [Perspective("race", [1])], [nan], "t"))
    assert payload["citations"][0]["score"] is None
    json.dumps(payload, allow_nan=False)  # would raise on NaN
