"""The framing of every sentence (a *claim*): ``race``, ``cooperation`` or none, and whose
words it gives; a passage's stance is derived from its claims.

Reviewed labels (``corpus/claim-labels.jsonl``, docs/labelling-guide.md) are keyed by the
sentence's document and exact text, so they survive re-chunking: a passage boundary can
move and every sentence keeps its label. A sentence without a reviewed label (a new
document, an edited paragraph) is labelled by a logistic regression over counts of each
framing's cue words, trained on the reviewed labels at build time; below
``CLASSIFIER_CONFIDENCE`` its claim is kept as context, not shown as a framing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.index.errors import ParleyError
from parley.index.model import (
    CLAIM_FRAMINGS,
    FRAMINGS,
    LABEL_VOICES,
    VOICES,
    ClaimFraming,
    LabelVoice,
    Stance,
    Voice,
    claim_key,
)

# Bump when the cues or the classifier change: framings are then recomputed.
STANCE_VERSION = 3
# What the classifier must reach before its label is shown as a framing. Measured
# leave-one-document-out on the reviewed labels (`parley eval` prints it): see docs/answers.md.
CLASSIFIER_CONFIDENCE = 0.6

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
class ClaimLabel:
    """A reviewed label: the framing a sentence presents, and whose words it gives."""

    key: str
    doc_id: str
    framing: ClaimFraming
    speaker: str | None
    text: str
    voice: LabelVoice | None = None  # None: not yet decided, so no speaker is named


@dataclass(frozen=True)
class Claim:
    """The framing of one sentence as served."""

    framing: ClaimFraming
    confidence: float  # 1.0 for a reviewed label
    reviewed: bool
    speaker: str | None  # named only with a voice: the words, or the view, are theirs
    voice: Voice | None = None


@dataclass(frozen=True)
class ClassifierReport:
    """Leave-one-document-out precision and recall of the classifier at the confidence it uses."""

    confidence: float
    precision: dict[str, float | None]
    recall: dict[str, float]
    sentences: int
    documents: int


def cue_features(texts: list[str]) -> np.ndarray:
    """How often each framing's cues occur in each text: shape ``(len(texts), 2)``."""
    rows = []
    for text in texts:
        lowered = text.lower()
        rows.append([sum(len(p.findall(lowered)) for p in _COMPILED[s]) for s in FRAMINGS])
    return np.asarray(rows, dtype=np.float64)


class FramingClassifier:
    """Logistic regression over framing-cue counts; trained in milliseconds at build time."""

    def __init__(self, regularisation: float = 0.1):
        self.regularisation = regularisation
        self._model = None

    def fit(self, texts: list[str], framings: list[str]) -> FramingClassifier:
        from sklearn.linear_model import LogisticRegression

        self._model = LogisticRegression(
            C=self.regularisation, class_weight="balanced", max_iter=2000
        ).fit(cue_features(texts), framings)
        return self

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """(framing, probability) for each text."""
        if self._model is None:
            raise RuntimeError("fit the classifier first")
        if not texts:
            return []
        probabilities = self._model.predict_proba(cue_features(texts))
        classes = list(self._model.classes_)
        return [(classes[int(row.argmax())], float(row.max())) for row in probabilities]


def load_labels(path: Path) -> list[ClaimLabel]:
    """The reviewed labels; a malformed line is reported with its number."""
    labels = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ParleyError(f"Cannot read claim labels {path}: {error.strerror}.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            label = ClaimLabel(raw["key"], raw["doc_id"], raw["framing"], raw.get("speaker"), raw["text"],
                               raw.get("voice"))
        except (ValueError, KeyError, TypeError) as error:
            raise ParleyError(f"{path}, line {number}: not a claim label ({error}).") from None
        if label.framing not in CLAIM_FRAMINGS:
            raise ParleyError(f"{path}, line {number}: framing must be one of {', '.join(CLAIM_FRAMINGS)}.")
        if label.voice is not None and label.voice not in LABEL_VOICES:
            raise ParleyError(f"{path}, line {number}: voice must be one of {', '.join(LABEL_VOICES)}.")
        if label.key != claim_key(label.doc_id, label.text):
            raise ParleyError(f"{path}, line {number}: key does not match doc_id and text.")
        labels.append(label)
    return labels


def labels_fingerprint(path: Path | None) -> str:
    """Changes whenever the labels or the method change, so framings are recomputed."""
    digest = hashlib.sha256(f"stance-v{STANCE_VERSION}-{CLASSIFIER_CONFIDENCE}".encode())
    if path is not None and path.is_file():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def label_claims(sentences: list[tuple[str, str]], labels: list[ClaimLabel]) -> list[Claim]:
    """The claim of each ``(doc_id, text)`` sentence: its reviewed label when its text is
    unchanged, else the classifier's framing when confident enough, else none."""
    reviewed = {label.key: label for label in labels}
    unlabelled = [text for doc_id, text in sentences if claim_key(doc_id, text) not in reviewed]
    predictions: dict[str, tuple[str, float]] = {}
    if unlabelled and len({label.framing for label in labels}) > 1:
        classifier = FramingClassifier().fit([label.text for label in labels], [label.framing for label in labels])
        predictions = dict(zip(unlabelled, classifier.predict(unlabelled)))
    claims = []
    for doc_id, text in sentences:
        label = reviewed.get(claim_key(doc_id, text))
        if label is not None:
            claims.append(_reviewed_claim(label))
            continue
        framing, confidence = predictions.get(text, ("none", 0.0))
        if confidence < CLASSIFIER_CONFIDENCE:
            framing = "none"
        claims.append(Claim(framing, round(confidence, 4), False, None))
    return claims


def passage_stance(claims: list[Claim]) -> tuple[Stance, float]:
    """A passage frames what most of its framed claims frame; a tie goes to the more
    confident side; no framed claim: ``neutral``."""
    counts = Counter(c.framing for c in claims if c.framing != "none")
    if not counts:
        return "neutral", 1.0 if claims and all(c.reviewed for c in claims) else 0.0
    weight = {f: (counts[f], sum(c.confidence for c in claims if c.framing == f)) for f in counts}
    framing = max(weight, key=lambda f: weight[f])
    confidence = min(c.confidence for c in claims if c.framing == framing)
    return framing, round(confidence, 4)  # type: ignore[return-value]


def cross_validate(labels: list[ClaimLabel], confidence: float = CLASSIFIER_CONFIDENCE) -> ClassifierReport:
    """Precision and recall of each framing, leave-one-document-out: each document is
    labelled by a classifier that never saw any of its sentences, at ``confidence``."""
    documents = sorted({label.doc_id for label in labels})
    truth, predicted = [], []
    for held_out in documents:
        train = [label for label in labels if label.doc_id != held_out]
        test = [label for label in labels if label.doc_id == held_out]
        classifier = FramingClassifier().fit([label.text for label in train], [label.framing for label in train])
        truth += [label.framing for label in test]
        predicted += [f if p >= confidence else "none" for f, p in classifier.predict([label.text for label in test])]
    precision, recall = {}, {}
    for framing in FRAMINGS:
        said = [t for t, p in zip(truth, predicted) if p == framing]
        precision[framing] = round(sum(t == framing for t in said) / len(said), 4) if said else None
        actual = sum(t == framing for t in truth)
        hit = sum(t == framing and p == framing for t, p in zip(truth, predicted))
        recall[framing] = round(hit / actual, 4) if actual else 0.0
    return ClassifierReport(confidence, precision, recall, len(labels), len(documents))


def _reviewed_claim(label: ClaimLabel) -> Claim:
    """A label as served: its speaker is named only when the sentence gives their words or
    their reported view; the writer's own voice and narration about someone name nobody."""
    named = label.framing != "none" and label.voice in VOICES and bool((label.speaker or "").strip())
    return Claim(label.framing, 1.0, True, label.speaker.strip() if named else None,
                 label.voice if named else None)
