"""Perf runs are opt-in (PARLEY_PERF=1): they take minutes and their figures depend on the
machine. Each gets a service over the session's engine, warmed, with its own SQLite file."""

from __future__ import annotations

import pytest

from parley.bot.service import Service
from parley.bot.state.events import SeenEvents
from parley.bot.state.votes import FeedbackStore


@pytest.fixture
def warm_service(engine, database) -> Service:
    engine.ask("warm up")  # the query encoder's first call pays for its lazy start
    return Service(engine, None, FeedbackStore(database), cooldown_seconds=0)


@pytest.fixture
def seen(database) -> SeenEvents:
    return SeenEvents(database)

