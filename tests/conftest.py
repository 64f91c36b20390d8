"""Shared fixtures: the real model (loaded once), the project's corpus, a built index.

Tests use real files, the real embedding model and real FAISS/BM25; the network is closed
to everything but this machine, so nothing can quietly reach a model hub.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# PARLEY_DATABASE_URL names a PostgreSQL server for the whole run (CI's second pass,
# `python -m tests.postgres -- pytest`): every test's shared store is then a fresh database
# there. It is taken out of the environment so that nothing reads it by accident.
SHARED_SERVER_URL = os.environ.pop("PARLEY_DATABASE_URL", None)

from parley.bot.answer import AnswerEngine  # noqa: E402
from parley.bot.state.database import Database, open_database  # noqa: E402
from parley.index.indexing.build import BuildReport, build_index  # noqa: E402
from parley.index.indexing.embed import Embedder, packaged_model_path  # noqa: E402
from parley.index.search.served import ServedIndex  # noqa: E402
from parley.index.store.versions import IndexLocation  # noqa: E402
from tests.helpers import CLAIM_LABELS, CORPUS_DIR  # noqa: E402


@pytest.fixture(autouse=True)
def _only_loopback(monkeypatch):
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or sock.family == socket.AF_UNIX
        ):
            raise ConnectionRefusedError(f"tests may not reach the network ({host})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once for the whole session."""
    return Embedder(packaged_model_path())


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder) -> tuple[Path, BuildReport]:
    """The project's corpus, built once; copy it before changing anything."""
    root = tmp_path_factory.mktemp("index")
    report = build_index(CORPUS_DIR, IndexLocation(root), embedder, claim_labels=CLAIM_LABELS)
    return root, report


@pytest.fixture(scope="session")
def engine(built_index) -> AnswerEngine:
    """The answer engine over the built index, embedding questions with the index's ONNX
    encoder as the product does (read-only: do not rebuild its folder)."""
    return AnswerEngine(ServedIndex(IndexLocation(built_index[0])))


@pytest.fixture
def index_copy(built_index, tmp_path) -> IndexLocation:
    """A private copy of the built index that a test may damage or rebuild."""
    root = tmp_path / "index"
    shutil.copytree(built_index[0], root, symlinks=True)
    return IndexLocation(root)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of the project's corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server of the suite's own (tests/postgres.py)."""
    from tests.postgres import PostgresServer, server_binaries

    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries: `pip install -e '.[test]'` installs them (pgserver)")
    server = PostgresServer(binaries)
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def database_url() -> str | None:
    """This test's shared store: ``None`` (a SQLite file of its own) or, when the run names
    a PostgreSQL server, a fresh database on it."""
    if SHARED_SERVER_URL is None:
        return None
    from tests.postgres import new_database

    return new_database(SHARED_SERVER_URL)


@pytest.fixture
def database(database_url, tmp_path) -> Database:
    store = open_database(database_url, tmp_path / "parley.sqlite3")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def each_database(request, tmp_path) -> Database:
    """The store on both engines, whatever the run: the same test runs against each."""
    url = request.getfixturevalue("postgres_server").new_database() if request.param == "postgresql" else None
    store = open_database(url, tmp_path / "parley.sqlite3")
    yield store
    store.close()
