"""The docs quote a few figures of the code (a fusion weight, a cut-off, a size limit): each
is read from the doc's text and held equal to the constant it describes, so the prose
cannot drift from the code. Any other value of the code is named in the docs, not quoted.
Measurements (latencies, recall, dated bench and eval runs) are what a run printed: they
are not checked here.

Also: every doc is linked from the README, its links resolve, the source files it names
exist, and the layout in docs/development.md lists every source file."""

from __future__ import annotations

import re
import tomllib

import pytest

from parley.bot.answer.compose import AnswerSettings
from parley.index.indexing.stance import CLASSIFIER_CONFIDENCE
from parley.index.search.retriever import SearchSettings
from parley.index.sources.read import MAX_DOCUMENT_BYTES
from parley.index.store.lexical import PRUNED_ABOVE
from parley.index.store.vectors import APPROXIMATE_ABOVE
from tests.helpers import PROJECT_DIR

DOCS = PROJECT_DIR / "docs"
README = PROJECT_DIR / "README.md"

SEARCH, ANSWER = SearchSettings(), AnswerSettings()
WEIGHTS = (SEARCH.dense_weight, SEARCH.sentence_weight, SEARCH.bm25_weight)
MEBIBYTE = 1024 * 1024

# (what, file, pattern, the code's values): every match of the pattern in the file must
# equal the code's values, and each pattern must match at least once (else the doc no
# longer says it in these words: update the pattern, or stop quoting the figure).
QUOTED = [
    ("fusion weights", "docs/answers.md", r"(\d\.\d+) passage / (\d\.\d+) best sentence / (\d\.\d+) BM25", WEIGHTS),
    ("fusion weights", "docs/evaluation.md", r"(\d\.\d+) passage / (\d\.\d+) best sentence / (\d\.\d+) BM25",
     WEIGHTS),
    ("answer gate", "docs/answers.md", r"reaches (\d\.\d+) \(`AnswerSettings\.gate`\)", (ANSWER.gate,)),
    ("answer gate", "docs/evaluation.md", r"topical gate \(threshold (\d\.\d+)\)", (ANSWER.gate,)),
    ("lexical gate", "docs/answers.md",
     r"holds (\d+) % of the question's words weighted by rarity\s+\(`AnswerSettings\.lexical_gate`\)",
     (ANSWER.lexical_gate * 100,)),
    ("lexical gate", "docs/evaluation.md", r"in one passage \(threshold (\d+) %\)", (ANSWER.lexical_gate * 100,)),
    ("classifier confidence", "docs/answers.md", r"Below confidence (\d\.\d+) \(`CLASSIFIER_CONFIDENCE`\)",
     (CLASSIFIER_CONFIDENCE,)),
    ("exact search up to", "docs/index-format.md", r"up to ([\d,]+)\s+passages \(`APPROXIMATE_ABOVE`\)",
     (APPROXIMATE_ABOVE,)),
    ("exact search up to", "docs/index-format.md", r"above ([\d,]+)\s+claims, `APPROXIMATE_ABOVE`",
     (APPROXIMATE_ABOVE,)),
    ("exact search up to", "docs/performance.md", r"Above ([\d,]+)\s+passages \(`APPROXIMATE_ABOVE`",
     (APPROXIMATE_ABOVE,)),
    ("pruned BM25 above", "docs/performance.md", r"above ([\d,]+) passages\s+\(`PRUNED_ABOVE`", (PRUNED_ABOVE,)),
    ("pruned BM25 above", "docs/index-format.md", r"above ([\d,]+) passages \(`PRUNED_ABOVE`\)", (PRUNED_ABOVE,)),
    ("document size cap", "README.md", r"over (\d+) MB", (MAX_DOCUMENT_BYTES / MEBIBYTE,)),
    ("document size cap", "docs/index-format.md", r"never\s+more than (\d+) MB", (MAX_DOCUMENT_BYTES / MEBIBYTE,)),
    ("document size cap", "docs/reliability.md", r"read past (\d+) MB", (MAX_DOCUMENT_BYTES / MEBIBYTE,)),
]


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.parametrize(("what", "file", "pattern", "expected"), QUOTED,
                         ids=[f"{what} in {file}" for what, file, _, _ in QUOTED])
def test_a_quoted_figure_of_the_code_is_the_code_s(what, file, pattern, expected):
    text = (PROJECT_DIR / file).read_text()
    found = re.findall(pattern, text)
    assert found, f"{file} no longer quotes the {what} as /{pattern}/: update this test or the doc"
    for match in found:
        values = (match,) if isinstance(match, str) else match
        assert tuple(_number(v) for v in values) == pytest.approx(expected), f"{file}: the {what}"


def test_the_readme_gives_every_setting_its_shipped_default():
    config = tomllib.loads((PROJECT_DIR / "config" / "parley.toml").read_text())
    rows = {m[0]: m[1].strip() for m in re.findall(r"^\| `(\w+)` \| `PARLEY_\w+` \| ([^|]+) \|", README.read_text(),
                                                  flags=re.MULTILINE)}
    for name, value in config.items():
        shown = "*(empty)*" if value in ("", []) else f"`{str(value).lower() if isinstance(value, bool) else value}`"
        assert rows.get(name) == shown, f"README, Configuration: {name}"


def test_every_doc_is_linked_from_the_readme():
    readme = README.read_text()
    unlinked = sorted(p.name for p in DOCS.glob("*.md") if f"(docs/{p.name})" not in readme)
    assert unlinked == [], "docs the README does not link to (README, Development)"


@pytest.mark.parametrize("path", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_links_resolve(path):
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    missing = [link for link in links if "://" not in link and not (path.parent / link).exists()]
    assert missing == []


@pytest.mark.parametrize("path", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_the_source_files_named_exist(path):
    named = set(re.findall(r"`((?:index|bot|tests|benchmarks)/[\w/]+\.py)`", path.read_text()))
    assert sorted(n for n in named if not (PROJECT_DIR / n).is_file()) == []


def layout_files() -> set[str]:
    """The ``.py`` files of index/ and bot/ that the layout tree in docs/development.md lists."""
    text = (DOCS / "development.md").read_text()
    tree = text.split("## Layout", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    stack: list[str] = []
    found = set()
    for line in tree.splitlines():
        indent = len(line) - len(line.lstrip())
        name = line.split()[0] if line.strip() else ""
        if indent >= 26 or not name.endswith((".py", "/")):
            continue  # a description's second line, or a line of several names
        depth = indent // 2
        stack[depth:] = [name]
        if name.endswith(".py") and stack[0] in ("index/", "bot/"):
            found.add("".join(stack))
    return found


def test_the_layout_lists_every_source_file():
    actual = {str(p.relative_to(PROJECT_DIR)) for folder in ("index", "bot")
              for p in (PROJECT_DIR / folder).rglob("*.py") if p.name != "__init__.py"}
    listed = layout_files() - {"index/__init__.py"}
    assert {"missing from the layout": sorted(actual - listed), "listed but absent": sorted(listed - actual)} == {
        "missing from the layout": [], "listed but absent": []}
