"""Framing review: which claim a curator should look at next, and writing their decision
to the reviewed labels (``corpus/claim-labels.jsonl``).

The queue puts first the claims of passages users flagged with "Wrong framing?" (most
flags first), then claims no person reviewed, least confident first. A decision replaces
or adds that sentence's line in the labels file, atomically (a temporary file renamed over
it), with who decided and when. The next build sees the labels change and relabels every
sentence; no vector is re-embedded (vectors are reused by their text), so a framing
decision reaches answers in the time of a no-embedding rebuild.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from parley.index.model import CLAIM_FRAMINGS, ClaimFraming, claim_key
from parley.index.store.version import LoadedIndex


@dataclass(frozen=True)
class ClaimToReview:
    """One sentence of the served index, with what a curator needs to judge its framing."""

    key: str
    doc_id: str
    title: str
    text: str
    before: str  # the sentence before it in its passage ("" at the start)
    after: str  # the sentence after it ("" at the end)
    framing: ClaimFraming  # as served
    confidence: float
    reviewed: bool
    speaker: str | None
    flags: int  # "Wrong framing?" votes on its passage


def review_queue(index: LoadedIndex, flagged: Mapping[str, int], *, skip: Iterable[str] = (),
                 limit: int = 1) -> list[ClaimToReview]:
    """The next ``limit`` claims to review, leaving out the keys in ``skip``.

    ``flagged``: passage id -> "Wrong framing?" votes. Of a flagged passage, its framed
    claims come first (those are what answers quote as a framing); a passage with none
    offers all its sentences."""
    skipped = set(skip)
    table = index.sentences
    row_of = {passage_id.decode("ascii"): row for row, passage_id in enumerate(index.passages.records["id"])}
    chosen: list[int] = []
    for passage_id, _ in sorted(flagged.items(), key=lambda item: -item[1]):
        row = row_of.get(passage_id)
        if row is None:
            continue  # a passage of an older version: its text changed since the vote
        sentences = list(table.of_passage(row))
        framed = [i for i in sentences if table.framing[i] != 0]
        chosen += framed or sentences
    unreviewed = np.flatnonzero(~table.reviewed)
    unreviewed = unreviewed[np.argsort(table.confidence[unreviewed], kind="stable")]
    queue, seen = [], set()
    for sentence in itertools.chain(chosen, (int(i) for i in unreviewed)):
        claim = _claim(index, sentence, flagged)
        if claim.key in skipped or claim.key in seen:
            continue
        seen.add(claim.key)
        queue.append(claim)
        if len(queue) >= limit:
            break
    return queue


def find_claim(index: LoadedIndex, key: str) -> ClaimToReview | None:
    """The served sentence whose label key is ``key``, if the index still holds it."""
    table = index.sentences
    for sentence in range(len(table.rows)):
        passage = index.passages[int(table.rows[sentence])]
        start, end = (int(x) for x in table.spans[sentence])
        if claim_key(passage.doc_id, index.documents[passage.doc_id].text[start:end]) == key:
            return _claim(index, sentence, {})
    return None


def _claim(index: LoadedIndex, sentence: int, flagged: Mapping[str, int]) -> ClaimToReview:
    table = index.sentences
    row = int(table.rows[sentence])
    passage = index.passages[row]
    document = index.documents[passage.doc_id]
    neighbours = table.of_passage(row)

    def text_of(i: int) -> str:
        if i not in neighbours:
            return ""
        start, end = (int(x) for x in table.spans[i])
        return document.text[start:end]

    text = text_of(sentence)
    return ClaimToReview(
        key=claim_key(passage.doc_id, text), doc_id=passage.doc_id, title=document.title, text=text,
        before=text_of(sentence - 1), after=text_of(sentence + 1),
        framing=CLAIM_FRAMINGS[int(table.framing[sentence])], confidence=float(table.confidence[sentence]),
        reviewed=bool(table.reviewed[sentence]), speaker=table.speaker(sentence), flags=flagged.get(passage.passage_id, 0))


def decision_record(claim: ClaimToReview, framing: ClaimFraming, *, reviewer: str, when: datetime | None = None) -> dict:
    """The reviewed-labels line (as a dict) that makes ``framing`` the label of ``claim``."""
    if framing not in CLAIM_FRAMINGS:
        raise ValueError(f"framing must be one of {', '.join(CLAIM_FRAMINGS)}")
    at = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    # Whose words a sentence gives does not change with its framing: a reframed claim keeps
    # its line's speaker and voice (``write_decisions``); one that frames nothing has none.
    whose = {"speaker": None, "voice": None} if framing == "none" else {}
    return {"key": claim.key, "doc_id": claim.doc_id, "framing": framing, **whose,
            "why": f"reviewed by {reviewer}", "text": claim.text, "reviewed_by": reviewer, "reviewed_at": at}


def record_decision(labels: Path, claim: ClaimToReview, framing: ClaimFraming, *, reviewer: str,
                    when: datetime | None = None) -> dict:
    """Write ``framing`` as the reviewed label of ``claim``: its line replaced, or added."""
    record = decision_record(claim, framing, reviewer=reviewer, when=when)
    write_decisions(labels, [record])
    return record


def write_decisions(labels: Path, records: Iterable[Mapping]) -> bool:
    """Each record updates its claim's line where that line stands (fields it does not
    name are kept), or is added at the end;
    the file is rewritten only if that changes it (its hash is part of every index
    version: applying the same decisions in the same order gives the same bytes on every
    host). ``True`` when it changed."""
    # Curators on several bot processes may decide at once: one read-modify-write at a time.
    with open(labels.with_name(f".{labels.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = labels.read_text(encoding="utf-8") if labels.is_file() else ""
        lines = [line for line in before.splitlines() if line.strip()]
        where = {json.loads(line).get("key"): i for i, line in enumerate(lines)}
        for record in records:
            if record["key"] in where:
                at = where[record["key"]]
                lines[at] = json.dumps({**json.loads(lines[at]), **record}, ensure_ascii=False)
            else:
                where[record["key"]] = len(lines)
                lines.append(json.dumps(dict(record), ensure_ascii=False))
        after = "\n".join(lines) + "\n"
        if after == before:
            return False
        staged = labels.with_name(f".{labels.name}.{os.getpid()}.tmp")
        with staged.open("w", encoding="utf-8") as handle:
            handle.write(after)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, labels)
        return True
