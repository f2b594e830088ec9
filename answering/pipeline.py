"""The answer path, one async driver for streaming and non-streaming answers:

understand → retrieve → decide → compose (digest | quote | generate) → check → repair or fall back.

``Answerer.answer(question, lang=None)`` returns an :class:`Answer`; ``Answerer.astream`` yields
the text as it is generated and then the final answer. Each stage is named in ``Answer.trace``
with what it decided. No Telegram here: the bot, the CLI and the evaluation all call this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator

from langchain_core.messages import HumanMessage, SystemMessage

from answering import checks, pieces, quote
from answering.budget import TRANSLATION_EXPECTED_S, Budget, bounded
from answering.decide import Decide, asked_kind, gives
from answering.excerpts import warm as warm_word_lists
from answering.generate import Generate, machine_translation
from answering.prompts import LANGS, load_prompt, messages
from answering.retrieve import retrieve
from answering.topic_gate import TopicGate
from answering.types import Answer, Citation, Decision, Draft, Found, Question, StreamEvent
from answering.understand import understand
from answering.validity import Validity
from core.rules import Rules, rule
from text.articles import is_article_label
from text.codes import parse_key
from text.language import reads
from text.lines import shorten
from answering.llm import ChatBackend, resolve_chat

log = logging.getLogger(__name__)

STRICT_RETRY = rule(
    "strict-retry", "check",
    "a reply that fails its checks gets one more try with a stricter prompt before falling back")
KIND_GIVEN = rule(
    "kind-given-not-refused", "check",
    "when the sources give the kind of answer asked (a number for \"how many\", a date for \"which "
    "day\"), a model that twice wrote others failed at wording, not the sources at covering the "
    "question: the member gets what the sources give, not a refusal")
READABLE_FALLBACK = rule(
    "readable-fallback", "compose",
    "a quote in a language the asker does not read answers nothing: instead, the quoted sentences' "
    "checkable pieces (document, article, figures, dates, codes, places) in the asker's language, cited")
MACHINE_TRANSLATION = rule(
    "labelled-machine-translation", "compose",
    "beside those pieces, the sentence's machine translation, labelled as such and only when it "
    "passes the checks (no number the sentence lacks, the reader's script), says what they are about")
UNGROUNDED_REFUSAL = rule(
    "ungrounded-refusal", "check",
    "a model that twice states what the sources do not give, and nothing else is wrong, shows the "
    "sources do not cover the question: refuse rather than quote unrelated text")


class Answerer:
    def __init__(self, search, backend: ChatBackend, settings, *, rules: Rules | None = None,
                 gate: TopicGate | None = None):
        self.search = search
        self.backend = backend
        self.settings = settings
        self.rules = rules if rules is not None else Rules(settings)
        self.gate = gate or TopicGate(search.embedder)
        self.local_model = backend.name.startswith("local:")
        self.decide = Decide(search, self.gate, settings, local_model=self.local_model,
                             can_generate=lambda: self.backend.chat is not None)
        self.generate = Generate(search, local_model=self.local_model)
        self.validity = Validity(search)

    def with_rules(self, rules: Rules) -> "Answerer":
        """The same answerer (search, model, topic gate) with other rules: for ablation."""
        return Answerer(self.search, self.backend, self.settings, rules=rules, gate=self.gate)

    # -- the contract ------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the Vietnamese word segmenter
        and the word lists read with it; with the local model, start it and read each language's
        fixed instructions into its prompt cache, so the first question in a language after a
        start reads only its sources and question."""
        warm_word_lists()
        if not self.local_model:
            return
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
        async def final() -> Answer:
            async for event in self._run(question, lang, stream=False):
                if event.kind == "final":
                    return event.answer
            raise AssertionError("the answer path ended without an answer")

        return asyncio.run(final())

    def astream(self, question: str, lang: str | None = None) -> AsyncIterator[StreamEvent]:
        return self._run(question, lang, stream=True)

    def _decide(self, question: Question, found: Found, rules: Rules) -> Decision:
        """Decide, with what the documents say of their own standing: a question about whether a
        named document is in force is answered from that; any answer about or citing a replaced
        document opens with what replaced it."""
        decision = self.validity.decide(question, rules) or self.decide(question, found, rules)
        return self.validity.annotate(question, decision, rules)

    # -- the driver ----------------------------------------------------------------------------
    async def _run(self, text: str, lang: str | None, *, stream: bool) -> AsyncIterator[StreamEvent]:
        rules, timings, trace = self.rules, {}, []
        t0 = time.perf_counter()
        question = understand(text, lang, rules)
        trace.append({"stage": "understand", "lang": question.lang, "search_lang": question.search_lang,
                      "codes": [c.display for c in question.codes], "articles": sorted(question.articles),
                      "expects": question.expects})
        k = max(self.settings.top_k, 8)
        found = await asyncio.to_thread(retrieve, question, self.search, k=k, rules=rules)
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        trace.append({"stage": "retrieve", "passages": len(found.passages),
                      "relevance": round(found.result.relevance, 4), "article_chunks": len(found.article_ids)})
        found = await asyncio.to_thread(self.validity.rerank, question, found, rules)
        decision = await asyncio.to_thread(self._decide, question, found, rules)
        timings["context_ms"] = (time.perf_counter() - t0) * 1000 - timings["retrieve_ms"]
        trace.append({"stage": "decide", "action": decision.action, **({"why": decision.why} if decision.why else {}),
                      **({"compose": decision.compose, "sources": [p.chunk_id for p in decision.sources],
                          "ambiguous": len(decision.ambiguous)} if decision.action == "answer" else {}),
                      **({"notice": decision.notice} if decision.notice else {})})
        run = _Run(self, question, found, decision, timings, trace, t0)
        if decision.action == "abstain":
            yield StreamEvent("final", answer=run.refusal("abstain"))
            return
        yield StreamEvent("sources", sources=[{"n": i, "title": p.title or p.source, "source": p.source}
                                              for i, p in enumerate(decision.sources, 1)],
                          needs_llm=decision.compose == "generate")
        if decision.compose == "registry":
            used = tuple(range(1, len(decision.sources) + 1))
            answer = run.make(Draft(decision.written, used, "registry", messages(question.lang)["_version"]))
            answer.abstained = decision.why == "status not stated"
            yield StreamEvent("final", answer=answer)
            return
        if decision.compose == "digest":
            yield StreamEvent("final", answer=run.make(quote.digest_answer(question, decision)))
            return
        if decision.compose in ("quote", "extractive"):
            picked = quote.pick_sentences(question, decision, rules)
            draft = (quote.quote_answer(question, decision, rules, decision.compose, picked=picked)
                     if picked or decision.ambiguous else None)
            yield StreamEvent("final", answer=run.make(draft) if draft else run.refusal("quote-not-answering"))
            return
        chat = await asyncio.to_thread(resolve_chat, self.backend)
        if chat is None:
            draft = run.quoted("extractive", None)
            yield StreamEvent("final", answer=run.make(draft) if draft else run.refusal("quote-not-answering"))
            return
        purposes = ("answer", "strict") if rules.on(STRICT_RETRY) else ("answer",)
        llm_down = False
        for purpose in purposes:
            if purpose == "strict" and not run.budget.allows(timings.get("llm_answer_ms", 0) / 1000):
                trace.append({"stage": "generate", "purpose": purpose, "skipped": "answer budget"})
                break
            shown = False
            t = time.perf_counter()
            try:
                limit = run.budget.call_timeout()
                async with asyncio.timeout(limit):
                    call = bounded(chat, limit)
                    if stream and purpose == "answer":
                        parts: list[str] = []
                        async for delta in run.stream_reply(call, parts):
                            shown = True
                            yield StreamEvent("delta", delta)
                        content, finish = "".join(parts), run.finish_reason
                    else:
                        reply = await asyncio.to_thread(call.invoke, self.generate.messages(question, decision, purpose, rules))
                        content, finish = reply.content, reply.response_metadata.get("finish_reason")
                    raw = await asyncio.to_thread(self.generate.repair, question, decision, purpose, content, call,
                                                  finish, rules, timings)
            except Exception as exc:  # an LLM outage or a spent budget must not leave the member without an answer
                over = run.budget.spent()
                log.warning("LLM call %s: %s", "cut off at the answer budget" if over else "failed", exc)
                run.problems.append(f"answer budget spent ({self.settings.answer_budget_s:g} s)" if over
                                    else f"LLM error: {exc.__class__.__name__}: {exc}")
                trace.append({"stage": "generate", "purpose": purpose,
                              **({"over": "answer budget"} if over else {"error": exc.__class__.__name__})})
                llm_down = True
                if shown:
                    yield StreamEvent("reset")
                break
            timings[f"llm_{purpose}_ms"] = (time.perf_counter() - t) * 1000
            answer = run.check(raw, purpose)
            if answer is not None:
                yield StreamEvent("final", answer=answer)
                return
            if shown:
                yield StreamEvent("reset")
        yield StreamEvent("final", answer=await asyncio.to_thread(run.fallback, None if llm_down else chat))


class _Run:
    """One question's way through compose, check and fall back: what the stages decided, the
    problems found, and how an Answer is made of them."""

    def __init__(self, answerer: Answerer, question: Question, found: Found, decision: Decision,
                 timings: dict, trace: list[dict], t0: float):
        self.a, self.question, self.found, self.decision = answerer, question, found, decision
        self.timings, self.trace = timings, trace
        self.problems: list[str] = []
        self.failed: list[list[str]] = []
        self._translated = 0  # machine translations asked for so far
        self.finish_reason: str | None = None
        self.t0 = t0  # when the question came in
        self.budget = Budget(answerer.settings.answer_budget_s, t0)

    async def stream_reply(self, chat, parts: list[str]) -> AsyncIterator[str]:
        """The reply's text as it comes, holding back what may be the NOT_IN_SOURCES signal or the
        model repeating the prefill until it is clear."""
        q, d, rules = self.question, self.decision, self.a.rules
        streamer = chat
        if "streaming" in type(chat).model_fields:  # ChatOpenAI only streams token by token when asked to
            streamer = chat.model_copy(update={"streaming": True})
        prefill = self.a.generate.prefill("answer", q.lang, rules)
        t, shown = time.perf_counter(), False
        async for chunk in streamer.astream(self.a.generate.messages(q, d, "answer", rules)):
            self.finish_reason = chunk.response_metadata.get("finish_reason") or self.finish_reason
            if chunk.content:
                if not parts:
                    self.timings["first_token_ms"] = (time.perf_counter() - t) * 1000
                parts.append(chunk.content)
                so_far = "".join(parts).lstrip()
                held = "NOT_".startswith(so_far) or (not shown and prefill.startswith(so_far))
                if not so_far.startswith("NOT_") and not held:
                    out = chunk.content if shown else so_far  # so_far: with any held-back start
                    if prefill and not shown and not so_far.startswith(prefill):
                        out = f"{prefill} {out}"
                    shown = True
                    yield out
            if len("".join(parts)) > checks.MAX_ANSWER_CHARS:
                self.finish_reason = "length"
                break

    def check(self, raw: str, purpose: str) -> Answer | None:
        """The checked answer, or None (the problems are kept for the retry and the fallback)."""
        q, d = self.question, self.decision
        raw = (raw or "").strip()
        log.debug("raw %s answer: %r", purpose, raw)
        if checks.says_not_in_sources(raw):
            self.trace.append({"stage": "check", "purpose": purpose, "model_says": "not in sources"})
            return self.refusal(f"llm-{purpose}-not-in-sources")
        evidence = list(d.excerpts) + [p.text for p in d.sources]
        per_source = [f"{x}\n{p.text}" for x, p in zip(d.excerpts, d.sources)]
        found = checks.check(raw, lang=q.lang, evidence=evidence, question=q.text, n_sources=len(d.sources),
                             rules=self.a.rules, framing=load_prompt(purpose, q.lang).prefill,
                             per_source=per_source, relation_known=self._relation_known)
        self.trace.append({"stage": "check", "purpose": purpose, "problems": found})
        if found:
            log.info("answer check failed (%s): %s", purpose, found)
            self.problems += [f"{purpose}: {p}" for p in found]
            self.failed.append(found)
            return None
        text, used = checks.clean_markers(raw, len(d.sources))
        text = quote.with_ambiguity(q.lang, d, text)
        used = sorted(set(used) | quote.ambiguous_sources(d))
        draft = Draft(text, tuple(used), "llm" if purpose == "answer" else "llm-retry",
                      load_prompt(purpose, q.lang).version)
        return self.make(draft)

    def _relation_known(self, code: str, kind: str, other: str) -> bool:
        """Whether any indexed document states that ``code`` ``kind`` ``other`` (this direction)."""
        registry = self.a.search.registry()
        return any(r.other.matches(o.code)
                   for rec in registry.find(parse_key(code)) for o in registry.find(parse_key(other))
                   for r in rec.related(kind, acting=True, sure=0.0))

    def fallback(self, chat=None) -> Answer:
        """After the failed attempts: "not in the sources" when the model kept stating what the
        sources do not give (checks.ungrounded), else the best sentences (:meth:`quoted`)."""
        if self.a.rules.on(UNGROUNDED_REFUSAL) and checks.ungrounded(self.failed) and not self._kind_given():
            self.trace.append({"stage": "fallback", "to": "refusal"})
            return self.refusal("llm-ungrounded")
        draft = self.quoted("extractive", chat)
        if draft is None:  # no sentence holds what was asked (quote.QUOTE_HOLDS_KIND)
            self.trace.append({"stage": "fallback", "to": "refusal"})
            return self.refusal("quote-not-answering")
        self.trace.append({"stage": "fallback", "to": "quote"})
        return self.make(draft)

    def _kind_given(self) -> bool:
        """Whether the question asks for a number or a calendar date and the sources give one
        (KIND_GIVEN): then a model that kept writing others failed at wording, not the sources
        at covering the question."""
        kind = asked_kind(self.question)
        return (self.a.rules.on(KIND_GIVEN) and kind is not None
                and any(gives(kind, p.text) for p in self.decision.sources))

    def quoted(self, mode: str, chat) -> Draft | None:
        """The best sentences quoted, or, when the asker does not read their script, what of them
        survives the checks in the asker's language (READABLE_FALLBACK), with a checked machine
        translation by ``chat`` (MACHINE_TRANSLATION)."""
        q, d, rules = self.question, self.decision, self.a.rules
        picked = quote.pick_sentences(q, d, rules)
        if not picked:
            return None
        if not (rules.on(READABLE_FALLBACK) and picked and not all(reads(s, q.lang) for _, s in picked)):
            return quote.quote_answer(q, d, rules, mode, picked=picked)
        translate = self._translator(chat) if chat is not None and rules.on(MACHINE_TRANSLATION) else None
        self.trace.append({"stage": "fallback", "to": "pieces", "translated": translate is not None})
        return pieces.pieces_answer(q, d, picked, self._labels(), translate, "pieces")

    def _labels(self) -> dict[int, str]:
        """Each source's name for the asker: its title in their script or its own code, and the
        article it is."""
        out = {}
        for n, p in enumerate(self.decision.sources, 1):
            name = quote.reader_label(p, self.question.lang, self._code_of(p.doc_id))
            article = next((x for x in p.locator.split(" › ") if is_article_label(x)), None)
            out[n] = ", ".join(x for x in (f"«{shorten(name, 80)}»" if name else None, article) if x)
        return out

    def _code_of(self, doc_id: str) -> str | None:
        """The code of the document that *is* that code's text (official or summary), not of news
        that mentions it most."""
        doc = self.a.search.document(doc_id)
        meta = (doc.meta or {}) if doc else {}
        own = meta.get("own_code") if meta.get("genre") in ("official", "summary") else None
        return parse_key(own).display if own else None

    def _translator(self, chat):
        """One sentence's machine translation, or None when the answer budget has no time left
        for it (the first stage the budget leaves out), each call cut off at the budget."""
        def translate(sentence: str) -> str | None:
            done = self.timings.get("llm_translate_ms", 0) / 1000
            expected = done / self._translated if self._translated else TRANSLATION_EXPECTED_S
            if not self.budget.allows(expected):
                self.trace.append({"stage": "fallback", "translation": "skipped: answer budget"})
                return None
            t = time.perf_counter()
            try:
                return machine_translation(bounded(chat, self.budget.call_timeout()), sentence,
                                           self.question.lang, max_tokens=220)
            finally:
                self._translated += 1
                self.timings["llm_translate_ms"] = done * 1000 + (time.perf_counter() - t) * 1000
        return translate

    def refusal(self, mode: str) -> Answer:
        d = self.decision
        # the passages as retrieved: refused before the asked article was looked for, or after
        shown = self.found.passages if d.why not in ("nothing found", "low relevance") else self.found.result.passages
        off_topic = d.why == "off-topic"
        named = () if off_topic else tuple(shown)  # the closest documents, named in the refusal
        codes = {doc_id: self._code_of(doc_id) for doc_id in dict.fromkeys(p.doc_id for p in named)}
        text = quote.refusal(self.question.lang, named, self.a.rules, place=d.missing, codes=codes)
        answer = self.make(Draft(text, (), mode, messages(self.question.lang)["_version"]), passages=shown)
        answer.abstained, answer.grounded = True, False
        if off_topic:
            answer.checks = ["off-topic"]
        return answer

    def make(self, draft: Draft, passages=None) -> Answer:
        q, d, timings = self.question, self.decision, self.timings
        timings["total_ms"] = (time.perf_counter() - self.t0) * 1000  # from the question to this answer
        citations = []
        used, text = draft.used, draft.text
        if d.notice:  # what replaced a document it is about or cites, first (validity.REPLACED_NOTICE)
            text = f"{d.notice}\n\n{text}"
            used = tuple(used) + tuple(range(len(d.sources) + 1, len(d.sources) + len(d.notice_sources) + 1))
        sources, excerpts = d.sources + d.notice_sources, d.excerpts + d.notice_excerpts
        for n in used:
            p, text_n = sources[n - 1], excerpts[n - 1]
            excerpt = text_n if len(text_n) <= 400 else text_n[:400].rsplit(" ", 1)[0] + " …"
            citations.append(Citation(n, p.doc_id, p.source, p.title, p.codes, p.locator, excerpt, p.chunk_id))
        self.trace.append({"stage": "answer", "mode": draft.mode,
                           "cites": list(used)})
        return Answer(
            question=q.text, text=text, lang=q.lang, abstained=False, grounded=bool(citations),
            citations=citations, passages=[p.to_dict() for p in (passages if passages is not None else self.found.passages)],
            model=self.a.backend.name if draft.mode.startswith("llm") else "extractive",
            prompt_version=draft.prompt_version, mode=draft.mode, checks=list(self.problems),
            ambiguous=list(d.ambiguous), timings={k: round(v, 1) for k, v in timings.items()},
            relevance=round(self.found.result.relevance, 4), trace=self.trace)
