"""The language knowledge the answer path reads, kept as data: one file per language in
``text/lexicon/`` (question words by kind, relation and issue cues with their exclusions, names'
titles and surnames, place aliases, month names, scale words), compiled here and nowhere else.

Notation of an entry (see ``vi.toml``): a phrase as people write it, matched as whole words on
folded text (``text.normalize.fold``); ``word*`` matches words starting with ``word``; ``!x``
after a phrase: not when the next word is ``x``; ``=`` before a phrase: matched with its
diacritics, on the lower-cased text (``mấy``, which folds to English "may"); ``a … b``: ``a``,
one to six words, then ``b`` ("حلت … محل": the verb, the acting document, "the place of").
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from text.normalize import fold

LEXICON_DIR = Path(__file__).with_name("lexicon")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_PROCLITIC = "(?:[\u0648\u0641](?=[\u0621-\u064a]))?"
LANGUAGES = ("vi", "en", "ar")


@lru_cache(maxsize=None)
def _file(lang: str) -> dict:
    with open(LEXICON_DIR / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


def _get(lang: str, section: str, key: str):
    value = _file(lang)
    for part in (*section.split("."), key):
        value = value.get(part, {}) if isinstance(value, dict) else {}
    return value


def entries(section: str, key: str, langs: tuple[str, ...] = LANGUAGES) -> list[str]:
    """The entries of a list, as written, in the order of ``langs``."""
    out: list[str] = []
    for lang in langs:
        value = _get(lang, section, key)
        out += list(value) if isinstance(value, list) else []
    return out


def table(section: str, key: str, langs: tuple[str, ...] = LANGUAGES, *, fold_keys: bool = True
          ) -> dict[str, object]:
    """A mapping (aliases, month numbers, scales) merged over ``langs``, keys folded (or only
    lower-cased)."""
    out: dict[str, object] = {}
    for lang in langs:
        value = _get(lang, section, key)
        if isinstance(value, dict):
            out.update({(fold(k) if fold_keys else k).lower(): v for k, v in value.items()})
    return out


def folded(section: str, key: str, langs: tuple[str, ...] = LANGUAGES) -> set[str]:
    """A word list, folded (for set membership: surnames, titles)."""
    return {fold(e).lower() for e in entries(section, key, langs)}


GAP = r"(?:\s+\S+){1,6}?\s+"  # "…" in an entry: one to six words


def _phrase(entry: str) -> tuple[str, bool]:
    """(regex, exact) of one entry."""
    if "…" in entry:
        parts = [_phrase(p.strip())[0] for p in entry.split("…")]
        return GAP.join(parts), False
    exact = entry.startswith("=")
    words = entry.lstrip("=").split()
    negatives = [fold(w[1:]) for w in words if w.startswith("!")]
    words = [w for w in words if not w.startswith("!")]
    text = " ".join(words) if exact else fold(" ".join(words))
    body = r"\s+".join(re.escape(w) for w in text.lower().split())
    if body.endswith(r"\*"):
        body = body[:-2] + r"\w*"
    if negatives:
        body += rf"(?!\s+(?:{'|'.join(map(re.escape, negatives))})(?!\w))"
    if _ARABIC_LETTER.match(text):
        body = _PROCLITIC + body  # Arabic writes "and" (و) and "so" (ف) onto the next word
    return body, exact


@dataclass(frozen=True)
class Cue:
    """A compiled list: ``search`` on any text (folds it), ``finditer`` on folded text."""

    folded: re.Pattern | None
    exact: re.Pattern | None

    def search(self, text: str) -> bool:
        return bool((self.folded and self.folded.search(fold(text).lower()))
                    or (self.exact and self.exact.search(text.lower())))

    def search_folded(self, folded_text: str) -> re.Match | None:
        return self.folded.search(folded_text) if self.folded else None

    def finditer(self, folded_text: str):
        return self.folded.finditer(folded_text) if self.folded else iter(())


def _compile(bodies: list[str], anchor: str) -> re.Pattern | None:
    if not bodies:
        return None
    alts = "|".join(sorted(set(bodies), key=len, reverse=True))
    start = r"^\s*" if anchor == "start" else r"(?<!\w)"
    end = r"\s*\??\s*$" if anchor == "end" else r"(?!\w)"
    return re.compile(f"{start}(?:{alts}){end}")


@lru_cache(maxsize=None)
def cue(section: str, key: str, langs: tuple[str, ...] = LANGUAGES, anchor: str = "") -> Cue:
    """One list compiled into a pattern, longest phrase first. ``anchor``: "start" (the text opens
    with it), "end" (closes with it, a question mark allowed), or "" (anywhere)."""
    compiled = [_phrase(e) for e in entries(section, key, langs)]
    return Cue(_compile([b for b, exact in compiled if not exact], anchor),
               _compile([b for b, exact in compiled if exact], anchor))
