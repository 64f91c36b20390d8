"""Stance of each passage: ``race``, ``cooperation`` or ``neutral``, set at index time.

Two sources, in order:
1. ``stance-labels.jsonl``: passages a person read and labelled (reviewable, in the repo).
   A labelled passage keeps its label (confidence 1.0) as long as its text is unchanged.
2. A small classifier for every other passage (a new document, an edited paragraph):
   logistic regression over counts of framing cues — the vocabulary of each framing as
   the labelling guide defines it ("win", "adversary", "position of strength" for race;
   "cooperate", "shared threat", "no winners" for cooperation). Frozen sentence
   embeddings were measured and did worse here: they encode the topic, which every
   passage shares, more than the framing.

``cross_validate`` reports macro-F1 with leave-one-document-out cross-validation.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from parley.index.chunk import FRAMINGS, STANCES, Passage
from parley.index.errors import ParleyError

# Bump when the cues or the classifier change: stances are then recomputed.
STANCE_VERSION = 1

_CUES: dict[str, list[str]] = {
    "race": [
        r"\bwin(s|ning)?\b", r"\bbeat(ing)?\b", r"\blead(s|ing|ership)?\b", r"\bahead\b",
        r"\bdominan\w*", r"\bsupremacy\b", r"\badversar\w*", r"\bposition of strength\b",
        r"\bfront\b", r"\bcede\b", r"\bfoot race\b", r"\bcompetitors?\b", r"\bmust(n't| not)\b",
        r"\bnational security\b", r"\bthreat\b", r"\bcopy\w*|\bimitation\b|\bdistill\w*",
        r"\bcan(not|'t) afford\b", r"\bstay ahead\b", r"\bwinner\b",
    ],
    "cooperation": [
        r"\bcooperat\w*", r"\bcollaborat\w*", r"\btogether\b", r"\bjoint\w*", r"\bdialogue\b",
        r"\bshared\b", r"\bcommon\b", r"\bmutual\b", r"\bno winners?\b", r"\bmistake\b",
        r"\binaccurate\b", r"\bzero-sum\b", r"\bcoopetition\b", r"\bstandards\b",
        r"\btreat(y|ies)\b", r"\bgovernance\b", r"\babandon\b", r"\bsafe(ty)?\b",
        r"\bexistential\b", r"\brogue\b", r"\bbad actors\b|\bnon-state\b",
        r"\bbackfire\w*|\bfool's errand\b",
    ],
}
_COMPILED = {stance: [re.compile(c) for c in cues] for stance, cues in _CUES.items()}


@dataclass(frozen=True)
class LabelledPassage:
    passage_id: str
    doc_id: str
    stance: str
    text: str


@dataclass(frozen=True)
class CrossValidation:
    macro_f1: float
    per_class_f1: dict[str, float]
    passages: int
    documents: int


def cue_features(texts: list[str]) -> np.ndarray:
    """How often each framing's cues occur in each text: shape ``(len(texts), 2)``."""
    rows = []
    for text in texts:
        lowered = text.lower()
        rows.append([sum(len(p.findall(lowered)) for p in _COMPILED[s]) for s in FRAMINGS])
    return np.asarray(rows, dtype=np.float64)


class StanceClassifier:
    """Logistic regression over framing-cue counts; trained in milliseconds at build time."""

    def __init__(self, regularisation: float = 0.1):
        self.regularisation = regularisation
        self._model = None

    def fit(self, texts: list[str], stances: list[str]) -> StanceClassifier:
        from sklearn.linear_model import LogisticRegression

        self._model = LogisticRegression(
            C=self.regularisation, class_weight="balanced", max_iter=2000
        ).fit(cue_features(texts), stances)
        return self

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """(stance, probability) for each text."""
        if self._model is None:
            raise RuntimeError("fit the classifier first")
        if not texts:
            return []
        probabilities = self._model.predict_proba(cue_features(texts))
        classes = list(self._model.classes_)
        return [(classes[int(row.argmax())], float(row.max())) for row in probabilities]


def load_labels(path: Path) -> list[LabelledPassage]:
    """The reviewed labels; a malformed line is reported with its number."""
    labels = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ParleyError(f"Cannot read stance labels {path}: {error.strerror}.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            label = LabelledPassage(raw["passage_id"], raw["doc_id"], raw["stance"], raw["text"])
        except (ValueError, KeyError, TypeError) as error:
            raise ParleyError(f"{path}, line {number}: not a stance label ({error}).") from None
        if label.stance not in STANCES:
            raise ParleyError(f"{path}, line {number}: stance must be one of {', '.join(STANCES)}.")
        labels.append(label)
    return labels


def labels_fingerprint(path: Path | None) -> str:
    """Changes whenever the labels or the method change, so stances are recomputed."""
    digest = hashlib.sha256(f"stance-v{STANCE_VERSION}".encode())
    if path is not None and path.is_file():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def assign_stances(passages: list[Passage], labels: list[LabelledPassage]) -> list[Passage]:
    """Each passage with its stance: the reviewed label when its text is unchanged,
    otherwise the classifier's prediction; ``neutral`` at confidence 0 without labels."""
    by_text = {(label.doc_id, label.text): label.stance for label in labels}
    unlabelled = [p for p in passages if (p.doc_id, p.text) not in by_text]
    predictions: dict[str, tuple[str, float]] = {}
    if unlabelled and len({label.stance for label in labels}) > 1:
        classifier = StanceClassifier().fit([label.text for label in labels], [label.stance for label in labels])
        predictions = dict(zip((p.passage_id for p in unlabelled), classifier.predict([p.text for p in unlabelled])))
    result = []
    for passage in passages:
        stance = by_text.get((passage.doc_id, passage.text))
        if stance is not None:
            result.append(replace(passage, stance=stance, stance_confidence=1.0))
        else:
            predicted, confidence = predictions.get(passage.passage_id, ("neutral", 0.0))
            result.append(replace(passage, stance=predicted, stance_confidence=round(confidence, 4)))
    return result


def cross_validate(labels: list[LabelledPassage]) -> CrossValidation:
    """Macro-F1 of the classifier with leave-one-document-out cross-validation: each
    document is predicted by a classifier that never saw any of its passages."""
    from sklearn.metrics import f1_score

    documents = sorted({label.doc_id for label in labels})
    truth, predicted = [], []
    for held_out in documents:
        train = [label for label in labels if label.doc_id != held_out]
        test = [label for label in labels if label.doc_id == held_out]
        classifier = StanceClassifier().fit([label.text for label in train], [label.stance for label in train])
        truth += [label.stance for label in test]
        predicted += [stance for stance, _ in classifier.predict([label.text for label in test])]
    per_class = f1_score(truth, predicted, labels=list(STANCES), average=None, zero_division=0)
    return CrossValidation(
        macro_f1=round(float(np.mean(per_class)), 4),
        per_class_f1={s: round(float(f), 4) for s, f in zip(STANCES, per_class)},
        passages=len(labels),
        documents=len(documents),
    )
