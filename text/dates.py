"""Dates written in Vietnamese, English or Arabic, as ISO strings (``2023-07-18`` or ``2022-12``)."""

from __future__ import annotations

import re
from datetime import date

from text.lexicon import entries, table
from text.normalize import fold, fold_mapped

# Month names of English and Arabic (both calendars' names), folded (text/lexicon, [months]).
_MONTH_NUMBER = {k: int(v) for k, v in table("months", "names").items()}
_MONTH_WORDS = "|".join(sorted(map(re.escape, _MONTH_NUMBER), key=len, reverse=True))

_PATTERNS = [
    # ngay 18 thang 7 nam 2023 / 18/7/2023 / 18-07-2023 / 18.7.2023
    (re.compile(r"(?<!\d)(\d{1,2})\s*(?:thang|/|-|\.)\s*(\d{1,2})\s*(?:nam|/|-|\.)\s*((?:19|20)\d\d)(?!\d)"), "dmy"),
    (re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})(?!\d)"), "ymd"),
    # 18 July 2023 / 18 يوليو 2023
    (re.compile(rf"(?<!\d)(\d{{1,2}})\s+({_MONTH_WORDS})\.?,?\s+((?:19|20)\d\d)(?!\d)"), "d_month_y"),
    # July 18, 2023
    (re.compile(rf"\b({_MONTH_WORDS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)(?!\d)"), "month_d_y"),
    # thang 12/2022, thang 12 nam 2022, 12/2022
    (re.compile(r"(?:thang\s*)(\d{1,2})\s*(?:/|nam|-)\s*((?:19|20)\d\d)(?!\d)"), "my"),
    (re.compile(rf"\b({_MONTH_WORDS})\s+((?:19|20)\d\d)(?!\d)"), "month_y"),
]


def _month(word: str) -> int | None:
    return _MONTH_NUMBER.get(word)


def _iso(y: int, m: int, d: int | None) -> str | None:
    try:
        return date(y, m, d).isoformat() if d else date(y, m, 1).isoformat()[:7]
    except ValueError:
        return None


def _found(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, ISO date) of each date in folded text, in order."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PATTERNS:
        for m in pattern.finditer(folded):
            if any(s <= m.start() < e for s, e in taken):
                continue
            g = m.groups()
            if kind == "dmy":
                iso = _iso(int(g[2]), int(g[1]), int(g[0]))
            elif kind == "ymd":
                iso = _iso(int(g[0]), int(g[1]), int(g[2]))
            elif kind == "d_month_y":
                iso = _iso(int(g[2]), _month(g[1]) or 0, int(g[0]))
            elif kind == "month_d_y":
                iso = _iso(int(g[2]), _month(g[0]) or 0, int(g[1]))
            elif kind == "my":
                iso = _iso(int(g[1]), int(g[0]), None)
            else:
                iso = _iso(int(g[1]), _month(g[0]) or 0, None)
            if iso:
                found.append((m.start(), m.end(), iso))
                taken.append((m.start(), m.end()))
    return sorted(found)


def find_dates(text: str) -> list[str]:
    """ISO dates in order of appearance, without duplicates; month-only dates as ``YYYY-MM``."""
    out: list[str] = []
    for _, _, iso in _found(fold(text)):
        if iso not in out:
            out.append(iso)
    return out


def date_mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ISO date) of each date written in ``text``, positions in ``text`` itself."""
    folded, where = fold_mapped(text)
    return [(where[s], where[e - 1] + 1, iso) for s, e, iso in _found(folded)]


# Dates written with a numeric month, on the display form (not folded). The sources (Arabic)
# name the month, "18 يوليو 2023", so an answer's 18/07/2023 or "ngày 18 tháng 7 năm 2023" has a
# "07"/"7" that is no source's number: the answer checks blank the dates the sources also give.
NUM_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)(?!\d)")  # d/m/y
VI_DATE = re.compile(r"(?:ngày\s*(\d{1,2})\s*)?tháng\s*(\d{1,2})\s*(?:năm\s*|/\s*|-\s*)((?:19|20)\d\d)(?!\d)", re.I)
ISO_DATE = re.compile(r"(?<![\d/.-])((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})(?![\d-])")
MONTH_YEAR = re.compile(r"(?<![\d/.-])(\d{1,2})\s*/\s*((?:19|20)\d\d)(?!\d)")


def without_known_dates(text: str, known: set[str]) -> str:
    """``text`` with a space for each date (:data:`NUM_DATE`, :data:`VI_DATE`, :data:`ISO_DATE`,
    :data:`MONTH_YEAR`) that ``known`` holds, as an ISO day or month."""
    def iso(y: str, m: str, d: str | None) -> str:
        return f"{int(y):04d}-{int(m):02d}" + (f"-{int(d):02d}" if d else "")

    def day(m: re.Match) -> str:  # day, month, year: 18/07/2023 and "ngày 18 tháng 7 năm 2023"
        return " " if iso(m.group(3), m.group(2), m.group(1)) in known else m.group(0)

    def month(m: re.Match) -> str:
        return " " if iso(m.group(2), m.group(1), None) in known else m.group(0)

    def ymd(m: re.Match) -> str:
        return " " if iso(m.group(1), m.group(2), m.group(3)) in known else m.group(0)

    text = ISO_DATE.sub(ymd, NUM_DATE.sub(day, text))
    return MONTH_YEAR.sub(month, VI_DATE.sub(day, text))


_MONTHS = {lang: entries("months", "display", (lang,)) for lang in ("en", "ar")}  # for display


def format_date(iso: str, lang: str) -> str:
    """2022-07-06 as 06/7/2022, 6 July 2022 or 6 يوليو 2022 (a month alone: 12/2022, …)."""
    parts = iso.split("-")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        return iso
    y, m = int(parts[0]), int(parts[1])
    d = int(parts[2]) if len(parts) > 2 else None
    if lang == "vi":
        return f"{d:02d}/{m}/{y}" if d else f"{m}/{y}"
    month = _MONTHS.get(lang, _MONTHS["en"])[m - 1]
    return f"{d} {month} {y}" if d else f"{month} {y}"
