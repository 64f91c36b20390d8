"""Guards shared by the chat adapters: per-user cooldown, and one answer per question.

``SeenEvents`` lives in the same SQLite file as the feedback store, so several bot
processes behind a load balancer still answer a retried or doubly delivered event once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from parley.index.errors import IndexUnreadableError, NoIndexError, ParleyError

APOLOGY = "Sorry, something went wrong while answering. The error has been logged; please try again."
NO_INDEX = "I can't answer yet: the corpus index is missing or damaged. An admin can run /reindex."


def user_message(error: Exception) -> str:
    """What a chat user is told when answering failed (the trace goes to the log)."""
    if isinstance(error, (NoIndexError, IndexUnreadableError)):
        return NO_INDEX
    if isinstance(error, ParleyError):
        return str(error)
    return APOLOGY


@dataclass
class Cooldown:
    seconds: float
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, user_id: str | int) -> float:
        """Seconds the user still has to wait (0 when they may ask now, which starts the clock)."""
        now = time.monotonic()
        with self._lock:
            remaining = self._last.get(str(user_id), -1e9) + self.seconds - now
            if remaining > 0:
                return remaining
            self._last[str(user_id)] = now
        return 0.0


class SeenEvents:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS our_threads (key TEXT PRIMARY KEY, at REAL NOT NULL)")

    def claim(self, key: str) -> bool:
        """``True`` for the first caller with this key, in any process sharing the file."""
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)", (key, time.time()))
        return cursor.rowcount == 1

    def remember_thread(self, key: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO our_threads (key, at) VALUES (?, ?)", (key, time.time()))

    def is_our_thread(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM our_threads WHERE key = ?", (key,)).fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()
