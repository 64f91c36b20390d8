"""Hosts agreeing on one index version through the shared database (bot/registry.py,
index/served.py's VersionFollower): each host has its own index directory and corpus."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from parley.bot.state.registry import DatabaseRegistry
from parley.index.errors import BuildLockedError, UnknownVersionError
from parley.index.indexing.build import ChunkSettings, build_index
from parley.index.search.served import Reindexer, ReindexJob, ServedIndex, VersionFollower
from parley.index.store.versions import IndexLocation
from tests.helpers import CORPUS_DIR, LUNAR_NOTE


def test_the_newest_published_version_is_the_one_to_serve(each_database):
    registry = DatabaseRegistry(each_database, host="host-a")
    assert registry.latest() is None and not registry.known("d1")
    registry.publish("d1", 100)
    registry.publish("d2", 120)
    latest = registry.latest()
    assert (latest.digest, latest.passages, latest.published_by) == ("d2", 120, "host-a")
    assert registry.known("d1") and registry.known("d2") and not registry.known("d3")


def test_one_build_at_a_time_across_hosts(postgres_server, tmp_path):
    from parley.bot.state.database import open_database

    url = postgres_server.new_database()
    first, second = (DatabaseRegistry(open_database(url, tmp_path / "unused"), host=h) for h in ("a", "b"))
    with first.build_lock():
        with pytest.raises(BuildLockedError, match="another host"):
            with second.build_lock():
                pass
    with second.build_lock():  # released when the first build ended
        pass


class Host:
    """One host: its own corpus, index directory and served index, and the shared registry."""

    def __init__(self, root: Path, built: Path, registry: DatabaseRegistry, embedder):
        self.corpus = root / "corpus"
        shutil.copytree(CORPUS_DIR, self.corpus)
        shutil.copytree(built, root / "index", symlinks=True)
        self.location = IndexLocation(root / "index")
        self.served = ServedIndex(self.location, registry=registry)
        job = ReindexJob(self.corpus, ChunkSettings(), self.corpus / "claim-labels.jsonl")
        self.reindexer = Reindexer(self.served, embedder, job, registry=registry)
        self.follower = VersionFollower(self.served, registry, self.reindexer)

    def digest(self) -> str:
        return self.served.retriever().index.manifest.content_digest


@pytest.fixture
def two_hosts(postgres_server, built_index, embedder, tmp_path):
    from parley.bot.state.database import open_database

    url = postgres_server.new_database()
    return [Host(tmp_path / name, built_index[0], DatabaseRegistry(open_database(url, tmp_path / "unused"), name),
                 embedder) for name in ("a", "b")]


def test_a_replica_builds_the_published_version_and_serves_it_once_its_digest_matches(two_hosts):
    a, b = two_hosts
    a.follower.check()  # the first host seeds the empty registry with what it serves
    assert a.served.registry.latest().digest == a.digest() == b.digest()
    for host in (a, b):  # the corpus changed on both hosts (e.g. both pulled it)
        (host.corpus / "extra.txt").write_text(LUNAR_NOTE, encoding="utf-8")
    old = b.digest()
    assert a.reindexer.run().changed
    published = a.served.registry.latest()
    assert published.digest == a.digest() != old
    assert b.digest() == old  # b answers from its old version until it has caught up
    b.follower.check()
    assert b.digest() == published.digest
    assert "lunar" in b.served.retriever().search("What would power a lunar research station?", 1)[0].passage.text


def test_a_replica_whose_corpus_differs_keeps_serving_its_version_and_says_why(two_hosts, caplog):
    a, b = two_hosts
    a.follower.check()
    (a.corpus / "extra.txt").write_text(LUNAR_NOTE, encoding="utf-8")  # only a's corpus changed
    a.reindexer.run()
    old = b.digest()
    b.follower.check()
    assert b.digest() == old
    assert "differ" in caplog.text and "Still serving the previous version" in caplog.text


def test_a_version_the_database_does_not_know_is_not_served(two_hosts):
    a, b = two_hosts
    a.follower.check()
    (b.corpus / "extra.txt").write_text(LUNAR_NOTE, encoding="utf-8")
    build_index(b.corpus, b.location, b.reindexer.embedder, claim_labels=b.corpus / "claim-labels.jsonl")
    stranger = ServedIndex(b.location, registry=a.served.registry)  # built here, never published
    with pytest.raises(UnknownVersionError, match="not a version the shared database knows"):
        stranger.retriever()


def test_a_build_publishes_before_it_swaps_and_a_held_lock_refuses_a_second(two_hosts):
    a, b = two_hosts
    a.follower.check()
    (a.corpus / "extra.txt").write_text(LUNAR_NOTE, encoding="utf-8")
    (b.corpus / "extra.txt").write_text(LUNAR_NOTE, encoding="utf-8")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with a.served.registry.build_lock():
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        with pytest.raises(BuildLockedError):
            b.reindexer.run()
    finally:
        release.set()
        holder.join()
    assert b.reindexer.run().changed
    assert b.served.registry.known(b.digest())
