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

from text.normalize import fold

RELATIONS = ("replaces", "amends", "implements")

# (relation, voice) -> phrases as written; the longest phrase at a place wins.
_CUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("replaces", "active"): (
        "thay thế", "thay thế cho", "bãi bỏ", "thay cho",
        "replaces", "replacing", "replaced", "supersedes", "superseding", "superseded", "repeals",
        "repealing", "repealed", "in place of", "in lieu of", "takes the place of", "took the place of",
        "taking the place of",
        "حلّت محل", "تحل محل", "يحل محل", "ليحل محل", "لتحل محل", "حل محل", "بدلاً من", "ألغت",
        "تلغي", "يلغي", "ألغى"),
    ("replaces", "passive"): (
        "được thay thế bằng", "được thay thế bởi", "bị thay thế bởi", "bị thay thế bằng", "thay thế bằng",
        "bị bãi bỏ bởi", "được thay bằng", "bị thay bằng", "replaced by", "superseded by", "repealed by", "gave way to",
        "حلّت محلها", "حل محلها", "حلّ محلّه", "استُبدلت ب", "أُلغيت بموجب", "ألغيت ب"),
    ("amends", "active"): (
        "sửa đổi, bổ sung", "sửa đổi bổ sung", "sửa đổi", "bổ sung một số điều của",
        "amends", "amending", "amended", "modifies", "modifying",
        "عدّلت", "يعدّل", "تعدّل", "بتعديل", "لتعديل", "عدّل"),
    ("amends", "passive"): (
        "được sửa đổi, bổ sung bởi", "được sửa đổi, bổ sung bằng", "được sửa đổi bởi", "được sửa đổi bằng",
        "amended by", "modified by", "المعدّلة بموجب", "المعدلة ب", "عُدّلت بموجب"),
    ("implements", "active"): (
        "hướng dẫn thực hiện", "hướng dẫn thi hành", "quy định thi hành", "hướng dẫn một số điều của",
        "cụ thể hóa", "để thực hiện", "thực hiện",
        "guiding the implementation of", "guides the implementation of", "guide the implementation of",
        "on the implementation of", "to implement", "implementing", "implements", "guiding", "guides",
        "لتنفيذ", "تنفيذ", "لتطبيق", "إرشادات تنفيذ"),
    ("implements", "passive"): ("được hướng dẫn bởi", "guided by", "implemented by"),
}
# Cues so common that a relation read from them is less sure ("thực hiện" is also "carry out").
WEAK = {fold(p) for p in ("thực hiện", "để thực hiện", "تنفيذ", "implementing", "guiding", "guides", "thay cho")}

# "Quy định này", "this regulation", "هذه اللائحة": the document itself.
_SELF = re.compile(
    r"\b(?:(?:quy dinh|nghi quyet|chi thi|ket luan|huong dan|quyet dinh|van ban|chuong trinh|ke hoach)"
    r" nay|(?:this|the) (?:regulation|resolution|directive|conclusion|guideline|decision|document|text|programme|plan))\b"
    r"|(?:هذه|هذا) (?:اللائحه|القرار|التوجيه|الوثيقه|النص)")
# Took effect: followed (within the clause) by "the day it was signed" or by a date.
EFFECT = re.compile(
    r"\b(?:co hieu luc|hieu luc thi hanh|hieu luc ke tu|took effect|takes effect|take effect|came into force|"
    r"comes into force|entered into force|in force from|in force since|effective (?:from|as of|on|since))\b"
    r"|(?:يسري|تسري|سرت|سري|حيز التنفيذ|حيز النفاذ|نافذه|نافذ)(?!\w)")
SIGNING = re.compile(r"\b(?:ngay ky|sign(?:ed|ing|ature))\b|(?:التوقيع|توقيعها|توقيعه)(?!\w)")
# Issued or signed.
# "ký" (signed) folds like "kỷ" of "kỷ luật" (discipline): not before the words "kỷ" makes
ISSUED = re.compile(r"\b(?:ban hanh|ky(?! luat| niem| hop| thuat| cuong| nang| la)|issued|signed|promulgated|adopted)\b|(?:صدر|صدرت|اصدر|اصدرت|وقع|وقعها|وقعه)(?!\w)")
# What a document is about, after its code: "về …", "on …", "بشأن …".
# Before an issuing verb: it is passive, its document is written before it ("… được ban hành").
PASSIVE_BEFORE = re.compile(r"(?:duoc|da duoc|was|were|has been|have been|had been|is|تم)\s*$")
ABOUT = re.compile(r"^\s*(?:,\s*)?(?:cua [^,;.]{0,70}?\s)?(?:ve|on|بشان|حول)\s+")


@lru_cache(maxsize=None)
def _cue_pattern() -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    table: dict[str, tuple[str, str]] = {}
    for (kind, voice), phrases in _CUES.items():
        for p in phrases:
            table.setdefault(fold(p), (kind, voice))
    alternatives = sorted((re.escape(p) for p in table), key=len, reverse=True)
    # Arabic writes "and" (و) and "so" (ف) onto the verb: "وحلّت محل"
    return re.compile(rf"(?<!\w)(?:[وف](?=[\u0621-\u064a]))?({'|'.join(alternatives)})(?!\w)"), table


def cues(folded: str) -> list[tuple[int, int, str, str, bool]]:
    """(start, end, relation, voice, weak) of each relation cue in folded text."""
    pattern, table = _cue_pattern()
    return [(m.start(1), m.end(1), *table[m.group(1)], m.group(1) in WEAK) for m in pattern.finditer(folded)]


def self_mentions(folded: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SELF.finditer(folded)]


# -- questions ----------------------------------------------------------------------------------
# What a version question asks (folded text): whether a document is still in force, what replaced
# it, what amended it, what implements it.
_ASKS = {
    # "hiệu lực" alone is also "effectiveness" (hiệu lực lãnh đạo), "لسه" alone only "still"
    "status": re.compile(
        r"\b(?:con hieu luc|het hieu luc|co hieu luc|hieu luc thi hanh|hieu luc (?:tu|ke tu)|con ap dung|"
        r"con gia tri|bi bai bo|still (?:in force|valid|apply|applies|applicable|in effect|current)|in force|"
        r"in effect|no longer (?:in force|valid|applies|applicable|in effect)|repealed|abolished|currently valid)\b"
        r"|(?:ساري|ساريه|نافذ|نافذه|شغال|شغاله|معمول به|ملغي|ملغاه|الغيت|الغي|اتلغت|اتلغي)(?!\w)"),
    "replaces": re.compile(r"\b(?:thay the|thay bang|thay boi|replac\w*|supersed\w*)\b|(?:حل محل|حلت محل|حل محله|استبدل)"),
    # "amend" as members type it too ("ammended")
    "amends": re.compile(r"\b(?:sua doi|a+m+e+nd\w*|modified|modifies)\b|(?:عدل|تعديل|المعدل)"),
    "implements": re.compile(r"\b(?:huong dan (?:thuc hien|thi hanh)|van ban nao huong dan|guid(?:es|ed|ing)|"
                             r"implement(?:s|ed|ing)?|carr(?:y|ies|ied) out)\b|(?:لتنفيذ|يرشد|ارشاد)"),
}


# A question about what a change or a guidance says ("what amendments did …", "… như thế nào?",
# "ما التعديلات التي …"), not whether there is one.
ASKS_CONTENT = re.compile(
    r"\b(?:what|how|which (?:changes|points|articles|provisions)|nhu the nao|nhung gi|noi dung|diem nao|"
    r"gi)\b|(?:ما |ماذا|كيف|ما الذي|ما التعديلات|ما هي)")


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
_ASKS_ISSUE = re.compile(r"\b(?:ban hanh|ky(?! luat| niem| hop| thuat| cuong| nang)|issued?|signed|sign|promulgated)\b"
                         r"|(?:صدر|صدرت|اصدر|اصدرت|وقع|وقعها|وقعه|توقيع)(?!\w)")


def asks_issue(question: str) -> bool:
    return bool(_ASKS_ISSUE.search(fold(question)))


# A text saying what it leaves out ("Điều 4, Điều 5 và Điều 6 không được tóm tắt", "This article
# does not describe Article 6", "لا يتناول هذا الملخص المادة 6"): summaries and news say so, and
# such a sentence names an article without giving it. On folded text.
LEAVES_OUT = re.compile(
    r"\bkhong (?:duoc )?(?:tom tat|trich|neu|de cap|mo ta|dua vao|noi den)\b"
    r"|\b(?:does|do|did) not (?:describe|summari[sz]e|cover|detail|quote|give|list|reproduce)\b"
    r"|\bnot (?:described|summari[sz]ed|covered|detailed|quoted|given|listed|reproduced)\b"
    r"|(?:لا|لم) (?:يصف|تصف|يتناول|تتناول|يلخص|تلخص|يذكر|تذكر|يورد|تورد|يقتبس|تقتبس)(?!\w)"
    r"|لم يتم (?:تلخيص|وصف|ذكر)")
