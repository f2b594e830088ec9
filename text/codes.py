"""Document codes (số hiệu văn bản) found in text and canonicalised.

People write the same code many ways: ``37-QĐ/TW``, ``37/QĐ-TW``, ``QĐ 37``, ``quy định 37``,
``Quy dinh 37``, ``Regulation 37``, ``اللائحة رقم 37``. A :class:`Code` keeps the number, the
document type (NQ, QĐ, CT, …) and, when written, the issuer (TW, TU, …). Full codes display as
documents write them (``37-QĐ/TW``); a code without issuer is *partial* (``37-QĐ``) and matches
every full code with the same number and type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text.normalize import fold, fold_mapped
from text.scripts import is_arabic

# Folded (ASCII, lower-case) type abbreviation -> display form.
TYPES = {
    "nq": "NQ", "qd": "QĐ", "qdi": "QĐi", "ct": "CT", "kl": "KL", "ctr": "CTr", "hd": "HD", "tb": "TB",
    "qc": "QC", "kh": "KH", "bc": "BC", "ttr": "TTr", "cv": "CV", "ql": "QL", "tt": "TT", "da": "ĐA",
}

# Words that name a document type, in the three languages (folded forms).
_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "nghi quyet": ("NQ",), "quy dinh": ("QĐ",), "quyet dinh": ("QĐ",), "chi thi": ("CT",),
    "ket luan": ("KL",), "chuong trinh": ("CTr",), "huong dan": ("HD",), "thong bao": ("TB",),
    "quy che": ("QC",), "ke hoach": ("KH",), "thong tri": ("TT",), "de an": ("ĐA",),
    "resolution": ("NQ",), "regulation": ("QĐ",), "reg": ("QĐ",), "decision": ("QĐ",), "directive": ("CT",),
    "conclusion": ("KL",), "programme": ("CTr",), "program": ("CTr",), "guideline": ("HD",),
    "guidance": ("HD",), "instruction": ("HD",), "notice": ("TB",), "plan": ("KH",), "circular": ("TT",),
    "project": ("ĐA",), "scheme": ("ĐA",),
    # Arabic, after folding (ة -> ه, أ -> ا); "قرار" translates both resolution and decision.
    "القرار": ("NQ", "QĐ"), "قرار": ("NQ", "QĐ"), "اللائحه": ("QĐ",), "لائحه": ("QĐ",),
    "اللوائح": ("QĐ",), "اللايحه": ("QĐ",), "لايحه": ("QĐ",),
    "التوجيه": ("CT",), "توجيه": ("CT",), "التوجيهات": ("CT",),
    "الاستنتاج": ("KL",), "استنتاج": ("KL",), "الخلاصه": ("KL",), "البرنامج": ("CTr",),
    "برنامج": ("CTr",), "التعليمات": ("HD",), "الخطه": ("KH",), "خطه": ("KH",), "التعميم": ("TT",),
    "تعميم": ("TT",), "المشروع": ("ĐA",),
}


def _arabic_forms(word: str) -> set[str]:
    """``word`` with the proclitics Arabic writes onto it: "و"/"ف" (and), "ب" (by), "ك" (as),
    "ل" (for; "ل" + "القرار" is written "للقرار")."""
    forms = {word, "ب" + word, "ك" + word, "لل" + word[2:] if word.startswith("ال") else "ل" + word}
    return forms | {c + f for f in forms for c in "وف"}


for _word, _types in list(_TYPE_WORDS.items()):
    if is_arabic(_word[0]):
        for _form in _arabic_forms(_word):
            _TYPE_WORDS.setdefault(_form, _types)

_ABBREV = "|".join(sorted(TYPES, key=len, reverse=True))
_WORDS = "|".join(sorted((re.escape(w) for w in _TYPE_WORDS), key=len, reverse=True))

# 37-QĐ/TW, 37/QĐ-TW, 37 - QĐ / TW, 01-CTr/TU (on folded text).
_FULL = re.compile(rf"(?<![\w.])(\d{{1,4}})\s*[-/]\s*({_ABBREV})\s*[-/]\s*([a-z]{{1,8}})(?![\w])")
# quy định 37, QĐ 37, Nghị quyết số 18, التوجيه رقم 24, NQ 39-NQ/TW (the full part wins).
_PARTIAL = re.compile(
    rf"(?<!\w)({_WORDS}|{_ABBREV})\.?\s*(?:so|no\.?|number|#|رقم|n°)?\s*(\d{{1,4}})(?![\d])(?!\s*[-/]\s*\d)"
)
# 18-NQ, 37/QĐ: number and type without an issuer (a partial code).
_NUMBER_TYPE = re.compile(rf"(?<![\w.,/-])(\d{{1,4}})\s*[-/]\s*({_ABBREV})(?![\w/-])")


@dataclass(frozen=True)
class Code:
    number: int
    type: str  # display form, e.g. "QĐ"
    issuer: str | None = None  # e.g. "TW"; None for a partial code

    @property
    def display(self) -> str:
        base = f"{self.number:02d}-{self.type}"
        return f"{base}/{self.issuer}" if self.issuer else base

    @property
    def key(self) -> str:
        """Folded key used for matching: ``37-qd/tw`` or ``37-qd``."""
        base = f"{self.number}-{fold(self.type)}"
        return f"{base}/{self.issuer.lower()}" if self.issuer else base

    def matches(self, other: Code) -> bool:
        if self.number != other.number:
            return False
        if self.issuer is None or other.issuer is None:
            # "Quy định 07" may be 07-QĐi/TW: the Politburo's QĐi regulations are regulations
            return _base_type(self.type) == _base_type(other.type)
        return self.type == other.type and self.issuer == other.issuer

    def __str__(self) -> str:
        return self.display


def base_type(t: str) -> str:
    return "QĐ" if t == "QĐi" else t


_base_type = base_type


def types_named(folded_phrase: str) -> set[str]:
    """The document types the type words of a folded phrase name ("quy dinh nay": {"QĐ"})."""
    found: set[str] = set()
    for word in re.findall(r"\w+(?:\s\w+)?", folded_phrase):
        for w in (word, *word.split()):
            found |= set(_TYPE_WORDS.get(w, ()))
    return found


def _is_year(n: int) -> bool:
    return 1900 <= n <= 2100


def _matches(folded: str) -> list[tuple[int, int, int, Code, bool]]:
    """(start, end, start of the number, code, written with a type word) for each code in folded
    text, in order; a type word that names two types ("قرار") gives one entry for each."""
    found: list[tuple[int, int, int, Code, bool]] = []
    taken: list[tuple[int, int]] = []
    for m in _FULL.finditer(folded):
        code = Code(int(m.group(1)), TYPES[m.group(2)], m.group(3).upper().replace("D", "Đ")
                    if m.group(3) in {"du"} else m.group(3).upper())
        found.append((m.start(), m.end(), m.start(1), code, False))
        taken.append((m.start(), m.end()))
    for m in _NUMBER_TYPE.finditer(folded):
        if any(s <= m.start(1) < e for s, e in taken) or _is_year(int(m.group(1))):
            continue
        found.append((m.start(), m.end(), m.start(1), Code(int(m.group(1)), TYPES[m.group(2)]), False))
        taken.append((m.start(), m.end()))
    for m in _PARTIAL.finditer(folded):
        if any(s <= m.start(2) < e for s, e in taken):
            # "Nghị quyết 18-NQ": the type word belongs to the code after it.
            continue
        number = int(m.group(2))
        if _is_year(number):
            continue
        word = m.group(1)
        types = _TYPE_WORDS.get(word) or (TYPES[word],)
        # "NQ 39-NQ/TW": the partial prefix is the same code as the full one after it.
        tail = folded[m.end(2): m.end(2) + 16]
        if re.match(rf"\s*[-/]\s*(?:{_ABBREV})\s*[-/]", tail):
            continue
        for t in types:
            found.append((m.start(), m.end(), m.start(2), Code(number, t), word in _TYPE_WORDS))
    found.sort(key=lambda item: item[0])
    return found


def find_codes(text: str) -> list[Code]:
    """All codes in ``text``, in order of first appearance, without duplicates."""
    out: list[Code] = []
    for *_, code, _word in _matches(fold(text)):
        if code not in out:
            out.append(code)
    return out


def code_mentions(text: str) -> list[tuple[int, int, int, Code, bool]]:
    """Like :func:`find_codes`, with where each mention is in ``text`` itself: (start, end, start
    of the number, code, written with a type word such as "Nghị quyết"), one entry per reading."""
    folded, where = fold_mapped(text)
    return [(where[s], where[e - 1] + 1, where[n], code, word) for s, e, n, code, word in _matches(folded)]


def canonical_codes(text: str, known: list[Code]) -> str:
    """Codes in ``text`` written as the sources write them, where exactly one of the ``known``
    full codes fits the mention: "QD 37" and "37/QĐ-TW" become "37-QĐ/TW"; after a type word the
    number takes the full code ("Nghị quyết 18" becomes "Nghị quyết 18-NQ/TW")."""
    full = list(dict.fromkeys(k for k in known if k.issuer))
    by_span: dict[tuple[int, int], list] = {}
    for start, end, num, code, word in code_mentions(text):
        by_span.setdefault((start, end), []).append((num, code, word))
    for (start, end), readings in sorted(by_span.items(), reverse=True):
        fits = list(dict.fromkeys(k for _, code, _ in readings for k in full if code.matches(k)))
        if len(fits) != 1:
            continue
        num, _, word = readings[0]
        target = fits[0].display
        if word:
            text = text[:num] + target + text[end:]
        elif text[start:end] != target:
            text = text[:start] + target + text[end:]
    return text


def code_keys(codes: list[Code]) -> list[str]:
    return [c.key for c in codes]


def parse_key(key: str) -> Code:
    """Inverse of :attr:`Code.key` (used for codes stored in metadata)."""
    m = re.fullmatch(r"(\d+)-([a-z]+)(?:/([a-z0-9đ]+))?", key)
    if not m or m.group(2) not in TYPES:
        raise ValueError(f"not a code key: {key!r}")
    return Code(int(m.group(1)), TYPES[m.group(2)], m.group(3).upper() if m.group(3) else None)


def only_fit(code: Code, known) -> Code | None:
    """The one full code among ``known`` that ``code`` (a partial one: "Quy định 69") fits;
    None when none or several do."""
    fits = list(dict.fromkeys(k for k in known if k.issuer and code.matches(k)))
    return fits[0] if len(fits) == 1 else None


def match_any(query_codes: list[Code], doc_codes: list[Code]) -> bool:
    return any(q.matches(d) for q in query_codes for d in doc_codes)
