"""The index directory: whole versions side by side, and a ``current`` link to the served one.

    <index dir>/
      current -> versions/20261125T031500Z-1a2b3c4d     (relative symlink)
      versions/20261125T031500Z-1a2b3c4d/               (a complete index, see store.py)
      versions/.20261125T040000Z-5e6f7a8b.tmp/          (a build in progress)
      .build.lock

A build writes a new version under a hidden temporary name, fsyncs it, renames it into
place and then replaces ``current`` with one atomic ``rename(2)``. A reader resolves
``current`` once and reads that version, so it sees the old index or the new one, never a
mix; a build killed at any moment leaves ``current`` pointing at a whole version.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from parley.index.errors import BuildLockedError, NoIndexError
from parley.index.store.manifest import Manifest, read_manifest, verify_contents
from parley.index.store.version import LoadedIndex, fsync_directory, load_index

CURRENT = "current"
VERSIONS = "versions"
LOCK = ".build.lock"
# The served version and the one before it: a reader that resolved ``current`` just
# before a swap is still reading the previous one.
KEEP_VERSIONS = 2


@dataclass(frozen=True)
class PublishedVersion:
    """A version a build published for every host (``VersionRegistry``)."""

    number: int  # increasing: the highest is the one to serve
    digest: str  # Manifest.content_digest
    passages: int
    published_by: str  # the host name of the process that built it
    published_at: str


class VersionRegistry(Protocol):
    """Where hosts that may not share a file system agree on the version to serve (the
    shared database's ``index_versions``; parley.bot.state.registry). The ``current`` link is
    then each host's own copy of that agreement."""

    def build_lock(self) -> AbstractContextManager[None]:
        """One build across every host; raises ``BuildLockedError`` when another holds it."""
        ...

    def publish(self, digest: str, passages: int) -> None: ...

    def latest(self) -> PublishedVersion | None: ...

    def known(self, digest: str) -> bool: ...


class IndexLocation:
    """Where the index lives, and the only code that moves its ``current`` link."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def versions_dir(self) -> Path:
        return self.root / VERSIONS

    def current_version(self) -> Path:
        """The directory of the served version; ``NoIndexError`` when there is none."""
        link = self.root / CURRENT
        if not link.is_symlink() and not link.exists():
            raise NoIndexError(f"No index at {self.root}. Run `parley index build` first.")
        target = link.resolve()
        if not target.is_dir():
            raise NoIndexError(
                f"The index link {link} points at {target}, which does not exist. "
                "Run `parley index build --full`."
            )
        return target

    def current_manifest(self) -> Manifest:
        """The served version's manifest, once every file it lists matches its hash."""
        version = self.current_version()
        manifest = read_manifest(version)
        verify_contents(version, manifest)
        return manifest

    def open(self) -> LoadedIndex:
        """Load the served version whole."""
        return load_index(self.current_version())

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        """Hold the build lock; a second build is told clearly that one is running."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / LOCK).open("a+")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise BuildLockedError(
                    f"Another index build is running on {self.root} (pid {holder}). "
                    "Wait for it to finish, then try again."
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.close()  # closing releases the lock, also when the process is killed

    def new_version_path(self) -> Path:
        """A fresh, hidden directory name for a build in progress (not created yet)."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self.versions_dir / f".{stamp}-{uuid.uuid4().hex[:8]}.tmp"

    def publish(self, staged: Path) -> Path:
        """Move a complete, fsynced version into place and make it the served one."""
        final = staged.with_name(staged.name.removeprefix(".").removesuffix(".tmp"))
        os.rename(staged, final)
        fsync_directory(self.versions_dir)
        link_tmp = self.root / f".{CURRENT}.{final.name}.tmp"
        os.symlink(f"{VERSIONS}/{final.name}", link_tmp)
        os.replace(link_tmp, self.root / CURRENT)
        fsync_directory(self.root)
        return final

    def collect_garbage(self) -> None:
        """Delete old versions and leftovers of killed builds (call under the build lock)."""
        current = self.current_version()
        for leftover in self.root.glob(f".{CURRENT}.*.tmp"):
            leftover.unlink(missing_ok=True)
        if not self.versions_dir.is_dir():
            return
        staged = [p for p in self.versions_dir.iterdir() if p.name.startswith(".")]
        complete = sorted(
            (p for p in self.versions_dir.iterdir() if not p.name.startswith(".")),
            key=lambda p: p.name,
        )
        keep = {current, *complete[-KEEP_VERSIONS:]}
        for path in staged + [p for p in complete if p not in keep]:
            shutil.rmtree(path, ignore_errors=True)
