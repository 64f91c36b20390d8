"""Building, rebuilding and serving the index, with the real model, FAISS and bm25s."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from parley.index.errors import BuildLockedError, IndexUnreadableError, NoIndexError
from parley.index.indexing.build import build_index
from parley.index.store.versions import IndexLocation
from tests.helpers import CLAIM_LABELS, CORPUS_DIR, LUNAR_NOTE, PARLEY


def top_passage(location: IndexLocation, embedder, question: str) -> str:
    loaded = location.open()
    loaded.check_model(embedder.info)
    [(row, _)] = loaded.vectors.search(embedder.encode([question])[0], 1)
    return loaded.passages[row].text


def test_first_build_indexes_every_document(built_index):
    root, report = built_index
    assert (report.documents, report.embedded, report.reused, report.removed) == (5, report.passages, 0, 0)
    assert report.passages > 50
    assert (root / "current").is_symlink()
    assert report.index == (root / "current").resolve()


def test_served_passages_are_exact_slices_of_the_served_documents(built_index):
    loaded = IndexLocation(built_index[0]).open()
    assert len(loaded.passages) == loaded.manifest.passage_count
    for passage in loaded.passages:
        assert loaded.documents[passage.doc_id].text[passage.start : passage.end] == passage.text


def test_dense_and_bm25_search_find_the_passage(built_index, embedder):
    location = IndexLocation(built_index[0])
    assert "six month halt" in top_passage(
        location, embedder, "a letter calling for a six month halt on developing powerful AI"
    )
    loaded = location.open()
    scores = loaded.lexical.scores("homegrown chips software ecosystems")
    assert "homegrown chips" in loaded.passages[int(scores.argmax())].text
    assert loaded.lexical.scores("zzzz qqqq").max() == 0


def test_rebuild_without_changes_embeds_nothing_and_keeps_the_served_version(index_copy, embedder):
    before = index_copy.current_version()
    report = build_index(CORPUS_DIR, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert (report.changed, report.embedded, report.reused) == (False, 0, report.passages)
    assert index_copy.current_version() == before


def test_editing_one_document_embeds_only_its_changed_passages(index_copy, corpus_copy, embedder):
    essay = corpus_copy / "essay-who-should-win-the-ai-race.txt"
    essay.write_text(
        essay.read_text() + "\nA final paragraph, added later, says the author now owns a "
        "small garden of tomatoes and considers the debate about compute and chips settled for "
        "the season, at least until the next conference on frontier models convenes in spring.\n"
    )
    before = index_copy.current_version()
    report = build_index(corpus_copy, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert report.changed
    assert 1 <= report.embedded <= 2  # the new tail, perhaps merged with the old last passage
    assert report.reused == report.passages - report.embedded
    assert index_copy.current_version() != before
    assert "garden of tomatoes" in top_passage(index_copy, embedder, "tomatoes garden")


def test_metadata_edit_rebuilds_without_embedding(index_copy, corpus_copy, embedder):
    axios = corpus_copy / "axios-sanders-splits-with-washington.txt"
    axios.write_text(axios.read_text().replace("publisher: Axios", "publisher: Axios Media"))
    report = build_index(corpus_copy, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert (report.changed, report.embedded) == (True, 0)
    assert index_copy.open().documents["axios-sanders-splits-with-washington"].publisher == "Axios Media"


def test_removed_document_disappears(index_copy, corpus_copy, embedder):
    (corpus_copy / "podcast-insights-us-china-ai.txt").unlink()
    report = build_index(corpus_copy, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert (report.removed, report.documents, report.embedded) == (1, 4, 0)
    loaded = index_copy.open()
    assert "podcast-insights-us-china-ai" not in loaded.documents
    assert all(p.doc_id != "podcast-insights-us-china-ai" for p in loaded.passages)


def test_full_build_re_embeds_everything(index_copy, embedder):
    report = build_index(CORPUS_DIR, index_copy, embedder, claim_labels=CLAIM_LABELS, full=True)
    assert (report.changed, report.embedded, report.reused) == (True, report.passages, 0)


def test_old_versions_are_collected_but_the_previous_one_is_kept(index_copy, corpus_copy, embedder):
    for n in range(3):
        (corpus_copy / f"note-{n}.txt").write_text(
            f"---\ntitle: Note {n}\n---\nA short note number {n} about chips and export controls."
        )
        build_index(corpus_copy, index_copy, embedder, claim_labels=CLAIM_LABELS)
    versions = sorted(p.name for p in index_copy.versions_dir.iterdir())
    assert len(versions) == 2
    assert index_copy.current_version().name == versions[-1]


def test_a_second_build_is_refused_while_one_holds_the_lock(index_copy, embedder):
    with index_copy.build_lock():
        with pytest.raises(BuildLockedError, match=f"pid {os.getpid()}"):
            build_index(CORPUS_DIR, index_copy, embedder, claim_labels=CLAIM_LABELS)


def test_no_index_says_to_build_one(tmp_path):
    with pytest.raises(NoIndexError, match="Run `parley index build`"):
        IndexLocation(tmp_path / "empty").open()


def damage_truncate_vectors(version: Path) -> None:
    vectors = version / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:1000])


def overwrite_middle(file: Path, size: int = 4096) -> None:
    """Same-size damage: a block of zeros in the middle, the length unchanged."""
    data = bytearray(file.read_bytes())
    middle = len(data) // 2
    block = min(size, len(data) - middle)
    data[middle : middle + block] = bytes(block)
    file.write_bytes(bytes(data))


def damage_zero_vectors_block(version: Path) -> None:
    overwrite_middle(version / "vectors.faiss")


def damage_zero_bm25_scores(version: Path) -> None:
    overwrite_middle(version / "bm25" / "data.csc.index.npy", 256)


def damage_drop_bm25(version: Path) -> None:
    shutil.rmtree(version / "bm25")


def damage_garble_manifest(version: Path) -> None:
    (version / "manifest.json").write_text("{not json")


def damage_future_format(version: Path) -> None:
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["format_version"] = 99
    (version / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (damage_truncate_vectors, "vectors.faiss is 1000 bytes"),
        (damage_zero_vectors_block, "vectors.faiss does not match its hash"),
        (damage_zero_bm25_scores, "bm25/data.csc.index.npy does not match its hash"),
        (damage_drop_bm25, "is missing"),
        (damage_garble_manifest, "manifest"),
        (damage_future_format, "format version 99"),
    ],
)
def test_damaged_index_fails_with_one_clear_line(index_copy, damage, says):
    damage(index_copy.current_version())
    with pytest.raises(IndexUnreadableError, match="parley index build --full") as raised:
        index_copy.open()
    assert says in str(raised.value)
    result = subprocess.run(
        [str(PARLEY), "index", "status", "--index", str(index_copy.root)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert says in result.stderr and "Traceback" not in result.stderr


def test_index_of_another_model_is_refused(index_copy, embedder):
    version = index_copy.current_version()
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["model"]["weights_sha256"] = "0" * 64
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnreadableError, match="parley index build --full"):
        index_copy.open().check_model(embedder.info)


@pytest.mark.parametrize("damage", [damage_truncate_vectors, damage_zero_vectors_block])
def test_damaged_index_is_rebuilt_by_a_plain_build(index_copy, embedder, damage):
    damage(index_copy.current_version())
    report = build_index(CORPUS_DIR, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert report.changed and report.embedded == report.passages
    assert "vectors.faiss" in report.previous_unusable
    index_copy.open()


def test_damage_after_a_verified_load_is_still_caught(index_copy):
    """Hashes are cached per version, keyed by each file's stat: a later write is seen."""
    index_copy.open()
    version = index_copy.current_version()
    assert (version / ".verified.json").is_file()
    damage_zero_vectors_block(version)
    with pytest.raises(IndexUnreadableError, match="vectors.faiss does not match its hash"):
        index_copy.open()


def wait_for(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 180
    while not condition():
        assert process.poll() is None, f"the build ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


@pytest.mark.parametrize("moment", ["while loading the model", "while writing the new version"])
def test_sigkill_during_a_full_build_leaves_the_served_index_whole(index_copy, embedder, moment):
    served = index_copy.current_version()
    question = "Which chips is China refusing even though a ban was lifted?"
    answer_before = top_passage(index_copy, embedder, question)
    assert "H200" in answer_before
    build = subprocess.Popen(
        [str(PARLEY), "index", "build", "--full", "--index", str(index_copy.root), "--corpus", str(CORPUS_DIR)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def staged() -> list[Path]:
        return list(index_copy.versions_dir.glob(".*.tmp"))

    wait_for(lambda: staged(), build, "it reserved its new version")
    if moment == "while writing the new version":
        wait_for(lambda: any(staged()[0].iterdir()), build, "it wrote its first file")
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert build.returncode == -signal.SIGKILL
    leftover = staged()
    assert len(leftover) == 1 and not (leftover[0] / "manifest.json").exists()  # killed mid-build

    assert index_copy.current_version() == served
    assert top_passage(index_copy, embedder, question) == answer_before
    # The next build clears what the killed one left and serves a whole index again.
    build_index(CORPUS_DIR, index_copy, embedder, claim_labels=CLAIM_LABELS)
    assert staged() == []
    index_copy.open()


def test_embedding_batches_by_size_keep_every_text_in_its_place(embedder):
    from parley.index.indexing.embed import MAX_BATCH, _batches_by_length

    texts = [f"Line {i} ends." for i in range(600)] + ["A much longer passage about chips. " * 20] * 5
    batches = _batches_by_length(texts, 16 * 750)
    assert sorted(i for batch in batches for i in batch) == list(range(len(texts)))
    assert max(len(b) for b in batches) <= MAX_BATCH and len(batches) < 20  # not 38 batches of 16
    together = embedder.encode(texts[595:605])
    one_by_one = np.vstack([embedder.encode([text]) for text in texts[595:605]])
    assert np.allclose(together, one_by_one, atol=1e-5)




def test_builds_are_deterministic_whatever_came_before(tmp_path, embedder):
    """Hosts that build the same corpus agree on one digest (docs/multi-host.md): a fresh
    build of the corpus and an incremental build that reached the same corpus from an
    older one write the same bytes."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    labels = corpus / "claim-labels.jsonl"
    step_by_step = IndexLocation(tmp_path / "step-by-step")
    build_index(corpus, step_by_step, embedder, claim_labels=labels)
    (corpus / "extra.txt").write_text(LUNAR_NOTE, encoding="utf-8")
    report = build_index(corpus, step_by_step, embedder, claim_labels=labels)
    assert report.embedded == 1 and report.reused > 0
    fresh = IndexLocation(tmp_path / "fresh")
    build_index(corpus, fresh, embedder, claim_labels=labels)
    assert step_by_step.current_manifest().content_digest == fresh.current_manifest().content_digest
    assert step_by_step.current_version().name != fresh.current_version().name  # two builds, one content
