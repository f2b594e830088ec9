"""Language identification restricted to the three languages the bot serves."""

from __future__ import annotations

import re
from functools import lru_cache

from text.scripts import is_arabic

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
    if len(_VI_MARKS.findall(sample)) >= max(1, len(letters) // 60):
        return "vi"
    lang, _ = _identifier().classify(sample)
    return lang if lang in LANGUAGES else default


def has_vietnamese_marks(text: str) -> bool:
    return bool(_VI_MARKS.search(_CODE_LIKE.sub(" ", text)))


def restore_diacritics(text: str) -> str:
    """Best-effort diacritics for Vietnamese typed without them (pyvi's CRF model, offline)."""
    from pyvi import ViUtils

    try:
        return ViUtils.add_accents(text)
    except Exception:  # a best-effort aid: the original text is always usable
        return text
