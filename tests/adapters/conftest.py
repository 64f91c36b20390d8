"""Fixtures for the adapters: the shared store and services over the real engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parley.bot.answer import AnswerEngine
from parley.bot.service import Service
from parley.bot.state.events import SeenEvents
from parley.bot.state.votes import FeedbackStore
from parley.index.indexing.build import ChunkSettings
from parley.index.search.served import Reindexer, ReindexJob, ServedIndex
from parley.index.store.versions import IndexLocation
from tests.helpers import CLAIM_LABELS, NeverEmbeds

# The map the /points tests browse: a curator's draft, fixed, so the tests do not move while
# corpus/debate-map.json is being written (switch to that file once it is final).


@pytest.fixture
def feedback(database) -> FeedbackStore:
    return FeedbackStore(database)


@pytest.fixture
def seen(database) -> SeenEvents:
    """The event ledger, in the same store as ``feedback`` (as in production)."""
    return SeenEvents(database)


@pytest.fixture
def make_service(feedback) -> Callable[..., Service]:
    """A service over ``engine`` recording to ``feedback``; no cooldown unless asked."""

    def make(engine: AnswerEngine, *, reindexer: Reindexer | None = None, cooldown_seconds: float = 0) -> Service:
        return Service(engine, reindexer, feedback, cooldown_seconds=cooldown_seconds)

    return make


@pytest.fixture
def service(engine, make_service) -> Service:
    return make_service(engine)


@pytest.fixture
def reindexable(index_copy, corpus_copy, embedder) -> tuple[AnswerEngine, Reindexer]:
    """An engine over a private index copy and a re-indexer from a private corpus copy,
    which a test may add a document to."""
    engine = AnswerEngine(ServedIndex(index_copy))
    return engine, Reindexer(engine.served, embedder, ReindexJob(corpus_copy, ChunkSettings(), CLAIM_LABELS))


@pytest.fixture
def reviewable(index_copy, corpus_copy, embedder, feedback) -> Service:
    """A service whose framing decisions go to a private corpus copy's labels and are served
    by rebuilds that may not embed anything."""
    engine = AnswerEngine(ServedIndex(index_copy))
    job = ReindexJob(corpus_copy, ChunkSettings(), corpus_copy / "claim-labels.jsonl")
    return Service(engine, Reindexer(engine.served, NeverEmbeds(embedder), job), feedback, cooldown_seconds=0)


@pytest.fixture(scope="session")
def mapped_index(built_index) -> Path:
    """The session's index of the project's corpus, which ships a debate map; read-only."""
    return built_index[0]


@pytest.fixture(scope="session")
def mapped_engine(mapped_index) -> AnswerEngine:
    """The answer engine over ``mapped_index`` (read-only)."""
    return AnswerEngine(ServedIndex(IndexLocation(mapped_index)))


@pytest.fixture
def mapped_service(mapped_engine, make_service) -> Service:
    """A service over the corpus with a debate map."""
    return make_service(mapped_engine)
