"""The query encoder that answers questions: the index's model exported to ONNX.

Importing sentence-transformers (and torch) costs 6–8 s on a small machine, longer than a
chat platform waits for a cold process. So each index version carries its model's
transformer, mean pooling and L2 normalisation as one ONNX graph, plus the tokenizer set up
exactly as sentence-transformers uses it; questions are embedded with onnxruntime and
tokenizers, which import and load in well under a second. The index build keeps using
sentence-transformers and exports the encoder (``onnx_export.py``), and a test holds the two to
cosine ≥ 0.999.

Because the encoder lives in the version directory, a swapped-in index always comes with
the encoder its vectors were made with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.index.store.manifest import ENCODER_FILE, TOKENIZER_FILE, EncoderRecord, ModelInfo


class OnnxQueryEncoder:
    """Embeds questions with an index version's exported encoder; unit float32 vectors."""

    def __init__(self, directory: Path, record: EncoderRecord, model: ModelInfo, *, threads: int = 0):
        import onnxruntime
        from tokenizers import Tokenizer

        self.info = model
        self.record = record
        # The files were checked against their hashes when the version was loaded
        # (``store.load_index``).
        options = onnxruntime.SessionOptions()
        # 0 lets onnxruntime use every core; a bot answering several questions at once may
        # prefer 1 per question (setting query_threads).
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        self._session = onnxruntime.InferenceSession(
            str(directory / ENCODER_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, shape ``(len(texts), dimension)``, unit length."""
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self._session.run(None, feeds)
        return np.ascontiguousarray(vectors, dtype=np.float32)
