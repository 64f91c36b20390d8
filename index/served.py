"""The index being served: hot swap, following other processes, rebuilding while serving.

Questions are answered from one loaded version at a time. A re-index builds the next
version beside it and swaps it in with one assignment, so each question sees one version,
old or new, never a mix; a version another process published is picked up the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parley.index.errors import BuildLockedError, ParleyError
from parley.index.search import QueryEncoder, Retriever, SearchSettings
from parley.index.versions import IndexLocation

if TYPE_CHECKING:  # the build loads only when a re-index runs: answering never needs it
    from parley.index.build import BuildReport, ChunkSettings
    from parley.index.embed import Embedder

log = logging.getLogger(__name__)


class ServedIndex:
    """The index being served. A re-index swaps in a whole new ``Retriever`` with one
    assignment, so each question is answered from one version, old or new, never a mix.

    Questions are embedded by the version's own ONNX encoder (``query_encoder.py``), so
    serving never imports torch; a test or a benchmark may pass another ``encoder``.

    Several processes may serve one index directory (README, "Running several
    processes"): at most every ``follow_seconds`` a question checks where ``current``
    points (one ``readlink``), and a version published by another process is loaded in
    the background and swapped in, while questions go on being answered from the old one.
    """

    def __init__(self, location: IndexLocation, settings: SearchSettings = SearchSettings(), *,
                 encoder: QueryEncoder | None = None, encoder_threads: int = 0, follow_seconds: float = 2.0):
        self.location = location
        self.settings = settings
        self.encoder = encoder
        self.encoder_threads = encoder_threads
        self.follow_seconds = follow_seconds
        self._retriever: Retriever | None = None
        self._loading = threading.Lock()
        self._checked_at = time.monotonic()

    def retriever(self) -> Retriever:
        """The current retriever, loading the served version on first use."""
        retriever = self._retriever
        if retriever is None:
            with self._loading:
                if self._retriever is None:
                    self._retriever = self._load()
                    self._checked_at = time.monotonic()
                retriever = self._retriever
        elif time.monotonic() - self._checked_at >= self.follow_seconds:
            self._follow(retriever)
        return retriever

    def _follow(self, serving: Retriever) -> None:
        """Start loading the version ``current`` points at, if another process moved it."""
        self._checked_at = time.monotonic()
        try:
            published = self.location.current_version()
        except ParleyError:
            return  # keep serving what is loaded
        if published == serving.index.directory or not self._loading.acquire(blocking=False):
            return

        def load() -> None:
            try:
                if self._retriever is serving:
                    self._retriever = self._load()
            except ParleyError as error:  # a damaged version: keep the one being served
                log.warning("not following the index to %s: %s", published, error)
            finally:
                self._loading.release()

        threading.Thread(target=load, name="follow-index", daemon=True).start()

    def reload(self) -> None:
        """Load the version ``current`` points at now and serve it from the next question."""
        fresh = self._load()
        self._retriever = fresh
        self._checked_at = time.monotonic()

    def _load(self) -> Retriever:
        index = self.location.open()
        if self.encoder is not None:
            model = getattr(self.encoder, "info", None)
            if model is not None:
                index.check_model(model)
            return Retriever(index, self.encoder, self.settings)
        previous = self._retriever
        if previous is not None and getattr(previous.encoder, "record", None) == index.manifest.query_encoder:
            encoder = previous.encoder  # the same export: keep its loaded session
        else:
            encoder = index.query_encoder(self.encoder_threads)
        return Retriever(index, encoder, self.settings)


@dataclass(frozen=True)
class ReindexJob:
    corpus_dir: Path
    chunking: ChunkSettings
    claim_labels: Path | None


class Reindexer:
    def __init__(self, served: ServedIndex, embedder: Embedder, job: ReindexJob):
        self.served = served
        self.embedder = embedder
        self.job = job
        self._running = threading.Lock()

    def run(self) -> BuildReport:
        """Build incrementally and serve the result; one re-index at a time per process
        (and per index directory, through the build lock)."""
        if not self._running.acquire(blocking=False):
            raise BuildLockedError("A re-index is already running; its result will be served when it ends.")
        try:
            from parley.index.build import build_index

            report = build_index(
                self.job.corpus_dir,
                self.served.location,
                self.embedder,
                chunking=self.job.chunking,
                claim_labels=self.job.claim_labels,
            )
            if report.changed:
                self.served.reload()
            return report
        finally:
            self._running.release()
