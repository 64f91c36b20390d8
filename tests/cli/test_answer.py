"""`parley search / ask / chat / eval` as scripts and adapters use them."""

import json
import os
import subprocess

import pytest

from tests.helpers import EVAL_DIR, PARLEY, run_parley

SEARCH_KEYS = {"rank", "passage_id", "doc_id", "title", "text", "start", "end", "score", "stance"}
ASK_KEYS = {"question", "answered", "kind", "text", "perspectives", "citations", "point"}
CITATION_KEYS = {"n", "passage_id", "doc_id", "title", "publisher", "url", "quote", "start", "end", "stance", "score",
                 "parts", "speaker", "voice", "reviewed"}
STANCES = {"race", "cooperation", "neutral"}


@pytest.fixture(scope="module")
def index_env(built_index):
    return {"PARLEY_INDEX_DIR": str(built_index[0])}


def test_search_json_contract(index_env):
    result = run_parley("search", "Who did Sanders bring together?", "-k", "3", "--json", env=index_env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["question"] == "Who did Sanders bring together?"
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3]
    for row in payload["results"]:
        assert set(row) == SEARCH_KEYS and row["stance"] in STANCES
    assert "brought together researchers" in payload["results"][0]["text"]


def test_stdin_questions_give_one_json_line_each_in_order(index_env, built_index):
    questions = ["What is coopetition?", "", "Who is Xue Lan?", "k above the passage count"]
    result = run_parley("search", "-k", "1000", input="\n".join(questions) + "\n", env=index_env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert lines[1] == {"question": "", "error": "empty question"}
    total = json.loads((built_index[1].index / "manifest.json").read_text())["passage_count"]
    assert len(lines[0]["results"]) == total


def test_a_bad_stdin_line_gets_its_own_error_and_the_batch_goes_on(index_env):
    sent = [b"What is coopetition?", b"\x00\x00\x00", b"\xff\xfe\xfd", "\u200b\u200b".encode(), b"Who is Xue Lan?"]
    stdin = b"".join(line + b"\n" for line in sent)
    result = subprocess.run([str(PARLEY), "ask"], input=stdin, capture_output=True, timeout=300,
                            env={**os.environ, **index_env})
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line.get("error") for line in lines] == [None, "empty question", "not UTF-8 text", "empty question", None]
    assert lines[2]["question"] == "\ufffd\ufffd\ufffd"
    assert lines[0]["answered"] and lines[4]["answered"]


@pytest.mark.parametrize("question", ["\u200b\u200b", "\u202e", "   "])
def test_a_question_of_only_invisible_characters_is_a_usage_error(index_env, question):
    result = run_parley("ask", question, env=index_env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == 'parley: the question is empty; ask something, e.g. parley ask "Is there an AI race?"'


def test_ask_json_contract_from_stdin(index_env):
    questions = ["Is open-weight AI from China a threat or an opportunity?", "How do I bake sourdough bread?"]
    result = run_parley("ask", input="\n".join(questions) + "\n", env=index_env)
    assert result.returncode == 0, result.stderr
    contested, offtopic = (json.loads(line) for line in result.stdout.splitlines())
    for answer in (contested, offtopic):
        assert set(answer) == ASK_KEYS
    assert contested["answered"] is True
    assert {p["stance"] for p in contested["perspectives"]} >= {"race", "cooperation"}
    for citation in contested["citations"]:
        assert set(citation) == CITATION_KEYS and citation["stance"] in STANCES
        assert citation["quote"] == " … ".join(part["text"] for part in citation["parts"])
        assert isinstance(citation["reviewed"], bool)
    assert offtopic["kind"] == "not_covered"
    assert (offtopic["answered"], offtopic["citations"], offtopic["perspectives"]) == (False, [], [])


def test_ask_all_shows_every_relevant_quote_and_offers_no_more(index_env):
    question = "Is open-weight AI from China a threat or an opportunity?"
    short, complete = (run_parley("ask", question, "--json", *flags, env=index_env) for flags in ((), ("--all",)))
    assert short.returncode == complete.returncode == 0, short.stderr + complete.stderr
    short, complete = json.loads(short.stdout), json.loads(complete.stdout)
    assert len(complete["citations"]) > len(short["citations"])
    assert "parley ask --all" in short["text"] and "parley ask --all" not in complete["text"]


def test_ask_for_people_prints_the_plain_text(index_env):
    result = run_parley("ask", "What did the 2023 open letter signed by many luminaries ask for?", env=index_env)
    assert result.returncode == 0
    assert "six month halt" in result.stdout and "Sources" in result.stdout


@pytest.mark.parametrize("command", ["ask", "search"])
def test_empty_question_is_exit_2_with_one_line(command, index_env):
    result = run_parley(command, "   ", env=index_env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_index_is_one_line_saying_to_build(tmp_path):
    result = run_parley("ask", "Is there an AI race?", "--index", str(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"parley: No index at {tmp_path / 'none'}. Run `parley index build` first."
    ]


def test_chat_without_a_terminal_answers_one_sample_question(index_env):
    result = run_parley("chat", env=index_env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert "you> " in result.stdout and "Sources" in result.stdout


def test_eval_reports_every_metric_with_baselines_from_the_same_run(index_env):
    result = run_parley("eval", str(EVAL_DIR / "dev.jsonl"), "--baselines", "--json", env=index_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 17
    assert [row["name"] for row in report["rows"]] == ["Parley (hybrid)", "BM25 only", "dense only",
                                                       "txtai hybrid", "LangChain ensemble"]
    assert report["peer_baselines_missing"] is None  # CI installs the baselines extra
    assert report["kinds"] == {"factual": 12, "contested": 2, "neartopic": 0, "offtopic": 3, "foreign": 0,
                               "markup": 0}
    parley, *_, txtai, langchain = report["rows"]
    for peer in (txtai, langchain):  # retrieval figures only, from the peer's own search
        assert peer["mode"] == "peer" and peer["n"]["recall_at_5"] == 12 and 0 < peer["p50_ms"]
        assert 0 < peer["recall_at_5"] <= 1 and 0 < peer["hit_at_1"] <= peer["mrr"] <= 1
        assert peer["fact_in_first_3"] is None and peer["faithfulness"] is None
    # The product's claim (issue 15): Parley's search leads both peers on the dev set.
    for metric in ("recall_at_5", "mrr", "hit_at_1"):
        assert parley[metric] >= max(txtai[metric], langchain[metric])
    for row in report["rows"][:3]:
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert row["faithfulness"] == 1.0
        assert row["n"]["fact_in_first_3"] == 12 and row["n"]["both_framings_on_point"] == 2
        assert row["n"]["offtopic_refused"] == 3 and row["neartopic_refused"] is None
        assert set(row["failing"]) >= {"both_framings_on_point", "fact_in_first_3", "answerable_refused",
                                       "false_statements", "faithfulness"}
    classifier = report["framing_classifier_lodo"]
    assert classifier is None or classifier["documents"] > 1


def test_eval_prints_a_block_per_mode_within_a_hundred_columns(index_env):
    result = run_parley("eval", str(EVAL_DIR / "dev.jsonl"), env=index_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "17 questions: 12 factual, 2 contested, 3 offtopic"
    assert "Parley (hybrid)" in lines and "BM25 only" not in lines
    assert "both framings, on-point evidence" in result.stdout and "p50 / p95 ms" in result.stdout
    assert max(len(line) for line in lines) <= 100


def test_eval_of_a_malformed_question_file_names_the_line(tmp_path, index_env):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "kind": "factual", "q": "x", "gold": ["y"]}\nnot json\n')
    result = run_parley("eval", str(bad), env=index_env)
    assert result.returncode == 1
    assert "line 2" in result.stderr and len(result.stderr.strip().splitlines()) == 1
