"""Numbers as written in the three languages: in digits (ASCII or Arabic-Indic, with thousands
separators) and in words ("خمسة", "bảy", "twenty-one").

The answer checks (answering.checks) compare the numbers of an answer with those of its sources
in these forms.
"""

from __future__ import annotations

import re
import unicodedata

from text.normalize import ARABIC_DIGITS, fold
from text.scripts import ARABIC_RANGES

__all__ = ["ARABIC_DIGITS", "NUMBER", "english_number_words", "find_numbers", "join_thousands",
           "word_numbers"]

# 480.000 / 480,000 / 49 200 are one number; 18/7/2023 is three.
NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")
_THOUSANDS = re.compile(r"[.,\u00a0\u202f ](?=\d{3}\b)")


def join_thousands(number: str) -> str:
    """``number`` (a :data:`NUMBER` match) without its thousands separators: "480.000" -> "480000"."""
    return _THOUSANDS.sub("", number)


def find_numbers(text: str) -> set[str]:
    """The numbers of ``text`` in digits, in the forms a source may write them: joined ("480000"),
    without trailing decimal zeros, their digit groups too ("49.200" may be written "49 200"
    or "49"), and without leading zeros ("06" is 6)."""
    text = unicodedata.normalize("NFKC", text).translate(ARABIC_DIGITS)
    out = set()
    for m in NUMBER.finditer(text):
        raw = m.group(0)
        joined = join_thousands(raw)
        out.add(joined.rstrip("0").rstrip(".,") if re.search(r"[.,]\d+$", joined) and len(joined.split(".")[-1]) != 3 else joined)
        out.update(re.findall(r"\d+", raw))  # the parts too: "49.200" may be written "49 200" or "49"
    # "06/7/2022" gives the day 6: a number is the same without its leading zeros
    return out | {n.lstrip("0") for n in out if n.isdigit() and n.lstrip("0")}


_AR_WORDS = {  # on fold()ed text (ة → ه, أ → ا)
    2: "اثنان اثنين اثنتان اثنتين", 3: "ثلاث ثلاثه", 4: "اربع اربعه", 5: "خمس خمسه", 6: "ست سته",
    7: "سبع سبعه", 8: "ثمان ثماني ثمانيه", 9: "تسع تسعه", 10: "عشر عشره", 20: "عشرون عشرين",
    30: "ثلاثون ثلاثين", 40: "اربعون اربعين", 50: "خمسون خمسين", 60: "ستون ستين", 70: "سبعون سبعين",
    80: "ثمانون ثمانين", 90: "تسعون تسعين", 100: "مائه مئه"}
_AR_WORD = re.compile(rf"(?<![{ARABIC_RANGES}])[وبلف]?("
                      + "|".join(w for ws in _AR_WORDS.values() for w in ws.split())
                      + rf")(?![{ARABIC_RANGES}])")
_AR_VALUE = {w: str(n) for n, ws in _AR_WORDS.items() for w in ws.split()}
# "năm" (five, but also year) is left out.
_VI_WORDS = {"hai": 2, "ba": 3, "bốn": 4, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9, "mười": 10}
_VI_WORD = re.compile(r"(?<!\w)(" + "|".join(_VI_WORDS) + r")(?!\w)", re.I)


def word_numbers(text: str) -> set[str]:
    """Numbers a text writes as words ("خمسة كوادر", "bảy đồng chí", "seven committees"), as
    digits: an answer that gives them in digits states what the source says."""
    found = {_AR_VALUE[m.group(1)] for m in _AR_WORD.finditer(fold(text))}
    found |= {str(_VI_WORDS[m.group(1).lower()]) for m in _VI_WORD.finditer(text)}
    found |= set(re.findall(r"\d+", english_number_words(text)))
    return found


_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2}
_EN_NUMBER = re.compile(r"\b(?:(" + "|".join(_TENS) + r")(?:[-\s](" + "|".join(_UNITS[1:10]) + r"))?|("
                        + "|".join(_UNITS[2:]) + r"))\b(?!-(?:year|month|day)s?\b)", re.I)


def english_number_words(text: str) -> str:
    """"five cadres" → "5 cadres", "twenty-one" → "21": the sources write numbers as digits, and a
    number in digits is one the number check can verify. "one" stays (it is mostly a pronoun)."""
    def digits(m: re.Match) -> str:
        if m.group(3):
            return str(_UNITS.index(m.group(3).lower()))
        value = _TENS[m.group(1).lower()] + (_UNITS.index(m.group(2).lower()) if m.group(2) else 0)
        return str(value)

    return _EN_NUMBER.sub(digits, text)
