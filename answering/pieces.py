"""Stage 4's last resort for a reader of another language: what survives the checks.

When no checked answer could be worded and the best sentences of the sources are in a language
the asker does not read (Arabic for a Vietnamese or English reader, Vietnamese for an English or
Arabic one; ``text.language.reads``), quoting
them answers nothing. This answer gives instead, in the asker's language, each sentence's
checkable pieces — the document and article, quantities, dates, document codes, places — with its
citation, and a machine translation of the sentence, labelled as such, when one passes the checks
(it gives no number the sentence does not, and it is in the reader's script and language). The
original wording stays in the Sources.
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from answering import checks
from answering.prompts import messages
from answering.quote import ambiguous_sources, with_ambiguity
from answering.types import Decision, Draft, Question
from text.codes import find_codes
from text.dates import find_dates, format_date
from text.language import detect
from text.lines import shorten
from text.quantities import grouped, quantities
from text.scripts import readable_by
from text.transliteration import place_name, places_in

log = logging.getLogger(__name__)

Translate = Callable[[str], str]  # a sentence -> its machine translation into the asker's language


def sentence_pieces(sentence: str, lang: str) -> dict[str, list[str]]:
    """The pieces of ``sentence`` a reader of any language can check: quantities, dates, codes
    and places, each written for a reader of ``lang`` (a web address's digits are none of them)."""
    sentence = re.sub(r"(?:https?://|www\.)\S+", " ", sentence)
    return {
        "numbers": [grouped(q, lang) for q in quantities(sentence)][:8],
        "dates": list(dict.fromkeys(format_date(d, lang) for d in find_dates(sentence)))[:4],
        "codes": list(dict.fromkeys(c.display for c in find_codes(sentence)))[:4],
        "places": [place_name(p, lang) for p in sorted(places_in(sentence))][:4],
    }


def checked_translation(sentence: str, lang: str, translate: Translate | None) -> str | None:
    """The machine translation of ``sentence``, or None when there is none or it fails a check."""
    if translate is None:
        return None
    try:
        out = (translate(sentence) or "").strip().strip(" \"'«»“”")
    except Exception as exc:  # the answer goes out without it
        log.warning("machine translation failed: %s", exc)
        return None
    if (not out or len(out) > 3 * len(sentence) + 60 or not readable_by(out, lang)
            or (lang != "ar" and detect(out) != lang) or checks.says_not_in_sources(out)
            or checks.script_problem(out, lang) or checks.unsupported_numbers(out, [sentence], "")
            or checks.unsupported_codes(out, [sentence], "")
            or (lang != "ar" and checks.unsupported_names(out, [sentence], ""))):
        return None
    return out


def pieces_answer(question: Question, decision: Decision, picked: list[tuple[int, str]],
                  labels: dict[int, str], translate: Translate | None, mode: str) -> Draft:
    """For each picked (source number, sentence): its document, its pieces and its checked
    machine translation, in the asker's language, cited. ``labels``: each source's name for the
    reader (title in their script or code, and article)."""
    msg = messages(question.lang)
    names = msg["pieces"]
    lines = [msg["pieces_intro"]]
    cited: set[int] = set()
    for n, sentence in picked:
        found = sentence_pieces(sentence, question.lang)
        parts = [f"{names[kind]}: {', '.join(values)}" for kind, values in found.items() if values]
        mt = checked_translation(sentence, question.lang, translate)
        if not (parts or mt):  # a sentence with nothing checkable and no translation gives nothing
            continue
        head = "; ".join(x for x in [labels.get(n, ""), *parts] if x)
        lines.append(f"- {head} [{n}]" if head else f"- [{n}]")
        if mt:
            lines.append(f"  {msg['machine_translation']} «{shorten(mt, 400)}»")
        cited.add(n)
    if not cited:  # nothing survives: the sources, named
        cited = {n for n, _ in picked}
        lines += [f"- {labels.get(n) or names['source']} [{n}]" for n in sorted(cited)]
    used = tuple(sorted(cited | ambiguous_sources(decision)))
    return Draft(with_ambiguity(question.lang, decision, "\n".join(lines)), used, mode, msg["_version"])
