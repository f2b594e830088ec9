"""Unicode normalisation.

Two forms of every text exist on purpose:
- the *display* form (NFC, line endings and stray control characters cleaned) is what is stored,
  quoted and cited; quotes must stay exact substrings of what the document says;
- the *search* form (``fold``) is what lexical matching, code detection and answer checks
  compare: case-folded, Arabic letter variants unified, tatweel and harakat removed,
  Arabic-Indic digits made ASCII, and Vietnamese diacritics optionally stripped so that
  "quy dinh" meets "quy định".
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_ARABIC_MAP = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
        "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه",
        "ک": "ك", "ی": "ي",
        "،": ",", "؛": ";", "؟": "?", "٪": "%",
        "٫": ".", "٬": ",",
    }
)
# Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹, Persian) digits as ASCII digits.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\u200e\u200f\ufeff]")
_SPACES = re.compile("[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean_display(text: str) -> str:
    """NFC, "\\n" line endings, no control characters, no trailing spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text).replace(_TATWEEL, "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_vietnamese_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    # Only combining marks on Latin letters go; Arabic harakat are handled separately.
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch) and "\u0300" <= ch <= "\u036f":
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def fold(text: str, *, strip_diacritics: bool = True) -> str:
    """The search form of ``text`` (see module docstring). Length is not preserved."""
    text = unicodedata.normalize("NFKC", text)
    text = _ARABIC_DIACRITICS.sub("", text.replace(_TATWEEL, ""))
    text = text.translate(_ARABIC_MAP).translate(ARABIC_DIGITS)
    text = text.casefold()
    if strip_diacritics:
        text = strip_vietnamese_diacritics(text)
    return _SPACES.sub(" ", text)


def fold_mapped(text: str) -> tuple[str, list[int]]:
    """``fold`` character by character (spaces kept one for one), with the index in ``text`` of
    each folded character and, last, ``len(text)``: a match found in the folded text can be
    cut from ``text`` itself (``where[start]``, ``where[end - 1] + 1``)."""
    folded: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = fold(ch) if not ch.isspace() else " "
        folded.append(f)
        where += [i] * len(f)
    where.append(len(text))
    return "".join(folded), where
