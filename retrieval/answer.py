"""The answer contract: a question in, a cited answer in the asker's language out.

``Answerer.answer(question, lang=None)`` returns an :class:`Answer`; ``Answerer.astream`` yields
the text as it is generated and then the final answer. No Telegram here: the bot, the CLI and
the evaluation all call this.

The path: retrieve (hybrid) → abstain when nothing is relevant enough (no LLM call) → build a
short numbered context (the best sentences of the best passages, one passage per document for an
ambiguous code) → generate with the language's prompt → check the answer (language, numbers and
codes present in the sources, citations, length, repetition) → on failure one stricter retry →
on failure again, the extractive answer (quoted sentences, always grounded).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from typing import AsyncIterator

from retrieval import guards
from retrieval.hybrid import HybridSearch, Passage, RetrievalResult
from retrieval.llm import ChatBackend, resolve_chat
from retrieval.prompts import LANGS, load_prompt, messages, topics
# (text helpers under the private names this module gave them before they moved to text/)
from text.articles import ARTICLE_MENTION as _ARTICLE
from text.articles import ARTICLE_START as _ARTICLE_START
from text.articles import is_article_label
from text.codes import Code, canonical_codes, code_mentions, find_codes, parse_key
from text.dates import find_dates
from text.language import detect
from text.lines import aside as _aside
from text.lines import shorten as _shorten
from text.lines import squash as _squash
from text.normalize import fold
from text.numbers import english_number_words
from text.sentences import split_sentences
from text.tokenize import terms
from text.transliteration import annotate_places

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 1000


def _words(text: str) -> set[str]:
    """``text``'s terms and its plain folded words (which keep the stopwords, as a question typed
    without diacritics has them: "khong", "gi")."""
    return set(terms(text)) | set(re.findall(r"\w+", fold(text)))


# Words that ask about a document in general ("what does it say", "according to"), folded and
# stemmed like the question's terms (see ``_digest``).
_GENERAL = _words("""nói nêu gồm nội dung đề cập quy định yêu cầu chính những điều gì theo văn bản
    say says cover covers contain contains content about include includes main provisions rules under
    according document list what which tell
    تنص ينص يقول تقول محتوى تتضمن يتضمن بنود أحكام وفق حسب ماذا ما الوثيقة""")
MAX_DIGEST_ARTICLES = 15
# A question that asks when (on fold()ed text): "khi nào", "ngày nào", "bao giờ", "when", "متى".
_WHEN = re.compile(r"\b(?:khi nao|ngay nao|nam nao|thang nao|bao gio|thoi gian nao|when|what date|which year)\b|متي|تاريخ")


@dataclass
class Citation:
    n: int
    doc_id: str
    source: str
    title: str | None
    codes: list[str]
    locator: str
    quote: str
    chunk_id: str = ""


@dataclass
class Answer:
    question: str
    text: str
    lang: str
    abstained: bool
    grounded: bool
    citations: list[Citation]
    passages: list[dict]  # everything retrieved, with scores (for logs and the Sources button)
    model: str
    prompt_version: str
    mode: str  # "llm" | "llm-retry" | "quote" | "extractive" | "abstain" | "llm-ungrounded" | "llm-*-not-in-sources"
    checks: list[str] = field(default_factory=list)  # problems found on the way (logged)
    ambiguous: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    relevance: float = 0.0

    @property
    def cited_docs(self) -> list[str]:
        out: list[str] = []
        for c in self.citations:
            if c.source not in out:
                out.append(c.source)
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cited_docs"] = self.cited_docs
        return d


@dataclass
class StreamEvent:
    kind: str  # "sources" (found, before generation), "delta" (text), "reset" (discard), "final"
    text: str = ""
    answer: Answer | None = None
    sources: list[dict] = field(default_factory=list)  # for "sources": [{"n","title","source"}]
    needs_llm: bool = False  # for "sources": generation comes next (the caller may queue for it)


@dataclass
class _Context:
    question: str
    lang: str
    result: RetrievalResult
    sources: list[Passage]  # numbered 1..n in the prompt
    excerpts: list[str]  # what the model sees of each source
    ambiguous: list[dict]
    timings: dict[str, float]
    abstain: bool = False
    qvec: object = None  # the question's embedding, when already computed
    off_topic: bool = False
    sentence_scores: dict = field(default_factory=dict)  # _squash(sentence) -> closeness
    digest: tuple | None = None  # (title, articles left out, the first one left out): see _digest


class Answerer:
    def __init__(self, search: HybridSearch, backend: ChatBackend, settings):
        self.search = search
        self.backend = backend
        self.settings = settings
        self._topics = None  # (on-topic, off-topic) prototype vectors, embedded on first use

    # -- the contract ------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Start the local model and read each language's fixed instructions into its prompt cache
        (llama.cpp keeps each prefix in RAM across languages), so the first question in a language
        after a start reads only its sources and question. Other backends: nothing to do."""
        if not self._local_model:
            return
        from langchain_core.messages import HumanMessage, SystemMessage

        chat = resolve_chat(self.backend)
        for lang in LANGS:
            system, user = load_prompt("answer", lang).render(sources="", question="")
            t = time.perf_counter()
            try:
                chat.invoke([SystemMessage(system), HumanMessage(user)], max_tokens=1)
            except Exception as exc:  # a slow first answer, not a failure
                log.warning("warm-up of the %s prompt failed: %s", lang, exc)
                return
            log.info("warm-up: %s prompt prefix read in %.1f s", lang, time.perf_counter() - t)

    def answer(self, question: str, lang: str | None = None) -> Answer:
        ctx = self._prepare(question, lang)
        if ctx.abstain:
            return self._abstain(ctx)
        if self._quote_instead(ctx):
            return self._extractive(ctx, [], mode="quote")
        chat = resolve_chat(self.backend)
        if chat is None:
            return self._extractive(ctx, [])
        problems: list[str] = []
        failed: list[list[str]] = []
        for purpose in ("answer", "strict"):
            t = time.perf_counter()
            try:
                reply = chat.invoke(self._messages(ctx, purpose))
                raw = self._postprocess(ctx, purpose, reply.content, chat, reply.response_metadata.get("finish_reason"))
            except Exception as exc:  # an LLM outage must not leave the member without an answer
                log.warning("LLM call failed: %s", exc)
                problems.append(f"LLM error: {exc.__class__.__name__}: {exc}")
                break
            ctx.timings[f"llm_{purpose}_ms"] = (time.perf_counter() - t) * 1000
            answer, found = self._finish(ctx, raw, purpose)
            if answer:
                answer.checks = problems
                return answer
            problems += [f"{purpose}: {p}" for p in found]
            failed.append(found)
        return self._fallback(ctx, problems, failed)

    def _fallback(self, ctx: _Context, problems: list[str], failed: list[list[str]]) -> Answer:
        """After two failed attempts: "not in the sources" when the model kept stating what the
        sources do not give (guards.ungrounded), else the quoted best sentences."""
        if guards.ungrounded(failed):
            answer = self._abstain(ctx, mode="llm-ungrounded")
            answer.checks = problems
            return answer
        return self._extractive(ctx, problems)

    async def astream(self, question: str, lang: str | None = None) -> AsyncIterator[StreamEvent]:
        ctx = await asyncio.to_thread(self._prepare, question, lang)
        if ctx.abstain:
            yield StreamEvent("final", answer=self._abstain(ctx))
            return
        quote = self._quote_instead(ctx)
        yield StreamEvent("sources", sources=[{"n": i, "title": p.title or p.source, "source": p.source}
                                              for i, p in enumerate(ctx.sources, 1)],
                          needs_llm=not quote and self.backend.chat is not None)
        if quote:
            yield StreamEvent("final", answer=self._extractive(ctx, [], mode="quote"))
            return
        chat = await asyncio.to_thread(resolve_chat, self.backend)
        if chat is None:
            yield StreamEvent("final", answer=self._extractive(ctx, []))
            return
        problems: list[str] = []
        t = time.perf_counter()
        parts: list[str] = []
        failed: list[list[str]] = []
        parts_shown = False
        finish = None
        try:
            streamer = chat
            if "streaming" in type(chat).model_fields:  # ChatOpenAI only streams token by token when asked to
                streamer = chat.model_copy(update={"streaming": True})
            prefill = self._prefill("answer", ctx.lang)
            async for chunk in streamer.astream(self._messages(ctx, "answer")):
                finish = chunk.response_metadata.get("finish_reason") or finish
                if chunk.content:
                    if not parts:
                        ctx.timings["first_token_ms"] = (time.perf_counter() - t) * 1000
                    parts.append(chunk.content)
                    so_far = "".join(parts).lstrip()
                    held = "NOT_".startswith(so_far) or (not parts_shown and prefill.startswith(so_far))
                    if not so_far.startswith("NOT_") and not held:  # hold back what may be the signal
                        # (or the model repeating the prefill) until it is clear
                        shown = chunk.content if parts_shown else so_far  # so_far: with any held-back start
                        if prefill and not parts_shown and not so_far.startswith(prefill):
                            shown = f"{prefill} {shown}"
                        parts_shown = True
                        yield StreamEvent("delta", shown)
                if len("".join(parts)) > guards.MAX_ANSWER_CHARS:
                    finish = "length"
                    break
            raw = await asyncio.to_thread(self._postprocess, ctx, "answer", "".join(parts), chat, finish)
            ctx.timings["llm_answer_ms"] = (time.perf_counter() - t) * 1000
            answer, found = self._finish(ctx, raw, "answer")
            if answer:
                yield StreamEvent("final", answer=answer)
                return
            problems += [f"answer: {p}" for p in found]
            failed.append(found)
            yield StreamEvent("reset")
            t = time.perf_counter()
            reply = await chat.ainvoke(self._messages(ctx, "strict"))
            raw = await asyncio.to_thread(self._postprocess, ctx, "strict", reply.content, chat,
                                          reply.response_metadata.get("finish_reason"))
            ctx.timings["llm_strict_ms"] = (time.perf_counter() - t) * 1000
            answer, found = self._finish(ctx, raw, "strict")
            if answer:
                answer.checks = problems
                yield StreamEvent("final", answer=answer)
                return
            problems += [f"strict: {p}" for p in found]
            failed.append(found)
        except Exception as exc:
            log.warning("LLM call failed: %s", exc)
            problems.append(f"LLM error: {exc.__class__.__name__}: {exc}")
            yield StreamEvent("reset")
        yield StreamEvent("final", answer=self._fallback(ctx, problems, failed))

    # -- steps ------------------------------------------------------------------------------------
    def _prepare(self, question: str, lang: str | None) -> _Context:
        t0 = time.perf_counter()
        q = " ".join(question.split())[:MAX_QUESTION_CHARS]
        asked_in = detect(q)
        lang = lang if lang in ("vi", "ar", "en") else asked_in
        # Retrieval reads the question in the language it is written in; a member's chosen reply
        # language counts only where the script agrees (it tells unaccented Vietnamese from English).
        search_lang = lang if (asked_in == "ar") == (lang == "ar") else asked_in
        result = self.search.search(q, k=max(self.settings.top_k, 8), lang=search_lang)
        timings = {"retrieve_ms": (time.perf_counter() - t0) * 1000}
        qcodes = find_codes(q)
        code_hit = any(p.code_match == 2 for p in result.passages)
        abstain = not q or not result.passages or (result.relevance < self.settings.abstain_below and not code_hit)
        asked = set(_ARTICLE.findall(fold(q)))
        if asked and not abstain:
            # "Điều 5 của Quy định 37": the passages of that article come first; when the
            # documents found hold no such article, the sources do not cover the question, whatever
            # else they say about the document (answering from the rest would invent its content).
            found = self._article_passages(asked, result.passages)
            abstain = not found
            article_ids = {f.chunk_id for f in found}
            result.passages = found + [p for p in result.passages if p.chunk_id not in article_ids]
        qvec = None
        off_topic = False
        if not abstain and not qcodes and self._topic_gate_on():
            qvec = self.search._query_vector(q, lang)
            off_topic = abstain = self._off_topic(qvec)
        ctx = _Context(q, lang, result, [], [], [], timings, abstain)
        ctx.qvec, ctx.off_topic = qvec, off_topic
        if abstain:
            return ctx
        ctx.ambiguous = self._ambiguity(qcodes)
        ctx.sources = self._choose_sources(result, ctx.ambiguous)
        if asked:  # the asked article is the answer, not the passages that share its words
            ctx.sources = [p for p in ctx.sources if p.chunk_id in article_ids] or ctx.sources
        self._excerpts(ctx)
        if not asked and not ctx.ambiguous and self._quote_instead(ctx):
            self._digest(ctx)
        ctx.timings["context_ms"] = (time.perf_counter() - t0) * 1000 - timings["retrieve_ms"]
        return ctx

    def _article_passages(self, asked: set[str], passages: list[Passage], limit: int = 2) -> list[Passage]:
        """Passages that are, or mention, an asked article, from the documents the question is
        about: those carrying its code if any, else those of the best three passages."""
        docs = [p.doc_id for p in passages if p.code_match] or [p.doc_id for p in passages[:3]]
        snap = self.search.snapshot()
        found: list[Passage] = []
        for doc_id in dict.fromkeys(docs):
            for i in snap.chunks_by_doc.get(doc_id, ()):
                c = snap.chunks[i]
                if asked & set(_ARTICLE.findall(fold(" ".join(c.locator) + " " + c.text))):
                    found.append(_passage_at(snap, i))
                if len(found) >= limit:
                    return found
        return found

    def _digest(self, ctx: _Context) -> None:
        """A question about a document with articles as a whole gets its articles, one sentence
        each, in order: "Đảng viên không được làm gì theo Quy định 37?" asks for every article of
        "Quy định 37-QĐ/TW về những điều đảng viên không được làm", not for the two sentences that
        share most words with the question. "As a whole": each of the question's words is in the
        document's title or only asks in general ("nói gì", "what does … say", "theo"); a question
        with a word of its own ("hiệu lực") is answered from its closest sentences as usual."""
        snap = self.search.snapshot()
        doc = snap.docs.get(ctx.sources[0].doc_id) if ctx.sources else None
        if doc is None or not doc.title or doc.title == doc.source:
            return
        asked = _content_terms(ctx.question)
        if not asked <= _words(doc.title) | _GENERAL:
            return
        first_chunk: dict[str, int] = {}  # article label -> its first chunk, in document order
        for i in sorted(snap.chunks_by_doc.get(doc.doc_id, ()), key=lambda i: snap.chunks[i].ordinal):
            label = next((part for part in snap.chunks[i].locator if is_article_label(part)), None)
            if label:
                first_chunk.setdefault(label, i)
        if len(first_chunk) < 3:
            return
        sources, excerpts = [], []
        for label, i in first_chunk.items():
            if len(sources) == MAX_DIGEST_ARTICLES:
                break
            p = _passage_at(snap, i)
            sents = split_sentences(p.text)
            sent = next((x for x in sents if _ARTICLE_START.match(x)), None) or next(
                (x for x in sents if not _aside(x)), None)
            if sent:
                sources.append(p)
                excerpts.append(sent)
        if len(sources) >= 3:
            left = list(first_chunk)[len(sources):]
            ctx.sources, ctx.excerpts = sources, excerpts
            ctx.digest = (doc.title, len(left), left[0] if left else "")

    def _quote_instead(self, ctx: _Context) -> bool:
        """With the local model, a question in the language of its best sources is answered by
        quoting them: exact, instant, and on the dev set more complete than the 1.5B model's
        rewording (README, "Answers"). Cross-lingual questions still need the model."""
        return (self.settings.quote_same_language and self._local_model
                and bool(ctx.sources) and ctx.sources[0].lang == ctx.lang)

    @property
    def _local_model(self) -> bool:
        return self.backend.name.startswith("local:")

    def _topic_gate_on(self) -> bool:
        # The gate compares meanings: only with a real embedding model, never the hashing fake.
        return self.settings.off_topic_margin > 0 and not self.search.embedder.model_id.startswith("hash")

    def _off_topic(self, qvec) -> bool:
        """Closer to something the bot is not for (weather, football, recipes…, prompts/topics.toml)
        than to anything it is for, by a margin: refuse without the LLM."""
        import numpy as np

        if self._topics is None:
            data = topics()
            embed = self.search.embedder.embed_documents
            self._topics = (np.asarray(embed(data["on_topic"]), dtype=np.float32),
                            np.asarray(embed(data["off_topic"]), dtype=np.float32))
        on, off = self._topics
        q = np.asarray(qvec, dtype=np.float32)
        return float((off @ q).max()) > float((on @ q).max()) + self.settings.off_topic_margin

    def _choose_sources(self, result: RetrievalResult, ambiguous: list[dict]) -> list[Passage]:
        """The best passages of the best document; another document's passages only when that
        document matches the question about as well (its best passage scores at least
        ``answer_other_doc_ratio`` of the best), plus one passage per document an ambiguous code
        names. A small model given passages of unrelated documents cites them (README, "Answers")."""
        n = self.settings.answer_passages
        passages = result.passages
        if not passages:
            return []
        best: dict[str, float] = {}
        for p in passages:
            best.setdefault(p.doc_id, p.score)
        floor = passages[0].score * self.settings.answer_other_doc_ratio
        chosen = [p for p in passages if best[p.doc_id] >= floor][:n]
        for amb in ambiguous:  # one passage per document an ambiguous code names
            if not any(p.doc_id == amb["doc_id"] for p in chosen):
                extra = next((p for p in result.passages if p.doc_id == amb["doc_id"]), None)
                if extra is None:
                    extra = self._passage_for_chunk(amb["chunk_id"])
                if extra is not None:
                    chosen.append(extra)
        return chosen

    def _passage_for_chunk(self, chunk_id: str) -> Passage | None:
        snap = self.search.snapshot()
        i = snap.by_id.get(chunk_id)
        return None if i is None else _passage_at(snap, i)

    def _excerpts(self, ctx: _Context) -> None:
        """Keep the sentences of the chosen passages that are closest to the question (dense
        similarity, plus shared words, numbers and codes), within the context budget; sources
        left with no sentence are dropped. A short context keeps a small model on the facts and
        keeps the prompt fast on two cores."""
        import numpy as np

        budget = self.settings.answer_context_chars
        question, sources = ctx.question, ctx.sources
        qterms = set(terms(question, query=True))
        qcodes = find_codes(question)
        qnums = set(re.findall(r"\d+", question))
        forced = {a["doc_id"]: a["quote"] for a in ctx.ambiguous}
        items: list[tuple[int, int, str]] = []  # (source index, sentence index, text)
        for si, p in enumerate(sources):
            for ji, sent in enumerate(split_sentences(p.text)):
                if len(sent) >= 15:
                    items.append((si, ji, sent[:500]))
        if not items:
            ctx.excerpts = [p.text[:budget // max(1, len(sources))] for p in sources]
            return
        qv = np.asarray(ctx.qvec if ctx.qvec is not None else self.search._query_vector(question, ctx.lang),
                        dtype=np.float32)
        vecs = np.asarray(self.search.embedder.embed_documents([t for _, _, t in items]), dtype=np.float32)
        sims = vecs @ qv
        scored = []
        for (si, ji, sent), sim in zip(items, sims):
            score = float(sim) + 0.02 * len(qterms & set(terms(sent))) - 0.02 * si
            score += 0.1 * sum(1 for c in find_codes(sent) for q in qcodes if q.matches(c))
            score += 0.03 * len(qnums & set(re.findall(r"\d+", sent)))
            if sources[si].doc_id in forced and forced[sources[si].doc_id][:40] in sent:
                score += 1.0
            scored.append((score, si, ji, sent))
            ctx.sentence_scores[_squash(sent)] = score
        keep: dict[int, dict[int, str]] = {}
        used = kept = 0
        ranked = sorted(scored, key=lambda x: -x[0])
        # (a quoted answer has no prompt to keep short: it chooses from the whole budget)
        margin = 0.0 if self._quote_instead(ctx) else self.settings.answer_sentence_margin
        for score, si, ji, sent in ranked:
            if margin and kept >= 2 and score < ranked[0][0] - margin:
                break  # the rest are clearly further from the question: a shorter prompt instead
            if used + len(sent) > budget and used:
                continue
            keep.setdefault(si, {})[ji] = sent
            used += len(sent) + 1
            kept += 1
        order = sorted(keep)
        ctx.sources = [sources[si] for si in order]
        ctx.excerpts = [" … ".join(keep[si][ji] for ji in sorted(keep[si])) for si in order]

    def _ambiguity(self, qcodes: list[Code]) -> list[dict]:
        """Documents that a fully written code in the question names, when they are different
        documents (told apart by the date written next to the code)."""
        found: list[dict] = []
        full = [c for c in qcodes if c.issuer]
        if not full:
            return found
        snap = self.search.snapshot()
        for q in full:
            per_doc: dict[str, dict] = {}
            for i, codes in enumerate(snap.chunk_codes):
                if not any(q.matches(c) for c in codes):
                    continue
                chunk = snap.chunks[i]
                for m in re.finditer(re.escape(str(q.number)), chunk.text):
                    window = chunk.text[m.start(): m.start() + 90]
                    if not any(q.matches(c) for c in find_codes(chunk.text[max(0, m.start() - 30): m.end() + 15])):
                        continue
                    dates = find_dates(window)
                    entry = per_doc.setdefault(chunk.doc_id, {"doc_id": chunk.doc_id, "chunk_id": chunk.chunk_id,
                                                             "code": q.display, "date": None, "quote": ""})
                    if dates and not entry["date"]:
                        start = max(0, chunk.text.rfind(" ", 0, max(0, m.start() - 60)))
                        entry.update(date=dates[0], chunk_id=chunk.chunk_id,
                                     quote=chunk.text[start: m.start() + 150].strip())
            dated = [e for e in per_doc.values() if e["date"]]
            if len({e["date"][:4] for e in dated}) >= 2:
                for e in sorted(dated, key=lambda e: e["date"]):
                    doc = snap.docs.get(e["doc_id"])
                    e["source"] = doc.source if doc else ""
                    e["title"] = doc.title if doc else None
                    found.append(e)
        return found

    def _messages(self, ctx: _Context, purpose: str) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        prompt = load_prompt(purpose, ctx.lang)
        blocks = []
        for n, (p, text) in enumerate(zip(ctx.sources, ctx.excerpts), 1):
            # A short label: a title cut to its first words, no file name (it tells the model nothing
            # and costs prompt tokens, read again for every question on two cores).
            label = [_shorten(p.title, 60)] if p.title and p.title != p.source else []
            label += [", ".join(p.codes[:4])] if p.codes else []
            head = f"[{n}]" + (f" ({'; '.join(label)})" if label else "")
            if ctx.lang != "ar":  # the province's own name beside its Arabic spelling, to copy
                text = annotate_places(text, ctx.lang)
            blocks.append(f"{head}\n<<<\n{text}\n>>>")
        note = ""
        if ctx.ambiguous:
            items = "; ".join(f"{a['code']} ({a['date']})" for a in ctx.ambiguous)
            note = f"\n\nNOTE: {items} are different documents with the same code; describe each separately."
        system, user = prompt.render(sources="\n\n".join(blocks) + note, question=ctx.question)
        out = [SystemMessage(system), HumanMessage(user)]
        if prefill := self._prefill(purpose, ctx.lang):
            from langchain_core.messages import AIMessage

            out.append(AIMessage(prefill))  # llama.cpp continues a final assistant message
        return out

    def _prefill(self, purpose: str, lang: str) -> str:
        """The reply's first words, written for the local model: started in the asker's language,
        the 1.5B model keeps to it far more often (README, "Answers"). Other backends may not
        continue a final assistant message, so they get none."""
        return load_prompt(purpose, lang).prefill if self._local_model else ""

    @staticmethod
    def _joined(prefill: str, content: str) -> str:
        content = (content or "").lstrip()
        if not prefill or content.startswith(prefill):
            return content
        return f"{prefill} {content}"

    def _citations(self, ctx: _Context, used: list[int]) -> list[Citation]:
        out = []
        for n in used:
            p, text = ctx.sources[n - 1], ctx.excerpts[n - 1]
            quote = text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + " …"
            out.append(Citation(n, p.doc_id, p.source, p.title, p.codes, p.locator, quote, p.chunk_id))
        return out

    def _postprocess(self, ctx: _Context, purpose: str, content: str, chat, finish_reason: str | None) -> str:
        """The reply with the prefill it continues (see ``_prefill``), then repairs that need no
        second answer: a reply cut off by the token limit is trimmed to
        its last sentence; Arabic fragments copied into a Vietnamese or English reply are
        translated; English number words become digits (so the number check sees them);
        document codes are written as the given sources write them ("QD 37" -> "37-QĐ/TW");
        sentences left without a citation marker get the source they come from."""
        text = self._joined(self._prefill(purpose, ctx.lang), content).strip()
        if not text or guards.says_not_in_sources(text):
            return text
        text = guards.strip_signal(text)
        if finish_reason == "length":
            text = guards.trim_to_sentence(text)
        if ctx.lang != "ar":
            text = self._translate_fragments(ctx, text, chat)
        if ctx.lang == "en":
            text = english_number_words(text)
        known = [c for p, ex in zip(ctx.sources, ctx.excerpts) for c in find_codes(" ".join(p.codes) + " " + ex)]
        text = canonical_codes(text, known)
        return self._auto_cite(ctx, text)

    def _translate_fragments(self, ctx: _Context, text: str, chat) -> str:
        runs = list(dict.fromkeys(guards.arabic_runs(text)))
        letters = sum(ch.isalpha() for ch in text) or 1
        if not runs or sum(len(r) for r in runs) / letters > 0.6 or len(runs) > 4:
            return text  # nothing to repair, or not worth repairing: the checks will decide
        from langchain_core.messages import HumanMessage, SystemMessage

        prompt = load_prompt("translate", ctx.lang)
        t = time.perf_counter()
        for run in runs:
            system, user = prompt.render(sources="", question=run)
            try:
                out = chat.bind(max_tokens=80).invoke([SystemMessage(system), HumanMessage(user)]).content.strip()
            except Exception as exc:
                log.warning("fragment translation failed: %s", exc)
                break
            out = out.strip(" \"'«»“”")
            if out and not guards.arabic_runs(out) and len(out) <= 4 * len(run) + 40:
                text = text.replace(run, out)
        ctx.timings["llm_repair_ms"] = ctx.timings.get("llm_repair_ms", 0) + (time.perf_counter() - t) * 1000
        return text

    def _auto_cite(self, ctx: _Context, text: str) -> str:
        if guards.markers(text) or not ctx.sources:
            return text
        import numpy as np

        sents = split_sentences(text)
        if not sents:
            return text
        ids = [p.chunk_id for p in ctx.sources]
        try:
            by_id = self.search.store.vectors(ids)
            mat = np.array([by_id[i] for i in ids], dtype=np.float32)
            qv = self.search.embedder.embed_queries(sents)
        except Exception as exc:  # no vectors: leave it to the checks
            log.warning("auto-citation failed: %s", exc)
            return text
        out = []
        for s, v in zip(sents, qv):
            nums = set(re.findall(r"\d{2,}", s))
            by_numbers = [n for n, ex in enumerate(ctx.excerpts, 1) if nums and nums <= set(re.findall(r"\d{2,}", ex))]
            sims = mat @ np.asarray(v, dtype=np.float32)
            n = by_numbers[0] if len(by_numbers) == 1 else (int(np.argmax(sims)) + 1 if sims.max() >= 0.3 else None)
            out.append(f"{s} [{n}]" if n else s)
        return " ".join(out)

    def _finish(self, ctx: _Context, raw: str, purpose: str) -> tuple[Answer | None, list[str]]:
        raw = (raw or "").strip()
        log.debug("raw %s answer: %r", purpose, raw)
        if guards.says_not_in_sources(raw):
            return self._abstain(ctx, mode=f"llm-{purpose}-not-in-sources"), []
        evidence = ctx.excerpts + [p.text for p in ctx.sources]
        problems = guards.check(raw, lang=ctx.lang, evidence=evidence, question=ctx.question,
                                n_sources=len(ctx.sources))
        if problems:
            log.info("answer check failed (%s): %s", purpose, problems)
            return None, problems
        text, used = guards.clean_markers(raw, len(ctx.sources))
        text = self._with_ambiguity(ctx, text)
        used = sorted(set(used) | {i + 1 for i, p in enumerate(ctx.sources)
                                   if any(a["doc_id"] == p.doc_id for a in ctx.ambiguous)})
        return self._make(ctx, text, used, mode="llm" if purpose == "answer" else "llm-retry",
                          prompt=load_prompt(purpose, ctx.lang).version), []

    def _with_ambiguity(self, ctx: _Context, text: str) -> str:
        if not ctx.ambiguous:
            return text
        msg = messages(ctx.lang)
        lines = [msg["ambiguous"].format(code=ctx.ambiguous[0]["code"], n=len(ctx.ambiguous))]
        for a in ctx.ambiguous:
            n = next((i + 1 for i, p in enumerate(ctx.sources) if p.doc_id == a["doc_id"]), None)
            label = f"{a['code']}, {a['date']}"
            lines.append(f"- {label}: «{_shorten(a['quote'], 160)}»" + (f" [{n}]" if n else ""))
        return "\n".join(lines) + "\n\n" + text

    def _extractive(self, ctx: _Context, problems: list[str], mode: str = "extractive") -> Answer:
        """Quote the best sentences (original language) with their citations: always grounded."""
        msg = messages(ctx.lang)
        if ctx.digest:  # a document's articles, one sentence each (see _digest)
            title, left, example = ctx.digest
            lines = [f"- «{_shorten(x, 220)}» [{n}]" for n, x in enumerate(ctx.excerpts, 1)]
            text = "\n".join([msg["digest_intro"].format(title=_shorten(title, 120)), *lines])
            if left:
                text += "\n" + msg["digest_more"].format(n=left, example=example)
            answer = self._make(ctx, text, list(range(1, len(ctx.sources) + 1)), mode=mode, prompt=msg["_version"])
            answer.checks = problems
            return answer
        qterms = _content_terms(ctx.question)
        # The best sentence of the best source, then the next best sentence: of the same document,
        # or of another one only when it matches the question's words at least as well (a second
        # document is cited only when it is as much about the question as the first). Ranking:
        # shared words first (same language), then closeness in meaning (what ranks a sentence of
        # another language); a line of under six words (a title, a byline) or a photo caption only
        # when nothing else. "The best source" is its document: its other passages compete too.
        scored: list[tuple[int, int, int, str]] = []  # (overlap, source n, position, sentence)
        when = bool(_WHEN.search(fold(ctx.question)))  # a date counts as two shared words
        for n, text in enumerate(ctx.excerpts[:3], 1):
            sents = [s for part in text.split(" … ") for s in split_sentences(part)]  # excerpts join with " … "
            scored += [(len(qterms & set(terms(sent))) + (2 if when and find_dates(sent) else 0), n, i, sent)
                       for i, sent in enumerate(sents)]

        # The title of a document with articles (a regulation's name) heads its first article's
        # passage but answers nothing the citation does not show: the words it shares with the
        # question do not count, and it ranks by closeness in meaning alone. (A news article's
        # headline is content, and keeps its words.)
        titles = {_squash(p.title).casefold() for p in ctx.sources
                  if p.title and any(is_article_label(x) for x in p.locator.split(" › "))}

        def rank(x):
            shared = 0 if _squash(x[3]).casefold() in titles else x[0]
            return (_aside(x[3]), -shared, -ctx.sentence_scores.get(_squash(x[3]), 0.0), x[2])

        picked: list[tuple[int, str]] = []
        if scored:
            top = min(x[1] for x in scored)  # the best source that has sentences, and its document's
            best_doc = ctx.sources[top - 1].doc_id  # other passages: all the same document to quote
            first = min((x for x in scored if ctx.sources[x[1] - 1].doc_id == best_doc), key=rank)
            picked.append((first[1], _shorten(first[3], 300)))
            rest = [x for x in scored if _squash(x[3]) != _squash(first[3])
                    and (ctx.sources[x[1] - 1].doc_id == best_doc or x[0] >= max(first[0], 1))]
            if rest:
                second = min(rest, key=lambda x: (*rank(x)[:2], x[1], *rank(x)[2:]))
                picked.append((second[1], _shorten(second[3], 300)))
            # The sentence that follows the best one in its passage: where the best sentence
            # announces ("… tried a number of new forms of party cell activities."), the next one
            # often says what they are.
            after = self._next_sentence(ctx.sources[first[1] - 1].text, first[3])
            if after and not _aside(after) and all(_squash(after) != _squash(s) for _, s in picked):
                picked.insert(1, (first[1], _shorten(after, 300)))
            picked.sort(key=lambda p: p[0])
        body = "\n".join(f"- «{s}» [{n}]" for n, s in picked)
        text = self._with_ambiguity(ctx, f"{msg['extractive_intro']}\n{body}")
        used = sorted({n for n, _ in picked} | {i + 1 for i, p in enumerate(ctx.sources)
                                                 if any(a["doc_id"] == p.doc_id for a in ctx.ambiguous)})
        answer = self._make(ctx, text, used, mode=mode, prompt=msg["_version"])
        answer.checks = problems
        return answer

    @staticmethod
    def _next_sentence(passage: str, sentence: str) -> str | None:
        sents = split_sentences(passage)
        key = _squash(sentence)
        for i, s in enumerate(sents[:-1]):
            if _squash(s) == key:
                return sents[i + 1]
        return None

    def _abstain(self, ctx: _Context, mode: str = "abstain") -> Answer:
        msg = messages(ctx.lang)
        text = msg["abstain"]
        closest = []
        for p in ([] if ctx.off_topic else ctx.result.passages):
            label = p.title or p.source
            if p.dense >= 0.3 and label not in closest:
                closest.append(label)
        if closest:
            text += " " + msg["abstain_closest"].format(docs="; ".join(f"«{_shorten(c, 80)}»" for c in closest[:2]))
        answer = self._make(ctx, text, [], mode=mode, prompt=msg["_version"])
        answer.abstained = True
        answer.grounded = False
        if ctx.off_topic:
            answer.checks = ["off-topic"]
        return answer

    def _make(self, ctx: _Context, text: str, used: list[int], *, mode: str, prompt: str) -> Answer:
        ctx.timings["total_ms"] = ctx.timings.get("retrieve_ms", 0) + sum(
            v for k, v in ctx.timings.items() if k.startswith("llm_"))
        citations = self._citations(ctx, used) if ctx.sources else []
        return Answer(
            question=ctx.question, text=text, lang=ctx.lang, abstained=False, grounded=bool(citations),
            citations=citations, passages=[p.to_dict() for p in ctx.result.passages],
            model=self.backend.name if mode.startswith("llm") else "extractive", prompt_version=prompt,
            mode=mode, ambiguous=ctx.ambiguous, timings={k: round(v, 1) for k, v in ctx.timings.items()},
            relevance=round(ctx.result.relevance, 4))


def _passage_at(snap, i: int) -> Passage:
    """The snapshot's chunk ``i`` as a passage of a document the question names (code_match 2)."""
    c = snap.chunks[i]
    doc = snap.docs.get(c.doc_id)
    return Passage(c.chunk_id, c.doc_id, doc.source if doc else "", doc.title if doc else None, c.text,
                   " › ".join(c.locator), [parse_key(x).display for x in c.codes], c.lang, code_match=2)


def _content_terms(question: str) -> set[str]:
    """The question's own words, as terms: without the codes it names ("Quy định 37", "QĐ 37",
    "37-QĐ/TW" are the document, not what is asked about it) and without word pairs, which
    would favour a title line that merely repeats the document's name."""
    # one entry per reading of a mention ("القرار رقم 18": NQ and QĐ): each span cut once
    for start, end in sorted({(m[0], m[1]) for m in code_mentions(question)}, reverse=True):
        question = question[:start] + " " + question[end:]
    return {x for x in terms(question, query=True) if "_" not in x and not x.startswith("code:")}


def fold_equal(a: str, b: str) -> bool:
    return fold(a) == fold(b)
