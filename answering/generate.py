"""Stage 4, compose with a model: the prompt (numbered sources, the question, the reply's first
words), and the repairs a reply gets before it is checked — each a registered rule."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from answering import checks
from answering.prompts import load_prompt
from answering.types import Decision, Question
from core.rules import Rules, rule
from text.codes import canonical_codes, find_codes
from text.lines import shorten
from text.numbers import english_number_words
from text.sentences import split_sentences
from text.transliteration import annotate_places

log = logging.getLogger(__name__)

PREFILL = rule(
    "prefill", "compose",
    "a reply started in the asker's language by its first words stays in that language far more "
    "often with a small local model")
PLACE_NAMES = rule(
    "place-names-beside-arabic", "compose",
    "a province's own name written beside its Arabic spelling in the sources is copied instead of "
    "a garbled transliteration")
TRIM_CUT = rule("repair-cut-reply", "repair",
                "a reply cut off by the token limit reads as a wrong answer; up to its last sentence it does not")
TRANSLATE_FRAGMENTS = rule(
    "repair-arabic-fragments", "repair",
    "a few Arabic words copied into a Vietnamese or English reply are translated, not a reason to "
    "throw the reply away")
NUMBER_WORDS = rule("repair-number-words", "repair",
                    "\"five cadres\" is written \"5 cadres\", so the number check can verify it")
CANONICAL_CODES = rule("repair-code-spelling", "repair",
                       "a document code is written as the sources write it (\"QD 37\" -> \"37-QĐ/TW\")")
AUTO_CITE = rule("repair-citations", "repair",
                 "a sentence left without a citation marker gets the source it comes from (by its numbers, "
                 "else its closest source in meaning)")


# Machine translations already made in this process, by (model, prompt version, language, tokens,
# text): a sentence that falls back in several answers is translated once (temperature 0 makes
# the reply the same). Bounded; each replica keeps its own.
_TRANSLATIONS: OrderedDict[tuple, str] = OrderedDict()
_TRANSLATIONS_MAX = 2048
_TRANSLATIONS_LOCK = threading.Lock()


def machine_translation(chat, text: str, lang: str, *, max_tokens: int) -> str:
    """``text`` translated into ``lang`` by ``chat`` with the translate prompt (the model's reply
    as it is; what the model raises is raised, and nothing is remembered of it)."""
    prompt = load_prompt("translate", lang)
    key = (_model_key(chat), prompt.version, lang, max_tokens, text)
    with _TRANSLATIONS_LOCK:
        if key in _TRANSLATIONS:
            _TRANSLATIONS.move_to_end(key)
            return _TRANSLATIONS[key]
    system, user = prompt.render(sources="", question=text)
    out = chat.bind(max_tokens=max_tokens).invoke([SystemMessage(system), HumanMessage(user)]).content
    with _TRANSLATIONS_LOCK:
        _TRANSLATIONS[key] = out
        while len(_TRANSLATIONS) > _TRANSLATIONS_MAX:
            _TRANSLATIONS.popitem(last=False)
    return out


def _model_key(chat) -> str:
    """The model behind ``chat``: for an OpenAI-compatible client its endpoint and model, whatever
    client copy carries them (answering.budget.bounded); for any other chat model, that object."""
    if getattr(chat, "root_client", None) is not None:
        return "|".join(str(getattr(chat, a, "")) for a in ("openai_api_base", "model_name", "temperature"))
    return f"{type(chat).__name__}@{id(chat)}"


class Generate:
    def __init__(self, search, *, local_model: bool):
        self.search = search
        self.local_model = local_model

    def prefill(self, purpose: str, lang: str, rules: Rules) -> str:
        """The reply's first words, for the local model only (other backends may not continue a
        final assistant message)."""
        return load_prompt(purpose, lang).prefill if self.local_model and rules.on(PREFILL) else ""

    def messages(self, question: Question, decision: Decision, purpose: str, rules: Rules) -> list:
        prompt = load_prompt(purpose, question.lang)
        blocks = []
        for n, (p, text) in enumerate(zip(decision.sources, decision.excerpts), 1):
            # A short label: a title cut to its first words, no file name (it tells the model nothing
            # and costs prompt tokens, read again for every question on two cores).
            label = [shorten(p.title, 60)] if p.title and p.title != p.source else []
            label += [", ".join(p.codes[:4])] if p.codes else []
            head = f"[{n}]" + (f" ({'; '.join(label)})" if label else "")
            if question.lang != "ar" and rules.on(PLACE_NAMES):
                text = annotate_places(text, question.lang)
            blocks.append(f"{head}\n<<<\n{text}\n>>>")
        note = ""
        if decision.ambiguous:
            items = "; ".join(f"{a['code']} ({a['date']})" for a in decision.ambiguous)
            note = f"\n\nNOTE: {items} are different documents with the same code; describe each separately."
        system, user = prompt.render(sources="\n\n".join(blocks) + note, question=question.text)
        out = [SystemMessage(system), HumanMessage(user)]
        if prefill := self.prefill(purpose, question.lang, rules):
            out.append(AIMessage(prefill))  # llama.cpp continues a final assistant message
        return out

    def repair(self, question: Question, decision: Decision, purpose: str, content: str, chat,
               finish_reason: str | None, rules: Rules, timings: dict) -> str:
        """The reply with the prefill it continues, then the repairs that need no second answer."""
        prefill = self.prefill(purpose, question.lang, rules)
        text = (content or "").lstrip()
        if prefill and not text.startswith(prefill):
            text = f"{prefill} {text}"
        text = text.strip()
        if not text or checks.says_not_in_sources(text):
            return text
        text = checks.strip_signal(text)
        if finish_reason == "length" and rules.on(TRIM_CUT):
            text = checks.trim_to_sentence(text)
        if question.lang != "ar" and rules.on(TRANSLATE_FRAGMENTS):
            text = self._translate_fragments(question.lang, text, chat, timings)
        if question.lang == "en" and rules.on(NUMBER_WORDS):
            text = english_number_words(text)
        if rules.on(CANONICAL_CODES):
            known = [c for p, ex in zip(decision.sources, decision.excerpts)
                     for c in find_codes(" ".join(p.codes) + " " + ex)]
            text = canonical_codes(text, known)
        return self._auto_cite(decision, text) if rules.on(AUTO_CITE) else text

    def _translate_fragments(self, lang: str, text: str, chat, timings: dict) -> str:
        runs = list(dict.fromkeys(checks.arabic_runs(text)))
        letters = sum(ch.isalpha() for ch in text) or 1
        if not runs or sum(len(r) for r in runs) / letters > 0.6 or len(runs) > 4:
            return text  # nothing to repair, or not worth repairing: the checks will decide
        t = time.perf_counter()
        for run in runs:
            try:
                out = machine_translation(chat, run, lang, max_tokens=80).strip()
            except Exception as exc:
                log.warning("fragment translation failed: %s", exc)
                break
            out = out.strip(" \"'«»“”")
            if out and not checks.arabic_runs(out) and len(out) <= 4 * len(run) + 40:
                text = text.replace(run, out)
        timings["llm_repair_ms"] = timings.get("llm_repair_ms", 0) + (time.perf_counter() - t) * 1000
        return text

    def _auto_cite(self, decision: Decision, text: str) -> str:
        if checks.markers(text) or not decision.sources:
            return text
        sents = split_sentences(text)
        if not sents:
            return text
        ids = [p.chunk_id for p in decision.sources]
        try:
            by_id = self.search.vectors(ids)
            mat = np.array([by_id[i] for i in ids], dtype=np.float32)
            qv = self.search.embedder.embed_queries(sents)
        except Exception as exc:  # no vectors: leave it to the checks
            log.warning("auto-citation failed: %s", exc)
            return text
        out = []
        for s, v in zip(sents, qv):
            nums = set(re.findall(r"\d{2,}", s))
            by_numbers = [n for n, ex in enumerate(decision.excerpts, 1)
                          if nums and nums <= set(re.findall(r"\d{2,}", ex))]
            sims = mat @ np.asarray(v, dtype=np.float32)
            n = by_numbers[0] if len(by_numbers) == 1 else (int(np.argmax(sims)) + 1 if sims.max() >= 0.3 else None)
            out.append(f"{s} [{n}]" if n else s)
        return " ".join(out)
