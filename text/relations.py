"""How the three languages say that one document replaces, amends or implements another, that it
takes effect, and that it was issued: cue phrases as data, found on folded text.

A cue is *active* when the acting document is written before it and the other one after ("Quy
định này thay thế Quy định số 47-QĐ/TW", "Regulation 22 replaces …", "حلّت محل اللائحة 105") and
*passive* when the order is the other way ("102-QĐ/TW đã được thay thế bằng 69-QĐ/TW", "… was
replaced by …", "فقد حلّت محلها اللائحة 69"). Questions use the same words ("còn hiệu lực
không?", "what replaced …?"), so the question side reads them here too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from text.lexicon import GAP, cue, entries
from text.codes import base_type, types_named
from text.normalize import fold

RELATIONS = ("replaces", "amends", "implements")
# "construct": an active phrase ending in "the place of" ("in place of", "حلّت محل"), after which
# the replaced document is named, whatever the order of the rest.
VOICES = ("construct", "active", "passive")
# How texts say each relation, in either voice (text/lexicon, [relation]): "thay thế", "replaces",
# "حلّت محل" (active); "được thay thế bằng", "replaced by", "حلّت محلها" (passive).
# Cues so common that a relation read from them is less sure ("thực hiện" is also "carry out").
# "Quy định này", "this regulation", "هذه اللائحة", "the new regulation": the document itself.
_SELF = cue("relation", "self").folded
# Took effect: followed (within the clause) by "the day it was signed" or by a date.
EFFECT = cue("relation", "effect").folded
SIGNING = cue("relation", "signing").folded
# Issued or signed ("ký", signed, folds like "kỷ" of "kỷ luật": the data says which words it is not before).
ISSUED = cue("relation", "issued").folded
# What a document is about, after its code: "về …", "on …", "بشأن …".
# Before an issuing verb: it is passive, its document is written before it ("… được ban hành").
PASSIVE_BEFORE = cue("relation", "passive_before", anchor="end").folded
ABOUT = re.compile(r"^\s*(?:,\s*)?(?:cua [^,;.]{0,70}?\s)?(?:ve|on|بشان|حول)\s+")


@lru_cache(maxsize=None)
def _cue_pattern() -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    table: dict[str, tuple[str, str]] = {}
    gapped: list[str] = []
    for kind in RELATIONS:
        for voice in VOICES:
            for p in entries("relation", f"{kind}_{voice}"):
                if "…" in p:  # "حلت … محل": the verb, a few words, then the rest; the cue is the verb
                    verb, rest = (fold(x).strip() for x in p.split("…", 1))
                    table.setdefault(verb, (kind, voice))
                    gapped.append(rf"{re.escape(verb)}(?={GAP}{re.escape(rest)}(?!\w))")
                else:
                    table.setdefault(fold(p), (kind, voice))
    plain = [re.escape(p) for p in table if not any(e.startswith(re.escape(p) + "(?=") for e in gapped)]
    alternatives = sorted(plain, key=len, reverse=True) + gapped
    # Arabic writes "and" (و) and "so" (ف) onto the verb: "وحلّت محل"
    return re.compile(rf"(?<!\w)(?:[وف](?=[\u0621-\u064a]))?({'|'.join(alternatives)})(?!\w)"), table


def cues(folded: str) -> list[tuple[int, int, str, str]]:
    """(start, end, relation, voice) of each relation cue in folded text."""
    pattern, table = _cue_pattern()
    return [(m.start(1), m.end(1), *table[m.group(1)]) for m in pattern.finditer(folded)]


def opening_self(folded_sentence: str, own_type: str) -> tuple[int, int] | None:
    """A sentence opening with the bare type word of the document's own type ("Chỉ thị được ban
    hành nhằm …", "The regulation replaces …", "اللائحة حلت …"), no code after it: the document
    itself, as news writes about the one document it is about."""
    words = list(re.finditer(r"\w+", folded_sentence[:60]))
    if not words or folded_sentence[:words[0].start()].strip():
        return None
    skip = 1 if words[0].group(0) in ("the", "this") else 0
    for n in (1, 2):
        if len(words) < skip + n:
            break
        start, end = words[0].start(), words[skip + n - 1].end()
        named = types_named(folded_sentence[words[skip].start():end])
        if named:
            fits = base_type(own_type) in {base_type(t) for t in named}
            # the next word says which one: "mới", "new", or straight on to the verb; "trước đó",
            # "previous", "cũ" speak of another one
            after = folded_sentence[end:].split()
            plain = not after or after[0] in _OPENING_NEXT or any(
                folded_sentence[end:].lstrip().startswith(c) for c in _cue_pattern()[1])
            return (start, end) if fits and plain else None
    return None


_OPENING_NEXT = {"moi", "new", "nay", "duoc", "da", "se", "vua", "cung", "was", "is", "has", "will", "also",
                 "الجديده", "الجديد", "تم", "قد"}


def self_mentions(folded: str, own_type: str | None = None) -> list[tuple[int, int]]:
    """"Quy định này", "this regulation", "the new resolution": where the text names itself. With
    ``own_type`` (the document's own code's type), only the mentions whose type word fits it ("Kế
    hoạch này" in a regulation's summary is a plan it speaks of, not itself); "văn bản này", "this
    document" fit any."""
    out = []
    for m in _SELF.finditer(folded):
        named = types_named(m.group(0))
        if own_type is None or not named or base_type(own_type) in {base_type(t) for t in named}:
            out.append((m.start(), m.end()))
    return out


# "được", "was", "تم" shortly before an active verb ("đã được Chính phủ sửa đổi … bằng …",
# "was later amended by"): the verb is passive.
_PASSIVE_AUX = cue("relation", "passive_before").folded
_CLAUSE_BREAK = re.compile(r"[,;،؛]|\b(?:va|and|nhung|but)\b|(?<!\w)و(?=\s)")


def passive_aux(folded_before: str, reach: int = 60) -> int | None:
    """Where a passive auxiliary starts in the last clause of the ``reach`` characters before a
    verb (``folded_before`` ends at the verb), or None. Between the auxiliary and the verb may
    stand the agent: "262-QĐ/TW cũng được Quy định số 296-QĐ/TW, ngày 30/5/2025 thay thế"."""
    start = max(0, len(folded_before) - reach)
    window = folded_before[start:]
    # a date's commas are not clause breaks ("Quy định số 296, ngày 30/5/2025 thay thế")
    breaks = [m.end() for m in _CLAUSE_BREAK.finditer(window) if not re.match(r"\s*(?:ngay|ngày)\b", window[m.end():])]
    tail_at = breaks[-1] if breaks else 0
    found = list(_PASSIVE_AUX.finditer(window, tail_at))
    if not found:
        return None
    between = window[found[-1].end():]
    # the auxiliary is the verb's when only a short agent ("Chính phủ") or a document (its code,
    # date, issuer) stands between them, and no other verb ("được ban hành nhằm thực hiện …")
    if ISSUED.search(between) or (len(between.strip()) > 14 and not re.search(r"\d", between)):
        return None
    return start + found[-1].start()


@lru_cache(maxsize=1)
def _english_cues() -> frozenset[str]:
    return frozenset(fold(p) for kind in RELATIONS for voice in VOICES
                     for p in entries("relation", f"{kind}_{voice}", ("en",)))


def may_be_passive(folded_cue: str) -> bool:
    """Whether an auxiliary before this verb can make it passive: an English verb only as a past
    participle ("was replaced", not "is the one that replaces")."""
    return folded_cue not in _english_cues() or folded_cue.endswith("ed")


def passive_before(folded_before: str) -> bool:
    return passive_aux(folded_before, 30) is not None


# -- questions ----------------------------------------------------------------------------------
# What a version question asks (folded text): whether a document is still in force, what replaced
# it, what amended it, what implements it.
_ASKS = {kind: cue("version", kind).folded for kind in ("status", *RELATIONS)}

# A question about what a change or a guidance says ("what amendments did …", "… như thế nào?",
# "ما التعديلات التي …"), not whether there is one.
ASKS_CONTENT = cue("question", "content").folded


def asks_about_version(question: str) -> str | None:
    """"status", "replaces", "amends" or "implements" when ``question`` asks about a document's
    standing rather than its content; None otherwise."""
    folded = fold(question)
    for kind in ("implements", "amends", "replaces", "status"):
        if _ASKS[kind].search(folded):
            return kind
    return None


# Asks about a document's issue: "ban hành", "ký" (not "kỷ luật", which folds alike), "issued",
# "signed", "صدر", "وقّع".
_ASKS_ISSUE = cue("question", "issue").folded


def asks_issue(question: str) -> bool:
    return bool(_ASKS_ISSUE.search(fold(question)))


# A text saying what it leaves out ("Điều 4, Điều 5 và Điều 6 không được tóm tắt", "This article
# does not describe Article 6", "لا يتناول هذا الملخص المادة 6"): summaries and news say so, and
# such a sentence names an article without giving it. On folded text.
LEAVES_OUT = cue("relation", "leaves_out").folded
