"""Article and clause labels: "Điều 5", "Article 2", "المادة 3", "Khoản 2", "1.", "a)".

Used by the chunker (ingest.chunking: locators) and the answer path (answering.understand: asked
articles, a document's articles one by one, a label kept with its sentence).
"""

from __future__ import annotations

import re

# The words that head an article, in the three languages (display form).
ARTICLE_WORD = r"(?:ĐIỀU|Điều|ARTICLE|Article|المادة|مادة)"
# "Article 5", "Điều 5", "المادة 5" mentioned in a text: group 1 is the number. Matched on
# fold()ed text (no diacritics, unified letters).
ARTICLE_MENTION = re.compile(r"(?:\bdieu|\barticle|\bart\.|الماده|ماده)\s*(?:so\s*|رقم\s*|no\.?\s*)?(\d{1,3})\b")
# A sentence that starts an article ("Điều 1. Nói, viết…").
ARTICLE_START = re.compile(rf"{ARTICLE_WORD}\s+\S{{1,8}}\s*[.:]")
# What only numbers the text after it: "Điều 1.", "Article 2:", "المادة 3.", "Khoản 2.", "1.", "a)".
LABEL = re.compile(r"(?:(?:điều|article|المادة|مادة|khoản|clause|البند)\s+\S{1,8}|\d{1,3}|[a-zđ])\s*[.:)]", re.I)


def is_article_label(part: str) -> bool:
    """A locator part that names an article ("Điều 5", "Article 2", "المادة الأولى")."""
    return bool(re.match(rf"{ARTICLE_WORD}\s+\S", part))
