"""Compose an answer from a retrieval, extractively: every word shown is the corpus's own.

1. Gate: a question whose specific subjects (names, acronyms, figures) no document
   mentions, or that is far from every passage, is not covered: say so, cite nothing.
2. Kind: a *factual* question leads with the quotes that state the fact; a *contested*
   one (an opinion, a should, a this-or-that on the framings) shows the framings.
3. Framings: a contested question that matches a point of the debate map with confidence
   is answered from that point: each framing's section shows the point's claims closest to
   the question, at most two, no two making the same point. Otherwise each framing's
   claims were searched across the whole corpus (``Retrieval.claims``) and a section shows
   those that address the question. A framing is said to be absent only when no claim of
   it in the whole corpus addresses the question.
4. Quotes are cut from the document by offsets and split where cleaning joined blocks,
   so every part is an exact slice; each keeps its speaker when the text names one.
5. The tally counts what is shown, and how many more passages hold each framing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.bot import phrases
from parley.bot.answer.question import asking_part
from parley.bot.answer.quotes import claim_span, quote_parts, quote_span
from parley.bot.answer.types import FRAMING_SECTIONS, Answer, AnswerKind, Citation, Perspective, PointRef, QuotePart
from parley.index import ClaimHit, Hit, IndexedDocument, PointMatch, Retrieval, SentenceMatch, stance_of_claim

# Opinion and this-or-that questions about the framings: people asking what to think, not
# what happened. A yes/no question about the race or cooperation counts too.
_OPINION = re.compile(
    r"\b(should|shouldn't|ought|smart|wise|fair|naive|good idea|bad idea|good sign|worth|really|actually|"
    r"agree|disagree|right to|is (?:he|she|that|it|this) right|wrong|cope|hype|overblown|hot take|better off|"
    r"would it|does it matter|matter much|gotta|have to|need to|must we|point of|threat or|or not|"
    r"or (?:just|is it)|do you think|makes? sense|good|bad|dumb)\b|, right\b",
    re.IGNORECASE)
_FRAMING_TOPIC = re.compile(
    r"\b(race|racing|arms race|win|winning|won|beat|lose|losing|ahead|behind|cooperat\w*|collaborat\w*|"
    r"work(?:ing)? (?:with|together)|team(?:ing)? up|compet\w*|rival\w*|adversar\w*|enemy|enemies|ally|"
    r"threat|trust|deal|treaty|talks?|engage\w*|slow(?:ing)? down|controls?|zero-sum|coexist\w*)\b",
    re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(is|are|was|were|do|does|did|can|could|will|would|has|have|isn't|aren't|doesn't|"
                     r"don't|won't|if)\b", re.IGNORECASE)
# Questions that ask for an explanation or a detail: "what did Xue Lan say", "how do
# they distill", "why did Anthropic drop its pledge".
_ASKS = re.compile(r"^\W*(what|what's|whats|how|why|who|whose|where|when|which|explain|tell me|define|name|list|"
                   r"give me|according to|in the|per the|quote)\b", re.IGNORECASE)
_FACT_WORD = re.compile(r"^\W*(who|when|where|which|how (?:much|many|long|big|old)|what (?:year|date|is the name|"
                        r"was the name|nickname|term)|name)\b", re.IGNORECASE)
# A question after an amount or a date is answered only by a sentence that holds one
# ("at all costs" asks for none).
_ASKS_QUANTITY = re.compile(r"\b(how (?:much|many)|what (?:percent|percentage|share|date|year)|exact (?:date|"
                            r"number|figure|amount)|how big|(?<!all )costs?\b|price|budget|bill number|%)", re.IGNORECASE)
# Words that put a view in a named speaker's mouth ("Xue Lan says...", "did Tegmark cave"):
# such a question gets that speaker's own words. Naming them as a subject ("what group are
# OpenAI and Anthropic using") does not.
_PINS_VIEW = re.compile(
    r"\b(say|says|said|saying|think|thinks|thought|argue[sd]?|arguing|want(?:s|ed)?|claim(?:s|ed)?|believe[sd]?|"
    r"wr(?:ote|ites?)|told|reckons?|admit(?:s|ted)?|agree[sd]?|cave[sd]?|insists?|warn(?:s|ed)?|call(?:s|ed)? for|"
    r"according to|view|take|stance|position|side with|backs?|opinion)\b", re.IGNORECASE)
# Questions that push for a side: "pick one", "US just wins, right?", "surely...". They get
# the corpus's sides like any contested question, and a line saying Parley picks none.
_PUSHES = re.compile(
    r"\b(pick (?:a|one|your) side|pick one|choose (?:a|one) side|take a side|which side (?:is|are|wins)|"
    r"who(?:'s| is) right|just (?:wins?|loses?)|obviously|surely|admit (?:it|that)|settle (?:it|this)|"
    r"you agree|be honest|just say)\b|,\s*right\s*\?|\bright\s*\?\s*$", re.IGNORECASE)
_QUANTITY = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|"
                       r"billion|trillion|dozen|half|January|February|March|April|May|June|July|August|"
                       r"September|October|November|December)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerSettings:
    # Passages considered for an answer (the search's top results, diversified).
    candidates: int = 16
    # Refuse when best-sentence cosine + best-passage cosine over the candidates is below
    # this: calibrated on answerable versus near-topic and off-topic questions (docs/answers.md).
    gate: float = 0.70
    # ...unless one passage holds this share of the question's words, weighted by rarity:
    # names ("Who is Xue Lan?") carry little meaning for the embedding model.
    lexical_gate: float = 0.75
    # A direct-answer quote comes from a passage whose evidence (sentence + passage
    # cosine) is at least this and within ``relevance_margin`` of the best.
    relevance_floor: float = 0.80
    relevance_margin: float = 0.35
    # A claim addresses the question when its relevance (``ClaimHit.relevance``) is at
    # least this; on a factual question, framings are added only from ``bearing_floor``.
    framing_floor: float = 0.15
    bearing_floor: float = 0.45
    # "N more passages on this point" counts the passages whose claims reach this.
    more_floor: float = 0.35
    # "No claim frames this point as ..." only when no claim of it reaches this.
    absent_floor: float = 0.0
    # On a contested question, a direct quote is added when its sentence scores this.
    context_floor: float = 0.6
    # Default answers: this many direct quotes, this many per framing; ``complete``: more.
    direct_quotes: int = 2
    per_framing: int = 2
    complete_direct_quotes: int = 5
    complete_per_framing: int = 8
    # Browsing a point of the debate map (/points): this many claims per framing.
    browse_per_framing: int = 3
    max_quote_words: int = 70
    # A contested question is answered from its best point of the debate map when the
    # match (``PointMatch.score``) reaches this (docs/evaluation.md, "Debate map").
    point_gate: float = 0.8
    # A claim off the point is shown only when it addresses the question by this much more.
    point_bonus: float = 0.3
    # Sentences within this of the best sentence of a passage make it into the quote.
    quote_margin: float = 0.15


def compose(retrieval: Retrieval, settings: AnswerSettings, *, complete: bool = False) -> Answer:
    """The answer to the retrieval's question: pure, no I/O."""
    question, hits = retrieval.question, list(retrieval.hits)
    kind = question_kind(question)
    if retrieval.unknown_terms and not _only_incidental(retrieval, kind, settings):
        return not_covered(retrieval, missing=retrieval.unknown_terms)
    semantic = bool(hits) and evidence(hits) >= settings.gate
    lexical = retrieval.lexical_best is not None and retrieval.coverage >= settings.lexical_gate
    if not (semantic or lexical):
        return not_covered(retrieval)
    direct = _direct_hits(retrieval, settings, lexical_first=lexical and not semantic)
    if _ASKS_QUANTITY.search(question) and kind == "factual" and not any(
            _QUANTITY.search(_best_sentence_text(hit, retrieval)) for hit in direct[:3]):
        return not_covered(retrieval)

    limit_direct = settings.complete_direct_quotes if complete else settings.direct_quotes
    limit_framing = settings.complete_per_framing if complete else settings.per_framing
    floor = settings.framing_floor if kind == "contested" else settings.bearing_floor
    strong = [h for h in direct if max((_score(s) for s in h.sentences), default=0) >= settings.context_floor]
    # A plain yes/no question may ask for a fact ("Has China turned down any Nvidia
    # chips?"): when a sentence answers it strongly, the direct quotes lead, then the framings.
    leads = kind == "contested" and bool(strong) and bool(_YES_NO.search(question)) and not _OPINION.search(question)
    chosen: list[_Quote] = []
    if kind == "factual" or leads:
        chosen += _pick_direct(direct, retrieval, settings, limit_direct, chosen)
    point = matched_point(retrieval, settings)
    # A question that names a speaker gets their own words closest to it, whatever view it
    # pins on them ("why did Xue Lan say America must win at all costs?"): first in its framing.
    speaker = retrieval.speaker_claims[0] if retrieval.speaker_claims and _PINS_VIEW.search(question) else None
    framed: dict[str, list[_Quote]] = {}
    more: dict[str, int] = {}
    for framing in FRAMING_SECTIONS:
        if point is not None:
            # Every claim of the point is on it: none is held back by a relevance floor, and
            # the tally counts exactly what asking for all of them would add.
            addressing = _speaker_first(speaker, framing, _on_point(point, retrieval, framing, kind, floor, settings))
            picked = _pick_claims(addressing, retrieval, settings, len(addressing) if complete else limit_framing,
                                  chosen)
            every = _pick_claims(addressing, retrieval, settings, len(addressing), chosen)
            closer = {q.passage_id for q in every}
        else:
            addressing = _speaker_first(speaker, framing,
                                        [c for c in retrieval.claims.get(framing, ()) if c.relevance >= floor])
            picked = _pick_claims(addressing, retrieval, settings, limit_framing, chosen)
            closer = {c.passage.passage_id for c in addressing if c.relevance >= max(floor, settings.more_floor)}
        framed[framing] = picked
        chosen += picked
        more[framing] = len(closer - {q.passage_id for q in picked})
    if kind == "contested" and not leads and not all(framed.values()):
        # A framing is missing: one quote that speaks to the question directly, after them.
        chosen += _pick_direct(strong or (direct if not any(framed.values()) else []), retrieval, settings, 1,
                               chosen)
    # Said only when no claim of that framing anywhere in the corpus is even loosely
    # related to the question: a claim below the framing floor is not shown, but its
    # existence forbids saying there is none.
    absent = tuple(f for f in FRAMING_SECTIONS if kind == "contested" and not framed[f]
                   and not any(c.relevance >= settings.absent_floor for c in retrieval.claims.get(f, ())))

    sections: list[tuple[str, list[_Quote]]] = []
    answer_quotes = [q for q in chosen if q.section == "answer"]
    # The stronger framing first; the named speaker's framing before either.
    framing_order = sorted((f for f in FRAMING_SECTIONS if framed[f]),
                           key=lambda f: (speaker is None or framed[f][0].sentence != speaker.sentence,
                                          -framed[f][0].score))
    if answer_quotes and (kind == "factual" or leads):
        sections.append(("answer", answer_quotes))
    sections += [(f, framed[f]) for f in framing_order]
    if answer_quotes and kind == "contested" and not leads:  # the framings lead; context follows
        sections.append(("answer", answer_quotes))
    citations: list[Citation] = []
    perspectives: list[Perspective] = []
    for section, quotes in sections:
        numbers = []
        for quote in quotes:
            citations.append(quote.cite(len(citations) + 1, retrieval.documents[quote.doc_id]))
            numbers.append(len(citations))
        perspectives.append(Perspective(stance=section, citations=numbers))
    shown = {f: len(framed[f]) for f in FRAMING_SECTIONS}
    return Answer(
        question=question,
        answered=True,
        perspectives=perspectives,
        citations=citations,
        summary=phrases.shown_tally(shown),
        kind=kind,
        absent_framings=absent,
        more={} if complete else {f: n for f, n in more.items() if n and shown[f]},
        complete=complete,
        point=PointRef(point.point.point_id, point.point.title) if point is not None else None,
        related=_related(retrieval, point),
        picks_no_side=kind == "contested" and any(framed.values()) and bool(_PUSHES.search(question)),
    )


def compose_point(retrieval: Retrieval, settings: AnswerSettings) -> Answer:
    """Both sides of one point of the debate map (``Retriever.point_view``): each framing's
    strongest claims in the curators' order, at most ``browse_per_framing``, no two making
    the same point."""
    (point,) = retrieval.points
    chosen: list[_Quote] = []
    framed: dict[str, list[_Quote]] = {}
    for framing in FRAMING_SECTIONS:
        framed[framing] = _pick_claims(list(point.claims.get(framing, ())), retrieval, settings,
                                       settings.browse_per_framing, chosen)
        chosen += framed[framing]
    citations: list[Citation] = []
    perspectives: list[Perspective] = []
    for framing in FRAMING_SECTIONS:
        if framed[framing]:
            start = len(citations)
            citations += [q.cite(start + i + 1, retrieval.documents[q.doc_id]) for i, q in enumerate(framed[framing])]
            perspectives.append(Perspective(stance=framing, citations=list(range(start + 1, len(citations) + 1))))
    shown = {f: len(framed[f]) for f in FRAMING_SECTIONS}
    return Answer(question=point.point.title, answered=True, perspectives=perspectives, citations=citations,
                  summary=phrases.shown_tally(shown), kind="contested",
                  absent_framings=tuple(f for f in FRAMING_SECTIONS if not point.claims.get(f)),
                  complete=True, point=PointRef(point.point.point_id, point.point.title),
                  related=_related(retrieval, point))


def _on_point(point: PointMatch, retrieval: Retrieval, framing: str, kind: AnswerKind, floor: float,
              settings: AnswerSettings) -> list[ClaimHit]:
    """A framing's claims for a question matched to ``point``: the point's, in their order
    for the question, and any claim of the whole corpus that addresses the question more
    closely than a point's claim by more than ``point_bonus`` (a question the map splits
    across points, a claim the map placed elsewhere)."""
    own = list(point.claims.get(framing, ()))
    bonus = settings.point_bonus if kind == "contested" else 0.0
    placed = {c.sentence.sentence for c in own}
    others = [c for c in retrieval.claims.get(framing, ())  # best first
              if c.sentence.sentence not in placed and c.relevance >= floor]
    merged: list[ClaimHit] = []
    for claim in own:
        while others and others[0].relevance > claim.relevance + bonus:
            merged.append(others.pop(0))
        merged.append(claim)
    return merged


def _speaker_first(speaker: ClaimHit | None, framing: str, claims: list[ClaimHit]) -> list[ClaimHit]:
    """``claims`` with the named speaker's claim first when it is of ``framing``."""
    if speaker is None or speaker.sentence.framing != framing:
        return claims
    return [speaker, *(c for c in claims if c.sentence.sentence != speaker.sentence.sentence)]


def matched_point(retrieval: Retrieval, settings: AnswerSettings) -> PointMatch | None:
    """The debate map's point the question asks about, when the match is confident."""
    best = retrieval.points[0] if retrieval.points else None
    return best if best is not None and best.score >= settings.point_gate else None


def _only_incidental(retrieval: Retrieval, kind: AnswerKind, settings: AnswerSettings) -> bool:
    """Whether the question's unknown words are chatter around a question the debate map
    answers: a contested question matched to a point, whose unknown words are everyday
    lower-case ones ("hopelessly tangled", "oligarchy speedrun") or stand in the context
    before the sentence that asks ("my cousin in Shenzhen... Could an employee speak up?").
    A name, acronym or figure in the asking sentence still refuses: "Is Samsung allowed
    to sell HBM to China?" asks about HBM, which no document mentions."""
    if kind != "contested" or matched_point(retrieval, settings) is None:
        return False
    asking = asking_part(retrieval.question)
    return all(term.islower() or not re.search(rf"(?<!\w){re.escape(term)}(?!\w)", asking)
               for term in retrieval.unknown_terms)


def _related(retrieval: Retrieval, point: PointMatch | None) -> tuple[PointRef, ...]:
    """Points to offer next: the map's neighbours of the point answered, then the next
    best matches of the question."""
    if point is None:
        return ()
    titles = {m.point.point_id: m.point.title for m in retrieval.points}
    titles.update(retrieval.point_titles)
    wanted = [*point.point.neighbours, *(m.point.point_id for m in retrieval.points[1:])]
    seen: list[str] = []
    for point_id in wanted:
        if point_id != point.point.point_id and point_id in titles and point_id not in seen:
            seen.append(point_id)
    return tuple(PointRef(point_id, titles[point_id]) for point_id in seen[:3])


def question_kind(question: str) -> AnswerKind:
    """Factual when the question asks for something the corpus states (who, what, how
    much, what someone said); contested when it asks what to think: a yes/no question,
    an opinion, or this-or-that about the framings. Showing both framings to a factual
    question costs a little room; hiding them from a contested one breaks the product's
    promise, so what is neither clearly factual nor clearly contested is contested when
    it touches the framings."""
    this_or_that = " or " in f" {question.lower()} " and _FRAMING_TOPIC.search(question)
    if _FACT_WORD.search(question) and not _OPINION.search(question):
        return "factual"
    if _ASKS.search(question) and not this_or_that and not (_OPINION.search(question) and _FRAMING_TOPIC.search(question)):
        return "factual"
    if _YES_NO.search(question) or _OPINION.search(question) or _FRAMING_TOPIC.search(question) or this_or_that:
        return "contested"
    return "factual"


def evidence(hits: list[Hit]) -> float:
    """How strongly the corpus speaks to the question: the best sentence's cosine plus
    the best passage's. Either alone is fooled, a sentence by a stray phrase ("science
    fiction"), a passage by the shared topic; together they separate on- from off-topic."""
    return max(h.sentence for h in hits) + max(h.dense for h in hits)


def not_covered(retrieval: Retrieval, *, missing: tuple[str, ...] = ()) -> Answer:
    """An honest 'not in the corpus', with what the corpus does cover; no citations."""
    return Answer(question=retrieval.question, answered=False, perspectives=[], citations=[],
                  summary=phrases.NOT_COVERED, kind="not_covered", missing=missing,
                  corpus_titles=retrieval.corpus_titles)




@dataclass(frozen=True)
class _Quote:
    section: str
    passage_id: str
    doc_id: str
    span: tuple[int, int]
    sentence: SentenceMatch  # the sentence that answers (its claim, its speaker)
    sentences: frozenset[int]  # every sentence index the quote covers
    score: float

    def cite(self, n: int, document: IndexedDocument) -> Citation:
        parts = tuple(QuotePart(s, e, document.text[s:e]) for s, e in quote_parts(document.text, self.span))
        stance = stance_of_claim(self.sentence.framing)
        return Citation(
            n=n, passage_id=self.passage_id, doc_id=document.doc_id, title=document.title,
            publisher=document.publisher, url=document.url, quote=" … ".join(p.text for p in parts),
            start=parts[0].start, end=parts[-1].end, stance=stance, score=round(self.score, 4), parts=parts,
            speaker=self.sentence.speaker, voice=self.sentence.voice, reviewed=self.sentence.reviewed,
        )


def _score(sentence: SentenceMatch) -> float:
    return sentence.relevance


def _evidence(hit: Hit) -> float:
    return hit.sentence + hit.dense


def _direct_hits(retrieval: Retrieval, settings: AnswerSettings, *, lexical_first: bool) -> list[Hit]:
    """The passages that answer, best first: within the relevance margin of the best."""
    hits = list(retrieval.hits)
    if lexical_first and retrieval.lexical_best is not None:
        hits = [retrieval.lexical_best] + [h for h in hits if h.row != retrieval.lexical_best.row]
    best = max(_evidence(h) for h in hits)
    floor = min(best, max(settings.relevance_floor, best - settings.relevance_margin))
    relevant = [h for h in hits if _evidence(h) >= floor]  # in fused-score order
    if lexical_first:  # the passage that names what was asked leads, however it scores
        relevant = [hits[0]] + [h for h in relevant if h.row != hits[0].row]
    return relevant


def _best_sentence_text(hit: Hit, retrieval: Retrieval) -> str:
    if not hit.sentences:
        return hit.passage.text
    best = max(hit.sentences, key=_score)
    return retrieval.documents[hit.passage.doc_id].text[best.start:best.end]


def _overlaps(sentences: frozenset[int], chosen: list[_Quote], retrieval: Retrieval) -> bool:
    """Whether a quote of ``sentences`` repeats a chosen one: a shared sentence, or two
    sentences that make the same point."""
    for quote in chosen:
        if sentences & quote.sentences:
            return True
        if any((min(a, b), max(a, b)) in retrieval.same_point for a in sentences for b in quote.sentences):
            return True
    return False


def _pick_direct(hits: list[Hit], retrieval: Retrieval, settings: AnswerSettings, limit: int,
                 chosen: list[_Quote]) -> list[_Quote]:
    picked: list[_Quote] = []
    for hit in hits:
        if len(picked) >= limit:
            break
        text = retrieval.documents[hit.passage.doc_id].text
        start, end = quote_span(hit, text, max_words=settings.max_quote_words, margin=settings.quote_margin)
        covered = frozenset(s.sentence for s in hit.sentences if s.start < end and s.end > start)
        if _overlaps(covered, chosen + picked, retrieval):
            continue
        best = max((s for s in hit.sentences if s.start < end and s.end > start), key=_score,
                   default=SentenceMatch(start, end, hit.sentence, 0.0))
        picked.append(_Quote("answer", hit.passage.passage_id, hit.passage.doc_id, (start, end), best, covered,
                             _score(best)))
    return picked


def _pick_claims(claims: list[ClaimHit], retrieval: Retrieval, settings: AnswerSettings, limit: int,
                 chosen: list[_Quote]) -> list[_Quote]:
    """The strongest claims, one per passage, preferring documents not yet quoted for
    this framing, none repeating a point already made."""
    picked: list[_Quote] = []
    for prefer_new_document in (True, False):
        for claim in claims:
            if len(picked) >= limit:
                return picked
            documents = {q.doc_id for q in picked}
            if prefer_new_document and claim.passage.doc_id in documents:
                continue
            if any(q.passage_id == claim.passage.passage_id for q in picked):
                continue
            sentence = claim.sentence
            if _overlaps(frozenset({sentence.sentence}), chosen + picked, retrieval):
                continue
            text = retrieval.documents[claim.passage.doc_id].text
            picked.append(_Quote(sentence.framing, claim.passage.passage_id, claim.passage.doc_id,
                                 claim_span(sentence, text), sentence, frozenset({sentence.sentence}),
                                 claim.relevance))
    return picked
