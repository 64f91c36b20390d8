"""Settings in, Parley's long-lived objects out: built once at the edge and passed in.

Nothing here runs at import: ``import parley.bot.wiring`` stays cheap, and each builder
imports only what its object needs (the answer engine never imports torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.bot.settings import Settings

if TYPE_CHECKING:
    from parley.bot.answer import AnswerEngine
    from parley.bot.feedback import FeedbackStore
    from parley.bot.service import Service
    from parley.index.build import BuildReport, ChunkSettings
    from parley.index.embed import Embedder
    from parley.index.served import Reindexer
    from parley.index.versions import IndexLocation


def build_embedder(settings: Settings) -> Embedder:
    """The build-time embedder; its model loads only when something is embedded."""
    from parley.index.embed import Embedder, packaged_model_path

    return Embedder(settings.model_path or packaged_model_path(), batch_size=settings.embed_batch_size)


def build_location(settings: Settings) -> IndexLocation:
    """The index folder: its versions and the ``current`` link."""
    from parley.index.versions import IndexLocation

    return IndexLocation(settings.index_dir)


def build_chunking(settings: Settings) -> ChunkSettings:
    from parley.index.build import ChunkSettings

    return ChunkSettings(settings.chunk_min_words, settings.chunk_max_words)


def index_corpus(settings: Settings, *, full: bool = False, strict: bool = False,
                 show_progress: bool = False) -> BuildReport:
    """``parley index build``: the corpus into a new served version (incremental unless ``full``)."""
    from parley.index.build import build_index

    return build_index(settings.corpus_dir, build_location(settings), build_embedder(settings), full=full,
                       chunking=build_chunking(settings), claim_labels=settings.claim_labels, strict=strict,
                       show_progress=show_progress)


def build_engine(settings: Settings) -> AnswerEngine:
    """The answer engine over the served index; questions are embedded by the index's
    ONNX encoder, so nothing here imports torch or sentence-transformers."""
    from threadpoolctl import threadpool_limits

    from parley.bot.answer import AnswerEngine
    from parley.index.served import ServedIndex

    # Answering multiplies small matrices (a hundred rows at most). Multi-threaded BLAS
    # costs more to wake its threads than the product itself, 10-20 ms on a busy 2-core
    # machine against 0.1 ms on one thread; questions run in parallel on their own threads.
    threadpool_limits(limits=1, user_api="blas")
    return AnswerEngine(ServedIndex(build_location(settings), encoder_threads=settings.query_threads))


def build_reindexer(settings: Settings, engine: AnswerEngine) -> Reindexer:
    """Re-indexing from a chat command, into the index ``engine`` serves."""
    from parley.index.served import Reindexer, ReindexJob

    job = ReindexJob(settings.corpus_dir, build_chunking(settings), settings.claim_labels)
    return Reindexer(engine.served, build_embedder(settings), job)


def build_feedback(settings: Settings) -> FeedbackStore:
    """Votes on answers, in the SQLite file every bot process shares."""
    from parley.bot.feedback import FeedbackStore

    return FeedbackStore(settings.feedback_db)


def build_service(settings: Settings, *, local: bool = False) -> Service:
    """The one service a surface runs on. A shared surface (Discord, Slack) has the per-user
    cooldown and records answers for their vote buttons; the local console (``local``: one
    person, no buttons) has neither, and leaves the feedback file alone."""
    from parley.bot.service import Service

    engine = build_engine(settings)
    feedback = None if local else build_feedback(settings)
    cooldown = 0.0 if local else settings.cooldown_seconds
    return Service(engine, build_reindexer(settings, engine), feedback, cooldown_seconds=cooldown,
                   log_unanswered=settings.log_unanswered)
