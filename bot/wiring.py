"""Settings in, Parley's long-lived objects out: built once at the edge and passed in.

Nothing here runs at import: ``import parley.bot.wiring`` stays cheap, and each builder
imports only what its object needs (the answer engine never imports torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.bot.settings import Settings

if TYPE_CHECKING:
    from parley.bot.answer import AnswerEngine
    from parley.index.embed import Embedder
    from parley.index.served import Reindexer


def build_embedder(settings: Settings) -> "Embedder":
    """The build-time embedder; its model loads only when something is embedded."""
    from parley.index.embed import Embedder, packaged_model_path

    return Embedder(settings.model_path or packaged_model_path(), batch_size=settings.embed_batch_size)


def build_engine(settings: Settings) -> "AnswerEngine":
    """The answer engine over the served index; questions are embedded by the index's
    ONNX encoder, so nothing here imports torch or sentence-transformers."""
    from parley.bot.answer import AnswerEngine
    from parley.index.served import ServedIndex
    from parley.index.versions import IndexLocation

    return AnswerEngine(ServedIndex(IndexLocation(settings.index_dir), encoder_threads=settings.query_threads))


def build_reindexer(settings: Settings, engine: "AnswerEngine") -> "Reindexer":
    """Re-indexing from a chat command, into the index ``engine`` serves."""
    from parley.index.build import ChunkSettings
    from parley.index.served import ReindexJob, Reindexer

    job = ReindexJob(settings.corpus_dir, ChunkSettings(settings.chunk_min_words, settings.chunk_max_words),
                     settings.stance_labels)
    return Reindexer(engine.served, build_embedder(settings), job)
