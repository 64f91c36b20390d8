"""The corpus on disk: one UTF-8 text file per document, metadata in a front-matter header.

    ---
    title: Sanders splits with Washington on AI arms race with China
    publisher: Axios
    url: https://www.axios.com/...
    date: 2025-01
    ---
    (the article text, as captured; site chrome is removed by ``clean.py``)

The document id is the file name without ``.txt``, so renaming a file is a new document.

Only regular files are read, never more than the size cap (a pipe or ``/dev/zero`` named
``*.txt`` would hang the build or fill memory). A symbolic link is followed only when its
target lies inside the corpus folder: the corpus is what a curator put there, and a link
must not make any file on the host quotable. ``url`` must be an http(s) address with no
whitespace or ``<>|``: it is written into chat links, where those characters would break
out of the link (Slack's ``<!channel>``).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from parley.index.errors import CorpusError

FRONT_MATTER_FENCE = "---"
# An article is tens of kilobytes; a file far larger is a mistake (a dump, a binary), and
# cleaning and embedding it would take minutes of the build.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
KNOWN_KEYS = ("title", "publisher", "author", "url", "date", "kind", "title_is_descriptive")
SAFE_URL = re.compile(r"https?://[^\s<>|\x00-\x1f\x7f]+", re.IGNORECASE)


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
    try:
        names = sorted(entry.name for entry in os.scandir(corpus_dir))
    except OSError as error:
        raise CorpusError(f"Corpus directory {corpus_dir} cannot be read ({error.strerror}).") from None
    root = corpus_dir.resolve()
    documents: list[SourceDocument] = []
    problems: list[CorpusProblem] = []
    seen_bodies: dict[str, str] = {}
    for name in names:
        if name.startswith(".") or not name.endswith(".txt"):
            continue
        try:
            document = read_document(corpus_dir / name, root=root)
        except ValueError as error:
            problems.append(CorpusProblem(file=printable_name(name), reason=str(error)))
            continue
        body = body_hash(document.raw_text)
        if body in seen_bodies:
            problems.append(CorpusProblem(file=name, reason=f"same text as {seen_bodies[body]} (a duplicate)"))
            continue
        seen_bodies[body] = name
        documents.append(document)
    return Corpus(documents=documents, problems=problems)


def body_hash(text: str) -> str:
    """The same for two texts that differ only in whitespace: what makes a duplicate."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def printable_name(name: str) -> str:
    """A file name as it can be shown: bytes that are not UTF-8 become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_document(path: Path, *, root: Path | None = None) -> SourceDocument:
    """Parse one corpus file; ``ValueError`` says what is wrong with it. With ``root``, a
    symbolic link is read only when its target is inside ``root``."""
    if printable_name(path.name) != path.name:
        raise ValueError("the file name is not valid UTF-8; rename it")
    if root is not None and path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            raise ValueError("a link to a file that does not exist") from None
        except (OSError, RuntimeError):  # a loop: OSError (ELOOP) or RuntimeError, by Python version
            raise ValueError("a link that cannot be followed (a loop?)") from None
        if not target.is_relative_to(root):
            raise ValueError(f"a link to {target}, outside the corpus folder: links are followed only inside it")
    data = read_regular_file(path)
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
    url = metadata.get("url") or None
    if url is not None and not SAFE_URL.fullmatch(url):
        raise ValueError("metadata 'url' must be one http:// or https:// address, without spaces or <>|")
    return SourceDocument(
        doc_id=path.stem,
        title=metadata["title"],
        publisher=metadata.get("publisher") or "unknown",
        url=url,
        date=metadata.get("date") or None,
        kind=metadata.get("kind") or None,
        raw_text=body,
        content_sha256=hashlib.sha256(data).hexdigest(),
    )


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file, at most the size cap. Opened without blocking and
    checked on the open descriptor, so a pipe or device is refused, not waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ValueError("a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a pipe, device or socket)")
        limit = f"over the {MAX_DOCUMENT_BYTES / 1e6:.0f} MB limit for one document"
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{info.st_size / 1e6:.0f} MB, {limit}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)  # the file may grow while read
        if len(data) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"it grew while being read, {limit}")
        return data
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror})") from None
    finally:
        os.close(fd)


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
