"""Export the index's model for serving: transformer, mean pooling and L2 normalisation as
one ONNX graph, and the tokenizer set up as sentence-transformers uses it.

Build time only: this and ``embed.py`` are the two files that import torch. Serving reads
the export with onnxruntime (``query_encoder.py``), which starts in a fraction of the time.
"""

from __future__ import annotations

from pathlib import Path

from parley.index.errors import ParleyError
from parley.index.indexing.embed import Embedder
from parley.index.store.manifest import ENCODER_FILE, EXPORT_SCHEME, TOKENIZER_FILE, EncoderRecord, file_sha256


def export_query_encoder(embedder: Embedder, directory: Path) -> EncoderRecord:
    """Write ``embedder``'s model as an ONNX query encoder (see ``query_encoder.py``) into
    ``directory`` and return what the manifest records about it."""
    import warnings

    import torch

    model = embedder.model
    kinds = [type(module).__name__ for module in model]
    pooling = model[1].get_config_dict().get("pooling_mode") if len(model) > 1 else None
    if kinds != ["Transformer", "Pooling", "Normalize"] or pooling != "mean":
        raise ParleyError(
            f"Parley can export only mean-pooled, normalised sentence-transformers models; "
            f"{embedder.model_path} has modules {kinds} with pooling {pooling!r}."
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
    return EncoderRecord(
        scheme=EXPORT_SCHEME,
        weights_sha256=embedder.info.weights_sha256,
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
