"""Vietnamese names in Latin letters and in Arabic transliteration, compared by consonant skeleton.

The sources are Arabic translations of Vietnamese news: "Nghệ An" is written "نغي آن", "Quảng
Bình" "كوانج بينه" or "كوانغ بينه". Vowels differ between the two spellings, consonants mostly
survive: both spellings reduce to the same skeleton (N G N; K N G B N), or one letter apart.
Used to check the names in an answer against the sources (answering.checks) and to show the
model a province's Vietnamese name next to its Arabic spelling (``annotate_places``).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from text.lexicon import cue, table
from text.normalize import fold, strip_vietnamese_diacritics
from text.scripts import ARABIC_WORD

PLACES_FILE = Path(__file__).with_name("places_vi.txt")

_LATIN = [("ngh", "NG"), ("ng", "NG"), ("nh", "N"), ("th", "T"), ("tr", "TR"), ("ch", "S"), ("ph", "F"),
          ("kh", "K"), ("gh", "G"), ("gi", "D"), ("qu", "K"), ("c", "K"), ("k", "K"), ("q", "K"),
          ("d", "D"), ("z", "D"), ("x", "S"), ("s", "S"), ("v", "F"), ("f", "F"), ("p", "B"),
          ("b", "B"), ("m", "M"), ("l", "L"), ("n", "N"), ("h", "H"), ("g", "G"), ("t", "T"), ("r", "R"),
          ("j", "D")]
_ARABIC = str.maketrans({**{c: "" for c in "اأإآىيوعءئؤةـ"}, "ن": "N", "ت": "T", "ط": "T", "ث": "T",
                            "د": "D", "ض": "D", "ذ": "D", "ز": "D", "ظ": "D", "ج": "D", "ل": "L", "م": "M",
                            "ب": "B", "ف": "F", "ڤ": "F", "ه": "H", "ح": "H", "خ": "K", "ك": "K", "ق": "K",
                            "غ": "G", "س": "S", "ص": "S", "ش": "S", "ر": "R"})


def latin_skeleton(word: str) -> str:
    w, out, i = fold(word).lower(), [], 0
    while i < len(w):
        for src, dst in _LATIN:
            if w.startswith(src, i):
                out.append(dst)
                i += len(src)
                break
        else:
            i += 1  # a vowel
    return "".join(out)


def arabic_skeleton(word: str) -> str:
    word = re.sub(r"ه$", "", word)  # a final ه mostly writes a vowel ("آنه" = Anh)
    word = re.sub(r"نج$", "نغ", word)  # a final -ng is written نغ or نج ("كوانج" = Quảng)
    return word.translate(_ARABIC)


def near(a: str, b: str) -> bool:
    """Equal, or one letter apart for skeletons of four letters or more."""
    if a == b:
        return True
    if len(a) < 4 or abs(len(a) - len(b)) > 1:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= 1


# Arabic words that a transliterated name never contains ("بوي آنه توان إنه": "Bùi Anh Tuấn said
# that", not Tây Ninh), and the words that announce a place.
_FUNCTION_WORDS = set("إن إنه أن أنه من في على عن إلى ما لا هو هي كان قد ثم كما مع أو".split())
_PLACE_WORDS = set("مقاطعة محافظة مدينة إقليم ولاية لمقاطعة بمقاطعة ومقاطعة".split())


@lru_cache(maxsize=1)
def _place_list() -> tuple[str, ...]:
    """The province-level names of ``places_vi.txt``, as written ("Nghệ An")."""
    return tuple(line.strip() for line in PLACES_FILE.read_text(encoding="utf-8").splitlines() if line.strip())


@lru_cache(maxsize=1)
def _places() -> dict[int, list[tuple[str, str]]]:
    """Province-level names by syllable count: (skeleton, name). Names whose skeleton is under
    three letters (Hà Nội: H N) or shared with another name (Hà Giang, Hải Dương, Hậu Giang) are
    left out: too many Arabic words would match them."""
    names = _place_list()
    syllables = {n: n.replace("-", " ").split() for n in names}
    skeletons = {n: "".join(map(latin_skeleton, syllables[n])) for n in names}
    shared = Counter(skeletons.values())
    out: dict[int, list[tuple[str, str]]] = {}
    for name, sk in skeletons.items():
        if len(sk) >= 3 and shared[sk] == 1:
            out.setdefault(len(syllables[name]), []).append((sk, name))
    return out


def annotate_places(text: str, lang: str) -> str:
    """``text`` with the Vietnamese name of a province written after its Arabic spelling:
    "مقاطعة نغي آن (Nghệ An)" (English: without diacritics, "Nghe An"). A run of Arabic words
    matches a name of as many syllables whose skeleton it equals (a three-letter one only after
    a word such as "مقاطعة", province); a run with a function word ("إنه") never does."""
    places = _places()
    words = list(ARABIC_WORD.finditer(text))
    skeletons = [arabic_skeleton(w.group(0)) for w in words]
    marks: list[tuple[int, str]] = []
    i = 0
    while i < len(words):
        for k in sorted(places, reverse=True):
            run = words[i:i + k]
            if len(run) < k or any(text[a.end():b.start()].strip() for a, b in zip(run, run[1:])):
                continue
            if any(w.group(0) in _FUNCTION_WORDS for w in run):
                continue
            sk = "".join(skeletons[i:i + k])
            if len(sk) < 4 and not (i and words[i - 1].group(0) in _PLACE_WORDS):
                continue  # three letters are too easily met by chance: only after "province of"
            fits = [n for s, n in places[k] if s == sk]
            if len(fits) == 1:
                name = fits[0] if lang == "vi" else strip_vietnamese_diacritics(fits[0])
                marks.append((run[-1].end(), f" ({name})"))
                i += k
                break
        else:
            i += 1
    for at, label in reversed(marks):
        text = text[:at] + label + text[at:]
    return text


_LOCALITY = cue("places", "locality").folded
# Other names of a province or city, as members and the sources write them (text/lexicon,
# [places.aliases]): folded other name -> folded Vietnamese name.
_PLACE_ALIASES = {k: fold(v).lower() for k, v in table("places", "aliases").items()}


@lru_cache(maxsize=1)
def _place_names() -> re.Pattern:
    """The places' folded names and their other names, in one pattern (longest first)."""
    names = [fold(n) for n in _place_list()] + list(_PLACE_ALIASES)
    return re.compile(rf"\b(?:{'|'.join(sorted(map(re.escape, names), key=len, reverse=True))})\b")


def places_in(text: str) -> set[str]:
    """The provinces and cities ``text`` names (folded Vietnamese names: "nghe an"), written in
    Latin letters or transliterated into Arabic ("نغي آن")."""
    out = {_PLACE_ALIASES.get(m.group(0), m.group(0)) for m in _place_names().finditer(fold(text))}
    annotated = annotate_places(text, "vi")
    if annotated != text:
        out |= {fold(m.group(1)) for m in re.finditer(r" \(([^()]+)\)", annotated) if m.group(0) not in text}
    return out


def names_place(text: str) -> bool:
    """Whether ``text`` names a province or city (:func:`places_in`) or a locality ("thành phố",
    "city", "مقاطعة")."""
    return bool(places_in(text) or _LOCALITY.search(fold(text)))


@lru_cache(maxsize=1)
def _display_names() -> dict[str, str]:
    return {fold(n): n for n in _place_list()}


def place_name(folded: str, lang: str) -> str:
    """A folded place name as members read it: "Nghệ An" (Vietnamese, Arabic), "Nghe An" (English)."""
    name = _display_names().get(folded, folded.title())
    return strip_vietnamese_diacritics(name) if lang == "en" else name
