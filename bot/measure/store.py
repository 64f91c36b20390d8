"""`parley bench`'s shared-store figures: what the store adds to a question's path, and how
many votes and de-duplication claims it takes a second from 200 concurrent Slack requests.

Each store is measured through the same ``Service`` the adapters call (cooldown check,
answer, answer recorded for its buttons), beside the same service without a store, in
one run. The PostgreSQL figures need a scratch database (``--database-url``): the bench
writes to its tables.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from parley.bot.measure.bench import Figure, percentile
from parley.bot.service import Service, User
from parley.bot.state.database import Database, open_database
from parley.bot.state.events import SeenEvents
from parley.bot.state.votes import FeedbackStore

SECTION = "shared store"
CONCURRENT_REQUESTS = 200
REQUESTS_EACH = 5  # each request: one de-duplication claim and one vote


def store_figures(engine, questions: list[str], database_url: str | None, passes: int = 3) -> list[Figure]:
    """Warm ask through the service with no store, the SQLite file and (with a URL)
    PostgreSQL; then writes a second under 200 concurrent requests on each store."""
    bare = Service(engine, None, None, cooldown_seconds=10)
    baseline = _ask_times(bare, questions, passes)
    figures = [Figure(SECTION, "ask p95 through the service, no store", "ms", percentile(baseline, 95))]
    with tempfile.TemporaryDirectory(prefix="parley-bench-store-") as scratch:
        stores = [("SQLite", open_database(None, Path(scratch) / "bench.sqlite3"))]
        if database_url:
            stores.append(("PostgreSQL", open_database(database_url, Path(scratch) / "unused")))
        for name, database in stores:
            times = _ask_times(Service(engine, None, FeedbackStore(database), cooldown_seconds=10), questions, passes)
            p95 = percentile(times, 95)
            figures.append(Figure(SECTION, f"ask p95 through the service, {name} store (beside: none)", "ms", p95,
                                  percentile(baseline, 95), "≤ 15 ms", p95 <= 15))
            figures.append(Figure(SECTION, f"added by the {name} store, p50", "ms",
                                  percentile(times, 50) - percentile(baseline, 50)))
            writes = _writes_per_second(database)
            figures.append(Figure(SECTION, f"votes + de-duplication, {CONCURRENT_REQUESTS} concurrent requests, "
                                           f"{name}", "writes/s", writes, lower_is_better=False))
            database.close()
    return figures


def _ask_times(service: Service, questions: list[str], passes: int) -> list[float]:
    """Each question from a new user (so every one passes the cooldown and is recorded)."""
    service.ask(User("bench", "warm-up"), questions[0])
    times = []
    for round_ in range(passes):
        for i, question in enumerate(questions):
            user = User("bench", f"u{time.monotonic_ns()}-{round_}-{i}")
            started = time.perf_counter()
            service.ask(user, question)
            times.append((time.perf_counter() - started) * 1000)
    return times


def _writes_per_second(database: Database) -> float:
    """200 threads at once, as a Slack worker's request threads: each claims its events
    (de-duplication) and votes on an answer."""
    feedback, seen = FeedbackStore(database), SeenEvents(database)
    answer = feedback.record_answer("slack", "bench question?", ["p1", "p2"])
    start = threading.Barrier(CONCURRENT_REQUESTS + 1)
    run = time.monotonic_ns()

    def request(n: int) -> None:
        start.wait()
        for i in range(REQUESTS_EACH):
            seen.claim(f"bench:{run}:{n}:{i}")
            feedback.record_vote(answer, "slack", f"U{n}", "up" if i % 2 else "down")

    threads = [threading.Thread(target=request, args=(n,)) for n in range(CONCURRENT_REQUESTS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return 2 * CONCURRENT_REQUESTS * REQUESTS_EACH / (time.perf_counter() - began)
