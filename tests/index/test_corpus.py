import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from parley.index.errors import CorpusError
from parley.index.sources.read import load_corpus, read_document
from tests.helpers import CORPUS_DIR


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def test_project_corpus_loads_every_document_with_metadata():
    corpus = load_corpus(CORPUS_DIR)
    assert corpus.problems == []
    assert len(corpus.documents) == 5
    by_id = {d.doc_id: d for d in corpus.documents}
    axios = by_id["axios-sanders-splits-with-washington"]
    assert axios.title == "Sanders splits with Washington on AI arms race with China"
    assert axios.publisher == "Axios"
    assert by_id["mit-tr-no-winners-in-ai-arms-race"].date == "2025-01"


def test_front_matter_fields_and_body(tmp_path):
    doc = read_document(
        write(
            tmp_path / "my-article.txt",
            "---\ntitle: A title: with a colon\npublisher: Example News\n"
            "url: https://example.org/a\ndate: 2026-02-01\n---\nBody text here.\n",
        )
    )
    assert (doc.doc_id, doc.title, doc.publisher) == ("my-article", "A title: with a colon", "Example News")
    assert (doc.url, doc.date) == ("https://example.org/a", "2026-02-01")
    assert doc.raw_text == "Body text here.\n"


def test_optional_metadata_defaults(tmp_path):
    doc = read_document(write(tmp_path / "a.txt", "---\ntitle: T\n---\nText."))
    assert (doc.publisher, doc.url, doc.date) == ("unknown", None, None)


def test_any_edit_changes_the_content_hash(tmp_path):
    first = read_document(write(tmp_path / "a.txt", "---\ntitle: T\n---\nText."))
    second = read_document(write(tmp_path / "a.txt", "---\ntitle: T2\n---\nText."))
    assert first.content_sha256 != second.content_sha256


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Just text, no metadata.", "must start with a '---' line"),
        ("---\ntitle: T\n", "not closed"),
        ("---\npublisher: P\n---\nText.", "no 'title'"),
        ("---\ntitel: T\n---\nText.", "unknown metadata key 'titel'"),
        ("---\ntitle T\n---\nText.", "not 'key: value'"),
        ("---\ntitle: T\n---\n   \n", "no text"),
        (b"---\ntitle: T\n---\n\xff\xfe broken", "not valid UTF-8"),
    ],
)
def test_bad_files_are_reported_by_name_and_the_rest_still_load(tmp_path, content, reason):
    write(tmp_path / "good.txt", "---\ntitle: Good\n---\nFine text.")
    write(tmp_path / "bad.txt", content)
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good"]
    assert [p.file for p in corpus.problems] == ["bad.txt"]
    assert reason in corpus.problems[0].reason


def test_missing_corpus_directory_says_which_setting_to_fix(tmp_path):
    with pytest.raises(CorpusError, match="PARLEY_CORPUS_DIR"):
        load_corpus(tmp_path / "nope")


@pytest.mark.parametrize(
    "url",
    ["https://example.org/a <!channel>", "javascript:alert(1)", "https://x.org/|<!here>", "ftp://example.org/a",
     "https://example.org/a>b"],
)
def test_a_url_that_could_break_out_of_a_chat_link_is_refused(tmp_path, url):
    write(tmp_path / "good.txt", "---\ntitle: Good\n---\nFine text.")
    write(tmp_path / "bad.txt", f"---\ntitle: T\nurl: {url}\n---\nText.")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good"]
    assert "must be one http:// or https:// address" in corpus.problems[0].reason


def make_folder(corpus: Path) -> None:
    (corpus / "bad.txt").mkdir()


def make_dangling_link(corpus: Path) -> None:
    (corpus / "bad.txt").symlink_to(corpus / "gone.txt")


def make_link_loop(corpus: Path) -> None:
    (corpus / "bad.txt").symlink_to(corpus / "loop.txt")
    (corpus / "loop.txt").symlink_to(corpus / "bad.txt")


def make_fifo(corpus: Path) -> None:
    os.mkfifo(corpus / "bad.txt")


def make_link_to_dev_zero(corpus: Path) -> None:
    (corpus / "bad.txt").symlink_to("/dev/zero")


def make_link_outside(corpus: Path) -> None:
    outside = corpus.parent / "secret.txt"
    write(outside, "---\ntitle: Host file\n---\nNot for the corpus.")
    (corpus / "bad.txt").symlink_to(outside)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (make_folder, "a folder, not a file"),
        (make_dangling_link, "a link to a file that does not exist"),
        (make_link_loop, "cannot be followed"),
        (make_fifo, "not a regular file"),
        (make_link_to_dev_zero, "outside the corpus folder"),
        (make_link_outside, "outside the corpus folder"),
    ],
)
def test_what_is_not_a_regular_corpus_file_is_named_and_skipped_without_hanging(tmp_path, make, reason):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus / "good.txt", "---\ntitle: Good\n---\nFine text.")
    make(corpus)
    loaded = load_corpus(corpus)  # a FIFO read would block here forever
    assert [d.doc_id for d in loaded.documents] == ["good"]
    problems = {p.file: p.reason for p in loaded.problems}
    assert reason in problems["bad.txt"]


def test_a_link_inside_the_corpus_folder_is_followed(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "drafts").mkdir(parents=True)
    write(corpus / "drafts" / "kept.md", "---\ntitle: Linked\n---\nLinked text.")
    (corpus / "linked.txt").symlink_to(corpus / "drafts" / "kept.md")
    assert [d.title for d in load_corpus(corpus).documents] == ["Linked"]


def test_a_file_name_that_is_not_utf8_is_named_readably(tmp_path):
    write(tmp_path / "good.txt", "---\ntitle: Good\n---\nFine text.")
    write(Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.txt")), "---\ntitle: Latin-1 name\n---\nText.")
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good"]
    assert [p.file for p in loaded.problems] == ["caf\ufffd.txt"]
    assert "not valid UTF-8" in loaded.problems[0].reason
    "caf\ufffd.txt".encode()  # printable: the build's report can show it


def test_an_unreadable_file_is_named_and_skipped(tmp_path, monkeypatch):
    """What the system says when a file may not be read (EACCES), wherever the suite runs."""
    write(tmp_path / "good.txt", "---\ntitle: Good\n---\nFine text.")
    write(tmp_path / "bad.txt", "---\ntitle: T\n---\nText.")
    real_open = os.open

    def denied(path, flags, *args, **kwargs):
        if str(path).endswith("bad.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good"]
    assert [(p.file, p.reason) for p in loaded.problems] == [("bad.txt", "cannot be read (Permission denied)")]


def test_unreadable_files_and_folders_as_an_unprivileged_user():
    """The same for real: root reads any file, so the reader runs as nobody, in a folder
    nobody can enter (skipped where nobody cannot import Parley, e.g. a checkout under a
    private folder)."""
    probe = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
             "import parley.index.sources.read"] if os.geteuid() == 0 else [sys.executable, "-c", "import parley.index.sources.read"]
    if subprocess.run(probe, capture_output=True, timeout=60).returncode != 0:
        pytest.skip("the unprivileged user cannot import Parley from this checkout")
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder)
        corpus.chmod(0o755)
        write(corpus / "good.txt", "---\ntitle: Good\n---\nFine text.").chmod(0o644)
        write(corpus / "bad.txt", "---\ntitle: T\n---\nText.").chmod(0)
        (corpus / "locked.txt").mkdir(mode=0)
        script = ("import sys; from pathlib import Path; from parley.index.sources.read import load_corpus; "
                  "c = load_corpus(Path(sys.argv[1])); "
                  "print([d.doc_id for d in c.documents], sorted((p.file, p.reason) for p in c.problems))")
        result = subprocess.run([*probe[:-2], "-c", script, folder], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['good'] [('bad.txt', 'cannot be read (Permission denied)'), ('locked.txt', 'cannot be read (Permission denied)')]"
    )


def test_a_file_past_the_size_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("parley.index.sources.read.MAX_DOCUMENT_BYTES", 100)
    write(tmp_path / "good.txt", "---\ntitle: Good\n---\nFine text.")
    write(tmp_path / "big.txt", "---\ntitle: Big\n---\n" + "word " * 100)
    loaded = load_corpus(tmp_path)
    assert [p.file for p in loaded.problems] == ["big.txt"] and "limit" in loaded.problems[0].reason
