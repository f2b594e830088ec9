"""People's names in a text: a Vietnamese surname (text/lexicon, [names]) and one to three more
capitalised words, after a title or not ("Ông Đỗ Văn Chiến", "Comrade Tran Cam Tu"); in Arabic, a
title followed by a name ("الرفيق تو لام", "السيد بوي آنه توان"), since Arabic has no capitals.

What a "who" question asks for, and what the checks compare an answer's names against.
"""

from __future__ import annotations

import re

from text.lexicon import cue, folded
from text.normalize import fold

_SURNAMES = folded("names", "surnames")
_TITLES = folded("names", "titles")
# Upper-case letters of Vietnamese (the range À-Ỹ also holds lower-case ones: "ông", "ủy").
_UPPER = "".join(ch for ch in map(chr, range(0xC0, 0x1EFA)) if ch.isupper() and fold(ch).isascii())
_CAP_WORD = rf"[A-Z{_UPPER}][a-zà-ỹđ]*"
NAME = re.compile(rf"\b{_CAP_WORD}(?:\s+{_CAP_WORD}){{1,3}}\b")
_ARABIC_TITLE = cue("names", "titles", ("ar",))
_ARABIC_NAME_AFTER = re.compile(r"\s+[\u0621-\u064a]{2,}\s+[\u0621-\u064a]{2,}")


def latin_names(text: str) -> list[str]:
    """Names in Latin letters: a surname and one to three more capitalised words (a title before
    them dropped)."""
    found = [m.group(0).split() for m in NAME.finditer(text)]
    found = [words[1:] if fold(words[0]).lower() in _TITLES and len(words) > 2 else words for words in found]
    return [" ".join(words) for words in found if fold(words[0]).lower() in _SURNAMES]


def names_person(text: str) -> bool:
    """Whether ``text`` names a person, in either script."""
    if latin_names(text):
        return True
    folded_text = fold(text)
    return any(_ARABIC_NAME_AFTER.match(folded_text, m.end()) for m in _ARABIC_TITLE.finditer(folded_text))
