"""Stage 2, retrieve: the ranked passages (hybrid search), the asked article's first."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from answering.types import Found, Question
from core.rules import Rules, rule
from retrieval.hybrid import HybridSearch, Passage
from text.articles import ARTICLE_MENTION
from text.normalize import fold
from text.relations import LEAVES_OUT
from text.sentences import split_sentences

ASKED_ARTICLE = rule(
    "asked-article", "retrieve",
    "a question about \"Điều 5\" / \"Article 5\" / \"المادة 5\" is answered by that article's text, "
    "not by passages that share its words; where the documents found have no such article, the "
    "sources do not cover the question")
LEFT_OUT = rule(
    "left-out-article-not-given", "retrieve",
    "a sentence saying the text leaves an article out (\"Điều 6 không được tóm tắt\", \"does not "
    "describe Article 6\") names the article without giving it")


PLACE_IN_INDEX = rule(
    "place-in-index", "retrieve",
    "a question naming a province or city that none of the passages found is about looks in the "
    "documents of the index that name it (an unaccented \"nghe an\" or an Arabic article on it may "
    "rank below others by wording): the best of their passages by meaning join the found ones")


def retrieve(question: Question, search: HybridSearch, *, k: int, rules: Rules) -> Found:
    result = search.search(question.text, k=k, lang=question.search_lang, rules=rules)
    passages = list(result.passages)
    if rules.on(PLACE_IN_INDEX):
        passages = place_passages(question, search, result.vector, passages) + passages
    if not question.articles or not passages or not rules.on(ASKED_ARTICLE):
        return Found(result, tuple(passages))
    found = article_passages(search, question.articles, passages, left_out=rules.on(LEFT_OUT))
    ids = frozenset(p.chunk_id for p in found)
    return Found(result, tuple(found + [p for p in passages if p.chunk_id not in ids]), ids)


def place_passages(question: Question, search: HybridSearch, qvec, passages: list[Passage],
                   limit: int = 3) -> list[Passage]:
    """When no passage found is of a document naming a place the question names: the passages
    closest in meaning to the question among the indexed documents that do."""
    if not question.places or qvec is None:
        return []
    docs = search.snapshot().docs

    def names(doc_id: str) -> bool:
        doc = docs.get(doc_id)
        return bool(doc and set((doc.meta or {}).get("places") or ()) & question.places)

    if any(names(p.doc_id) for p in passages):
        return []
    candidates = [p for doc_id in docs if names(doc_id) for p in search.passages_of(doc_id)]
    if not candidates:
        return []
    vectors = search.vectors([p.chunk_id for p in candidates])
    q = np.asarray(qvec, dtype=np.float32)
    scored = [(float(np.asarray(vectors[p.chunk_id], dtype=np.float32) @ q), p)
              for p in candidates if p.chunk_id in vectors]
    best = sorted(scored, key=lambda x: -x[0])[:limit]
    return [replace(p, score=sim, dense=sim) for sim, p in best]


def article_passages(search: HybridSearch, asked: frozenset[str], passages: list[Passage],
                     limit: int = 2, *, left_out: bool = True) -> list[Passage]:
    """Passages that are, or mention, an asked article, from the documents the question is
    about: those carrying its code if any, else those of the best three passages."""
    docs = [p.doc_id for p in passages if p.code_match] or [p.doc_id for p in passages[:3]]
    found: list[Passage] = []
    for doc_id in dict.fromkeys(docs):
        for p in search.passages_of(doc_id):
            if asked & articles_given(p, left_out):
                found.append(p)
            if len(found) >= limit:
                return found
    return found


def articles_given(p: Passage, left_out: bool = True) -> set[str]:
    """The articles a passage is or gives: its locator's and those its sentences mention, but
    not those of a sentence saying the text leaves them out (text.relations.LEAVES_OUT)."""
    found = set(ARTICLE_MENTION.findall(fold(p.locator.replace(" › ", " "))))
    for sent in split_sentences(p.text):
        folded = fold(sent)
        if not (left_out and LEAVES_OUT.search(folded)):
            found |= set(ARTICLE_MENTION.findall(folded))
    return found
