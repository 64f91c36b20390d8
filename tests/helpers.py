"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
CORPUS_DIR = PROJECT_DIR / "corpus"
CLAIM_LABELS = CORPUS_DIR / "claim-labels.jsonl"
EVAL_DIR = PROJECT_DIR / "tests" / "eval"
PARLEY = Path(sys.executable).with_name("parley")


def run_parley(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``parley`` console script as a user would."""
    return subprocess.run(
        [str(PARLEY), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        **kwargs,
    )


class NeverEmbeds:
    """The real model's identity and a refusal to embed anything: a framing-only update that
    re-embedded a single text fails the test that uses it."""

    def __init__(self, real):
        self.info = real.info

    def encode(self, texts, **_):
        import numpy as np

        if texts:
            raise AssertionError(f"re-embedded {len(texts)} texts")
        return np.zeros((0, self.info.dimension), dtype=np.float32)


def flag_first_race_quote(engine, feedback, question: str):
    """Ask ``question``, record the answer and a "wrong framing" vote on its first race
    quote, as a user would; returns that citation."""
    answer = engine.ask(question)
    race = next(p for p in answer.perspectives if p.stance == "race")
    flagged = answer.citations[race.citations[0] - 1]
    answer_id = feedback.record_answer("discord", question, [c.passage_id for c in answer.citations])
    feedback.record_vote(answer_id, "discord", "7", "wrong_framing", citation=flagged.n)
    return flagged


def race_quotes(answer) -> list[str]:
    return [answer.citations[n - 1].quote for p in answer.perspectives if p.stance == "race" for n in p.citations]


def store_env(database) -> dict[str, str]:
    """The settings that point a `parley` process at ``database`` (a SQLite file or a
    PostgreSQL database)."""
    from parley.bot.state.database import SqliteDatabase

    if isinstance(database, SqliteDatabase):
        return {"PARLEY_FEEDBACK_DB": str(database.path)}
    return {"PARLEY_DATABASE_URL": database.url}


# A document the corpus does not hold: tests add it to a corpus copy and re-index.
LUNAR_NOTE = ("---\ntitle: Lunar note\n---\nA lunar research station would run on a small fission reactor "
              "through the long lunar night.\n")
