"""Checks on a generated answer, against the small model's known failure modes.

Each check returns problems as short strings (empty list = passed). Each check is a registered rule
(core.rules); the pipeline retries once with a stricter prompt when any fails, then falls back.
"""

from __future__ import annotations

import re
import unicodedata

from core.rules import Rules, rule
from text.codes import find_codes
from text.dates import find_dates
from text.language import detect
from text.normalize import fold
from text.transliteration import ARABIC_WORD, arabic_skeleton, latin_skeleton, near

NOT_IN_SOURCES = "NOT_IN_SOURCES"
MAX_ANSWER_CHARS = 1500

_MARKER = re.compile(r"\[(\d{1,2}(?:\s*[,;،]\s*\d{1,2})*)\]")
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")
_GUILLEMETS = re.compile(r"«[^»]*»")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:\d{1,2}[.)]|[-*•])\s+")
_ARABIC_RUN = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]+(?:[\s,،.:;()\-]+[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]+)*")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# 480.000 / 480,000 / 49 200 are one number; 18/7/2023 is three.
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")


def markers(text: str) -> list[int]:
    out = []
    for m in _MARKER.finditer(text):
        out += [int(x) for x in re.split(r"\s*[,;،]\s*", m.group(1))]
    return out


def clean_markers(text: str, n_sources: int) -> tuple[str, list[int]]:
    """Drop markers that point at no given source; return the text and the valid numbers used."""
    used: list[int] = []

    def keep(m: re.Match) -> str:
        nums = [int(x) for x in re.split(r"\s*[,;،]\s*", m.group(1))]
        good = [n for n in nums if 1 <= n <= n_sources]
        for n in good:
            if n not in used:
                used.append(n)
        return "".join(f"[{n}]" for n in good)

    cleaned = _MARKER.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?،؛])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, used


def _numbers(text: str) -> set[str]:
    text = unicodedata.normalize("NFKC", text).translate(_ARABIC_DIGITS)
    out = set()
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        joined = re.sub(r"[.,\u00a0\u202f ](?=\d{3}\b)", "", raw)
        out.add(joined.rstrip("0").rstrip(".,") if re.search(r"[.,]\d+$", joined) and len(joined.split(".")[-1]) != 3 else joined)
        out.update(re.findall(r"\d+", raw))  # the parts too: "49.200" may be written "49 200" or "49"
    return out


_AR_WORDS = {  # on fold()ed text (ة → ه, أ → ا)
    2: "اثنان اثنين اثنتان اثنتين", 3: "ثلاث ثلاثه", 4: "اربع اربعه", 5: "خمس خمسه", 6: "ست سته",
    7: "سبع سبعه", 8: "ثمان ثماني ثمانيه", 9: "تسع تسعه", 10: "عشر عشره", 20: "عشرون عشرين",
    30: "ثلاثون ثلاثين", 40: "اربعون اربعين", 50: "خمسون خمسين", 60: "ستون ستين", 70: "سبعون سبعين",
    80: "ثمانون ثمانين", 90: "تسعون تسعين", 100: "مائه مئه"}
_AR_WORD = re.compile(r"(?<![\u0600-\u06FF])[وبلف]?(" + "|".join(w for ws in _AR_WORDS.values() for w in ws.split())
                      + r")(?![\u0600-\u06FF])")
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


def _supported(num: str, known: set[str]) -> bool:
    if num in known:
        return True
    digits = num.replace(".", "").replace(",", "")
    # "480,000" in the answer, "480 ألف" (480 thousand) in the source
    for zeros in ("000000000", "000000", "000"):
        if digits.endswith(zeros) and digits[: -len(zeros)] in known:
            return True
    return False


# Dates with a numeric month: the sources (Arabic) name the month, "18 يوليو 2023", so the
# answer's 18/07/2023 or "ngày 18 tháng 7 năm 2023" has a "07"/"7" that is no source's number.
_NUM_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)(?!\d)")
_VI_DATE = re.compile(r"(?:ngày\s*(\d{1,2})\s*)?tháng\s*(\d{1,2})\s*(?:năm\s*|/\s*|-\s*)((?:19|20)\d\d)(?!\d)", re.I)
_ISO_DATE = re.compile(r"(?<![\d/.-])((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})(?![\d-])")
_MONTH_YEAR = re.compile(r"(?<![\d/.-])(\d{1,2})\s*/\s*((?:19|20)\d\d)(?!\d)")


def _without_known_dates(text: str, known: set[str]) -> str:
    """Blank the dates of ``text`` that the sources also give (as ISO days or months)."""
    def iso(y: str, m: str, d: str | None) -> str:
        return f"{int(y):04d}-{int(m):02d}" + (f"-{int(d):02d}" if d else "")

    def day(m: re.Match) -> str:  # day, month, year: 18/07/2023 and "ngày 18 tháng 7 năm 2023"
        return " " if iso(m.group(3), m.group(2), m.group(1)) in known else m.group(0)

    def month(m: re.Match) -> str:
        return " " if iso(m.group(2), m.group(1), None) in known else m.group(0)

    def ymd(m: re.Match) -> str:
        return " " if iso(m.group(1), m.group(2), m.group(3)) in known else m.group(0)

    text = _ISO_DATE.sub(ymd, _NUM_DATE.sub(day, text))
    return _MONTH_YEAR.sub(month, _VI_DATE.sub(day, text))


_INLINE_ITEM = re.compile(r"(?<![\d.,/-])\d{1,2}[.)](?=\s)")


def numbered_list_problem(answer: str) -> str | None:
    """The prompt asks for one to three sentences; a numbered list of three or more items is
    what the small model writes when it makes up the list a question asks for ("the 25
    manifestations … are: 1. … 2. … 3. …", the sources naming none of them)."""
    numbers = [int(m.group(1)) for m in re.finditer(r"(?:^|(?<=\s)|(?<=:))(\d{1,2})[.)]\s", _MARKER.sub(" ", answer))]
    if {1, 2, 3} <= set(numbers):
        return "answer is a numbered list"
    return None


def unsupported_numbers(answer: str, evidence: list[str], question: str) -> list[str]:
    body = _LIST_ITEM.sub(" ", _MARKER.sub(" ", answer))
    if re.search(r"(?<![\d.,/-])1[.)]\s", body) and re.search(r"(?<![\d.,/-])2[.)]\s", body):
        body = _INLINE_ITEM.sub(" ", body)  # "gồm: 1. ..., 2. ..., 3. ...": the list's own numbering
    if re.search(r"(?:19|20)\d\d", body):
        dates = {d for t in [*evidence, question] for d in find_dates(t)}
        body = _without_known_dates(body, dates | {d[:7] for d in dates})
    known = set().union(*(_numbers(t) | word_numbers(t) for t in [*evidence, question]))
    bad = []
    for m in _NUMBER.finditer(unicodedata.normalize("NFKC", body).translate(_ARABIC_DIGITS)):
        raw = m.group(0)
        joined = re.sub(r"[.,\u00a0\u202f ](?=\d{3}\b)", "", raw)
        if not (_supported(joined, known) or _supported(raw, known)):
            bad.append(raw)
    return bad


def unsupported_codes(answer: str, evidence: list[str], question: str) -> list[str]:
    given = [c for t in [*evidence, question] for c in find_codes(t)]
    bad = []
    for code in find_codes(answer):
        if not any(code.matches(g) or g.matches(code) for g in given):
            bad.append(code.display)
    return bad


def language_problem(answer: str, lang: str) -> str | None:
    """None when the answer is in ``lang``; codes, markers and quoted text are not counted. In a
    Vietnamese or English answer only «quotes» (how answers quote a source) exempt Arabic: Arabic
    the model put in "quotes" is still Arabic its reader cannot read."""
    raw = re.sub(r"\S*\d\S*", " ", _MARKER.sub(" ", answer))  # numbers, dates, document codes: any language
    body = _QUOTED.sub(" ", raw)
    letters = [ch for ch in body if ch.isalpha()]
    if len(letters) < 12:
        return None  # too short to judge
    arabic = sum(1 for ch in letters if _ARABIC.match(ch)) / len(letters)
    if lang == "ar":
        return None if arabic >= 0.6 else f"answer is not in Arabic ({arabic:.0%} Arabic letters)"
    all_letters = [ch for ch in _GUILLEMETS.sub(" ", raw) if ch.isalpha()] or ["x"]
    arabic = sum(1 for ch in all_letters if _ARABIC.match(ch)) / len(all_letters)
    if arabic > 0.03:
        return f"answer mixes in Arabic script ({arabic:.0%} of letters) instead of {lang}"
    got = detect(body, default=lang)
    if got != lang:
        return f"answer is in {got}, expected {lang}"
    return None


def arabic_runs(text: str) -> list[str]:
    """Arabic-script stretches outside «quotes» (a Vietnamese or English answer that copied them)."""
    return [m.group(0) for m in _ARABIC_RUN.finditer(_GUILLEMETS.sub(" ", text))]


def trim_to_sentence(text: str) -> str:
    """A reply cut off by the token limit: keep it up to the last finished sentence (a half
    sentence reads as a wrong answer; a short complete one does not)."""
    cut = max(text.rfind(ch) for ch in ".!?؟\n")
    if cut >= 20:
        tail = re.match(r"\s*(\[\d+\])+", text[cut + 1:])
        return text[: cut + 1 + (tail.end() if tail else 0)].strip()
    return text.strip()


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


def runaway_problem(answer: str) -> str | None:
    text = answer.strip()
    if not text:
        return "empty answer"
    if len(text) > MAX_ANSWER_CHARS:
        return f"runaway answer ({len(text)} characters)"
    words = text.split()
    if len(words) >= 24:
        grams = [" ".join(words[i:i + 6]) for i in range(len(words) - 5)]
        if len(grams) - len(set(grams)) >= 3:
            return "answer repeats itself"
    return None


# Words an answer may add without saying anything: the lead-in ("According to the sources",
# "Theo nguồn", "وفقاً للمصادر") and function words, folded.
_FILLER = set(fold("""according to the sources source said says is are was were be been a an of in on for by
with through thru and or its it their they this that these those as at from has have had will would
can do does did which who also there here into about than then so such
theo nguồn các là của và những được trong cho với đã có này đó về để thì mà như từ tại sẽ đang vào
một rằng khi cũng
وفقا للمصادر المصادر المصدر حسب في من على إلى عن أن إن هذا هذه التي الذي الذين و هو هي كان كانت
قد ما مع بين""").split())
# A yes or a no is an answer even where the question holds the same word ("Có phải …?" - "Có.").
_YES_NO = set(fold("yes no not có không đúng sai نعم لا كلا").split())


def _stem(word: str) -> str:
    return word[:4]  # "innovated" ~ "innovate", "personal" ~ "personel"


def echo_problem(answer: str, question: str) -> str | None:
    """The model handed the question back. Either the answer ends in a question that is, word for
    word, mostly the member's ("Theo nguồn, Nghị quyết 18 … được nhắc như thế nào? [1]"), or it
    says nothing the question does not ("how did hanoi innovate its leadership thru personel
    work?" - "According to the sources, Hanoi innovated its leadership through personal work.")."""
    text = _MARKER.sub(" ", answer).strip()
    asked_words = re.findall(r"\w+", fold(question))
    stems = {_stem(w) for w in asked_words if not w.isdigit()}
    last = (re.split(r"(?<=[.!?。؟])\s+", text) or [""])[-1].strip()
    said, asked = re.findall(r"\w+", fold(last)), set(asked_words)
    if (last.endswith(("?", "؟")) and said and sum(w in asked for w in said) >= 0.6 * len(said)
            and len(said) >= 0.5 * len(asked)):
        return "answer repeats the question"
    if not [w for w in re.findall(r"\w+", fold(text)) if w in _YES_NO or (
            w not in _FILLER and w not in asked and (w.isdigit() or _stem(w) not in stems))]:
        return "answer says nothing the question does not"
    return None


# -- people's names -------------------------------------------------------------------------------
# A small model asked "who is ...?" answers with a plausible Vietnamese name. Names in a Latin-script
# answer are checked against the sources by their consonant skeleton, which survives the
# transliteration into Arabic ("Tô Lâm" / "تو لام": T L M; "Bùi Anh Tuấn" / "بوي آنه توان").
_SURNAMES = set(("nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh luong trinh "
                 "mai to ha dao cao lam doan chu truong thai quach luu kieu la trieu").split())
_TITLES = {"ong", "ba", "mr", "mrs", "ms", "dr"}  # "Ông Đỗ Văn Chiến": the name starts after the title
# Upper-case letters of Vietnamese (the range À-Ỹ also holds lower-case ones: "ông", "ủy").
_UPPER = "".join(ch for ch in map(chr, range(0xC0, 0x1EFA)) if ch.isupper() and fold(ch).isascii())
_CAP_WORD = rf"[A-Z{_UPPER}][a-zà-ỹđ]*"
_NAME = re.compile(rf"\b{_CAP_WORD}(?:\s+{_CAP_WORD}){{1,3}}\b")


def unsupported_names(answer: str, evidence: list[str], question: str) -> list[str]:
    """People's names (a Vietnamese surname and one to three more capitalised words) that the
    question does not contain and no source gives, in Latin letters or transliterated into Arabic."""
    found = [m.group(0).split() for m in _NAME.finditer(_MARKER.sub(" ", answer))]
    found = [words[1:] if fold(words[0]) in _TITLES and len(words) > 2 else words for words in found]
    names = [" ".join(words) for words in found if fold(words[0]) in _SURNAMES]
    if not names:
        return []
    latin = fold(" ".join([*evidence, question])).lower()
    arabic = [arabic_skeleton(w) for t in evidence for w in ARABIC_WORD.findall(t)]
    bad = []
    for name in dict.fromkeys(names):
        if fold(name).lower() in latin:
            continue
        target = "".join(latin_skeleton(w) for w in name.split())
        if not any(near(target, "".join(arabic[i:i + k])) for k in range(1, 6) for i in range(len(arabic))):
            bad.append(name)
    return bad


RUNAWAY = rule("check-runaway", "check", "an empty, overlong or self-repeating reply is a model that lost its way")
ECHO = rule("check-echo", "check",
            "a reply that hands the question back, or says nothing the question does not, answers nothing")
LANGUAGE = rule("check-language", "check", "a member reads the answer only in the language they asked in")
NUMBERED_LIST = rule("check-numbered-list", "check",
                     "asked for one to three sentences, a small model writes a numbered list when it makes "
                     "up the list a question asks for")
NUMBERS = rule("check-numbers", "check", "a number, date or year that no source gives is invented")
CODES = rule("check-codes", "check", "a document code that no source gives is invented")
NAMES = rule("check-names", "check",
             "a person's name that no source gives (in any script) is invented: small models answer "
             "\"who\" with a plausible name")
CITATION = rule("check-citation", "check", "an answer that cites no given source cannot be verified")


def check(answer: str, *, lang: str, evidence: list[str], question: str, n_sources: int,
          rules: Rules | None = None) -> list[str]:
    rules = rules or Rules()
    problems = []
    if rules.on(RUNAWAY) and (p := runaway_problem(answer)):
        if not answer.strip():
            return [p]
        problems.append(p)  # what a looping answer states is still checked (see ``ungrounded``)
    elif rules.on(ECHO) and (p := echo_problem(answer, question)):
        return [p]
    elif rules.on(LANGUAGE) and (p := language_problem(answer, lang)):
        problems.append(p)
    if rules.on(NUMBERED_LIST) and (p := numbered_list_problem(answer)):
        problems.append(p)
    if rules.on(NUMBERS) and (bad := unsupported_numbers(answer, evidence, question)):
        problems.append("numbers in no source: " + ", ".join(bad[:5]))
    if rules.on(CODES) and (bad := unsupported_codes(answer, evidence, question)):
        problems.append("document codes in no source: " + ", ".join(bad[:5]))
    if lang != "ar" and rules.on(NAMES) and (bad := unsupported_names(answer, evidence, question)):
        problems.append("names in no source: " + ", ".join(bad[:5]))
    valid = [n for n in markers(answer) if 1 <= n <= n_sources]
    if not valid and rules.on(CITATION):
        problems.append("no valid citation marker")
    return problems


_GROUNDING = ("numbers in no source", "document codes in no source", "names in no source", "no valid citation marker")


def ungrounded(passes: list[list[str]]) -> bool:
    """Both attempts failed, each with facts the sources do not give or nothing it could cite,
    and the last for no other reason: the model keeps answering what the sources do not say.
    Then the honest reply is that the sources do not cover it, not a quote of unrelated text."""
    return (len(passes) >= 2 and all(any(p.startswith(_GROUNDING) for p in ps) for ps in passes)
            and all(p.startswith(_GROUNDING) for p in passes[-1]))


def says_not_in_sources(answer: str) -> bool:
    """The reply is (essentially) only the NOT_IN_SOURCES signal."""
    rest = re.sub(r"not[\s_]*in[\s_]*sources", "", answer, flags=re.I)
    return rest != answer and len(re.sub(r"[\W\d_]+", "", rest)) < 25


def strip_signal(answer: str) -> str:
    return re.sub(r"\s*not[\s_]*in[\s_]*sources\.?", "", answer, flags=re.I).strip()
