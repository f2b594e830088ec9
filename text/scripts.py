"""Scripts: which characters are Arabic or Latin letters, and how much of a text each writes.

The one definition of "Arabic" for the project: language detection, tokenising, the answer
checks, the PDF reader and the evaluation all count Arabic letters with these ranges.
"""

from __future__ import annotations

import re

# The Arabic blocks: Arabic (0600-06FF), Arabic Supplement (0750-077F), Arabic Extended-A
# (08A0-08FF), Arabic Presentation Forms-A (FB50-FDFF) and -B (FE70-FEFF; PDFs often draw
# Arabic in presentation forms).
ARABIC_RANGES = "\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF"
ARABIC = re.compile(f"[{ARABIC_RANGES}]")
ARABIC_SPAN = re.compile(f"[{ARABIC_RANGES}]+")
# A stretch of Arabic words with the spaces and punctuation between them ("لجنة الحزب، الإقليمية").
ARABIC_RUN = re.compile(rf"{ARABIC_SPAN.pattern}(?:[\s,،.:;()\-]+{ARABIC_SPAN.pattern})*")
# A word of the basic Arabic alphabet only (hamza to yeh, and ڤ), no digits, harakat, tatweel or
# punctuation: transliteration maps each of these letters to a consonant, and a name is written
# in them (text.transliteration). Narrower than ARABIC on purpose.
ARABIC_WORD = re.compile(r"[\u0621-\u064A\u06A4]+")

# Latin letters: Basic Latin, Latin-1 Supplement, Latin Extended-A and -B, and Latin Extended
# Additional (Vietnamese: ạ, ế, ữ …). Only characters that are letters count (not × or ÷).
LATIN_RANGES = "A-Za-z\u00C0-\u024F\u1E00-\u1EFF"
_LATIN = re.compile(f"[{LATIN_RANGES}]")

# An answer is "in Arabic" when at least this share of its letters is Arabic. An Arabic answer
# names codes (39-NQ/TW) and Vietnamese names (Nguyễn Văn A) in Latin letters; 0.6 leaves room
# for them, and an answer in Vietnamese or English that quotes some Arabic stays far below it.
# (It is what the answer check has always required; see answering.checks.language_problem.)
MOSTLY_ARABIC = 0.6


def is_arabic(ch: str) -> bool:
    """``ch`` (one character) is in an Arabic block (letters, Arabic digits and punctuation)."""
    return bool(ARABIC.match(ch))


def is_latin(ch: str) -> bool:
    """``ch`` (one character) is a Latin letter."""
    return ch.isalpha() and bool(_LATIN.match(ch))


def _share(text: str, test) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if test(ch)) / len(letters) if letters else 0.0


def arabic_share(text: str) -> float:
    """The share of ``text``'s letters that are Arabic (0.0 for a text without letters)."""
    return _share(text, is_arabic)


def latin_share(text: str) -> float:
    """The share of ``text``'s letters that are Latin (0.0 for a text without letters)."""
    return _share(text, is_latin)


def mostly_arabic(text: str) -> bool:
    """At least :data:`MOSTLY_ARABIC` of ``text``'s letters are Arabic."""
    return arabic_share(text) >= MOSTLY_ARABIC


def arabic_runs(text: str) -> list[str]:
    """The Arabic-script stretches of ``text``, in order (see :data:`ARABIC_RUN`)."""
    return [m.group(0) for m in ARABIC_RUN.finditer(text)]


def readable_by(text: str, lang: str) -> bool:
    """Whether a reader of ``lang`` reads ``text``'s script (the evaluation's readable rule: an
    Arabic text at most 40% Latin letters, any other at most 10% Arabic ones)."""
    return latin_share(text) <= 0.4 if lang == "ar" else arabic_share(text) <= 0.1


# The scripts a reader of each language reads: a Vietnamese or English reader Latin letters only;
# an Arabic reader Arabic letters, and Latin ones for codes and names.
READS_SCRIPTS = {"vi": frozenset({"LATIN"}), "en": frozenset({"LATIN"}), "ar": frozenset({"ARABIC", "LATIN"})}


def script_of(ch: str) -> str:
    """The script of a letter by its Unicode name: LATIN, ARABIC, CJK, CYRILLIC, HANGUL, …"""
    import unicodedata

    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def foreign_letters(text: str, lang: str) -> str:
    """The letters of ``text`` in a script a reader of ``lang`` does not read, in order ("和个人"
    in a Vietnamese answer, "الفيتنامية" in an English one); empty when there are none."""
    allowed = READS_SCRIPTS.get(lang, READS_SCRIPTS["en"])
    return "".join(ch for ch in text if ch.isalpha() and script_of(ch) not in allowed)
