"""Turn what people share into corpus documents: saved web pages, PDFs, Markdown, plain
text, and http(s) URLs (``parley corpus add``).

Web pages go through trafilatura, which is built to find an article's main text and its
metadata (title, author, site, date) among the chrome; PDFs through pypdf; Markdown and
text are read as they are. Each input becomes ``corpus/<id>.txt`` with its front matter
filled in (``title_is_descriptive: true`` when the title had to be made up), written to a
hidden temporary name, checked by the corpus reader, and renamed into place: nothing
half-written is ever left in the corpus. An input whose text is already in the corpus
(exactly, or for the most part) is refused, naming the document it repeats.

Both libraries are imported only when an input of their kind arrives.
"""

from __future__ import annotations

import os
import re
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from parley.index.sources.read import (
    MAX_DOCUMENT_BYTES,
    SAFE_URL,
    body_hash,
    load_corpus,
    read_document,
    read_regular_file,
)

SUPPORTED = {".html": "web page", ".htm": "web page", ".pdf": "PDF", ".md": "Markdown", ".markdown": "Markdown",
             ".txt": "text"}
FETCH_TIMEOUT_SECONDS = 20
# Two documents sharing this share of their 5-word shingles are the same text, give or
# take a header, a footer or an edit (the Jaccard index of the two sets).
NEAR_DUPLICATE = 0.8
SHINGLE_WORDS = 5
# Fewer words than this outside a page's chrome is not an article (a "Home" link left over).
MIN_PAGE_WORDS = 15
USER_AGENT = "Parley corpus add (https://github.com/parley)"

Status = Literal["added", "duplicate", "refused"]


@dataclass(frozen=True)
class Outcome:
    """What became of one input."""

    source: str
    status: Status
    detail: str  # the file written, the document repeated, or why it was refused
    doc_id: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Extracted:
    """A document's text and what is known about it, before it is written."""

    text: str
    title: str | None
    kind: str
    author: str | None = None
    publisher: str | None = None
    date: str | None = None
    url: str | None = None


class InputError(ValueError):
    """One input cannot be added; the message says why, in one line."""


def add_sources(inputs: Iterable[str], corpus_dir: Path, *, timeout: float = FETCH_TIMEOUT_SECONDS,
                show_progress: bool = False) -> list[Outcome]:
    """Add every input (a file, a folder of files, or an http(s) URL) to ``corpus_dir``;
    ``show_progress``: a progress bar on stderr (for a terminal)."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    known = _Known.of(corpus_dir)
    outcomes = []
    sources = _expand(inputs)
    if show_progress and len(sources) > 1:
        from tqdm import tqdm

        sources = tqdm(sources, desc="Adding", unit="input", leave=False)
    for source in sources:
        try:
            extracted = _fetch(source, timeout) if _is_url(source) else _read(Path(source))
            outcomes.append(_write(source, extracted, corpus_dir, known))
        except InputError as error:
            outcomes.append(Outcome(source, "refused", str(error)))
    return outcomes


def _expand(inputs: Iterable[str]) -> list[str]:
    """URLs and files as given; a folder becomes its supported files, sorted (a folder
    with none stays itself, to be refused with a reason)."""
    expanded = []
    for source in inputs:
        path = Path(source)
        files = []
        if not _is_url(source) and path.is_dir():
            files = [str(p) for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in SUPPORTED]
        expanded += files or [source]
    return expanded


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


# -- reading ---------------------------------------------------------------------------

def _read(path: Path) -> Extracted:
    if path.is_dir():
        raise InputError(f"a folder with no {', '.join(sorted(SUPPORTED))} files in it")
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"unsupported file type {path.suffix or '(none)'}: add .html, .pdf, .md or .txt files")
    try:
        data = read_regular_file(path)  # the corpus reader's: no pipes or devices, the size cap
    except ValueError as error:
        raise InputError(str(error)) from None
    return _extract(data, kind, name=path.stem, url=None)


def _fetch(url: str, timeout: float) -> Extracted:
    """The page at ``url``, at most the size cap, within ``timeout`` seconds."""
    if not SAFE_URL.fullmatch(url):
        raise InputError("not a URL Parley can link to (no spaces or <>| allowed)")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — http(s) only, checked above
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > MAX_DOCUMENT_BYTES:
                raise InputError(f"{declared / 1e6:.1f} MB, over the {MAX_DOCUMENT_BYTES / 1e6:.0f} MB limit")
            data = response.read(MAX_DOCUMENT_BYTES + 1)
            content_type = response.headers.get_content_type()
            final_url = response.geturl()
    except urllib.error.HTTPError as error:
        raise InputError(f"the server answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(f"could not be fetched ({reason})") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"over the {MAX_DOCUMENT_BYTES / 1e6:.0f} MB limit for one document")
    kind = {"text/html": "web page", "application/xhtml+xml": "web page", "application/pdf": "PDF",
            "text/markdown": "Markdown", "text/plain": "text"}.get(content_type)
    if kind is None:
        raise InputError(f"unsupported content type {content_type}: Parley adds web pages, PDFs, Markdown and text")
    name = final_url.rstrip("/").rsplit("/", 1)[-1] or final_url
    return _extract(data, kind, name=Path(name).stem, url=final_url if SAFE_URL.fullmatch(final_url) else None)


def _extract(data: bytes, kind: str, *, name: str, url: str | None) -> Extracted:
    if not data.strip():
        raise InputError("empty")
    if kind == "web page":
        return _from_html(data, url)
    if kind == "PDF":
        return _from_pdf(data, url)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"not valid UTF-8 (byte {error.start})") from None
    if "\x00" in text:
        raise InputError("a binary file, not text")
    if kind == "Markdown":
        return _from_markdown(text, url)
    return Extracted(text=text, title=None, kind="text", url=url)


def _from_html(data: bytes, url: str | None) -> Extracted:
    import trafilatura

    document = trafilatura.bare_extraction(data, url=url, with_metadata=True, include_comments=False,
                                           include_tables=True, favor_precision=True)
    text = document.text if document is not None else None
    words = len(text.split()) if text else 0
    if words < MIN_PAGE_WORDS:  # a page of menus and buttons, or one that needs JavaScript
        raise InputError(f"no article text found in the page ({words} words outside its menus)")
    return Extracted(text=text, title=document.title, kind="web page", author=document.author,
                     publisher=document.sitename, date=document.date, url=url or document.url)


def _from_pdf(data: bytes, url: str | None) -> Extracted:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("an encrypted PDF: save a copy without a password first")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"not a readable PDF ({type(error).__name__})") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text.strip():
        raise InputError("a PDF without a text layer (a scanned image?): run it through OCR first")
    return Extracted(text=text, title=_meta(metadata, "/Title"), kind="PDF", author=_meta(metadata, "/Author"),
                     url=url)


def _meta(metadata, key: str) -> str | None:
    value = metadata.get(key)
    return str(value).strip() or None if value else None


_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _from_markdown(text: str, url: str | None) -> Extracted:
    """The text without Markdown's marks (links and images keep their words, code blocks
    go); the first heading is the title."""
    title, lines, fenced = None, [], False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            title = title or heading.group(1)
            lines.append(heading.group(1))
            continue
        line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub(r"\1", line))
        lines.append(_MD_EMPHASIS.sub(r"\2", line))
    return Extracted(text="\n".join(lines), title=title, kind="Markdown", url=url)


# -- writing ---------------------------------------------------------------------------

@dataclass
class _Known:
    """The corpus's documents as duplicate checks need them: exact body hashes and shingles."""

    bodies: dict[str, str]  # hash of the whitespace-normalised body -> doc_id
    shingles: dict[str, set[int]]
    ids: set[str]

    @classmethod
    def of(cls, corpus_dir: Path) -> _Known:
        known = cls({}, {}, {p.stem for p in corpus_dir.glob("*.txt")})
        for document in load_corpus(corpus_dir).documents:
            known.remember(document.doc_id, document.raw_text)
        return known

    def remember(self, doc_id: str, body: str) -> None:
        self.bodies[body_hash(body)] = doc_id
        self.shingles[doc_id] = _shingles(body)
        self.ids.add(doc_id)

    def repeated(self, body: str) -> str | None:
        """Why ``body`` is a duplicate of a known document, or ``None``."""
        same = self.bodies.get(body_hash(body))
        if same:
            return f"the same text as {same}.txt"
        mine = _shingles(body)
        for doc_id, theirs in self.shingles.items():
            if mine and theirs:
                overlap = len(mine & theirs) / len(mine | theirs)
                if overlap >= NEAR_DUPLICATE:
                    return f"nearly the same text as {doc_id}.txt ({overlap:.0%} of its passages' wording)"
        return None


def _shingles(body: str) -> set[int]:
    words = re.findall(r"\w+", body.lower())
    return {hash(tuple(words[i : i + SHINGLE_WORDS])) for i in range(max(len(words) - SHINGLE_WORDS + 1, 0))}


def _write(source: str, extracted: Extracted, corpus_dir: Path, known: _Known) -> Outcome:
    body = extracted.text.replace("\r\n", "\n").strip() + "\n"
    if len(body.encode()) > MAX_DOCUMENT_BYTES:
        raise InputError(f"its text is over the {MAX_DOCUMENT_BYTES / 1e6:.0f} MB limit for one document")
    repeated = known.repeated(body)
    if repeated:
        return Outcome(source, "duplicate", repeated)
    title = _one_line(extracted.title)
    made_up = not title
    if made_up:
        title = _one_line(_first_line(body)) or _one_line(Path(source.rstrip("/")).stem) or "Untitled"
    doc_id = _free_id(_slug(title), known.ids)
    header = {
        "title": title,
        "publisher": _one_line(extracted.publisher),
        "author": _one_line(extracted.author),
        "url": extracted.url if extracted.url and SAFE_URL.fullmatch(extracted.url) else None,
        "date": _one_line(extracted.date),
        "kind": extracted.kind,
        "title_is_descriptive": "true" if made_up else None,
    }
    front = "".join(f"{key}: {value}\n" for key, value in header.items() if value)
    target = corpus_dir / f"{doc_id}.txt"
    staged = corpus_dir / f".{doc_id}.{os.getpid()}.tmp"
    try:
        with staged.open("x", encoding="utf-8") as handle:
            handle.write(f"---\n{front}---\n{body}")
            handle.flush()
            os.fsync(handle.fileno())
        read_document(staged)  # what the build will read: refuse here, not at the next build
        os.link(staged, target)  # never replaces a file that appeared meanwhile
    except (OSError, ValueError) as error:
        raise InputError(f"could not be written ({getattr(error, 'strerror', None) or error})") from None
    finally:
        staged.unlink(missing_ok=True)
    known.remember(doc_id, body)
    return Outcome(source, "added", str(target), doc_id=doc_id, title=title)


def _one_line(value: str | None) -> str | None:
    """A front-matter value: one line, no control characters, at most 300 characters."""
    if not value:
        return None
    text = "".join(ch for ch in unicodedata.normalize("NFKC", str(value)) if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    return text[:300] or None


def _first_line(body: str) -> str | None:
    for line in body.split("\n"):
        if line.strip():
            words = line.split()
            return " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    return None


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = "-".join(words)[:60].strip("-")
    return slug or "document"


def _free_id(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    return candidate
