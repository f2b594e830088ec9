"""Structure-aware chunking.

Sections start at headings (Phần / Chương / Mục / Điều, Part / Chapter / Section / Article,
الباب / الفصل / المادة); a chunk never spans two sections. Inside a section, paragraphs are
packed up to a target size; a paragraph longer than the maximum is split at sentence ends with
one sentence of overlap, so that a fact cut by a boundary is whole in one of the two chunks.
Clauses (Khoản, "1.", البند) and points ("a)") are recorded in the locator, not split on.

Every chunk is an exact substring of the document's display text (``start``/``end`` offsets),
so quotes and citations can be checked against the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from text.articles import is_article_label
from text.normalize import fold
from text.sentences import sentence_spans

# (level, pattern) for section headings; lower level = bigger unit.
# A heading is numbered: "Chương II", "Mục 1", "Điều 5", "Phần thứ nhất", not "Chương trình
# hành động…" (programme), "Mục tiêu…" (goal) or "Điều lệ Đảng…" (the Party Charter).
_NUMBERED = r"(?:\d+[a-z]?|[IVXLC]+|[A-Z])(?![\w])"
# Arabic: a number or an ordinal ("الفصل الأول", "المادة الثانية عشرة"), not "الفصل بين …" (separation).
_AR_NUMBERED = (r"(?:\(?\d+\)?|(?:ال[أا]ول|الثاني|الثالث|الرابع|الخامس|السادس|السابع|الثامن|التاسع|العاشر"
                r"|الحادي)[ةى]?(?:\s+عشر[ةه]?)?)(?![\w])")
_HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (0, re.compile(rf"^(?:(?:PHẦN|Phần)\s+(?:THỨ|thứ)\s+\w+|(?:PHẦN|Phần|PART|Part)\s+{_NUMBERED}|الباب\s+{_AR_NUMBERED})", re.U)),
    (1, re.compile(rf"^(?:(?:CHƯƠNG|Chương|CHAPTER|Chapter)\s+{_NUMBERED}|الفصل\s+{_AR_NUMBERED})", re.U)),
    (2, re.compile(rf"^(?:MỤC|Mục|SECTION|Section)\s+{_NUMBERED}", re.U)),
    (3, re.compile(rf"^(?:(?:ĐIỀU|Điều|ARTICLE|Article)\s+{_NUMBERED}|(?:المادة|مادة)\s+{_AR_NUMBERED})", re.U)),
]
# "Điều 1. Nói, viết, làm trái…": an article whose text follows its number on the same line is
# a heading however long the line.
_INLINE_ARTICLE = re.compile(
    rf"^(?:(?:ĐIỀU|Điều|ARTICLE|Article)\s+{_NUMBERED}|(?:المادة|مادة)\s+{_AR_NUMBERED})\s*[.:]\s", re.U)
_CLAUSE = re.compile(r"^(?:(?:Khoản|KHOẢN|Clause|البند)\s+(\d+)|(\d{1,2})\s*[.)]\s)", re.U)
_POINT = re.compile(r"^([a-zđ])\)\s", re.U)
_MAX_HEADING_CHARS = 160
_MIN_CHUNK = 120


@dataclass
class Chunk:
    text: str
    start: int
    end: int
    locator: list[str] = field(default_factory=list)  # e.g. ["Chương II", "Điều 5", "khoản 2-3"]
    ordinal: int = 0

    @property
    def locator_str(self) -> str:
        return " › ".join(self.locator)


@dataclass
class _Unit:
    start: int
    end: int
    para: int  # 1-based paragraph number in the document
    clause: str | None = None


def _heading(line: str) -> tuple[int, str] | None:
    if len(line) > _MAX_HEADING_CHARS and not _INLINE_ARTICLE.match(line):
        return None
    for level, pattern in _HEADINGS:
        m = pattern.match(line)
        if m:
            # After the number: nothing, punctuation, or a capitalised title ("Điều 1. Phạm vi",
            # "Chương I NHỮNG QUY ĐỊNH CHUNG"); Arabic has no capitals: a short line. Not a line
            # of running text that starts with a reference ("Điều 5 của Quy định này, …").
            rest = line[m.end():].lstrip()
            latin = bool(rest) and rest[0].isalpha() and fold(rest[0]).isascii()
            if rest and rest[0] not in ".:-–()" and not rest[0].isupper() and (
                    latin or not rest[0].isalpha() or len(line) > 80):
                continue
            return level, m.group(0).strip().rstrip(".:")[:80]
    return None


def _is_subheading(line: str) -> bool:
    """A short line with no sentence end: a news subheading, kept with what follows it."""
    return 0 < len(line) <= 120 and not re.search(r"[.!?؟:;]\s*$", line)


def _sections(text: str) -> list[tuple[list[str], list[_Unit]]]:
    """Split into (heading path, paragraph units) sections."""
    sections: list[tuple[list[str], list[_Unit]]] = []
    stack: list[tuple[int, str]] = []
    units: list[_Unit] = []
    pos, para = 0, 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        para += 1
        head = _heading(line.strip())
        if head:
            if units:
                sections.append(([label for _, label in stack], units))
                units = []
            level, label = head
            stack = [(lv, lb) for lv, lb in stack if lv < level] + [(level, label)]
        clause = _CLAUSE.match(line.strip())
        units.append(_Unit(start, end, para, (clause.group(1) or clause.group(2)) if clause else None))
    if units:
        sections.append(([label for _, label in stack], units))
    return sections


def _detail(units: list[_Unit], in_article: bool) -> list[str]:
    clauses = [u.clause for u in units if u.clause]
    if in_article:
        if not clauses:
            return []
        return [f"khoản {clauses[0]}" if len(set(clauses)) == 1 else f"khoản {clauses[0]}-{clauses[-1]}"]
    first, last = units[0].para, units[-1].para
    return [f"¶{first}" if first == last else f"¶{first}-{last}"]
    return f"¶{first}" if first == last else f"¶{first}-{last}"


def chunk_text(text: str, *, target: int = 700, maximum: int = 1100) -> list[Chunk]:
    """Chunks of ``text`` (already in display form), in document order."""
    chunks: list[Chunk] = []
    chunk_units: list[list[_Unit]] = []

    def emit(path: list[str], units: list[_Unit], start: int, end: int) -> None:
        raw = text[start:end]
        body = raw.strip()
        if body:
            lead = len(raw) - len(raw.lstrip())
            in_article = any(is_article_label(p) for p in path)
            chunks.append(Chunk(body, start + lead, start + lead + len(body),
                                path + _detail(units, in_article), len(chunks)))
            chunk_units.append(units)

    carried: list[_Unit] = []
    carried_path: list[str] = []
    for path, units in _sections(text):
        if all(_is_subheading(text[u.start:u.end]) for u in units):
            carried_path = path
            carried += units  # a heading with nothing under it yet goes with what follows
            continue
        group, carried = carried, []
        first_of_section = len(chunks)
        for unit in units:
            size = unit.end - unit.start
            if size > maximum:
                if group:
                    emit(path, group, group[0].start, group[-1].end)
                    group = []
                _split_long(text, unit, target, lambda s, e, u=unit: emit(path, [u], s, e))
                continue
            pending = group[-1].end - group[0].start if group else 0
            only_headings = all(_is_subheading(text[u.start:u.end]) for u in group)
            if group and pending + size + 1 > target and not only_headings:
                emit(path, group, group[0].start, group[-1].end)
                group = []
            group.append(unit)
        if not group:
            continue
        size = group[-1].end - group[0].start
        if len(chunks) > first_of_section and size < _MIN_CHUNK and group[-1].end - chunks[-1].start <= maximum:
            # Too small to stand alone (a footer, a last short line): extend the previous chunk.
            prev, prev_units = chunks.pop(), chunk_units.pop()
            emit(path, prev_units + group, prev.start, group[-1].end)
        else:
            emit(path, group, group[0].start, group[-1].end)
    if carried:
        emit(carried_path, carried, carried[0].start, carried[-1].end)
    return chunks


def _split_long(text: str, unit: _Unit, target: int, emit) -> None:
    """Windows of whole sentences up to ``target`` chars, overlapping by one sentence."""
    sents = sentence_spans(text[unit.start:unit.end], unit.start)
    i = 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= target:
            j += 1
        emit(sents[i][0], sents[j][1])
        if j + 1 >= len(sents):
            break
        i = j if j > i else j + 1  # overlap one sentence, but always advance
