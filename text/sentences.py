"""Sentences: where a sentence ends, in the three languages.

:func:`split_sentences` is how answers and passages are read sentence by sentence (the
answerer's excerpts and quotes); :func:`sentence_spans` is the chunker's split, which keeps
offsets and also cuts at clause ends (… : ;).
"""

from __future__ import annotations

import re

from text.articles import LABEL

# The space after a sentence's end: . ! ? and the Arabic (؟) and CJK (。) stops.
# Not after an abbreviation that a number or a name follows ("Directive No. 35-CT/TW", "Art. 5").
SENTENCE_END = re.compile(r"(?<=[.!?؟。])(?<!\bNo\.)(?<!\bno\.)(?<!\bArt\.)(?<!\bMr\.)(?<!\bDr\.)(?<!\bSt\.)\s+")
_SENT = re.compile(rf"{SENTENCE_END.pattern}|\n+")
# The chunker's boundary: also after … : ; and after the quotes or brackets that close a sentence.
_SPAN_END = re.compile(r"(?<=[.!?؟…:;])[\"'”»)]*\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences and lines of ``text``; an article's or clause's number stays with its text
    ("Điều 1. Nói, viết, làm trái…" is one sentence, not "Điều 1." and the rest)."""
    out: list[str] = []
    label = ""
    for s in (s.strip() for s in _SENT.split(text) if s):
        if LABEL.fullmatch(s):
            label = f"{label} {s}".strip()
        elif len(s) > 1:
            out.append(f"{label} {s}" if label else s)
            label = ""
    return out + ([label] if label else [])


def evidence_sentences(text: str) -> list[str]:
    """The sentences of a passage that can hold an answer, as they are embedded one by one (at
    ingest, so that a question reads them from the cache): 15 characters or more, cut at 500,
    and none addressed to the reader or a model (``text.addressed``: they state nothing)."""
    from text.addressed import addressed

    return [s[:500] for s in split_sentences(text) if len(s) >= 15 and not addressed(s)]


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence or clause of ``text``, plus ``offset``; the spaces between
    them belong to neither (the chunker's windows: see ingest.chunking)."""
    spans, pos = [], 0
    for m in _SPAN_END.finditer(text):
        spans.append((offset + pos, offset + m.start() + len(m.group(0).rstrip())))
        pos = m.end()
    if pos < len(text):
        spans.append((offset + pos, offset + len(text)))
    return [(s, e) for s, e in spans if e > s]
