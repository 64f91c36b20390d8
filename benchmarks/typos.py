"""Search with typos: each factual question with two neighbouring letters of one of its
words (six letters or more) swapped, searched with and without the correction of
index/spelling.py. Prints Recall@5, MRR and the first result for the questions as
written, with a typo and no correction, and with a typo corrected.

    .venv/bin/python benchmarks/typos.py tests/eval/tuning.jsonl tests/eval/calibration.jsonl
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from parley.bot.measure.evaluate import holds, load_questions
from parley.bot.settings import Settings
from parley.bot.wiring import build_engine


def with_typo(question: str, rng: random.Random) -> str:
    words = list(re.finditer(r"[A-Za-z]{6,}", question))
    if not words:
        return question
    match = rng.choice(words)
    word = match.group(0)
    i = rng.randrange(1, len(word) - 2)
    return question[: match.start()] + word[:i] + word[i + 1] + word[i] + word[i + 2 :] + question[match.end() :]


def main(files: list[str]) -> None:
    retriever = build_engine(Settings()).served.retriever()
    for name in files:
        questions = [q for q in load_questions(Path(name)) if q.scored_as == "factual"]
        for label in ("as written", "typo, not corrected", "typo, corrected"):
            rng = random.Random(0)
            found = reciprocal = first = 0
            for question in questions:
                text = question.q if label == "as written" else with_typo(question.q, rng)
                if label == "typo, not corrected":
                    hits = retriever.search_vector(text, retriever.encoder.encode([text])[0], 5)
                else:
                    hits = retriever.search(text, 5)
                ranks = [rank for rank, hit in enumerate(hits, 1) if holds(hit.passage.text, question.gold)]
                found += bool(ranks)
                reciprocal += 1 / ranks[0] if ranks else 0
                first += ranks[:1] == [1]
            n = len(questions)
            print(f"{Path(name).name:16} {label:20} Recall@5 {found / n:.3f}  MRR {reciprocal / n:.3f}  "
                  f"first {first / n:.3f}  ({n} questions)")


if __name__ == "__main__":
    main(sys.argv[1:])
