"""Where Parley's processes keep what they share: one SQLite file (the default) or a
PostgreSQL database (``database_url``), behind one small interface.

Votes and the answers they refer to, chat events already taken, per-user cooldowns, the
framing decisions of curators and the index versions builds published all live in the
same tables on both engines; the statements that use them (``feedback.py``,
``registry.py``) are written once, with ``%s`` parameters, and run unchanged on either.
Every statement is parameterised: nothing from a message is ever spliced into SQL.

**SQLite** needs a local disk (or a file system with working POSIX locks): every process
on one host opens the same file, in WAL mode, and waits for the others instead of
failing. Parley creates it readable by its own user only (0600; SQLite gives its -wal and
-shm files the same mode), in a folder of mode 0700 when it makes the folder.

**PostgreSQL** is for processes on several hosts. Each process keeps a small pool of
connections (psycopg 3); a connection is checked as it is taken, so one broken by a
database restart is replaced rather than failed on. While the database cannot be
reached, every use fails at once with ``StoreUnavailable`` for a few seconds (rather than
making each question wait for a connect timeout); callers degrade (an answer without
vote buttons, an event answered without the de-duplication check, a cooldown kept in
this process) and the next use after the pause tries again. One warning is logged when
the database goes away and one line when it is back.

The schema is created and migrated by Parley, in one transaction under a lock, and its
version is recorded in ``parley_schema``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from parley.index import ParleyError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]
RETRY_AFTER_SECONDS = 3.0  # after a failed use, how long every use fails at once
CONNECT_TIMEOUT_SECONDS = 1  # a question never waits longer than this for the database
PRUNE_EVERY = 500  # uses of a table of keys between two deletions of its older keys
POOL_SIZE = 8  # connections per process: answers and Slack's acks run on a few threads each

# Each migration takes the schema from the version before it to its own number (its index
# + 1). ``{id}`` is an auto-numbered primary key in each engine's words.
MIGRATIONS: tuple[str, ...] = (
    # 1: sent answers, votes, kept unanswered questions; chat events already taken and the
    # threads Parley answers in.
    """
    CREATE TABLE IF NOT EXISTS answers (
        answer_id   TEXT PRIMARY KEY,
        platform    TEXT NOT NULL,
        question    TEXT NOT NULL,
        passage_ids TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS unanswered (
        id          {id},
        platform    TEXT NOT NULL,
        question    TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS votes (
        id          {id},
        answer_id   TEXT NOT NULL REFERENCES answers(answer_id),
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        vote        TEXT NOT NULL CHECK (vote IN ('up', 'down', 'wrong_framing')),
        passage_id  TEXT,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
    CREATE TABLE IF NOT EXISTS our_threads (key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL)
    """,
    # 2: one vote per user, answer and slot (a rating, or "wrong framing" on one quote),
    # held by the database, so two processes taking one user's clicks at once cannot both
    # insert; cooldowns every process sees; curators' framing decisions; the index
    # versions builds published, for replicas on other hosts.
    """
    ALTER TABLE votes ADD COLUMN slot TEXT;
    UPDATE votes SET slot = CASE WHEN vote = 'wrong_framing' THEN 'framing:' || COALESCE(passage_id, '')
                                 ELSE 'rating' END;
    DELETE FROM votes WHERE id NOT IN (SELECT MAX(id) FROM votes GROUP BY answer_id, platform, user_id, slot);
    CREATE UNIQUE INDEX votes_one_per_slot ON votes (answer_id, platform, user_id, slot);
    CREATE TABLE cooldowns (user_key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
    CREATE TABLE claim_decisions (
        claim_key   TEXT PRIMARY KEY,
        line        TEXT NOT NULL,
        decided_at  TEXT NOT NULL
    );
    CREATE TABLE index_versions (
        id           {id},
        digest       TEXT NOT NULL,
        passages     INTEGER NOT NULL,
        published_by TEXT NOT NULL,
        published_at TEXT NOT NULL
    )
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_KEY_COLUMN = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
}


class StoreUnavailable(ParleyError):
    """The shared database cannot be used right now (unreachable, or locked too long)."""


class Statements(Protocol):
    """What a transaction can do: run a statement, or fetch its rows."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...


class Database(Statements, Protocol):
    """One shared store. Each ``run``/``rows`` is its own transaction (autocommit);
    ``transaction()`` groups several."""

    dialect: Dialect
    where: str  # for messages and logs: the file, or the URL without its password

    def transaction(self) -> Any: ...  # a context manager yielding ``Statements``

    def exclusive(self, name: str) -> Any: ...  # a context manager: True if the lock was taken

    def close(self) -> None: ...


def open_database(url: str | None, sqlite_path: Path) -> Database:
    """The store ``url`` names (``postgresql://…``), or the SQLite file when it is empty."""
    if not url:
        return SqliteDatabase(sqlite_path)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url)
    scheme = url.split(":", 1)[0]
    raise ParleyError(f"database_url must start with postgresql:// (it starts with {scheme}:). "
                      "Leave it empty to keep the shared state in the SQLite file feedback_db.")


def _statements(script: str, dialect: Dialect) -> list[str]:
    script = script.replace("{id}", _KEY_COLUMN[dialect])
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _lock_key(name: str) -> int:
    """A stable 63-bit advisory-lock key for ``name`` (PostgreSQL locks are numbered)."""
    return int.from_bytes(hashlib.sha256(f"parley:{name}".encode()).digest()[:8], "big") >> 1


# -- SQLite --------------------------------------------------------------------------------

class _SqliteStatements:
    def __init__(self, connection: sqlite3.Connection):
        self._db = connection

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db.execute(sql.replace("%s", "?"), tuple(params)).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._db.execute(sql.replace("%s", "?"), tuple(params)).fetchall()


class SqliteDatabase:
    """The SQLite file every process on one host shares."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)
        self._lock = threading.RLock()
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # an existing file keeps its mode
        # Autocommit: each statement is its own transaction, so no process holds the write
        # lock for long; a busy timeout, so processes wait for each other instead of failing.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._statements = _SqliteStatements(self._db)
        self._exclusive: dict[str, Any] = {}
        with self.transaction() as statements:
            _migrate(statements, self.dialect, f"the SQLite file {path}")

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock, _sqlite_errors():
            return self._statements.run(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock, _sqlite_errors():
            return self._statements.rows(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """Statements that commit together; ``BEGIN IMMEDIATE`` takes the write lock first,
        so two processes' transactions queue instead of failing half-way."""
        with self._lock, _sqlite_errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._statements
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Only PostgreSQL locks across hosts; on one host the index's file lock serves."""
        yield True

    def close(self) -> None:
        with self._lock:
            self._db.close()  # a second close does nothing


@contextmanager
def _sqlite_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as error:  # locked past the busy timeout, disk full, …
        raise StoreUnavailable(f"The shared SQLite file cannot be used: {error}") from error


# -- PostgreSQL ----------------------------------------------------------------------------

class _PostgresStatements:
    def __init__(self, connection: psycopg.Connection):
        self._db = connection

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db.execute(sql, tuple(params)).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._db.execute(sql, tuple(params)).fetchall()


class PostgresDatabase:
    """A PostgreSQL database shared by processes on any number of hosts."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str):
        from psycopg_pool import ConnectionPool

        self.url = url  # with its password: for this process's own children, never for a log
        # The pool logs every failed reconnection attempt; one warning per outage (below)
        # says the same without flooding the log.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        self.where = _without_password(url)
        self._pool = ConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, open=False, timeout=CONNECT_TIMEOUT_SECONDS,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            check=ConnectionPool.check_connection, name="parley",
        )
        self._pool.open(wait=False)
        self._down_until = 0.0
        self._down = False
        self._state = threading.Lock()
        self._migrated = False

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        import psycopg
        from psycopg_pool import PoolTimeout

        if time.monotonic() < self._down_until:
            raise StoreUnavailable(f"The shared database {self.where} is unreachable; retrying shortly.")
        try:
            with self._pool.connection() as connection:
                if not self._migrated:
                    self._migrate(connection)
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as error:
            with self._state:
                self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
                if not self._down:
                    self._down = True
                    log.warning("the shared database %s is unreachable (%s); votes, de-duplication and "
                                "cooldowns degrade until it is back", self.where, str(error).strip() or type(error).__name__)
            raise StoreUnavailable(f"The shared database {self.where} is unreachable: {error}") from error
        if self._down:
            with self._state:
                if self._down:
                    self._down = False
                    log.warning("the shared database %s is reachable again", self.where)

    def _migrate(self, connection: psycopg.Connection) -> None:
        import psycopg

        try:
            with connection.transaction():
                # One process migrates at a time; the others wait here, then see it done.
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("schema"),))
                _migrate(_PostgresStatements(connection), self.dialect, f"the database {self.where}")
        except (psycopg.ProgrammingError, psycopg.DataError) as error:  # e.g. no right to create tables
            raise ParleyError(f"Parley could not create or migrate its tables in {self.where}: "
                              f"{str(error).strip()}. Give its database user the right to create tables "
                              "in that database (docs/multi-host.md).") from error
        self._migrated = True

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._connection() as connection:
            return _PostgresStatements(connection).run(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connection() as connection:
            return _PostgresStatements(connection).rows(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        with self._connection() as connection, connection.transaction():
            yield _PostgresStatements(connection)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """A session advisory lock on its own connection, held while the block runs: one
        holder across every host. The database releases it if the holder's connection
        drops (the process killed, its host gone), so it is never left behind."""
        import psycopg

        with self._connection() as connection:
            key = _lock_key(name)
            taken = bool(connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0])
            try:
                yield taken
            finally:
                if taken and not connection.closed:
                    try:
                        connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
                    except psycopg.Error:
                        pass  # the connection broke: the database released the lock with it

    def close(self) -> None:
        self._pool.close()


def _without_password(url: str) -> str:
    """The URL as logs and messages may show it: a password never leaves the process."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


# -- schema ----------------------------------------------------------------------------------

def _migrate(statements: Statements, dialect: Dialect, where: str) -> None:
    """Bring the schema to ``SCHEMA_VERSION`` (call inside a transaction that holds a lock)."""
    statements.run("CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER NOT NULL)")
    found = statements.rows("SELECT version FROM parley_schema")
    version = found[0][0] if found else 0
    if version > SCHEMA_VERSION:
        raise ParleyError(f"The schema of {where} is version {version}, newer than this Parley "
                          f"knows ({SCHEMA_VERSION}). Upgrade Parley on this host.")
    for number in range(version, SCHEMA_VERSION):
        for statement in _statements(MIGRATIONS[number], dialect):
            statements.run(statement)
    if not found:
        statements.run("INSERT INTO parley_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
    elif version < SCHEMA_VERSION:
        statements.run("UPDATE parley_schema SET version = %s", (SCHEMA_VERSION,))


def schema_version(database: Database) -> int:
    return int(database.rows("SELECT version FROM parley_schema")[0][0])
