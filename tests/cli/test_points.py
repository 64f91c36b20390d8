"""`parley points` as a user runs it, on the shipped corpus and its debate map."""

import json

import pytest

from tests.helpers import CORPUS_DIR, run_parley

MAP = json.loads((CORPUS_DIR / "debate-map.json").read_text())


@pytest.fixture(scope="module")
def index_env(built_index):
    return {"PARLEY_INDEX_DIR": str(built_index[0])}


def test_points_json_lists_every_point_with_its_claims_per_framing(index_env):
    result = run_parley("points", "--json", env=index_env)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [p["id"] for p in listed] == [p["id"] for p in MAP["points"]]
    assert all(set(p) == {"id", "title", "claims"} and set(p["claims"]) == {"race", "cooperation"} for p in listed)
    # Every framed claim of the shipped map is on a sentence of the corpus as served.
    for served, written in zip(listed, MAP["points"], strict=True):
        assert served["claims"] == {f: len(written["claims"][f]) for f in ("race", "cooperation")}


def test_a_point_shows_both_sides_under_its_title(index_env):
    result = run_parley("points", "export-controls", "--json", env=index_env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["point"] == {"id": "export-controls", "title": "Do US chip export controls work?"}
    assert [p["stance"] for p in answer["perspectives"]] == ["race", "cooperation"]
    assert answer["text"].splitlines()[1] == "On: Do US chip export controls work?"


def test_an_unknown_point_is_one_line_and_exit_1(index_env):
    result = run_parley("points", "no-such-point", env=index_env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip() == "parley: The debate map has no point “no-such-point”. Use /points to list them."


def test_a_contested_question_on_a_point_says_which_and_carries_it_in_json(index_env):
    result = run_parley("ask", "do chip export controls even work lol", "--json", env=index_env)
    answer = json.loads(result.stdout)
    assert answer["point"] == {"id": "export-controls", "title": "Do US chip export controls work?"}
    assert "On: Do US chip export controls work?" in answer["text"]


def test_propose_drafts_a_map_that_places_every_framed_claim_once(index_env):
    result = run_parley("points", "propose", "--clusters", "5", env=index_env)
    assert result.returncode == 0, result.stderr
    draft = json.loads(result.stdout)
    assert len(draft["points"]) == 5
    placed = [k for p in draft["points"] for f in ("race", "cooperation") for k in p["claims"][f]]
    labels = [json.loads(line) for line in (CORPUS_DIR / "claim-labels.jsonl").read_text().splitlines()]
    assert sorted(placed) == sorted(label["key"] for label in labels if label["framing"] != "none")
