"""Lines and sentences as the answerer compares and quotes them: white space, length, headings
in capitals, photo captions."""

from __future__ import annotations

import re

from text.normalize import fold

# A photo caption's credit, "(Ảnh: …)", "(Photo: …)", "(الصورة: …)" (on fold()ed text): a caption
# says who was photographed, not what the article says, so it is quoted only when nothing else is.
CAPTION = re.compile(r"\((?:anh|photo|الصوره|صوره)\s*:")


def squash(text: str) -> str:
    """``text`` with its runs of white space as single spaces (how sentences are compared)."""
    return " ".join(text.split())


def shorten(text: str, n: int) -> str:
    """``text`` squashed, cut to at most ``n`` characters at a word's end, with " …" when cut."""
    text = squash(text)
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"


def in_capitals(line: str) -> bool:
    """Written in capitals: most letters have a case and all of those are capitals. (An Arabic
    sentence has no cased letters but its codes', "… القرار رقم 39-NQ/TW …": not in capitals.)"""
    letters = [c for c in line if c.isalpha()]
    cased = [c for c in letters if c.lower() != c.upper()]
    return len(cased) > 0.8 * len(letters) and line.isupper()


def aside(sentence: str) -> bool:
    """A line of under six words (a title, a byline), a line in capitals (a heading, a signature:
    "T/M BAN CHẤP HÀNH TRUNG ƯƠNG") or a photo caption: quoted only when nothing else is."""
    return len(sentence.split()) < 6 or in_capitals(sentence) or bool(CAPTION.search(fold(sentence)))
