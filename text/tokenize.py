"""Language-aware lexical terms for BM25.

All terms are made from the search form of the text (``text.normalize.fold``): lower case,
Vietnamese diacritics stripped (so "quy dinh" meets "quy định"), Arabic letter variants unified
and Arabic-Indic digits made ASCII. On top of plain words:
- Vietnamese: compounds from pyvi's word segmentation ("đảng viên" -> ``dang_vien``) when the
  text has diacritics; a query typed without them gets all adjacent syllable pairs instead, and
  the pairs that are real compounds match.
- Arabic: a light stemmer strips the article and clitic prefixes and common suffixes.
- English: a light suffix stripper.
- Numbers lose thousands separators ("1.700", "1,700" -> 1700); document codes become
  ``code:37-qd/tw`` and ``code:37-qd`` terms.
"""

from __future__ import annotations

import re
from functools import lru_cache

from text.codes import find_codes
from text.normalize import fold, strip_vietnamese_diacritics
from text.scripts import is_arabic

_WORD = re.compile(r"\d+(?:[.,]\d{3})+(?!\d)|\d+(?:[.,]\d+)?%?|[^\W\d_]+", re.U)
_VI_DIACRITIC = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)

# Checked on the form that keeps Vietnamese diacritics: folded, "đảng" (party) and "đang"
# (is doing) would collide.
STOPWORDS = set(
    # English
    "a an the of in on at to for by with from and or is are was were be been what which who whom how "
    "why when where does do did has have had it its this that these those there their them they as "
    "into about under over than then so such can could should would will shall may might must not "
    "no yes me my our we you your i".split()
    # Vietnamese
    + "là của và các những một có được cho trong với về từ đến này đó thì mà như khi để ở tại "
      "gì nào sao thế ai vậy à không hay hoặc cũng đã đang sẽ bị".split()
    # Arabic (normalised)
    + "في من علي الي عن مع ما ماذا هل كيف كم متي اين لماذا هو هي هم التي الذي الذين ان او و ثم "
      "هذا هذه ذلك تلك كان كانت قد لا لم لن بين كل بعد قبل عند ايش شو ايه".split()
)

_AR_PREFIXES = ("وبال", "وال", "بال", "كال", "فال", "لل", "ال", "و", "ب", "ل", "ف")
_AR_SUFFIXES = ("هما", "كما", "ات", "ون", "ين", "ان", "ها", "هم", "ية", "يه", "ه", "ي")
_EN_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "es", "ed", "s")


def _arabic_stem(word: str) -> str:
    for p in _AR_PREFIXES:
        # one-letter clitics are stripped only from long words: "لجنه" starts with a real ل
        if word.startswith(p) and len(word) - len(p) >= (3 if len(p) > 1 else 4):
            word = word[len(p):]
            break
    for s in _AR_SUFFIXES:
        if word.endswith(s) and len(word) - len(s) >= 3:
            return word[: -len(s)]
    return word


def _english_stem(word: str) -> str:
    for s in _EN_SUFFIXES:
        if word.endswith(s) and len(word) - len(s) >= 3:
            return word[: -len(s)] + ("y" if s in ("ies", "ied") else "")
    return word


@lru_cache(maxsize=1)
def _pyvi():
    from pyvi import ViTokenizer

    return ViTokenizer


def _number(token: str) -> str:
    if re.fullmatch(r"\d+(?:[.,]\d{3})+", token):
        return re.sub(r"[.,]", "", token)
    return token


def terms(text: str, *, query: bool = False) -> list[str]:
    folded = fold(text, strip_diacritics=False)
    out: list[str] = []
    words = []
    for tok in _WORD.findall(folded):
        if tok[0].isdigit():
            out.append(_number(tok))
            continue
        if tok in STOPWORDS:
            words.append(tok)
            continue
        tok = strip_vietnamese_diacritics(tok)
        words.append(tok)
        if is_arabic(tok[0]):
            out.append(_arabic_stem(tok))
        elif tok.isascii():
            out.append(_english_stem(tok) if len(tok) > 3 else tok)
        else:
            out.append(tok)
    if _VI_DIACRITIC.search(text):
        segmented = _pyvi().tokenize(fold(text, strip_diacritics=False))
        out += [fold(w) for w in segmented.split() if "_" in w]
    elif query:
        latin = [w for w in words if w.isascii() and w.isalpha()]
        out += [f"{a}_{b}" for a, b in zip(latin, latin[1:])]
    for code in find_codes(text):
        out.append(f"code:{code.key}")
        if code.issuer:
            out.append(f"code:{code.number}-{fold(code.type)}")
    return out


def words(text: str) -> set[str]:
    """``text``'s terms and its plain folded words (which keep the stopwords, as a question typed
    without diacritics has them: "khong", "gi")."""
    return set(terms(text)) | set(re.findall(r"\w+", fold(text)))
