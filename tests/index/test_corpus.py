from pathlib import Path

import pytest

from parley.index.corpus import load_corpus, read_document
from parley.index.errors import CorpusError
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
