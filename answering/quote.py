"""Stage 4, compose without a model: a refusal, a digest of a document's articles, or the
best sentences of the sources quoted with their citations (always grounded)."""

from __future__ import annotations

from answering.decide import asked_kind, gives
from answering.prompts import messages
from answering.types import Decision, Draft, Question
from core.rules import Rules, rule
from retrieval.hybrid import Passage
from text.addressed import addressed
from text.articles import is_article_label
from text.dates import find_dates
from text.lines import aside, shorten, squash
from text.language import reads
from text.sentences import split_sentences
from text.tokenize import terms
from text.transliteration import place_name

QUOTE_DATE = rule(
    "quote-dated-sentence", "compose",
    "a question that asks when is answered by a sentence that gives a date")
QUOTE_TITLE_WORDS = rule(
    "quote-title-words-do-not-count", "compose",
    "a regulation's title heading its first article repeats the question's words without "
    "answering anything the citation does not already show")
QUOTE_NEXT_SENTENCE = rule(
    "quote-next-sentence", "compose",
    "a sentence that announces (\"… tried new forms of activities.\") is often explained by the "
    "one after it")
QUOTE_ASIDES_LAST = rule(
    "quote-asides-last", "compose",
    "a title, a byline, a heading in capitals or a photo caption says who or what, not what the "
    "text says: quoted only when nothing else is")
QUOTE_OTHER_DOC = rule(
    "quote-other-document-only-if-as-good", "compose",
    "a second document is quoted only when its sentence shares at least as many of the question's "
    "words as the best one: otherwise it is cited for nothing")
QUOTE_HOLDS_KIND = rule(
    "quote-holds-asked-kind", "compose",
    "a quoted sentence answers a how-many, which-day, which-article or who-signed question only when it "
    "holds a number, a date, an article or a name: when no sentence of the sources does, the member "
    "is told the sources do not answer, not shown a sentence on the topic")
CLOSEST_DOCS = rule(
    "refusal-names-closest", "compose",
    "a refusal names the closest documents (meaning ≥ 0.3) so the member can ask about them")


def refusal(lang: str, passages: tuple[Passage, ...], rules: Rules, place: str = "",
            codes: dict[str, str] | None = None) -> str:
    """The refusal in the asker's language, naming the closest documents as the asker can read
    them. ``codes``: each document's own code, by doc_id (a title in another script, or a file
    name, is shown as that code, or not at all)."""
    msg = messages(lang)
    text = msg["abstain_place"].format(place=place_name(place, lang)) if place else msg["abstain"]
    closest: list[str] = []
    for p in passages if rules.on(CLOSEST_DOCS) else ():
        label = reader_label(p, lang, (codes or {}).get(p.doc_id))
        if p.dense >= 0.3 and label and label not in closest:
            closest.append(label)
    if closest:
        text += " " + msg["abstain_closest"].format(docs="; ".join(f"«{shorten(c, 80)}»" for c in closest[:2]))
    return text


def reader_label(p: Passage, lang: str, code: str | None) -> str | None:
    """A document's name for a reader of ``lang``: its title when written in the reader's language
    (not a file name), else its own code (codes read the same in any script), else None."""
    title = p.title if p.title and p.title != p.source.rsplit("/", 1)[-1] else None
    if title and reads(title, lang):
        return title
    return code


def with_ambiguity(lang: str, decision: Decision, text: str) -> str:
    """An ambiguous code's documents, each with its date and a cited quote (when the reader reads
    its script), before the answer."""
    if not decision.ambiguous:
        return text
    msg = messages(lang)
    lines = [msg["ambiguous"].format(code=decision.ambiguous[0]["code"], n=len(decision.ambiguous))]
    for a in decision.ambiguous:
        n = next((i + 1 for i, p in enumerate(decision.sources) if p.doc_id == a["doc_id"]), None)
        said = f": «{shorten(a['quote'], 160)}»" if reads(a["quote"], lang) else ""
        lines.append(f"- {a['code']}, {a['date']}{said}" + (f" [{n}]" if n else ""))
    return "\n".join(lines) + "\n\n" + text


def ambiguous_sources(decision: Decision) -> set[int]:
    return {i + 1 for i, p in enumerate(decision.sources) if any(a["doc_id"] == p.doc_id for a in decision.ambiguous)}


def digest_answer(question: Question, decision: Decision) -> Draft:
    msg = messages(question.lang)
    title, left, example = decision.digest
    lines = [f"- «{shorten(x, 220)}» [{n}]" for n, x in enumerate(decision.excerpts, 1)]
    text = "\n".join([msg["digest_intro"].format(title=shorten(title, 120)), *lines])
    if left:
        text += "\n" + msg["digest_more"].format(n=left, example=example)
    return Draft(text, tuple(range(1, len(decision.sources) + 1)), "digest", msg["_version"])


def quote_answer(question: Question, decision: Decision, rules: Rules, mode: str = "quote",
                 picked: list[tuple[int, str]] | None = None) -> Draft:
    """The best sentences of the sources (:func:`pick_sentences`), quoted with their citations."""
    msg = messages(question.lang)
    picked = pick_sentences(question, decision, rules) if picked is None else picked
    body = "\n".join(f"- «{s}» [{n}]" for n, s in picked)
    text = with_ambiguity(question.lang, decision, f"{msg['extractive_intro']}\n{body}")
    used = sorted({n for n, _ in picked} | ambiguous_sources(decision))
    return Draft(text, tuple(used), mode, msg["_version"])


def pick_sentences(question: Question, decision: Decision, rules: Rules) -> list[tuple[int, str]]:
    """The best sentence of the best source, then the next best: of the same document, or of
    another one only when it matches the question's words at least as well. Ranking: shared
    words first (same language), then closeness in meaning (what ranks a sentence of another
    language). "The best source" is its document: its other passages compete too.
    Returns (source number, sentence) in source order."""
    sources, qterms = decision.sources, question.content_terms
    when = question.expects == "date" and rules.on(QUOTE_DATE)  # a date counts as two shared words
    kind = asked_kind(question) if rules.on(QUOTE_HOLDS_KIND) else None
    scored: list[tuple[int, int, int, str]] = []  # (overlap, source n, position, sentence)
    for n, text in enumerate(decision.excerpts[:3], 1):
        sents = [s for part in text.split(" … ") for s in split_sentences(part)]  # excerpts join with " … "
        scored += [(len(qterms & set(terms(sent))) + (2 if when and find_dates(sent) else 0), n, i, sent)
                   for i, sent in enumerate(sents) if gives(kind, sent)]
    titles = set()
    if rules.on(QUOTE_TITLE_WORDS):  # (a news article's headline is content, and keeps its words)
        titles = {squash(p.title).casefold() for p in sources
                  if p.title and any(is_article_label(x) for x in p.locator.split(" › "))}
    asides = rules.on(QUOTE_ASIDES_LAST)

    def rank(x):
        shared = 0 if squash(x[3]).casefold() in titles else x[0]
        return (asides and aside(x[3]), -shared, -decision.sentence_scores.get(squash(x[3]), 0.0), x[2])

    picked: list[tuple[int, str]] = []
    if scored:
        best_doc = sources[min(x[1] for x in scored) - 1].doc_id
        first = min((x for x in scored if sources[x[1] - 1].doc_id == best_doc), key=rank)
        picked.append((first[1], shorten(first[3], 300)))
        as_good = rules.on(QUOTE_OTHER_DOC)
        rest = [x for x in scored if squash(x[3]) != squash(first[3])
                and (sources[x[1] - 1].doc_id == best_doc or not as_good or x[0] >= max(first[0], 1))]
        if rest:
            second = min(rest, key=lambda x: (*rank(x)[:2], x[1], *rank(x)[2:]))
            picked.append((second[1], shorten(second[3], 300)))
        after = _next_sentence(sources[first[1] - 1].text, first[3]) if rules.on(QUOTE_NEXT_SENTENCE) else None
        if after and not aside(after) and all(squash(after) != squash(s) for _, s in picked):
            picked.insert(1, (first[1], shorten(after, 300)))
        picked.sort(key=lambda p: p[0])
    return picked


def _next_sentence(passage: str, sentence: str) -> str | None:
    sents = [s for s in split_sentences(passage) if not addressed(s)]
    key = squash(sentence)
    for i, s in enumerate(sents[:-1]):
        if squash(s) == key:
            return sents[i + 1]
    return None
