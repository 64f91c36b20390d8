"""The ONNX query encoder each index version carries: same vectors as sentence-transformers,
kept whole, reused across builds, and the only model the query path loads."""

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from parley.bot.answer import AnswerEngine
from parley.index.errors import IndexUnreadableError
from parley.index.indexing.build import build_index, dense_input
from parley.index.search.served import ServedIndex
from parley.index.store.manifest import ENCODER_FILE, TOKENIZER_FILE, read_manifest
from tests.helpers import CLAIM_LABELS, PROJECT_DIR


def texts_to_compare(index) -> list[str]:
    """Every passage input and sentence of the corpus, every evaluation question, and
    inputs that stress the tokenizer: long, non-Latin, emoji, odd spacing."""
    passages = [dense_input(index.documents[p.doc_id], p.text) for p in index.passages]
    sentences = [index.documents[index.passages[int(row)].doc_id].text[start:end]
                 for row, (start, end) in zip(index.sentences.rows, index.sentences.spans)]
    questions = []
    for name in ("dev.jsonl", "calibration.jsonl"):
        with (PROJECT_DIR / "tests" / "eval" / name).open() as handle:
            questions += [json.loads(line)["q"] for line in handle if line.strip()]
    awkward = [
        " ".join(p.text for p in index.passages[:6]),  # over 256 tokens: truncated the same way
        "中美两国应该在人工智能安全方面合作吗？",
        "Is the AI race 🏁 real?? 🤖🤖",
        "  ragged\twhitespace \n and CAPITALS  ",
        "x",
    ]
    return passages + sentences + questions + awkward


def test_onnx_vectors_match_sentence_transformers(engine, embedder):
    index = engine.served.retriever().index
    onnx = index.query_encoder()
    texts = texts_to_compare(index)
    assert len(texts) > 400
    reference = embedder.encode(texts)
    batched = onnx.encode(texts[:64])
    one_by_one = np.vstack([onnx.encode([text]) for text in texts])
    cosines = np.sum(one_by_one * reference, axis=1)
    assert cosines.min() >= 0.999, texts[int(cosines.argmin())]
    assert np.sum(batched * reference[:64], axis=1).min() >= 0.999  # padding changes nothing
    assert np.allclose(np.linalg.norm(one_by_one, axis=1), 1.0, atol=1e-5)


def test_a_rebuild_links_the_served_encoder_instead_of_exporting_again(index_copy, corpus_copy, embedder):
    before = index_copy.current_version()
    essay = corpus_copy / "essay-who-should-win-the-ai-race.txt"
    essay.write_text(essay.read_text() + "\nOne more closing line about chips and export controls, for the test.\n")
    report = build_index(corpus_copy, index_copy, embedder, claim_labels=CLAIM_LABELS)
    after = index_copy.current_version()
    assert report.changed and after != before
    for name in (ENCODER_FILE, TOKENIZER_FILE):
        assert (after / name).stat().st_ino == (before / name).stat().st_ino
    assert read_manifest(after).query_encoder == read_manifest(before).query_encoder


def test_a_corrupted_encoder_is_refused_with_one_clear_line(index_copy):
    encoder = index_copy.current_version() / ENCODER_FILE
    data = bytearray(encoder.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the hash can tell
    encoder.write_bytes(bytes(data))
    with pytest.raises(IndexUnreadableError, match=f"{ENCODER_FILE} does not match its hash.*--full"):
        index_copy.open().query_encoder()


def run_and_list_heavy_imports(argv: list[str], heavy: set[str]) -> tuple[str, list[str]]:
    """Run ``parley argv`` in a fresh interpreter; its output and which of ``heavy`` it imported."""
    probe = (
        "import sys\n"
        "from parley.bot.cli import main\n"
        f"code = main({argv!r})\n"
        f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(heavy)!r})), code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                            cwd=PROJECT_DIR, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0"), last
    return result.stdout, ast.literal_eval(last.removeprefix("HEAVY ").rsplit(" ", 1)[0])


@pytest.mark.parametrize("command", [["ask", "Is there an AI race?"], ["index", "build"]])
def test_answering_and_an_unchanged_rebuild_never_import_torch(index_copy, command):
    """The cold-start budget depends on it (torch alone takes seconds to import); and a
    rebuild with nothing to do must not even load the model."""
    output, heavy = run_and_list_heavy_imports([*command, "--index", str(index_copy.root)],
                                               {"torch", "sentence_transformers", "transformers", "sklearn"})
    assert heavy == []
    assert "[1]" in output if command[0] == "ask" else "Index is up to date" in output


def test_a_rebuild_after_an_edit_embeds_with_the_exported_encoder_never_importing_torch(index_copy, corpus_copy):
    """Torch is imported only to export the encoder; a re-index of edited text reuses the
    export (a new process saves the seconds the import costs), and finds the new text. The
    everyday-words list is the served version's copy too (wordfreq costs a second)."""
    essay = corpus_copy / "essay-who-should-win-the-ai-race.txt"
    essay.write_text(essay.read_text() + "\nA postscript: lunar fission reactors could power research stations.\n")
    output, heavy = run_and_list_heavy_imports(
        ["index", "build", "--index", str(index_copy.root), "--corpus", str(corpus_copy)],
        {"torch", "sentence_transformers", "transformers", "wordfreq"})
    assert heavy == []
    assert "passages embedded" in output and " 0 passages embedded" not in output
    hits = AnswerEngine(ServedIndex(index_copy)).search("What could power a lunar research station?", 3)
    assert any("lunar fission reactors" in hit.passage.text for hit in hits)
