"""The terminology table (``terminology.tsv``): Party institutions and document types in
Vietnamese, English and Arabic, as data.

A member reads "Thành ủy", "City Party Committee" or "لجنة الحزب بالمدينة" for the same body, and
"Quy định", "Regulation" or "اللائحة" for the same kind of document; the table says each in the
asker's language and finds any of them in a text, whatever language it is written in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from text.normalize import fold

TABLE = Path(__file__).with_name("terminology.tsv")
LANGS = ("vi", "en", "ar")


@dataclass(frozen=True)
class Term:
    kind: str  # "type" | "body"
    key: str  # a code's type ("QĐ") or a body's key ("BCT", "TU:city")
    level: str | None  # bodies: "central" | "local"
    names: dict  # lang -> name
    also: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@lru_cache(maxsize=None)
def terms(path: Path = TABLE) -> tuple[Term, ...]:
    out: list[Term] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 6 or cells[0] not in ("type", "body") or not all(cells[3:6]):
            raise ValueError(f"{path}:{number}: expected kind, key, level, vi, en, ar[, also]")
        also = tuple(a.strip() for a in cells[6].split("|") if a.strip()) if len(cells) > 6 else ()
        out.append(Term(cells[0], cells[1], cells[2] or None, dict(zip(LANGS, cells[3:6])), also))
    return tuple(out)


def _by_key(kind: str) -> dict[str, Term]:
    return {t.key: t for t in terms() if t.kind == kind}


def type_name(doc_type: str, lang: str) -> str:
    """"Quy định" / "Regulation" / "اللائحة" for ``QĐ``; the abbreviation when the table lacks it."""
    term = _by_key("type").get(doc_type)
    return term.name(lang) if term else doc_type


def body(key: str) -> Term | None:
    return _by_key("body").get(key)


def level_of_issuer(issuer: str | None) -> str | None:
    """The level a code's issuer part says: …/TW and the central commissions (…TW) are central;
    a province's or city's committee (…/TU), a district's (…/HU, …/QU) or a party committee's
    (…/ĐU) are local."""
    if not issuer:
        return None
    folded = fold(issuer).upper()
    if folded.endswith("TW"):
        return "central"
    if folded in {"TU", "HU", "QU", "DU", "TX", "TP"} or folded.endswith("TU"):
        return "local"
    return None


@lru_cache(maxsize=None)
def _body_pattern() -> tuple[re.Pattern, dict[str, str]]:
    names: dict[str, str] = {}
    for t in terms():
        if t.kind != "body":
            continue
        for name in (*t.names.values(), *t.also):
            names.setdefault(fold(name), t.key)
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)"), names


def bodies_in(text: str) -> list[tuple[int, str]]:
    """(position in the folded text, body key) of each institution the text names, in order."""
    pattern, names = _body_pattern()
    return [(m.start(), names[m.group(0)]) for m in pattern.finditer(fold(text))]
