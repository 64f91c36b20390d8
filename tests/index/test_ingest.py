"""``parley corpus add``: fixture pages, PDFs, Markdown and text (tests/fixtures/curate/)
become corpus documents with the right titles and clean text; bad inputs get one line
each; nothing half-written is left; URLs are fetched from a local server only."""

from __future__ import annotations

import http.server
import io
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from parley.bot.answer import AnswerEngine
from parley.index.indexing.build import build_index
from parley.index.search.served import ServedIndex
from parley.index.sources.ingest import add_sources
from parley.index.sources.read import load_corpus
from parley.index.store.versions import IndexLocation
from tests.helpers import PROJECT_DIR, run_parley

FIXTURES = PROJECT_DIR / "tests" / "fixtures" / "curate"


def text_pdf(lines: list[str], *, title: str | None = None) -> bytes:
    """A minimal one-page PDF with ``lines`` as real text (Helvetica), and a title."""
    stream = "BT /F1 11 Tf 72 720 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(f"<< /Title ({title}) >>")
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    info = f" /Info {len(objects)} 0 R" if title else ""
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def image_only_pdf() -> bytes:
    """A scanned page: no text layer at all."""
    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=612, height=792)
    writer.write(out)
    return out.getvalue()


REPORT_LINES = ["Compute governance after the summit", "Verification of training runs could rely on power draw,",
                "which public records and satellite images make hard to hide.",
                "Inspections of data centres remain unlikely while the chip rivalry continues."]


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "inputs"
    shutil.copytree(FIXTURES, folder)
    (folder / "report.pdf").write_bytes(text_pdf(REPORT_LINES, title="Compute governance report"))
    return folder


def corpus_files(corpus: Path) -> list[str]:
    return sorted(p.name for p in corpus.iterdir())


def test_pages_pdfs_markdown_and_text_become_documents_with_titles_and_clean_text(inputs, tmp_path):
    corpus = tmp_path / "corpus"
    outcomes = add_sources([str(inputs)], corpus)
    assert [(Path(o.source).name, o.status) for o in outcomes] == [
        ("notes.md", "added"), ("report.pdf", "added"), ("summit-page.html", "added"), ("transcript.txt", "added")]
    documents = {d.doc_id: d for d in load_corpus(corpus).documents}
    assert set(documents) == {"hotlines-for-frontier-ai", "compute-governance-report",
                              "chip-diplomacy-after-the-summit", "panel-transcript-spring-meeting-on-compute-governance"}
    page = documents["chip-diplomacy-after-the-summit"]
    assert (page.title, page.publisher, page.kind) == ("Chip diplomacy after the summit", "Example News", "web page")
    assert "shared incident-reporting channel" in page.raw_text
    assert "Subscribe now" not in page.raw_text and "Cookie settings" not in page.raw_text  # the chrome is gone
    notes = documents["hotlines-for-frontier-ai"].raw_text
    assert "**" not in notes and "print(" not in notes and "](" not in notes
    assert "policy workshop argued" in notes and "Cold War hotline](https" not in notes
    report = documents["compute-governance-report"]
    assert (report.title, report.kind) == ("Compute governance report", "PDF")
    assert "satellite images make hard to hide" in report.raw_text
    transcript = (corpus / "panel-transcript-spring-meeting-on-compute-governance.txt").read_text()
    assert "title_is_descriptive: true" in transcript  # the title was made up from its first line
    assert not any(name.startswith(".") for name in corpus_files(corpus))


def test_exact_and_near_duplicates_are_refused_naming_the_document(inputs, tmp_path):
    corpus = tmp_path / "corpus"
    add_sources([str(inputs / "summit-page.html")], corpus)
    again = add_sources([str(inputs / "summit-page.html")], corpus)
    assert (again[0].status, again[0].detail) == ("duplicate", "the same text as chip-diplomacy-after-the-summit.txt")
    edited = inputs / "edited.html"
    edited.write_text((inputs / "summit-page.html").read_text().replace(
        "Cold War.</p>", "Cold War.</p><p>Updated on Friday with a correction.</p>"))
    near = add_sources([str(edited)], corpus)
    assert near[0].status == "duplicate" and "nearly the same text as chip-diplomacy-after-the-summit.txt" in near[0].detail
    assert corpus_files(corpus) == ["chip-diplomacy-after-the-summit.txt"]


@pytest.mark.parametrize(("name", "content", "says"), [
    ("empty.txt", b"  \n", "empty"),
    ("scan.pdf", None, "without a text layer"),
    ("broken.pdf", b"%PDF-1.4 this is not a pdf", "not a readable PDF"),
    ("slides.pptx", b"PK\x03\x04", "unsupported file type .pptx"),
    ("latin1.txt", "caf\xe9 talks".encode("latin-1"), "not valid UTF-8"),
    ("blank.html", b"<html><body><nav>Home</nav></body></html>", "no article text"),
])
def test_unusable_inputs_get_one_clear_line_and_leave_nothing_behind(tmp_path, name, content, says):
    source = tmp_path / name
    source.write_bytes(image_only_pdf() if content is None else content)
    corpus = tmp_path / "corpus"
    [outcome] = add_sources([str(source)], corpus)
    assert outcome.status == "refused" and says in outcome.detail and "\n" not in outcome.detail
    assert corpus_files(corpus) == []


def test_an_input_over_the_size_cap_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr("parley.index.sources.ingest.MAX_DOCUMENT_BYTES", 100)
    source = tmp_path / "long.txt"
    source.write_text("A sentence about chips. " * 20)
    [outcome] = add_sources([str(source)], tmp_path / "corpus")
    assert outcome.status == "refused" and "limit" in outcome.detail


class _Pages(http.server.BaseHTTPRequestHandler):
    """A local web server: fixture pages, a PDF, a 404, a slow page and an unsupported type."""

    routes: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self):  # noqa: N802 — http.server's name
        if self.path == "/slow":
            time.sleep(3)
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    _Pages.routes = {
        "/news/chip-diplomacy": (200, "text/html; charset=utf-8", (FIXTURES / "summit-page.html").read_bytes()),
        "/report.pdf": (200, "application/pdf", text_pdf(REPORT_LINES, title="Compute governance report")),
        "/data.json": (200, "application/json", b"{}"),
        "/slow": (200, "text/html", b"<html></html>"),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_urls_are_fetched_with_limits_and_clear_errors(web, tmp_path):
    corpus = tmp_path / "corpus"
    outcomes = add_sources([f"{web}/news/chip-diplomacy", f"{web}/report.pdf", f"{web}/missing", f"{web}/data.json",
                            f"{web}/slow"], corpus, timeout=1)
    assert [o.status for o in outcomes] == ["added", "added", "refused", "refused", "refused"]
    assert outcomes[2].detail == "the server answered 404 Not Found"
    assert outcomes[3].detail.startswith("unsupported content type application/json")
    assert outcomes[4].detail.startswith("could not be fetched (")
    page = (corpus / "chip-diplomacy-after-the-summit.txt").read_text()
    assert f"url: {web}/news/chip-diplomacy\n" in page


def test_added_documents_are_indexed_and_answered_from(inputs, tmp_path, embedder):
    corpus = tmp_path / "corpus"
    add_sources([str(inputs)], corpus)
    location = IndexLocation(tmp_path / "index")
    build_index(corpus, location, embedder)
    answer = AnswerEngine(ServedIndex(location)).ask("How could training runs be verified across borders?")
    assert answer.answered
    assert any("satellite images" in c.quote for c in answer.citations)
    asked = run_parley("ask", "--json", "what did the policy workshop propose for frontier AI incidents?",
                       env={"PARLEY_INDEX_DIR": str(location.root)})
    cited = json.loads(asked.stdout)["citations"]
    assert any(c["doc_id"] == "hotlines-for-frontier-ai" and "hotline" in c["quote"] for c in cited)


def test_the_command_reports_each_input_and_exits_1_when_one_was_not_added(inputs, tmp_path):
    (inputs / "empty.txt").write_text("")
    corpus = tmp_path / "corpus"
    result = run_parley("corpus", "add", str(inputs / "notes.md"), str(inputs / "empty.txt"), "--corpus", str(corpus),
                        "--json")
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(Path(line["input"]).name, line["status"]) for line in lines] == [("notes.md", "added"),
                                                                              ("empty.txt", "refused")]
    assert lines[0]["doc_id"] == "hotlines-for-frontier-ai" and lines[1]["detail"] == "empty"


def test_a_pipe_given_to_corpus_add_is_refused_without_hanging(tmp_path):
    import os

    pipe = tmp_path / "stream.txt"
    os.mkfifo(pipe)
    [outcome] = add_sources([str(pipe)], tmp_path / "corpus")  # a read would block here forever
    assert (outcome.status, outcome.detail) == ("refused", "not a regular file (a pipe, device or socket)")


def test_a_folder_with_nothing_to_add_is_refused_with_its_reason(tmp_path):
    folder = tmp_path / "slides"
    folder.mkdir()
    (folder / "deck.pptx").write_bytes(b"PK\x03\x04")
    [outcome] = add_sources([str(folder)], tmp_path / "corpus")
    assert outcome.status == "refused"
    assert outcome.detail == "a folder with no .htm, .html, .markdown, .md, .pdf, .txt files in it"
