"""Stage 2, retrieve: the ranked passages (hybrid search), the asked article's first."""

from __future__ import annotations

from answering.types import Found, Question
from core.rules import Rules, rule
from retrieval.hybrid import HybridSearch, Passage
from text.articles import ARTICLE_MENTION
from text.normalize import fold

ASKED_ARTICLE = rule(
    "asked-article", "retrieve",
    "a question about \"Điều 5\" / \"Article 5\" / \"المادة 5\" is answered by that article's text, "
    "not by passages that share its words; where the documents found have no such article, the "
    "sources do not cover the question")


def retrieve(question: Question, search: HybridSearch, *, k: int, rules: Rules) -> Found:
    result = search.search(question.text, k=k, lang=question.search_lang, rules=rules)
    passages = list(result.passages)
    if not question.articles or not passages or not rules.on(ASKED_ARTICLE):
        return Found(result, tuple(passages))
    found = article_passages(search, question.articles, passages)
    ids = frozenset(p.chunk_id for p in found)
    return Found(result, tuple(found + [p for p in passages if p.chunk_id not in ids]), ids)


def article_passages(search: HybridSearch, asked: frozenset[str], passages: list[Passage],
                     limit: int = 2) -> list[Passage]:
    """Passages that are, or mention, an asked article, from the documents the question is
    about: those carrying its code if any, else those of the best three passages."""
    docs = [p.doc_id for p in passages if p.code_match] or [p.doc_id for p in passages[:3]]
    found: list[Passage] = []
    for doc_id in dict.fromkeys(docs):
        for p in search.passages_of(doc_id):
            if asked & set(ARTICLE_MENTION.findall(fold(p.locator.replace(" › ", " ") + " " + p.text))):
                found.append(p)
            if len(found) >= limit:
                return found
    return found
