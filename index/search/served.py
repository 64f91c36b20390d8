"""The index being served: hot swap, following other processes, rebuilding while serving.

Questions are answered from one loaded version at a time. A re-index builds the next
version beside it and swaps it in with one assignment, so each question sees one version,
old or new, never a mix; a version another process published is picked up the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parley.index.errors import (
    BuildLockedError,
    NoIndexError,
    ParleyError,
    UnknownVersionError,
    VersionMismatchError,
)
from parley.index.search.retriever import QueryEncoder, Retriever, SearchSettings
from parley.index.store.versions import IndexLocation, VersionRegistry

if TYPE_CHECKING:  # the build loads only when a re-index runs: answering never needs it
    from parley.index.indexing.build import BuildReport, ChunkSettings
    from parley.index.indexing.embed import Embedder

log = logging.getLogger(__name__)


class ServedIndex:
    """The index being served. A re-index swaps in a whole new ``Retriever`` with one
    assignment, so each question is answered from one version, old or new, never a mix.

    Questions are embedded by the version's own ONNX encoder (``query_encoder.py``), so
    serving never imports torch; a test or a benchmark may pass another ``encoder``.

    Several processes may serve one index directory (docs/multi-host.md): at most every ``follow_seconds`` a question checks where ``current``
    points (one ``readlink``), and a version published by another process is loaded in
    the background and swapped in, while questions go on being answered from the old one.
    """

    def __init__(self, location: IndexLocation, settings: SearchSettings = SearchSettings(), *,
                 encoder: QueryEncoder | None = None, encoder_threads: int = 0, follow_seconds: float = 2.0,
                 registry: VersionRegistry | None = None):
        self.location = location
        self.registry = registry  # hosts sharing a database: serve only versions it knows
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
        if self.registry is not None:
            self._check_known(index.manifest.content_digest)
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


    def _check_known(self, digest: str) -> None:
        """Refuse a version the shared database does not know (e.g. built here from another
        corpus); the ``VersionFollower`` then builds the one it names. An empty registry
        knows nothing yet: the follower seeds it with this version. When the database
        cannot be asked, the version is served, and checked again once it is back."""
        try:
            known = self.registry is None or self.registry.latest() is None or self.registry.known(digest)
        except ParleyError as error:
            log.warning("serving index version %s unchecked: %s", digest[:12], error)
            return
        if not known:
            raise UnknownVersionError(
                f"The index at {self.location.root} (version {digest[:12]}) is not a version the shared "
                "database knows; this process catches up with the published one.")


@dataclass(frozen=True)
class ReindexJob:
    corpus_dir: Path
    chunking: ChunkSettings
    claim_labels: Path | None


class Reindexer:
    """Re-indexing from a chat command, into the index this process serves. With a
    ``registry`` (hosts sharing a database), a build publishes its version for every host,
    and ``catch_up`` builds a version another host published."""

    def __init__(self, served: ServedIndex, embedder: Embedder, job: ReindexJob,
                 registry: VersionRegistry | None = None,
                 before_build: Callable[[], None] | None = None):
        self.served = served
        self.embedder = embedder
        self.job = job
        self.registry = registry
        self.before_build = before_build  # e.g. bring the labels file up to date with the database
        self._running = threading.Lock()

    def run(self) -> BuildReport:
        """Build incrementally and serve the result; one re-index at a time per process
        (and per index directory, through the build lock; across hosts, the registry's)."""
        return self._build(None)

    def catch_up(self, digest: str) -> BuildReport:
        """Build the version another host published, from this host's corpus; served only
        if it reaches ``digest`` (``VersionMismatchError`` otherwise)."""
        return self._build(digest)

    def _build(self, expect_digest: str | None) -> BuildReport:
        if not self._running.acquire(blocking=False):
            raise BuildLockedError("A re-index is already running; its result will be served when it ends.")
        try:
            from parley.index.indexing.build import build_index

            if self.before_build is not None:
                self.before_build()
            report = build_index(
                self.job.corpus_dir,
                self.served.location,
                self.embedder,
                chunking=self.job.chunking,
                claim_labels=self.job.claim_labels,
                registry=self.registry,
                expect_digest=expect_digest,
            )
            if report.changed or expect_digest is not None:
                self.served.reload()
            return report
        finally:
            self._running.release()


class VersionFollower:
    """Keeps this host on the version the registry names (hosts sharing a database).

    Every ``every_seconds``, one query asks the registry for the newest published version.
    When it is not the one served: if this host's ``current`` already points at it (a
    shared volume, or another process here built it), it is loaded and swapped in; else it
    is built from this host's corpus (``Reindexer.catch_up``), checked against the
    published digest, and swapped in. Questions are answered from the old version
    meanwhile. While the database is unreachable, nothing changes and the next check
    tries again.
    """

    def __init__(self, served: ServedIndex, registry: VersionRegistry, reindexer: Reindexer | None, *,
                 every_seconds: float = 2.0):
        self.served = served
        self.registry = registry
        self.reindexer = reindexer
        self.every_seconds = every_seconds
        self._failed: str | None = None  # the digest a catch-up could not reach: not retried
        self._stop = threading.Event()

    def check(self) -> None:
        """One look at the registry; catches up if needed (blocking)."""
        try:
            latest = self.registry.latest()
            try:
                serving = self.served.retriever().index.manifest
            except NoIndexError:  # none here yet, or one the database does not know
                serving = None
            if latest is None:  # nothing published yet: the first host seeds the database
                if serving is not None:
                    self.registry.publish(serving.content_digest, serving.passage_count)
                return
            if latest.digest == self._failed or (serving is not None and latest.digest == serving.content_digest):
                return
            try:
                here = self.served.location.current_manifest().content_digest
            except ParleyError:
                here = None
            if here == latest.digest:
                self.served.reload()
            elif self.reindexer is not None:
                log.warning("catching up with index version %s (%s passages) published by %s",
                            latest.digest[:12], latest.passages, latest.published_by)
                self.reindexer.catch_up(latest.digest)
            else:
                self._failed = latest.digest
                log.warning("index version %s was published, but this process cannot build it", latest.digest[:12])
        except BuildLockedError:
            pass  # a build runs here: look again next time
        except VersionMismatchError as error:
            self._failed = latest.digest
            log.error("%s", error)
        except ParleyError as error:  # the database unreachable, no index yet, …
            log.debug("not following the registry this time: %s", error)

    def start(self) -> None:
        """Check now, then every ``every_seconds`` on a daemon thread."""
        self.check()

        def loop() -> None:
            while not self._stop.wait(self.every_seconds):
                self.check()

        threading.Thread(target=loop, name="follow-registry", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
