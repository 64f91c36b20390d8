"""The ``parley`` command as a user runs it: exit codes, JSON contracts, one-line errors."""

import json

from tests.helpers import CORPUS_DIR, EVAL_DIR, run_parley

BUILD_KEYS = {"documents", "passages", "embedded", "reused", "removed", "seconds", "index"}
STATUS_KEYS = {"documents", "passages", "model", "dimension", "built_at", "bytes", "index"}


def test_build_json_contract_on_an_unchanged_corpus(index_copy):
    result = run_parley("index", "build", "--index", str(index_copy.root), "--corpus", str(CORPUS_DIR), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == BUILD_KEYS
    assert report["embedded"] == 0 and report["reused"] == report["passages"] > 0
    assert report["documents"] == 5 and report["removed"] == 0
    assert report["index"] == str(index_copy.current_version())
    assert result.stderr == ""


def test_status_json_contract_reads_the_index_from_the_environment(index_copy):
    result = run_parley("index", "status", "--json", env={"PARLEY_INDEX_DIR": str(index_copy.root)})
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert set(status) == STATUS_KEYS
    assert status["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert status["dimension"] == 384
    assert status["documents"] == 5
    version = index_copy.current_version()
    assert status["index"] == str(version)
    # Every file of the version; the cache of verified hashes is not part of it.
    assert status["bytes"] == sum(p.stat().st_size for p in version.rglob("*") if p.is_file()
                                  and p.name != ".verified.json")


def test_status_for_people_names_every_figure(index_copy):
    result = run_parley("index", "status", "--index", str(index_copy.root))
    assert result.returncode == 0
    for label in ("Index", "Documents", "Passages", "Model", "Built", "Size"):
        assert label in result.stdout


def test_flag_wins_over_environment(index_copy, tmp_path):
    result = run_parley(
        "index", "status", "--json", "--index", str(index_copy.root),
        env={"PARLEY_INDEX_DIR": str(tmp_path / "elsewhere")},
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["index"] == str(index_copy.current_version())


def test_no_index_is_one_line_and_exit_1(tmp_path):
    result = run_parley("index", "status", "--index", str(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"parley: No index at {tmp_path / 'none'}. Run `parley index build` first."
    ]


def test_missing_corpus_is_one_line_and_exit_1(tmp_path):
    result = run_parley("index", "build", "--corpus", str(tmp_path / "none"), "--index", str(tmp_path / "i"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "PARLEY_CORPUS_DIR" in result.stderr


def test_invalid_setting_names_the_variable_and_exits_2():
    result = run_parley("index", "status", env={"PARLEY_EMBED_BATCH_SIZE": "lots"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PARLEY_EMBED_BATCH_SIZE" in lines[0]
    assert "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2():
    result = run_parley()
    assert result.returncode == 2
    assert "index" in result.stdout


def test_bad_corpus_file_is_named_and_the_rest_indexed(index_copy, corpus_copy):
    (corpus_copy / "broken.txt").write_bytes(b"\x00\xff\xfe binary")
    result = run_parley("index", "build", "--index", str(index_copy.root), "--corpus", str(corpus_copy), "--json")
    assert result.returncode == 0
    assert "skipped broken.txt: a binary file" in result.stderr
    assert json.loads(result.stdout)["documents"] == 5


def test_discord_without_a_token_says_what_to_set_and_exits_2():
    env = {"DISCORD_TOKEN": "", "PARLEY_DISCORD_TOKEN": ""}
    result = run_parley("discord", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "parley: DISCORD_TOKEN is not set: put the bot token in the environment or in .env (README, section Discord)."
    ]


def test_invite_url_has_the_bot_scopes_and_needed_permissions():
    import base64

    token = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".abc.def"
    result = run_parley("discord", "--invite-url", env={"DISCORD_TOKEN": token})
    assert result.returncode == 0
    url = result.stdout.strip()
    assert "client_id=123456789012345678" in url and "scope=bot+applications.commands" in url
    assert "permissions=309237730304" in url  # view, send, send in threads, create threads, embed links, history
    assert token not in result.stdout + result.stderr


def test_a_reader_that_leaves_early_gets_no_traceback(index_copy):
    import subprocess

    from tests.helpers import PARLEY

    # Every passage for five questions: several times a pipe buffer, so writes hit the closed pipe.
    pipeline = subprocess.run(
        f"printf 'chips\\nrace\\nsafety\\ntalks\\nlabs\\n' | '{PARLEY}' search -k 1000 --index '{index_copy.root}' | head -c 5",
        shell=True, capture_output=True, text=True, timeout=120,
    )
    assert pipeline.stdout == '{"que'
    assert "Traceback" not in pipeline.stderr and "Error" not in pipeline.stderr


def test_slack_without_credentials_names_them_and_exits_2():
    result = run_parley("slack", env={"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0] and "SLACK_SIGNING_SECRET" in lines[0]


def test_bot_check_starts_everything_and_exits_without_connecting(built_index):
    tokens = {"DISCORD_TOKEN": "MTIz.fake.token", "SLACK_BOT_TOKEN": "xoxb-check", "SLACK_SIGNING_SECRET": "check",
              "PARLEY_SLACK_API_BASE": "http://127.0.0.1:9/api/",  # nothing listens: any call would fail
              "PARLEY_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10"}
    for platform in ("discord", "slack"):
        result = run_parley(platform, "--check", "--index", str(built_index[0]), env=tokens)
        assert result.returncode == 0, result.stderr
        assert f"Parley is ready for {platform.capitalize()}: {built_index[1].passages} passages" in result.stdout


def test_bench_reports_every_figure_beside_the_naive_build(built_index, tmp_path):
    """A smoke run (one repeat, a small synthetic scale): every section is there, the
    naive build was measured beside Parley, and the synthetic index was searched. It runs
    outside the source tree, on the question files it is given."""
    questions = [EVAL_DIR / "dev.jsonl", EVAL_DIR / "calibration.jsonl"]
    result = run_parley("bench", "--json", "--repeats", "1", "--scale", "25000", "--index", str(built_index[0]),
                        "--corpus", str(CORPUS_DIR), *(arg for path in questions for arg in ("--questions", str(path))),
                        env={"PARLEY_FEEDBACK_DB": str(tmp_path / "votes.sqlite3")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    figures = {(f["section"], f["measure"]): f for f in report["figures"]}
    sections = {section for section, _ in figures}
    assert {"cold start", "warm", "re-index"} < sections and any(s.startswith("scale 25,000 (ivf") for s in sections)
    for section in ("cold start", "warm", "re-index"):
        for figure in (f for (s, _), f in figures.items() if s == section):
            assert figure["parley"] > 0 and figure["naive"] > 0 and figure["ratio"] > 0, figure
    # The peer baselines (the test extra installs them) beside Parley where they apply.
    for key in (("cold start", "`parley ask` new process → answer printed"), ("warm", "search p95"),
                ("re-index", "full build, new process (`parley index build --full`)")):
        assert set(figures[key]["peers"]) == {"txtai", "LangChain"} and min(figures[key]["peers"].values()) > 0
    scale = report["scale"][0]
    assert scale["passages"] == 25000 and scale["vector_index"].startswith("ivf")
    assert scale["recall_at_10"] >= 0.95  # recall, not time: the same on any machine
    assert scale["lexical_recall_at_10"] == 1.0 and scale["queries"] == 200  # 75 questions, 125 passage-like
    serving = scale["serving"]  # a new process served the synthetic index and answered
    assert serving["first_answer_s"] > 0 and serving["after_all"]["total"] >= serving["after_all"]["anonymous"] > 0
    notes = " ".join(report["notes"])
    assert "derived" in notes and "75 questions (dev.jsonl, calibration.jsonl)" in notes


def test_bench_refuses_an_unreadable_question_file_before_timing_anything(built_index, tmp_path):
    result = run_parley("bench", "--questions", str(tmp_path / "none.jsonl"), "--index", str(built_index[0]))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"parley: Cannot read question file {tmp_path / 'none.jsonl'}: "
                                                  "No such file or directory."]


def test_corpus_status_counts_each_documents_claims_by_framing_and_the_reviewed_ones(built_index):
    result = run_parley("corpus", "status", "--json", env={"PARLEY_INDEX_DIR": str(built_index[0])})
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    labels = [json.loads(line) for line in (CORPUS_DIR / "claim-labels.jsonl").read_text().splitlines()]
    for document in documents:
        mine = [label for label in labels if label["doc_id"] == document["doc_id"]]
        assert document["claims"] == {framing: sum(label["framing"] == framing for label in mine)
                                      for framing in ("none", "race", "cooperation")}
        assert document["reviewed"] == len(mine)  # every sentence of the project's corpus is reviewed
