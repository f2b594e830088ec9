"""Quantities a text states: its numbers that are not part of a document code, a date, or an
article's or list item's label — "480 nghìn đảng viên", "9%", "أكثر من 480 ألف عضو" — with the
scale word that follows them read as part of the number.

What "how many" asks for is one of these (answering.decide), and they are what an answer that
cannot be worded in the reader's language still gives them (answering.pieces).
"""

from __future__ import annotations

import re
import unicodedata

from text.codes import code_mentions
from text.dates import date_mentions
from text.lexicon import entries, table
from text.normalize import ARABIC_DIGITS
from text.numbers import NUMBER, join_thousands, word_numbers

# An article, chapter or clause label and a list item's number: where, not how many.
_LABEL = re.compile(r"\b(?:điều|dieu|article|art\.|chương|chuong|chapter|khoản|khoan|clause|điểm|diem|point|"
                    r"mục|muc|section)\s+\d+|(?:المادة|الفصل|البند|الفقرة)\s+\d+|^\s*\d{1,2}[.)]\s", re.I | re.M)
# The scale written after a number, and percent words (text/lexicon, [quantities]).
_FACTOR = {k: int(v) for k, v in table("quantities", "scale", fold_keys=False).items()}
_SCALE = re.compile(rf"\s*({'|'.join(sorted(map(re.escape, _FACTOR), key=len, reverse=True))})(?!\w)", re.I)
_PERCENT = re.compile(rf"\s*(?:%|٪|{'|'.join(map(re.escape, entries('quantities', 'percent')))})", re.I)


def _masked(text: str) -> str:
    """``text`` with its codes, dates and labels blanked out (same length)."""
    keep = [True] * len(text)
    spans = [*code_mentions(text), *date_mentions(text), *((m.start(), m.end()) for m in _LABEL.finditer(text))]
    for start, end, *_ in spans:
        keep[start:end] = [False] * (end - start)
    return "".join(ch if k else " " for ch, k in zip(text, keep))


def quantities(text: str) -> list[str]:
    """The quantities ``text`` states, in order, as plain digits ("480000", "9%", "50")."""
    text = unicodedata.normalize("NFKC", text).translate(ARABIC_DIGITS)
    masked = _masked(text)
    out: list[str] = []
    for m in NUMBER.finditer(masked):
        value = join_thousands(m.group(0))
        after = masked[m.end():m.end() + 20]
        if (scale := _SCALE.match(after)) and value.isdigit():
            value += "0" * _FACTOR[scale.group(1).lower()]
        elif _PERCENT.match(after):
            value += "%"
        if value not in out:
            out.append(value)
    return out


def states_quantity(text: str) -> bool:
    """Whether ``text`` states a quantity, in digits or in words ("bảy đồng chí", "خمسة كوادر")."""
    return bool(quantities(text) or word_numbers(_masked(text)))


def grouped(value: str, lang: str) -> str:
    """A quantity written as the reader's language groups thousands: 480.000 (vi), 480,000."""
    digits, percent = (value[:-1], "%") if value.endswith("%") else (value, "")
    if not digits.isdigit() or len(digits) < 5:
        return value
    sep = "." if lang == "vi" else ","
    return f"{int(digits):,}".replace(",", sep) + percent
