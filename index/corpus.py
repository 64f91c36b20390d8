"""The corpus on disk: one UTF-8 text file per document, metadata in a front-matter header.

    ---
    title: Sanders splits with Washington on AI arms race with China
    publisher: Axios
    url: https://www.axios.com/...
    date: 2025-01
    ---
    (the article text, as captured; site chrome is removed by ``clean.py``)

The document id is the file name without ``.txt``, so renaming a file is a new document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from parley.index.errors import CorpusError

FRONT_MATTER_FENCE = "---"
# An article is tens of kilobytes; a file far larger is a mistake (a dump, a binary), and
# cleaning and embedding it would take minutes of the build.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
KNOWN_KEYS = ("title", "publisher", "url", "date", "kind", "title_is_descriptive")


@dataclass(frozen=True)
class SourceDocument:
    """One corpus file as read from disk: metadata plus the raw captured text."""

    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    kind: str | None
    raw_text: str
    content_sha256: str  # of the whole file, metadata included: any edit is a change


@dataclass(frozen=True)
class CorpusProblem:
    """A corpus file that was skipped, and why (reported by name to the user)."""

    file: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    documents: list[SourceDocument]
    problems: list[CorpusProblem]


def load_corpus(corpus_dir: Path) -> Corpus:
    """Read every ``*.txt`` document in ``corpus_dir`` (sorted by name).

    A file that cannot be used is reported in ``problems`` and the rest are still loaded,
    so one bad file never blocks the others.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"Corpus directory {corpus_dir} does not exist. "
            "Set PARLEY_CORPUS_DIR or pass --corpus DIR."
        )
    documents: list[SourceDocument] = []
    problems: list[CorpusProblem] = []
    seen_bodies: dict[str, str] = {}
    for path in sorted(corpus_dir.glob("*.txt")):
        if path.name.startswith("."):
            continue
        try:
            document = read_document(path)
        except ValueError as error:
            problems.append(CorpusProblem(file=path.name, reason=str(error)))
            continue
        body = hashlib.sha256(" ".join(document.raw_text.split()).encode()).hexdigest()
        if body in seen_bodies:
            problems.append(CorpusProblem(file=path.name, reason=f"same text as {seen_bodies[body]} (a duplicate)"))
            continue
        seen_bodies[body] = path.name
        documents.append(document)
    return Corpus(documents=documents, problems=problems)


def read_document(path: Path) -> SourceDocument:
    """Parse one corpus file; ``ValueError`` says what is wrong with it."""
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{size / 1e6:.0f} MB, over the {MAX_DOCUMENT_BYTES / 1e6:.0f} MB limit for one document")
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("the file is empty")
    if b"\x00" in data:
        raise ValueError("a binary file, not text (it holds NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not valid UTF-8 (byte {error.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata, body = split_front_matter(text)
    if not metadata.get("title"):
        raise ValueError("metadata has no 'title'")
    if not body.strip():
        raise ValueError("no text after the metadata")
    return SourceDocument(
        doc_id=path.stem,
        title=metadata["title"],
        publisher=metadata.get("publisher") or "unknown",
        url=metadata.get("url") or None,
        date=metadata.get("date") or None,
        kind=metadata.get("kind") or None,
        raw_text=body,
        content_sha256=hashlib.sha256(data).hexdigest(),
    )


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split ``---``-fenced ``key: value`` lines from the body of a document."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ValueError("missing metadata: the file must start with a '---' line")
    metadata: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == FRONT_MATTER_FENCE:
            return metadata, "\n".join(lines[number:])
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or not key:
            raise ValueError(f"line {number} of the metadata is not 'key: value'")
        if key not in KNOWN_KEYS:
            raise ValueError(
                f"unknown metadata key '{key}' on line {number} "
                f"(known: {', '.join(KNOWN_KEYS)})"
            )
        metadata[key] = value.strip()
    raise ValueError("metadata is not closed by a second '---' line")


@dataclass(frozen=True)
class IndexedDocument:
    """A document as served: its metadata and the cleaned text quotes are cut from (plain
    data the answer core reads through a search's results)."""

    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    kind: str | None
    content_sha256: str
    text: str
    passage_count: int
