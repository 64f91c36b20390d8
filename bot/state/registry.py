"""Which index version every host serves, agreed through the shared PostgreSQL database.

A build publishes its version's content digest (``Manifest.content_digest``: the hashes of
every file but the build time) in ``index_versions``; the newest row is the version to
serve. Each host keeps its own index directory, or shares one: a replica that sees a newer
digest either finds it already published in its directory (a shared volume) or builds it
from the same corpus, checks that its own build reached the same digest (builds are
deterministic), and only then swaps it in (``parley.index.search.served.VersionFollower``).

One build runs at a time across hosts: the build lock is a PostgreSQL advisory lock, which
the database releases by itself if the builder's connection drops.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from parley.bot.state.database import Database
from parley.index import BuildLockedError, PublishedVersion

BUILD_LOCK = "index-build"


class DatabaseRegistry:
    """``parley.index.store.versions.VersionRegistry`` over the shared database."""

    def __init__(self, database: Database, host: str | None = None):
        self._db = database
        self.host = host or socket.gethostname()

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        with self._db.exclusive(BUILD_LOCK) as taken:
            if not taken:
                raise BuildLockedError(
                    "Another index build is running on another host (the shared database's build lock "
                    "is taken). Wait for it to finish, then try again.")
            yield

    def publish(self, digest: str, passages: int) -> None:
        self._db.run("INSERT INTO index_versions (digest, passages, published_by, published_at) "
                     "VALUES (%s, %s, %s, %s)",
                     (digest, passages, self.host, datetime.now(UTC).isoformat(timespec="seconds")))

    def latest(self) -> PublishedVersion | None:
        rows = self._db.rows("SELECT id, digest, passages, published_by, published_at FROM index_versions "
                             "ORDER BY id DESC LIMIT 1")
        return PublishedVersion(*rows[0]) if rows else None

    def known(self, digest: str) -> bool:
        return bool(self._db.rows("SELECT 1 FROM index_versions WHERE digest = %s LIMIT 1", (digest,)))
