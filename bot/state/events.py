"""Chat events already taken: a retried or doubly delivered event is answered once, even
when a load balancer hands the copies to different processes or hosts; and the threads
Parley answers in, so that a follow-up there is a question for Parley."""

from __future__ import annotations

import time

from parley.bot.state.database import PRUNE_EVERY, Database

SEEN_FOR_SECONDS = 24 * 3600  # how long a claimed event or request key is remembered


class SeenEvents:
    """Chat events already taken, and the threads Parley answers in (so a follow-up there
    is a question for Parley), in the same store as the votes."""

    def __init__(self, database: Database):
        self._db = database
        self._claims = 0

    def claim(self, key: str) -> bool:
        """``True`` for the first caller with this key, in any process sharing the store."""
        now = time.time()
        taken = self._db.run("INSERT INTO seen_events (key, at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                             (key, now)) == 1
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:  # Slack stops retrying within hours: keep a day
            self._db.run("DELETE FROM seen_events WHERE at < %s", (now - SEEN_FOR_SECONDS,))
        return taken

    def remember_thread(self, key: str) -> None:
        self._db.run("INSERT INTO our_threads (key, at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                     (key, time.time()))

    def is_our_thread(self, key: str) -> bool:
        return bool(self._db.rows("SELECT 1 FROM our_threads WHERE key = %s", (key,)))
