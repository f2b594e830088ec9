"""(Interim: these move to text/.)"""

from __future__ import annotations

import re

from ingest.chunking import ARTICLE_WORD, is_article_label  # noqa: F401
from text.normalize import fold
from text.tokenize import terms

_SENT = re.compile(r"(?<=[.!?؟。])\s+|\n+")
ARTICLE_START = re.compile(rf"{ARTICLE_WORD}\s+\S{{1,8}}\s*[.:]")
_LABEL = re.compile(r"(?:(?:điều|article|المادة|مادة|khoản|clause|البند)\s+\S{1,8}|\d{1,3}|[a-zđ])\s*[.:)]", re.I)
_CAPTION = re.compile(r"\((?:anh|photo|الصوره|صوره)\s*:")


def words(text: str) -> set[str]:
    return set(terms(text)) | set(re.findall(r"\w+", fold(text)))


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    label = ""
    for s in (s.strip() for s in _SENT.split(text) if s):
        if _LABEL.fullmatch(s):
            label = f"{label} {s}".strip()
        elif len(s) > 1:
            out.append(f"{label} {s}" if label else s)
            label = ""
    return out + ([label] if label else [])


def aside(sentence: str) -> bool:
    return len(sentence.split()) < 6 or in_capitals(sentence) or bool(_CAPTION.search(fold(sentence)))


def in_capitals(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    cased = [c for c in letters if c.lower() != c.upper()]
    return len(cased) > 0.8 * len(letters) and line.isupper()


def squash(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, n: int) -> str:
    text = squash(text)
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"
