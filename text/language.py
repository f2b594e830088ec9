"""Language identification restricted to the three languages the bot serves."""

from __future__ import annotations

import re
from functools import lru_cache

from text.scripts import is_arabic, readable_by

LANGUAGES = ("vi", "ar", "en")
_CODE_LIKE = re.compile(r"\S*\d\S*")
_VI_MARKS = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=list(LANGUAGES))


def detect(text: str, default: str = "en") -> str:
    """'vi', 'ar' or 'en'. Scripts decide first (cheap, reliable on short or unaccented text)."""
    # Codes such as 37-QĐ/TW carry a Vietnamese letter into questions in any language.
    sample = _CODE_LIKE.sub(" ", text[:4000])
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return default
    arabic = sum(1 for c in letters if is_arabic(c))
    if arabic / len(letters) > 0.3:
        return "ar"
    marks = len(_VI_MARKS.findall(sample))
    # Written Vietnamese marks one letter in eight or more (one in four in prose); a text marking
    # fewer than one in 15 is another language quoting a Vietnamese name or phrase ("Tô Lâm",
    # "(cần, kiệm, liêm, chính)"), which the model below tells from Vietnamese.
    if marks and marks >= len(letters) / 15:
        return "vi"
    lang, _ = _identifier().classify(sample)
    return lang if lang in LANGUAGES else default


def reads(text: str, lang: str) -> bool:
    """Whether a reader of ``lang`` reads ``text``: in their script and in their language (a
    Vietnamese sentence is in an English reader's script, not in their language)."""
    return readable_by(text, lang) and detect(text, default=lang) == lang
