"""``parley eval``: the metrics of the question-set format (tests/eval/README.md).

Each row runs every question through one retrieval mode of the same engine, so the
baselines (BM25 only, dense only) are measured in the same run, on the same machine.
``load_questions`` is also how ``parley bench`` reads the question files it is given.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parley.index.errors import ParleyError

if TYPE_CHECKING:  # bench's scale child reads question files without loading the answer core
    from parley.bot.answer import AnswerEngine
    from parley.index.search import Mode

KINDS = ("factual", "contested", "offtopic")
ROW_NAMES = {"hybrid": "Parley (hybrid)", "bm25": "BM25 only", "dense": "dense only"}


def normalise(text: str) -> str:
    """Matching normalisation: NFKC, plain hyphens and quotes, single spaces, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("[\u2010\u2011\u2013\u2014]", "-", text)
    text = re.sub("[\u2018\u2019]", "'", text)
    text = re.sub("[\u201c\u201d]", '"', text)
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    q: str
    gold: tuple[str, ...] = ()
    race: tuple[str, ...] = ()
    cooperation: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalRow:
    name: str
    recall_at_5: float | None
    mrr: float | None
    citation_hit_rate: float | None
    balance_rate: float | None
    refusal_accuracy: float | None
    faithfulness: float | None
    p50_ms: float
    p95_ms: float


def load_questions(path: Path) -> list[Question]:
    """Read a question file; a malformed line is reported with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ParleyError(f"Cannot read question file {path}: {error.strerror}.") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            question = Question(
                id=str(raw["id"]),
                kind=raw["kind"],
                q=raw["q"],
                **{key: tuple(raw.get(key, ())) for key in ("gold", "race", "cooperation")},
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ParleyError(f"{path}, line {number}: not a question object ({error}).") from None
        if question.kind not in KINDS:
            raise ParleyError(f"{path}, line {number}: kind must be one of {', '.join(KINDS)}.")
        questions.append(question)
    if not questions:
        raise ParleyError(f"{path} holds no questions.")
    return questions


def evaluate(engine: AnswerEngine, questions: list[Question], mode: Mode = "hybrid") -> EvalRow:
    """Every metric for one retrieval mode."""
    index = engine.served.retriever().index
    passages = {p.passage_id: p for p in index.passages}
    engine.ask(questions[0].q, mode=mode)  # warm-up: load the model before timing anything
    hits_at, reciprocal, cited_gold, balanced, refused_right, quotes, faithful = [], [], [], [], [], 0, 0
    latencies = []
    for question in questions:
        started = time.perf_counter()
        answer = engine.ask(question.q, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        for citation in answer.citations:
            quotes += 1
            document = index.documents[citation.doc_id]
            faithful += normalise(document.text[citation.start : citation.end]) == normalise(citation.quote)
        if question.kind == "factual":
            gold = [normalise(g) for g in question.gold]
            ranks = [
                rank
                for rank, hit in enumerate(engine.search(question.q, 5, mode=mode), start=1)
                if any(g in normalise(hit.passage.text) for g in gold)
            ]
            hits_at.append(bool(ranks))
            reciprocal.append(1 / ranks[0] if ranks else 0.0)
            cited_gold.append(any(g in normalise(c.quote) for c in answer.citations for g in gold))
            refused_right.append(answer.answered)
        elif question.kind == "contested":
            cited = [normalise(passages[c.passage_id].text) for c in answer.citations]
            balanced.append(
                any(normalise(p) in text for p in question.race for text in cited)
                and any(normalise(p) in text for p in question.cooperation for text in cited)
            )
        else:
            refused_right.append(not answer.answered and not answer.citations)
    return EvalRow(
        name=ROW_NAMES[mode],
        recall_at_5=_mean(hits_at),
        mrr=_mean(reciprocal),
        citation_hit_rate=_mean(cited_gold),
        balance_rate=_mean(balanced),
        refusal_accuracy=_mean(refused_right),
        faithfulness=faithful / quotes if quotes else None,
        p50_ms=round(statistics.median(latencies), 2),
        p95_ms=round(_percentile(latencies, 95), 2),
    )


def format_table(rows: list[EvalRow], questions: list[Question]) -> str:
    counts = ", ".join(f"{sum(q.kind == k for q in questions)} {k}" for k in KINDS)
    header = f"{'':18}{'Recall@5':>9}{'MRR':>7}{'Cite hit':>9}{'Balance':>9}{'Refusal':>9}{'Faithful':>9}{'p50 ms':>8}{'p95 ms':>8}"
    lines = [f"{len(questions)} questions ({counts})", header]
    for row in rows:
        values = [row.recall_at_5, row.mrr, row.citation_hit_rate, row.balance_rate,
                  row.refusal_accuracy, row.faithfulness]
        cells = "".join(f"{'-' if v is None else f'{v:.3f}':>{w}}" for v, w in zip(values, (9, 7, 9, 9, 9, 9)))
        lines.append(f"{row.name:18}{cells}{row.p50_ms:>8.1f}{row.p95_ms:>8.1f}")
    return "\n".join(lines)


def as_json(rows: list[EvalRow], questions: list[Question], extra: dict) -> str:
    return json.dumps({"questions": len(questions), "rows": [asdict(r) for r in rows], **extra})


def _mean(values: list) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
