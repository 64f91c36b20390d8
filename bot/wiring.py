"""Settings in, Parley's long-lived objects out: built once at the edge and passed in.

Nothing here runs at import: ``import parley.bot.wiring`` stays cheap, and each builder
imports only what its object needs (the answer engine never imports torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.bot.settings import Settings

if TYPE_CHECKING:
    from parley.bot.answer import AnswerEngine
    from parley.bot.service import Service
    from parley.bot.state.database import Database
    from parley.bot.state.votes import FeedbackStore
    from parley.index import BuildReport, ChunkSettings, Embedder, IndexLocation, Reindexer, VersionRegistry


def build_embedder(settings: Settings) -> Embedder:
    """The build-time embedder; its model loads only when something is embedded."""
    from parley.index import Embedder, packaged_model_path

    return Embedder(settings.model_path or packaged_model_path(), batch_size=settings.embed_batch_size)


def build_location(settings: Settings) -> IndexLocation:
    """The index folder: its versions and the ``current`` link."""
    from parley.index import IndexLocation

    return IndexLocation(settings.index_dir)


def build_chunking(settings: Settings) -> ChunkSettings:
    from parley.index import ChunkSettings

    return ChunkSettings(settings.chunk_min_words, settings.chunk_max_words)


def index_corpus(settings: Settings, *, full: bool = False, strict: bool = False,
                 show_progress: bool = False) -> BuildReport:
    """``parley index build``: the corpus into a new served version (incremental unless
    ``full``); with PostgreSQL, published for every host, one build at a time across them."""
    from parley.index import build_index

    registry = None
    if settings.database_url:
        feedback = build_feedback(settings)
        registry = build_registry(feedback)
        sync_decisions(settings, feedback)
    return build_index(settings.corpus_dir, build_location(settings), build_embedder(settings), full=full,
                       chunking=build_chunking(settings), claim_labels=settings.claim_labels, strict=strict,
                       show_progress=show_progress, registry=registry)


def build_registry(feedback: FeedbackStore) -> VersionRegistry | None:
    """Where hosts agree on the index version: the PostgreSQL database. With SQLite (one
    host), the index directory's ``current`` link is that agreement already."""
    if feedback.database.dialect != "postgresql":
        return None
    from parley.bot.state.registry import DatabaseRegistry

    return DatabaseRegistry(feedback.database)


def sync_decisions(settings: Settings, feedback: FeedbackStore) -> None:
    """Before a build on a host with its own labels file: curators' framing decisions made
    on other hosts, from the database, written into it (in the order they were made)."""
    if settings.claim_labels is None or feedback.database.dialect != "postgresql":
        return
    from parley.index import write_decisions

    write_decisions(settings.claim_labels, feedback.decisions())


def build_engine(settings: Settings, registry: VersionRegistry | None = None) -> AnswerEngine:
    """The answer engine over the served index; questions are embedded by the index's
    ONNX encoder, so nothing here imports torch or sentence-transformers."""
    from threadpoolctl import threadpool_limits

    from parley.bot.answer import AnswerEngine
    from parley.index import ServedIndex

    # Answering multiplies small matrices (a hundred rows at most). Multi-threaded BLAS
    # costs more to wake its threads than the product itself, 10-20 ms on a busy 2-core
    # machine against 0.1 ms on one thread; questions run in parallel on their own threads.
    threadpool_limits(limits=1, user_api="blas")
    return AnswerEngine(ServedIndex(build_location(settings), encoder_threads=settings.query_threads,
                                    registry=registry))


def build_reindexer(settings: Settings, engine: AnswerEngine, feedback: FeedbackStore | None = None) -> Reindexer:
    """Re-indexing from a chat command, into the index ``engine`` serves."""
    from parley.index import Reindexer, ReindexJob

    job = ReindexJob(settings.corpus_dir, build_chunking(settings), settings.claim_labels)
    before = (lambda: sync_decisions(settings, feedback)) if feedback is not None else None
    return Reindexer(engine.served, build_embedder(settings), job, registry=engine.served.registry,
                     before_build=before)


def build_database(settings: Settings) -> Database:
    """The store every process shares: PostgreSQL when ``database_url`` is set, else the
    SQLite file ``feedback_db``."""
    from parley.bot.state.database import open_database

    url = settings.database_url.get_secret_value() if settings.database_url else None
    return open_database(url, settings.feedback_db)


def build_feedback(settings: Settings) -> FeedbackStore:
    """Votes on answers (and, through its database, cooldowns and de-duplication)."""
    from parley.bot.state.votes import FeedbackStore

    return FeedbackStore(build_database(settings))


def build_service(settings: Settings, *, local: bool = False) -> Service:
    """The one service a surface runs on. A shared surface (Discord, Slack) has the per-user
    cooldown and records answers for their vote buttons; the local console (``local``: one
    person, no buttons) has neither, and leaves the feedback file alone."""
    from parley.bot.service import Service
    from parley.index import VersionFollower

    feedback = None if local else build_feedback(settings)
    registry = build_registry(feedback) if feedback is not None else None
    engine = build_engine(settings, registry)
    reindexer = build_reindexer(settings, engine, feedback)
    follower = VersionFollower(engine.served, registry, reindexer) if registry is not None else None
    cooldown = 0.0 if local else settings.cooldown_seconds
    return Service(engine, reindexer, feedback, cooldown_seconds=cooldown, log_unanswered=settings.log_unanswered,
                   follower=follower)
