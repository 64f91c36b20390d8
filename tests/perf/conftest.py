"""Perf runs are opt-in (PARLEY_PERF=1): they take minutes and their figures depend on the
machine. Each gets a service over the session's engine, warmed, with its own SQLite file."""

from __future__ import annotations

import pytest

from parley.bot.feedback import FeedbackStore, SeenEvents
from parley.bot.service import Service


@pytest.fixture
def warm_service(engine, tmp_path) -> Service:
    engine.ask("warm up")  # the query encoder's first call pays for its lazy start
    feedback = FeedbackStore(tmp_path / "parley.sqlite3")
    yield Service(engine, None, feedback, cooldown_seconds=0)
    feedback.close()


@pytest.fixture
def seen(tmp_path) -> SeenEvents:
    events = SeenEvents(tmp_path / "parley.sqlite3")
    yield events
    events.close()

