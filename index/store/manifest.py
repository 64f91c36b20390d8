"""What a version of the index holds and how it was made: the manifest, written last and
read first, and the records of the model and of its exported query encoder.

A version is only served when every file the manifest lists has the size and SHA-256 it
records, and only compared with vectors of the same model (name, dimension, weights hash).
Hashing a large index at every start would cost seconds, so a version's files are hashed
once and the result is cached beside them, keyed by each file's inode, size, mtime and
ctime: any write to a file (which always moves its ctime) makes it hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from parley.index.errors import IndexUnreadableError

# 2: each version carries its ONNX query encoder (query_encoder.py).
# 3: each sentence carries its claim (framing, confidence, reviewed, speaker).
# 4: every file's SHA-256, not only its size: same-size damage is caught too.
# 5: columns read on demand (documents' texts, passage records, sentence vectors), each
#    framing's claims in a vector index, 8-bit inverted lists above 20,000 vectors.
# 6: each sentence's speaker is named with its voice (their words, or their view reported).
FORMAT_VERSION = 6
MANIFEST = "manifest.json"
# Which files of a version were hashed and found whole, by their stat (see above). Not a
# file of the version: it is written after the manifest, by whoever verifies first.
VERIFIED = ".verified.json"
ENCODER_FILE = "query-encoder.onnx"
TOKENIZER_FILE = "query-tokenizer.json"
# Bump when the exported graph or the tokenizer set-up changes: the next build re-exports.
EXPORT_SCHEME = 1

REBUILD_HINT = "Run `parley index build --full` to rebuild it."


class ModelInfo(BaseModel):
    """The model an index's vectors came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    dimension: int
    weights_sha256: str


class EncoderRecord(BaseModel):
    """What the manifest records about the exported query encoder."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scheme: int
    weights_sha256: str  # of the sentence-transformers weights it was exported from
    onnx_sha256: str
    tokenizer_sha256: str
    max_tokens: int


class FileRecord(BaseModel):
    """One file of a version: its size and content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bytes: int
    sha256: str


class Manifest(BaseModel):
    """What a version of the index holds and how it was made; written last, read first."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format_version: int
    model: ModelInfo
    query_encoder: EncoderRecord
    vector_index: str  # "flat" (exact) or "ivf<lists>" (approximate)
    pipeline: dict[str, int | str]
    documents: dict[str, str]  # doc_id -> content sha256
    passage_count: int
    built_at: str
    files: dict[str, FileRecord]  # relative path -> size and hash

    def total_bytes(self, directory: Path) -> int:
        return sum(record.bytes for record in self.files.values()) + (directory / MANIFEST).stat().st_size

    def matches_model(self, model: ModelInfo) -> bool:
        return self.model == model

    @property
    def content_digest(self) -> str:
        """What this version holds, as one hash: the manifest without its build time, every
        file's hash included. Builds are deterministic, so the same corpus, labels,
        settings and model give the same digest on any host (docs/multi-host.md), whatever versions came before."""
        fields = self.model_dump(mode="json", exclude={"built_at"})
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def read_manifest(directory: Path) -> Manifest:
    """The manifest of ``directory``, after checking that every file it lists is whole."""
    path = directory / MANIFEST
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise IndexUnreadableError(f"The index at {directory} has no {MANIFEST}. {REBUILD_HINT}") from None
    except (OSError, ValidationError, ValueError) as error:
        first = str(error).splitlines()[0]
        raise IndexUnreadableError(
            f"The index manifest {path} is unreadable ({first}). {REBUILD_HINT}"
        ) from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexUnreadableError(
            f"The index at {directory} has format version {manifest.format_version}; this "
            f"Parley reads version {FORMAT_VERSION}. {REBUILD_HINT}"
        )
    for name, record in manifest.files.items():
        file = directory / name
        actual = file.stat().st_size if file.is_file() else None
        if actual != record.bytes:
            found = "is missing" if actual is None else f"is {actual} bytes, expected {record.bytes}"
            raise IndexUnreadableError(
                f"The index at {directory} is damaged: {name} {found}. {REBUILD_HINT}"
            )
    return manifest


def verify_contents(directory: Path, manifest: Manifest) -> None:
    """Check every file of the version against its hash in the manifest; a damaged one is
    an ``IndexUnreadableError`` naming it. Files already verified and unchanged since (by
    their stat) are not hashed again."""
    cache_path = directory / VERIFIED
    try:
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = {}
    verified = {}
    for name, record in manifest.files.items():
        file = directory / name
        try:
            stamp = _stamp(file)
            if cached.get(name) != [record.sha256, *stamp] and file_sha256(file) != record.sha256:
                raise IndexUnreadableError(
                    f"The index at {directory} is damaged: {name} does not match its hash in the "
                    f"manifest. {REBUILD_HINT}"
                )
        except OSError as error:
            raise IndexUnreadableError(
                f"The index at {directory} has no readable {name} ({error.strerror}). {REBUILD_HINT}"
            ) from None
        verified[name] = [record.sha256, *stamp]
    if verified != cached:
        _write_cache(cache_path, verified)


def files_of(directory: Path, known: dict[str, str] | None = None) -> dict[str, FileRecord]:
    """Every file below ``directory``, by its path relative to it, with its hash (taken
    from ``known`` for files whose hash was just checked, e.g. the linked encoder), and
    remembered as verified: the version's first load need not hash it again."""
    known = known or {}
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != VERIFIED:
            name = path.relative_to(directory).as_posix()
            files[name] = FileRecord(bytes=path.stat().st_size, sha256=known.get(name) or file_sha256(path))
    _write_cache(directory / VERIFIED, {name: [record.sha256, *_stamp(directory / name)] for name, record in files.items()})
    return files


def _stamp(file: Path) -> list[int]:
    info = file.stat()
    return [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _write_cache(path: Path, verified: dict) -> None:
    """Best effort: a read-only index is simply hashed again next time."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(verified), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
