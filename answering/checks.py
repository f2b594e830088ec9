"""Checks on a generated answer, against the small model's known failure modes.

Each check returns problems as short strings (empty list = passed). Each check is a registered rule
(core.rules); the pipeline retries once with a stricter prompt when any fails, then falls back.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

from core.rules import Rules, rule
from text.codes import find_codes, parse_key
from text.dates import find_dates, without_known_dates
from text.language import detect
from text.lexicon import cue
from text.names import latin_names
from text.normalize import fold
from text.numbers import ARABIC_DIGITS, NUMBER, find_numbers, join_thousands, word_numbers
from text.scripts import ARABIC_WORD, arabic_share, foreign_letters, mostly_arabic
from text.scripts import arabic_runs as _arabic_runs
from text.tokenize import terms
from text.transliteration import arabic_skeleton, latin_skeleton, near

NOT_IN_SOURCES = "NOT_IN_SOURCES"
MAX_ANSWER_CHARS = 1500

_MARKER = re.compile(r"\[(\d{1,2}(?:\s*[,;،]\s*\d{1,2})*)\]")
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")
_GUILLEMETS = re.compile(r"«[^»]*»")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:\d{1,2}[.)]|[-*•])\s+")


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


def _supported(num: str, known: set[str]) -> bool:
    if num in known:
        return True
    digits = num.replace(".", "").replace(",", "")
    # "480,000" in the answer, "480 ألف" (480 thousand) in the source
    for zeros in ("000000000", "000000", "000"):
        if digits.endswith(zeros) and digits[: -len(zeros)] in known:
            return True
    return False


_INLINE_ITEM = re.compile(r"(?<![\d.,/-])\d{1,2}[.)](?=\s)")


def unsupported_numbers(answer: str, evidence: list[str], question: str) -> list[str]:
    body = _LIST_ITEM.sub(" ", _MARKER.sub(" ", answer))
    if re.search(r"(?<![\d.,/-])1[.)]\s", body) and re.search(r"(?<![\d.,/-])2[.)]\s", body):
        body = _INLINE_ITEM.sub(" ", body)  # "gồm: 1. ..., 2. ..., 3. ...": the list's own numbering
    if re.search(r"(?:19|20)\d\d", body):
        dates = {d for t in [*evidence, question] for d in find_dates(t)}
        body = without_known_dates(body, dates | {d[:7] for d in dates})
    known = set().union(*(find_numbers(t) | word_numbers(t) for t in [*evidence, question]))
    bad = []
    for m in NUMBER.finditer(unicodedata.normalize("NFKC", body).translate(ARABIC_DIGITS)):
        raw = m.group(0)
        joined = join_thousands(raw)
        if not (_supported(joined, known) or _supported(raw, known) or _supported(joined.lstrip("0") or "0", known)):
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
    if lang == "ar":
        return None if mostly_arabic(body) else f"answer is not in Arabic ({arabic_share(body):.0%} Arabic letters)"
    arabic = arabic_share(_GUILLEMETS.sub(" ", raw))
    if arabic > 0.03:
        return f"answer mixes in Arabic script ({arabic:.0%} of letters) instead of {lang}"
    got = detect(body, default=lang)
    if got != lang:
        return f"answer is in {got}, expected {lang}"
    return None


def arabic_runs(text: str) -> list[str]:
    """Arabic-script stretches outside «quotes» (a Vietnamese or English answer that copied them)."""
    return _arabic_runs(_GUILLEMETS.sub(" ", text))


def trim_to_sentence(text: str) -> str:
    """A reply cut off by the token limit: keep it up to the last finished sentence (a half
    sentence reads as a wrong answer; a short complete one does not)."""
    cut = max(text.rfind(ch) for ch in ".!?؟\n")
    if cut >= 20:
        tail = re.match(r"\s*(\[\d+\])+", text[cut + 1:])
        return text[: cut + 1 + (tail.end() if tail else 0)].strip()
    return text.strip()


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


# -- people's names -------------------------------------------------------------------------------
# A small model asked "who is ...?" answers with a plausible Vietnamese name. Names in a Latin-script
# answer are checked against the sources by their consonant skeleton, which survives the
# transliteration into Arabic ("Tô Lâm" / "تو لام": T L M; "Bùi Anh Tuấn" / "بوي آنه توان").

def unsupported_names(answer: str, evidence: list[str], question: str) -> list[str]:
    """People's names (a Vietnamese surname and one to three more capitalised words) that the
    question does not contain and no source gives, in Latin letters or transliterated into Arabic."""
    names = latin_names(_MARKER.sub(" ", answer))
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
LANGUAGE = rule("check-language", "check", "a member reads the answer only in the language they asked in")
NUMBERS = rule("check-numbers", "check", "a number, date or year that no source gives is invented")
CODES = rule("check-codes", "check", "a document code that no source gives is invented")
NAMES = rule("check-names", "check",
             "a person's name that no source gives (in any script) is invented: small models answer "
             "\"who\" with a plausible name")
SAYS_SOMETHING = rule(
    "check-says-something", "check",
    "a reply to a what/who/when question that adds no word to the question's own (\"the 25 "
    "manifestations listed in Directive 24 are [1].\") has found nothing to say")
CITATION = rule("check-citation", "check", "an answer that cites no given source cannot be verified")
SCRIPT = rule("check-script", "check",
              "a reader cannot use letters of a script they do not read (Han characters or Arabic words "
              "in a Vietnamese or English answer); only «quotes» may carry the source's own script")
CITED = rule("check-cited-sources", "check",
             "every number, date, code and name an answer states is in a passage it cites, not only in "
             "some passage it was given: a figure from one source cited to another is a wrong fact",
             setting="check_cited_sources", off=False)


def script_problem(answer: str, lang: str) -> str | None:
    """Letters of a script the reader does not read, outside «quotes»."""
    bad = foreign_letters(_GUILLEMETS.sub(" ", answer), lang)
    return f"letters of another script: {bad[:20]}" if bad else None


RELATIONS = rule("check-relations", "check",
                 "a relation an answer states between two documents (replaces, amends, implements) exists "
                 "in the registry in the same direction: \"377 was replaced by 41\" where the sources say "
                 "the opposite is a wrong fact")


def unstated_relations(answer: str, known: Callable[[str, str, str], bool]) -> list[str]:
    """Relations the answer states, read as ingest reads documents (``ingest.facts``), that
    ``known(code_key, kind, other_key)`` does not confirm."""
    from ingest.facts import document_facts

    bad = []
    for f in document_facts(_MARKER.sub(" ", answer), None):
        if f.kind in ("replaces", "amends", "implements") and not known(f.code, f.kind, f.value):
            bad.append(f"{parse_key(f.code).display} {f.kind} {parse_key(f.value).display}")
    return bad


def cited_evidence(answer: str, per_source: list[str]) -> list[str] | None:
    """The texts of the sources the answer's markers cite (None when it cites none)."""
    used = [n for n in dict.fromkeys(markers(answer)) if 1 <= n <= len(per_source)]
    return [per_source[n - 1] for n in used] or None


def check(answer: str, *, lang: str, evidence: list[str], question: str, n_sources: int,
          rules: Rules | None = None, framing: str = "", per_source: list[str] | None = None,
          relation_known: Callable[[str, str, str], bool] | None = None) -> list[str]:
    """The reply's problems. ``framing``: the words the reply was started with (the prefill),
    which say nothing of their own. ``per_source``: each numbered source's text (what a marker
    [n] cites); with CITED on, what the reply states is checked against the sources it cites."""
    rules = rules or Rules()
    problems = []
    if per_source is not None and rules.value(CITED, False):
        evidence = cited_evidence(answer, per_source) or evidence
    if rules.on(RUNAWAY) and (p := runaway_problem(answer)):
        if not answer.strip():
            return [p]
        problems.append(p)  # what a looping answer states is still checked (see ``ungrounded``)
    elif rules.on(LANGUAGE) and (p := language_problem(answer, lang)):
        problems.append(p)
    if rules.on(SCRIPT) and (p := script_problem(answer, lang)):
        problems.append(p)
    if rules.on(NUMBERS) and (bad := unsupported_numbers(answer, evidence, question)):
        problems.append("numbers in no source: " + ", ".join(bad[:5]))
    if rules.on(CODES) and (bad := unsupported_codes(answer, evidence, question)):
        problems.append("document codes in no source: " + ", ".join(bad[:5]))
    if lang != "ar" and rules.on(NAMES) and (bad := unsupported_names(answer, evidence, question)):
        problems.append("names in no source: " + ", ".join(bad[:5]))
    if relation_known is not None and rules.on(RELATIONS) and (bad := unstated_relations(answer, relation_known)):
        problems.append("relations in no source: " + ", ".join(bad[:3]))
    if rules.on(SAYS_SOMETHING) and not problems and says_nothing_new(answer, question, framing):
        problems.append("nothing the question does not say")
    valid = [n for n in markers(answer) if 1 <= n <= n_sources]
    if not valid and rules.on(CITATION):
        problems.append("no valid citation marker")
    return problems


_GROUNDING = ("numbers in no source", "document codes in no source", "names in no source", "no valid citation marker",
              "nothing the question does not say", "relations in no source")

# A question answered by yes or no may rightly repeat its own words ("Có, Quy định 69 áp dụng …").
_YES_NO = (cue("question", "yes_no_start", anchor="start"), cue("question", "yes_no_end", anchor="end"))


def says_nothing_new(answer: str, question: str, framing: str = "") -> bool:
    """Whether a reply to a question that is not a yes/no one says nothing but the question's own
    words (and the framing it was started with)."""
    if any(c.search(question.strip()) for c in _YES_NO):
        return False
    said = set(terms(question)) | set(terms(framing))
    new = {t for t in terms(_MARKER.sub(" ", answer)) if "_" not in t} - said
    return not new


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
