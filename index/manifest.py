"""What a version of the index holds and how it was made: the manifest, written last and
read first, and the records of the model and of its exported query encoder.

A version is only served when every file the manifest lists has the size it records, and
only compared with vectors of the same model (name, dimension, weights hash).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from parley.index.errors import IndexUnreadableError

# 2: each version carries its ONNX query encoder (query_encoder.py).
# 3: each sentence carries its claim (framing, confidence, reviewed, speaker).
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
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
    files: dict[str, int]  # relative path -> bytes

    def total_bytes(self, directory: Path) -> int:
        return sum(self.files.values()) + (directory / MANIFEST).stat().st_size

    def matches_model(self, model: ModelInfo) -> bool:
        return self.model == model


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
    for name, expected in manifest.files.items():
        file = directory / name
        actual = file.stat().st_size if file.is_file() else None
        if actual != expected:
            found = "is missing" if actual is None else f"is {actual} bytes, expected {expected}"
            raise IndexUnreadableError(
                f"The index at {directory} is damaged: {name} {found}. {REBUILD_HINT}"
            )
    return manifest


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
