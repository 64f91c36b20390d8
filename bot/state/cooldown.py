"""The per-user gap between questions, whichever process or host takes them."""

from __future__ import annotations

import threading
import time

from parley.bot.state.database import PRUNE_EVERY, Database, StoreUnavailable


class SharedCooldown:
    """Per-user minimum gap between questions, across every process sharing the store: a
    user whose questions a load balancer spreads over workers still waits. While the store
    is unreachable, each process keeps the gap on its own (a user may then ask once per
    process within the gap) and says so once in the log."""

    def __init__(self, seconds: float, database: Database | None):
        self.seconds = seconds
        self._db = database
        self._local: dict[str, float] = {}
        self._lock = threading.Lock()
        self._admitted = 0

    def wait(self, user_key: str) -> float:
        """Seconds the user still has to wait (0 when they may ask now, which starts the clock)."""
        if self.seconds <= 0:
            return 0.0
        now = time.time()  # wall-clock time: hosts compare it (keep their clocks in sync, e.g. NTP)
        if self._db is not None:
            try:
                return self._shared_wait(user_key, now)
            except StoreUnavailable:
                pass  # logged by the store; keep the gap in this process meanwhile
        with self._lock:
            remaining = self._local.get(user_key, -1e18) + self.seconds - now
            if remaining > 0:
                return remaining
            self._local[user_key] = now
        return 0.0

    def _shared_wait(self, user_key: str, now: float) -> float:
        assert self._db is not None
        # One statement: start the clock if the gap has passed, and say whether it did.
        started = self._db.rows(
            "INSERT INTO cooldowns (user_key, at) VALUES (%s, %s) ON CONFLICT (user_key) "
            "DO UPDATE SET at = excluded.at WHERE cooldowns.at <= %s RETURNING at",
            (user_key, now, now - self.seconds))
        self._admitted += 1
        if self._admitted % PRUNE_EVERY == 0:
            self._db.run("DELETE FROM cooldowns WHERE at < %s", (now - self.seconds,))
        if started:
            return 0.0
        last = self._db.rows("SELECT at FROM cooldowns WHERE user_key = %s", (user_key,))
        return max(0.0, float(last[0][0]) + self.seconds - now) if last else 0.0
