"""Broken files, full disks, killed builds, hot swaps and replicas: the served index keeps\nanswering and loses nothing."""

import json
import random
import resource
import signal
import subprocess
import time

import pytest

from parley.index.indexing.build import build_index
from tests.helpers import CLAIM_LABELS, CORPUS_DIR, PARLEY, run_parley


def write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


BAD_FILES = {
    "empty.txt": b"",
    "latin1.txt": "---\ntitle: Caf\xe9\n---\nCaf\xe9 text.".encode("latin-1"),
    "binary.txt": b"---\ntitle: B\n---\n\x00\x01\x02PNG",
    "no-metadata.txt": "Just text without a header.",
    "bad-metadata.txt": "---\ntitle A title without a colon\n---\nText.",
    "duplicate.txt": None,  # filled with another document's text
    "huge.txt": None,  # 50 MB
}


@pytest.fixture
def bad_corpus(corpus_copy):
    for name, content in BAD_FILES.items():
        if name == "duplicate.txt":
            content = (corpus_copy / "axios-sanders-splits-with-washington.txt").read_bytes().replace(b"publisher: Axios", b"publisher: Copy")
        if name == "huge.txt":
            content = b"---\ntitle: Huge\n---\n" + b"A sentence about chips. " * (50 * 1024 * 1024 // 24)
        write(corpus_copy / name, content)
    return corpus_copy


def test_each_bad_file_is_named_with_its_reason_and_the_rest_is_indexed(index_copy, bad_corpus):
    result = run_parley("index", "build", "--index", str(index_copy.root), "--corpus", str(bad_corpus), "--json")
    assert result.returncode == 0, result.stderr
    expected = {"empty.txt": "empty", "latin1.txt": "not valid UTF-8", "binary.txt": "binary file",
                "no-metadata.txt": "missing metadata", "bad-metadata.txt": "not 'key: value'",
                "duplicate.txt": "duplicate", "huge.txt": "MB limit"}
    lines = result.stderr.splitlines()
    for name, reason in expected.items():
        assert any(line.startswith(f"parley: skipped {name}:") and reason in line for line in lines), name
    assert json.loads(result.stdout)["documents"] == 5
    assert "Traceback" not in result.stderr


def test_strict_build_fails_and_leaves_the_served_index_as_it_was(index_copy, bad_corpus):
    before = index_copy.current_version()
    result = run_parley("index", "build", "--strict", "--index", str(index_copy.root), "--corpus", str(bad_corpus))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "--strict" in result.stderr and "huge.txt" in result.stderr
    assert index_copy.current_version() == before
    index_copy.open()


def test_a_full_disk_during_a_build_fails_cleanly_and_keeps_the_served_index(index_copy):
    before = index_copy.current_version()

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    result = subprocess.run([str(PARLEY), "index", "build", "--full", "--index", str(index_copy.root)],
                            capture_output=True, text=True, timeout=300, preexec_fn=small_disk)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "served index is unchanged" in result.stderr and "Traceback" not in result.stderr
    assert index_copy.current_version() == before
    assert list(index_copy.versions_dir.glob(".*.tmp")) == []
    index_copy.open()


def test_many_sigkills_at_random_moments_never_lose_the_served_index(index_copy, embedder):
    served = index_copy.current_version()
    rng = random.Random(20261125)
    kills = 0
    for _ in range(6):
        build = subprocess.Popen([str(PARLEY), "index", "build", "--full", "--index", str(index_copy.root)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 9.0))
        if build.poll() is None:
            build.send_signal(signal.SIGKILL)
            kills += 1
        build.wait()
        current = index_copy.current_version()
        loaded = index_copy.open()  # whole, whichever version is served
        loaded.check_model(embedder.info)
        # The old version, or a newer complete one: a kill can land after the atomic swap
        # (while old versions are collected), and then the new version is rightly served.
        assert current == served or (current.name > served.name and not current.name.startswith("."))
        served = current
    assert kills >= 3
    build_index(CORPUS_DIR, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert list(index_copy.versions_dir.glob(".*.tmp")) == []


def test_a_second_build_at_the_same_time_says_one_is_running(index_copy):
    first = subprocess.Popen([str(PARLEY), "index", "build", "--full", "--index", str(index_copy.root)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(index_copy.versions_dir.glob(".*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_parley("index", "build", "--index", str(index_copy.root))
        assert second.returncode == 1
        assert "Another index build is running" in second.stderr and f"pid {first.pid}" in second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0


def test_hot_swap_under_load_fails_no_question_and_mixes_no_versions(index_copy, corpus_copy, embedder):
    """Threads ask without pause while several re-indexes swap new versions in."""
    import threading

    from parley.bot.answer import AnswerEngine
    from parley.index.indexing.build import ChunkSettings
    from parley.index.search.served import Reindexer, ReindexJob, ServedIndex

    served = ServedIndex(index_copy)
    engine = AnswerEngine(served)
    reindexer = Reindexer(served, embedder, ReindexJob(corpus_copy, ChunkSettings(), CLAIM_LABELS))
    versions: dict[str, set[str]] = {}

    def remember_version() -> None:
        loaded = index_copy.open()
        versions[loaded.directory.name] = {p.passage_id for p in loaded.passages}

    remember_version()
    answers, failures = [], []
    stop = threading.Event()
    questions = ["What is coopetition?", "Who is Xue Lan?", "Should the US slow down AI development, given China?"]

    def ask_forever(offset: int) -> None:
        n = offset
        while not stop.is_set():
            try:
                answers.append(engine.ask(questions[n % len(questions)]))
            except Exception as error:  # noqa: BLE001 — counted, then asserted on
                failures.append(error)
            n += 1

    askers = [threading.Thread(target=ask_forever, args=(i,)) for i in range(3)]
    for thread in askers:
        thread.start()
    try:
        for round_ in range(3):
            (corpus_copy / f"note-{round_}.txt").write_text(
                f"---\ntitle: Note {round_}\n---\nNote number {round_} says export controls on chips shape the race.\n")
            report = reindexer.run()
            assert report.changed
            remember_version()
    finally:
        stop.set()
        for thread in askers:
            thread.join()
    assert failures == []
    assert len(answers) >= 15  # ~30 on 2 cores: the builds embed on the same CPU
    for answer in answers:  # every answer cites passages of one whole version
        cited = {c.passage_id for c in answer.citations}
        assert any(cited <= passages for passages in versions.values())
    assert len(versions) == 4


def test_a_replica_follows_a_version_that_another_process_published(index_copy, corpus_copy, embedder):
    """Replicas share one index directory; whichever process re-indexes, the others must
    start answering from the new version on their own, without a restart."""
    from parley.bot.answer import AnswerEngine
    from parley.index.search.served import ServedIndex

    replica = AnswerEngine(ServedIndex(index_copy, follow_seconds=0.0))
    before = replica.served.retriever().index.directory
    essay = corpus_copy / "essay-who-should-win-the-ai-race.txt"
    essay.write_text(essay.read_text() + "\nA late addendum: the author grows heirloom tomatoes on a balcony.\n")
    build_index(corpus_copy, index_copy, embedder, claim_labels=CLAIM_LABELS)  # as another process would
    published = index_copy.current_version()
    assert published != before
    deadline = time.monotonic() + 30
    while replica.served.retriever().index.directory != published:
        assert time.monotonic() < deadline, "the replica never followed the new version"
        time.sleep(0.05)
    assert "heirloom tomatoes" in replica.search("heirloom tomatoes on a balcony", 1)[0].passage.text
