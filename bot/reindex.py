"""Re-indexing while serving: build the new version, then swap it into the served index.

Questions keep being answered from the old version during the build; the swap is one
assignment in ``ServedIndex.reload``. Every surface (console, Discord, Slack) uses this.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from parley.bot.engine import ServedIndex
from parley.index.build import BuildReport, ChunkSettings, build_index
from parley.index.embed import Embedder
from parley.index.errors import BuildLockedError


@dataclass(frozen=True)
class ReindexJob:
    corpus_dir: Path
    chunking: ChunkSettings
    stance_labels: Path | None


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
            report = build_index(
                self.job.corpus_dir,
                self.served.location,
                self.embedder,
                chunking=self.job.chunking,
                stance_labels=self.job.stance_labels,
            )
            if report.changed:
                self.served.reload()
            return report
        finally:
            self._running.release()


def describe(report: BuildReport) -> str:
    """What a re-index changed, in one or two lines for a chat message."""
    if not report.changed:
        text = f"Index is up to date: {report.documents} documents, {report.passages} passages; nothing changed."
    else:
        text = (
            f"Re-indexed {report.documents} documents into {report.passages} passages in "
            f"{report.seconds:.1f} s: {report.embedded} new passages embedded, {report.reused} reused, "
            f"{report.removed} documents removed. Now serving the new index."
        )
    if report.problems:
        skipped = "; ".join(f"{p.file} ({p.reason})" for p in report.problems)
        text += f"\nSkipped: {skipped}."
    return text
