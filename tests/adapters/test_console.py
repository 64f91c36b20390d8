"""The local console channel, driven line by line as a person types."""

import io
import subprocess

import pytest

from parley.bot.adapters.console import Console
from parley.bot.service import Service
from tests.helpers import PARLEY


@pytest.fixture
def console(reindexable, corpus_copy):
    engine, reindexer = reindexable
    output = io.StringIO()
    return Console(Service(engine, reindexer, None, cooldown_seconds=0), output), output, corpus_copy


def test_questions_and_ask_command_are_answered(console):
    chat, output, _ = console
    assert chat.handle("What did the 2023 open letter signed by many luminaries ask for?")
    assert chat.handle("/ask Who is Xue Lan?")
    text = output.getvalue()
    assert "six month halt" in text and "Tsinghua University professor Xue Lan" in text


def test_sources_help_unknown_and_quit(console):
    chat, output, _ = console
    chat.handle("/sources")
    chat.handle("/help")
    chat.handle("/nonsense")
    assert chat.handle("/quit") is False
    text = output.getvalue()
    assert "The corpus holds 5 documents" in text and "Axios" in text
    assert "/reindex" in text
    assert "Unknown command /nonsense" in text


def test_reindex_swaps_in_new_documents_while_answering(console):
    chat, output, corpus = console
    (corpus / "new-brief.txt").write_text(
        "---\ntitle: A brief on lunar research stations\npublisher: Example Wire\n---\n"
        "Engineers proposed a lunar research station powered by a small fission reactor. "
        "The design would let crews stay through the long lunar night without solar power.\n"
    )
    chat.handle("/reindex")
    chat.handle("What is competitive coexistence?")  # answered while the build runs
    chat.wait_for_reindex()
    chat.handle("How would a lunar research station get power through the night?")
    text = output.getvalue()
    assert "Indexed 6 documents" in text
    assert "fission reactor" in text


def test_a_reader_that_leaves_early_is_not_an_error(built_index):
    """`parley chat | head -2`: the answer meets a closed pipe; no traceback, exit 0."""
    chat = subprocess.Popen([str(PARLEY), "chat", "--index", str(built_index[0])], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert chat.stdout.readline().startswith("(stdin is not a terminal")
    chat.stdout.close()  # before the answer is written
    stderr = chat.stderr.read()
    assert chat.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "failed" not in stderr, stderr
