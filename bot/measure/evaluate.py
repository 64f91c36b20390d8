"""``parley eval``: the metrics of the question-set format (tests/eval/README.md).

Each row runs every question through one retrieval mode of the same engine, so the
baselines (BM25 only, dense only) are measured in the same run, on the same machine; the
peer baselines (txtai, LangChain: peers.py) get the retrieval rows, from their own search.
``evaluate`` only runs the engine; ``score`` turns the answers into figures and is pure,
so the metrics are tested on hand-built answers. ``load_questions`` is also how
``parley bench`` reads the question files it is given (it needs only ``q``).
"""

from __future__ import annotations

import json
import re
import statistics
import textwrap
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from parley.index import ParleyError

if TYPE_CHECKING:  # bench's scale child reads question files without loading the answer core
    from parley.bot.answer import AnswerEngine
    from parley.bot.answer.types import Answer, Citation
    from parley.bot.measure.peers import PeerRetriever
    from parley.index import Mode

KINDS = ("factual", "contested", "neartopic", "offtopic", "foreign", "markup")
# Answerable kinds: the corpus answers them (markup: once the markup is read past).
ANSWERABLE = ("factual", "contested", "markup")
REFUSED_KINDS = ("neartopic", "offtopic")
INNER_KINDS = ("factual", "contested")  # of a foreign or markup question
FRAMINGS = ("race", "cooperation")  # the framing sections of an answer
FIRST_QUOTES = 3  # "fact within the first three quotes"
ROW_NAMES = {"hybrid": "Parley (hybrid)", "bm25": "BM25 only", "dense": "dense only"}
PEER = "peer"  # the mode of a peer baseline's row (retrieval figures only)
WIDTH = 100  # the text table stays readable in this many columns
# The false statements about the corpus, as ``--json`` names them.
ABSENT = {"race": "race framing absent", "cooperation": "cooperation framing absent"}
NOT_COVERED = "not covered"


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
    inner_kind: str | None = None  # foreign and markup only: "factual" or "contested"
    # The debate map's points the question asks about, main one first (labelled questions
    # only; empty: no point is about it).
    points: tuple[str, ...] = ()

    @property
    def scored_as(self) -> str:
        """The kind whose metrics the question counts in: a markup question is scored as
        its inner kind; a foreign one only on getting the not-English reply."""
        return self.inner_kind if self.kind == "markup" else self.kind

    def phrases(self, framing: str) -> tuple[str, ...]:
        return self.race if framing == "race" else self.cooperation


@dataclass(frozen=True)
class Run:
    """One question asked in one mode: what the engine returned and what it cost."""

    question: Question
    answer: Answer
    ms: float  # latency of ``engine.ask``
    text: str  # the answer as rendered in plain text (``render_plain``)
    top5: tuple[str, ...] = ()  # passage texts of the top 5 search results (factual questions)


@dataclass(frozen=True)
class EvalRow:
    """Every figure for one mode. Rates are in [0, 1] (None: no question of that kind);
    ``n`` says what each figure is over, ``failing`` lists the question ids that fail it."""

    name: str
    mode: str
    # contested (contested questions and markup ones whose inner kind is contested)
    both_framings_on_point: float | None
    both_framings_shown: float | None
    # questions labelled with their point(s): the answer is on one of them
    point_matched: float | None
    # factual (factual questions and markup ones whose inner kind is factual)
    fact_in_first_3: float | None
    citation_hit_rate: float | None
    recall_at_5: float | None
    mrr: float | None
    hit_at_1: float | None  # the first search result holds the fact
    # refusal
    neartopic_refused: float | None
    offtopic_refused: float | None
    foreign_not_english: float | None
    answerable_refused: int
    refusal_accuracy: float | None  # near/off-topic refused and answerable answered, together
    # truth
    false_statements: int
    faithfulness: float | None  # over quote parts
    unfaithful_parts: int
    quotes_show_parts: float | None  # over citations
    # size
    citations_per_answer_mean: float | None
    citations_per_answer_max: int | None
    answer_words_median: float | None
    p50_ms: float
    p95_ms: float
    n: dict[str, int] = field(default_factory=dict)
    failing: dict[str, list[str]] = field(default_factory=dict)
    # Each false statement: {"id": ..., "says": ...}.
    false_statement_list: list[dict[str, str]] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    """Read a question file; a malformed line is reported with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ParleyError(f"Cannot read question file {path}: {error.strerror}.") from None
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = _question(json.loads(line))
        except (ValueError, KeyError, TypeError) as error:
            raise ParleyError(f"{path}, line {number}: not a question object ({error}).") from None
        problem = _problem(question, seen)
        if problem:
            raise ParleyError(f"{path}, line {number}: {problem}.")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise ParleyError(f"{path} holds no questions.")
    return questions


def _question(raw: dict) -> Question:
    phrases = {}
    for key in ("gold", "race", "cooperation", "points"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
            raise TypeError(f"{key} must be a list of phrases")
        phrases[key] = tuple(value)
    if not isinstance(raw["q"], str):
        raise TypeError("q must be a string")
    return Question(id=str(raw["id"]), kind=raw["kind"], q=raw["q"], inner_kind=raw.get("inner_kind"), **phrases)


def _problem(question: Question, seen: set[str]) -> str | None:
    if question.id in seen:
        return f"id {question.id!r} is used twice"
    if question.kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    if question.kind in ("foreign", "markup"):
        if question.inner_kind not in INNER_KINDS:
            return f"a {question.kind} question needs inner_kind factual or contested"
    elif question.inner_kind is not None:
        return "inner_kind is only for foreign and markup questions"
    inner = question.inner_kind or question.kind
    if inner == "factual" and not question.gold:
        return "a factual question needs gold phrases"
    if inner == "contested" and not (question.race and question.cooperation):
        return "a contested question needs race and cooperation phrases"
    return None


def evaluate(engine: AnswerEngine, questions: list[Question], mode: Mode = "hybrid") -> EvalRow:
    """Every metric for one retrieval mode."""
    from parley.bot.render.text import render_plain

    index = engine.served.retriever().index
    engine.ask(questions[0].q, mode=mode)  # warm-up: load the model before timing anything
    runs = []
    for question in questions:
        started = time.perf_counter()
        answer = engine.ask(question.q, mode=mode)
        ms = (time.perf_counter() - started) * 1000
        top5 = ()
        if question.scored_as == "factual":
            top5 = tuple(hit.passage.text for hit in engine.search(question.q, 5, mode=mode))
        runs.append(Run(question, answer, ms, render_plain(answer), top5))
    documents = {doc_id: document.text for doc_id, document in index.documents.items()}
    return score(runs, documents, mode)


def evaluate_peer(peer: PeerRetriever, questions: list[Question]) -> EvalRow:
    """The retrieval figures of a peer baseline (peers.py): Recall@5, MRR and the first
    result, from its own top 5 chunks for each factual question, and its search latency."""
    factual = [q for q in questions if q.scored_as == "factual"]
    if factual:
        peer.search(factual[0].q, 5)  # warm-up, as for Parley's rows
    rates = _Rates()
    reciprocal, latencies = [], []
    for question in factual:
        started = time.perf_counter()
        top5 = peer.search(question.q, 5)
        latencies.append((time.perf_counter() - started) * 1000)
        ranks = [rank for rank, text in enumerate(top5[:5], start=1) if holds(text, question.gold)]
        rates.add("recall_at_5", question.id, bool(ranks))
        rates.add("hit_at_1", question.id, ranks[:1] == [1])
        rates.add("mrr", question.id, bool(ranks))
        reciprocal.append(1 / ranks[0] if ranks else 0.0)
    metrics = ("recall_at_5", "hit_at_1", "mrr")
    unmeasured = ("both_framings_on_point", "both_framings_shown", "point_matched", "fact_in_first_3", "citation_hit_rate",
                  "neartopic_refused", "offtopic_refused", "foreign_not_english", "refusal_accuracy",
                  "faithfulness", "quotes_show_parts", "citations_per_answer_mean", "citations_per_answer_max",
                  "answer_words_median")
    return EvalRow(
        name=peer.name, mode=PEER, recall_at_5=rates.rate("recall_at_5"), hit_at_1=rates.rate("hit_at_1"),
        mrr=_mean(reciprocal), answerable_refused=0, false_statements=0, unfaithful_parts=0,
        p50_ms=round(statistics.median(latencies), 2) if latencies else 0.0,
        p95_ms=round(_percentile(latencies, 95), 2) if latencies else 0.0,
        n={metric: rates.n(metric) for metric in metrics} | {"latency": len(latencies)},
        failing={metric: rates.failing(metric) for metric in metrics},
        **dict.fromkeys(unmeasured),
    )


# --- what an answer shows -------------------------------------------------------------


def shown_quotes(answer: Answer) -> list[tuple[str, Citation]]:
    """(section, citation) in the order the answer shows them: its perspectives in order,
    each one's citations in order. A citation no section lists is not shown as a quote."""
    by_number = {citation.n: citation for citation in answer.citations}
    return [(perspective.stance, by_number[n]) for perspective in answer.perspectives
            for n in perspective.citations if n in by_number]


def quote_text(citation: Citation) -> str:
    """The quote as its verbatim parts joined (a citation without parts: its quote)."""
    return " … ".join(part.text for part in citation.parts) if citation.parts else citation.quote


def holds(text: str, phrases: tuple[str, ...]) -> bool:
    text = normalise(text)
    return any(normalise(phrase) in text for phrase in phrases)


def is_refusal(answer: Answer) -> bool:
    return not answer.answered and not answer.citations


def says_not_covered(answer: Answer) -> bool:
    """The answer tells the reader the corpus does not cover the question (a refusal that
    is not the not-English reply)."""
    return answer.kind == "not_covered" or (not answer.answered and answer.kind != "not_english")


def false_statements(question: Question, answer: Answer) -> list[str]:
    """What the answer says about the corpus that the question set shows to be false:
    a framing said to be absent although the question lists evidence for it; "not
    covered" for a question the corpus answers (foreign ones too: their subject is covered)."""
    said = [ABSENT[framing] for framing in FRAMINGS if framing in answer.absent_framings and question.phrases(framing)]
    if question.kind not in REFUSED_KINDS and says_not_covered(answer):
        said.append(NOT_COVERED)
    return said


def unfaithful_parts(citation: Citation, documents: Mapping[str, str]) -> tuple[int, int]:
    """(parts, parts that are not exactly the document's text at their offsets). A
    citation without parts is one part: its quote at (start, end)."""
    parts = [(p.start, p.end, p.text) for p in citation.parts] or [(citation.start, citation.end, citation.quote)]
    text = documents.get(citation.doc_id)
    bad = sum(1 for start, end, part in parts
              if text is None or not 0 <= start <= end <= len(text) or text[start:end] != part)
    return len(parts), bad


# --- scoring ----------------------------------------------------------------------------


class _Rates:
    """Pass/fail per question for each metric: the rate, its n and the failing ids."""

    def __init__(self) -> None:
        self.results: dict[str, list[tuple[str, bool]]] = {}

    def add(self, metric: str, question_id: str, passed: bool) -> None:
        self.results.setdefault(metric, []).append((question_id, bool(passed)))

    def rate(self, metric: str) -> float | None:
        return _mean([passed for _, passed in self.results.get(metric, [])])

    def n(self, metric: str) -> int:
        return len(self.results.get(metric, []))

    def failing(self, metric: str) -> list[str]:
        return [question_id for question_id, passed in self.results.get(metric, []) if not passed]


def score(runs: list[Run], documents: Mapping[str, str], mode: str = "hybrid") -> EvalRow:
    """Every figure from the answers of one mode; ``documents`` maps doc id to its text."""
    rates = _Rates()
    reciprocal: list[float] = []
    false_list: list[dict[str, str]] = []
    parts = bad_parts = citations = shown_right = 0
    unfaithful: list[str] = []
    misshown: list[str] = []
    answered: list[Run] = []
    for run in runs:
        question, answer = run.question, run.answer
        qid, kind = question.id, question.scored_as
        quotes = [(section, quote_text(c)) for section, c in shown_quotes(answer)]
        if question.points:
            rates.add("point_matched", qid, answer.point is not None and answer.point.point_id in question.points)
        if kind == "contested":
            rates.add("both_framings_on_point", qid, all(
                any(section == framing and holds(text, question.phrases(framing)) for section, text in quotes)
                for framing in FRAMINGS))
            present = {p.stance for p in answer.perspectives if p.citations}
            rates.add("both_framings_shown", qid, set(FRAMINGS) <= present)
        elif kind == "factual":
            rates.add("fact_in_first_3", qid, any(holds(text, question.gold) for _, text in quotes[:FIRST_QUOTES]))
            rates.add("citation_hit_rate", qid, any(holds(text, question.gold) for _, text in quotes))
            ranks = [rank for rank, text in enumerate(run.top5[:5], start=1) if holds(text, question.gold)]
            rates.add("recall_at_5", qid, bool(ranks))
            rates.add("hit_at_1", qid, ranks[:1] == [1])
            reciprocal.append(1 / ranks[0] if ranks else 0.0)
            rates.add("mrr", qid, bool(ranks))  # failing: no hit in the top 5
        elif kind == "foreign":
            rates.add("foreign_not_english", qid, answer.kind == "not_english" and not answer.citations)
        if kind in REFUSED_KINDS:
            rates.add(f"{kind}_refused", qid, is_refusal(answer))
            rates.add("refusal_accuracy", qid, is_refusal(answer))
        if question.kind in ANSWERABLE:
            rates.add("answerable_refused", qid, answer.answered)  # "failing": refused
            rates.add("refusal_accuracy", qid, answer.answered)
        said = false_statements(question, answer)
        false_list += [{"id": qid, "says": statement} for statement in said]
        rates.add("false_statements", qid, not said)
        for citation in answer.citations:
            total, bad = unfaithful_parts(citation, documents)
            parts, bad_parts, citations = parts + total, bad_parts + bad, citations + 1
            if bad and qid not in unfaithful:
                unfaithful.append(qid)
            right = not citation.parts or citation.quote == quote_text(citation)  # what is read is what is scored
            shown_right += right
            if not right and qid not in misshown:
                misshown.append(qid)
        if answer.answered:
            answered.append(run)

    rate_metrics = ("both_framings_on_point", "both_framings_shown", "point_matched", "fact_in_first_3", "citation_hit_rate",
                    "recall_at_5", "hit_at_1", "neartopic_refused", "offtopic_refused", "foreign_not_english",
                    "refusal_accuracy")
    counts = [len(run.answer.citations) for run in answered]
    latencies = [run.ms for run in runs]
    n = {metric: rates.n(metric) for metric in (*rate_metrics, "mrr", "answerable_refused", "false_statements")}
    n |= {"faithfulness": parts, "quotes_show_parts": citations, "citations_per_answer": len(answered),
          "answer_words_median": len(answered), "latency": len(runs)}
    failing = {metric: rates.failing(metric) for metric in (*rate_metrics, "mrr", "answerable_refused",
                                                             "false_statements")}
    failing |= {"faithfulness": unfaithful, "quotes_show_parts": misshown}
    return EvalRow(
        name=ROW_NAMES.get(mode, mode),
        mode=mode,
        **{metric: rates.rate(metric) for metric in rate_metrics},
        mrr=_mean(reciprocal),
        answerable_refused=len(failing["answerable_refused"]),
        false_statements=len(false_list),
        faithfulness=round((parts - bad_parts) / parts, 4) if parts else None,
        unfaithful_parts=bad_parts,
        quotes_show_parts=round(shown_right / citations, 4) if citations else None,
        citations_per_answer_mean=_mean(counts),
        citations_per_answer_max=max(counts) if counts else None,
        answer_words_median=statistics.median(len(run.text.split()) for run in answered) if answered else None,
        p50_ms=round(statistics.median(latencies), 2) if latencies else 0.0,
        p95_ms=round(_percentile(latencies, 95), 2) if latencies else 0.0,
        n=n,
        failing=failing,
        false_statement_list=false_list,
    )


# --- output -----------------------------------------------------------------------------


def describe_questions(questions: list[Question]) -> str:
    parts = []
    for kind in KINDS:
        of_kind = [q for q in questions if q.kind == kind]
        if not of_kind:
            continue
        inner = ", ".join(f"{sum(q.inner_kind == k for q in of_kind)} {k}" for k in INNER_KINDS
                          if any(q.inner_kind == k for q in of_kind))
        parts.append(f"{len(of_kind)} {kind}" + (f" ({inner})" if inner else ""))
    return f"{len(questions)} questions: {', '.join(parts)}"


def format_table(rows: list[EvalRow], questions: list[Question]) -> str:
    """One block of "metric  value  detail" lines per mode, within ``WIDTH`` columns."""
    lines = textwrap.wrap(describe_questions(questions), WIDTH, subsequent_indent="  ")
    if any(q.kind == "markup" for q in questions):
        lines.append("(markup questions count as their inner kind)")
    for row in rows:
        lines += ["", row.name]
        lines += _block(row)
    return "\n".join(lines)


def _block(row: EvalRow) -> list[str]:
    lines: list[str] = []
    groups_shown: set[str] = set()

    def line(group: str, label: str, value: str, detail: str = "", ids: list[str] = (), lead: str = "") -> None:
        head = f"  {'' if group in groups_shown else group:11}{label:36}{value:>11}  {detail}"
        groups_shown.add(group)
        lines.append((head + _ids(ids, lead, WIDTH - len(head))).rstrip())

    def rate(group: str, label: str, metric: str) -> None:
        n = row.n.get(metric, 0)
        if n:
            failing = row.failing[metric]
            line(group, label, f"{getattr(row, metric):.3f}", f"{n - len(failing)}/{n}", failing, "  not: ")

    rate("contested", "both framings, on-point evidence", "both_framings_on_point")
    rate("contested", "both framings shown", "both_framings_shown")
    rate("map", "answered on a labelled point", "point_matched")
    rate("factual", f"fact in the first {FIRST_QUOTES} quotes", "fact_in_first_3")
    rate("factual", "citation hit (any quote)", "citation_hit_rate")
    rate("factual", "Recall@5 (search)", "recall_at_5")
    if row.n.get("mrr"):
        line("factual", "MRR (search)", f"{row.mrr:.3f}", f"({row.n['mrr']})")
    rate("factual", "fact in the first result (search)", "hit_at_1")
    if row.mode == PEER:  # a retriever only: no answers to judge
        line("latency", "search p50 / p95 ms", f"{row.p50_ms:.1f} / {row.p95_ms:.1f}")
        return lines
    rate("refusal", "neartopic refused", "neartopic_refused")
    rate("refusal", "offtopic refused", "offtopic_refused")
    rate("refusal", "foreign: the not-English reply", "foreign_not_english")
    if row.n.get("answerable_refused"):
        line("refusal", "answerable refused (target 0)", str(row.answerable_refused),
             f"of {row.n['answerable_refused']}", row.failing["answerable_refused"], ": ")
    rate("refusal", "refusal right, all kinds", "refusal_accuracy")
    line("truth", "false statements about the corpus", str(row.false_statements),
         f"in {row.n['false_statements']} answers")
    for label, says in (("- framing absent, evidence listed", ABSENT.values()),
                        ('- "not covered", corpus covers it', (NOT_COVERED,))):
        ids = [item["id"] for item in row.false_statement_list if item["says"] in says]
        if ids:
            line("truth", label, str(len(ids)), "", ids, "")
    if row.n.get("faithfulness"):
        parts = row.n["faithfulness"]
        line("truth", "faithful quote parts (exact)", f"{row.faithfulness:.3f}",
             f"{parts - row.unfaithful_parts}/{parts}", row.failing["faithfulness"], "  in: ")
        line("truth", "quotes showing their parts", f"{row.quotes_show_parts:.3f}",
             f"of {row.n['quotes_show_parts']}", row.failing["quotes_show_parts"], "  in: ")
    if row.n.get("citations_per_answer"):
        answered = f"({row.n['citations_per_answer']} answered)"
        line("size", "citations per answer, mean / max",
             f"{row.citations_per_answer_mean:.1f} / {row.citations_per_answer_max}", answered)
        line("size", "answer length, median words", f"{row.answer_words_median:g}", answered)
    line("latency", "p50 / p95 ms", f"{row.p50_ms:.1f} / {row.p95_ms:.1f}")
    return lines


def _ids(ids: list[str], lead: str, room: int) -> str:
    """As many of ``ids`` as fit in ``room`` columns, then how many more (``--json`` has all)."""
    shown: list[str] = []
    for index, item in enumerate(ids):
        rest = len(ids) - index - 1
        if len(lead + " ".join([*shown, item]) + (f" +{rest} more" if rest else "")) > room:
            break
        shown.append(item)
    else:
        return lead + " ".join(shown) if ids else ""
    return lead + (" ".join(shown) + f" +{len(ids) - len(shown)} more" if shown else f"{len(ids)}, see --json")


def as_json(rows: list[EvalRow], questions: list[Question], extra: dict) -> str:
    kinds = {kind: sum(q.kind == kind for q in questions) for kind in KINDS}
    scored = {kind: sum(q.scored_as == kind for q in questions) for kind in KINDS if kind != "markup"}
    return json.dumps({"questions": len(questions), "kinds": kinds, "scored_as": scored,
                       "rows": [asdict(r) for r in rows], **extra})


def _mean(values: list) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
