"""Stage 1, understand: the question's language, the codes and articles it names, what kind of
answer it expects and its own words — before anything is looked up."""

from __future__ import annotations

from answering.types import Question
from core.rules import Rules, rule
from text.articles import ARTICLE_MENTION
from text.codes import code_mentions, find_codes
from text.language import detect
from text.lexicon import cue
from text.normalize import fold
from text.tokenize import terms
from text.transliteration import places_in

MAX_QUESTION_CHARS = 1000
# What kind of answer the question asks for, by its question words (text/lexicon, [question]): a
# date ("khi nào", "when", "متى"), a number ("bao nhiêu", "how many", "كم") or a person ("ai",
# "who", "من هو").
ASKS_NUMBER = cue("question", "number")
_EXPECTS = {"date": cue("question", "date"), "number": ASKS_NUMBER, "person": cue("question", "person")}

SEARCH_IN_WRITTEN_LANGUAGE = rule(
    "search-in-written-language", "understand",
    "retrieval reads a question in the script it is written in: a member's reply language says "
    "nothing about the words they typed (it only tells unaccented Vietnamese from English)")


def understand(question: str, lang: str | None, rules: Rules) -> Question:
    q = " ".join(question.split())[:MAX_QUESTION_CHARS]
    asked_in = detect(q)
    lang = lang if lang in ("vi", "ar", "en") else asked_in
    search_lang = lang
    if rules.on(SEARCH_IN_WRITTEN_LANGUAGE) and (asked_in == "ar") != (lang == "ar"):
        search_lang = asked_in
    folded = fold(q)
    expects = next((kind for kind, words in _EXPECTS.items() if words.search(q)), None)
    return Question(text=q, lang=lang, search_lang=search_lang, codes=tuple(find_codes(q)),
                    articles=frozenset(ARTICLE_MENTION.findall(folded)), expects=expects,
                    content_terms=frozenset(content_terms(q)), places=frozenset(places_in(q)))


def content_terms(question: str) -> set[str]:
    """The question's own words, as terms: without the codes it names ("Quy định 37", "QĐ 37",
    "37-QĐ/TW" are the document, not what is asked about it) and without word pairs, which
    would favour a title line that merely repeats the document's name."""
    # one entry per reading of a mention ("القرار رقم 18": NQ and QĐ): each span cut once
    for start, end in sorted({(m[0], m[1]) for m in code_mentions(question)}, reverse=True):
        question = question[:start] + " " + question[end:]
    return {x for x in terms(question, query=True) if "_" not in x and not x.startswith("code:")}
