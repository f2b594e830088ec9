"""What of the chosen sources the answer is made from: their sentences closest to the question,
or — for a question about a document as a whole — one sentence of each of its articles."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from answering.types import Question
from core.rules import Rules, rule
from retrieval.hybrid import HybridSearch, Passage
from text.codes import find_codes
from text.addressed import addressed
from text.articles import ARTICLE_START, is_article_label
from text.lines import aside, squash
from text.sentences import evidence_sentences, split_sentences
from text.tokenize import terms, words

SENTENCE_MARGIN = rule(
    "sentence-margin", "decide",
    "sentences clearly further from the question than the best one are left out of the prompt: "
    "a shorter prompt keeps a small model on the facts and is read faster on two cores",
    setting="answer_sentence_margin", off=0.0)
SENTENCE_EVIDENCE = rule(
    "sentence-evidence", "decide",
    "a sentence sharing the question's words, numbers or document codes is likelier to hold the "
    "answer than its closeness in meaning alone says")
DIGEST = rule(
    "digest", "decide",
    "a question about a document with articles as a whole (\"what does Regulation 37 say?\") is "
    "answered by its articles, one sentence each, in order, not by the two sentences sharing "
    "most words with the question")

# Words that ask about a document in general ("what does it say", "according to"), folded and
# stemmed like the question's terms when first needed (segmenting Vietnamese loads pyvi, which a
# command that answers nothing should not wait for).
_GENERAL_WORDS = """nói nêu gồm nội dung đề cập quy định yêu cầu chính những điều gì theo văn bản
    say says cover covers contain contains content about include includes main provisions rules under
    according document list what which tell
    تنص ينص يقول تقول محتوى تتضمن يتضمن بنود أحكام وفق حسب ماذا ما الوثيقة"""
MAX_DIGEST_ARTICLES = 15


@lru_cache(maxsize=1)
def _general() -> set[str]:
    return words(_GENERAL_WORDS)


def warm() -> None:
    """Segment the word lists now (loading pyvi), not in a member's first question."""
    _general()


def excerpts(question: Question, sources: list[Passage], ambiguous: list[dict], search: HybridSearch,
             settings, rules: Rules, *, qvec, whole_budget: bool = False
             ) -> tuple[list[Passage], list[str], dict[str, float]]:
    """The sentences of ``sources`` closest to the question (dense similarity, plus shared words,
    numbers and codes), within the context budget; sources left with no sentence are dropped.
    ``whole_budget``: a quoted answer has no prompt to keep short and chooses from all of it.
    Returns the sources kept, their excerpts and every sentence's score."""
    budget = settings.answer_context_chars
    items: list[tuple[int, int, str]] = []  # (source index, sentence index, text)
    for si, p in enumerate(sources):
        items += [(si, ji, sent) for ji, sent in enumerate(evidence_sentences(p.text))]
    if not items:
        return sources, [" ".join(x for x in split_sentences(p.text) if not addressed(x))[:budget // max(1, len(sources))]
                         for p in sources], {}
    qv = np.asarray(qvec, dtype=np.float32)  # the question's vector, as the search embedded it
    vecs = np.asarray(search.embedder.embed_documents([t for _, _, t in items]), dtype=np.float32)
    sims = vecs @ qv
    evidence = rules.on(SENTENCE_EVIDENCE)
    qterms = set(terms(question.text, query=True))
    qnums = set(re.findall(r"\d+", question.text))
    forced = {a["doc_id"]: a["quote"] for a in ambiguous}
    scored, scores = [], {}
    for (si, ji, sent), sim in zip(items, sims):
        score = float(sim)
        if evidence:
            score += 0.02 * len(qterms & set(terms(sent))) - 0.02 * si
            score += 0.1 * sum(1 for c in find_codes(sent) for q in question.codes if q.matches(c))
            score += 0.03 * len(qnums & set(re.findall(r"\d+", sent)))
        if sources[si].doc_id in forced and forced[sources[si].doc_id][:40] in sent:
            score += 1.0  # the sentence that dates an ambiguous code's document
        scored.append((score, si, ji, sent))
        scores[squash(sent)] = score
    keep: dict[int, dict[int, str]] = {}
    used = kept = 0
    ranked = sorted(scored, key=lambda x: -x[0])
    margin = 0.0 if whole_budget else rules.value(SENTENCE_MARGIN, 0.0)
    for score, si, ji, sent in ranked:
        if margin and kept >= 2 and score < ranked[0][0] - margin:
            break
        if used + len(sent) > budget and used:
            continue
        keep.setdefault(si, {})[ji] = sent
        used += len(sent) + 1
        kept += 1
    order = sorted(keep)
    return ([sources[si] for si in order],
            [" … ".join(keep[si][ji] for ji in sorted(keep[si])) for si in order], scores)


def digest(question: Question, sources: list[Passage], search: HybridSearch, rules: Rules
           ) -> tuple[list[Passage], list[str], tuple] | None:
    """The articles of the best source's document, one sentence each, when the question asks
    about that document as a whole: each of its words is in the document's title or only asks in
    general ("nói gì", "what does … say", "theo"). A question with a word of its own
    ("hiệu lực") is answered from its closest sentences as usual. Returns (sources, excerpts,
    (title, articles left out, the first one left out)) or None."""
    if not rules.on(DIGEST) or not sources:
        return None
    doc = search.document(sources[0].doc_id)
    if doc is None or not doc.title or doc.title == doc.source:
        return None
    if not question.content_terms <= words(doc.title) | _general():
        return None
    first: dict[str, Passage] = {}  # article label -> its first passage, in document order
    for p in search.passages_of(doc.doc_id):
        label = next((part for part in p.locator.split(" › ") if is_article_label(part)), None)
        if label:
            first.setdefault(label, p)
    if len(first) < 3:
        return None
    chosen, texts = [], []
    for p in first.values():
        if len(chosen) == MAX_DIGEST_ARTICLES:
            break
        sents = [x for x in split_sentences(p.text) if not addressed(x)]
        sent = next((x for x in sents if ARTICLE_START.match(x)), None) or next(
            (x for x in sents if not aside(x)), None)
        if sent:
            chosen.append(p)
            texts.append(sent)
    if len(chosen) < 3:
        return None
    left = list(first)[len(chosen):]
    return chosen, texts, (doc.title, len(left), left[0] if left else "")
