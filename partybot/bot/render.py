"""Answers and sources as Telegram HTML: escaped, split under the 4096-character limit, and
right-to-left safe for Arabic.

Markup never spans lines, so a text can be cut at any line boundary and each part is still
well-formed HTML. Model output and document text are always escaped.
"""

from __future__ import annotations

import html
import re

from ingest.sources import shown
from partybot.bot.texts import t

LIMIT = 4096
BUDGET = 3900  # room for the RTL marks and a little slack below Telegram's limit
RLM = "\u200f"  # right-to-left mark: an Arabic line that starts with "[1]" or a digit stays RTL
_MARKER = re.compile(r"\[(\d{1,2})\]")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def _link(source: str, label: str) -> str:
    if source.startswith(("http://", "https://")):
        return f'<a href="{html.escape(source, quote=True)}">{esc(label)}</a>'
    return f"<i>{esc(label)}</i>"


def _cite_value(c, key: str):
    """A citation's field; a name (title, source, locator) with its control and bidi characters
    escaped, as every front end shows names."""
    value = c[key] if isinstance(c, dict) else getattr(c, key)
    return shown(value) if key in ("title", "source", "locator") and isinstance(value, str) else value


def citation_line(c) -> str:
    """``[1] Title (file.txt) · 37-QĐ/TW · Điều 5 › khoản 2``, the title linked when it is a URL."""
    title = _cite_value(c, "title") or _cite_value(c, "source")
    source = _cite_value(c, "source")
    parts = [_link(source, _short(title, 90))]
    if source != title and not source.startswith(("http://", "https://")):
        parts[0] += f" ({esc(_short_middle(source, 60))})"
    codes = _cite_value(c, "codes") or []
    if codes:
        parts.append(esc(", ".join(codes[:3])))
    locator = _cite_value(c, "locator")
    if locator:
        parts.append(esc(locator))
    return f"[{_cite_value(c, 'n')}] " + " · ".join(parts)


def answer_html(text: str, citations: list, lang: str) -> list[str]:
    """The final answer: text with bold markers, then one line per citation."""
    lines = [_MARKER.sub(r"<b>[\1]</b>", esc(line)) for line in text.strip().split("\n")]
    if citations:
        lines += [""] + [citation_line(c) for c in citations]
    return pack(lines, lang)


def sources_html(citations: list, lang: str) -> list[str]:
    """The Sources button: each cited passage quoted in its own language, with where it is from."""
    if not citations:
        return pack([esc(t(lang, "no_sources"))], lang)
    lines = [f"<b>{esc(t(lang, 'sources_header'))}</b>"]
    for c in citations:
        lines += ["", citation_line(c)]
        quote = (_cite_value(c, "quote") or "").strip()
        lines += [f"<blockquote>{esc(q)}</blockquote>" for q in _pieces(quote, 1500)]
    return pack(lines, lang)


def doc_html(cards: list[tuple[str, list[str]]], sources: list[dict], lang: str, footer: str = "") -> list[str]:
    """/doc: each document's name and what the sources say about it, ``footer`` (HTML, escaped
    by the caller), then each cited passage with the sentence the facts were read from."""
    lines: list[str] = []
    for heading, sentences in cards:
        lines += ([""] if lines else []) + [f"<b>{esc(heading)}</b>"]
        lines += [_MARKER.sub(r"<b>[\1]</b>", esc(s)) for s in sentences]
    if footer:
        lines += ["", footer]
    if sources:
        lines += ["", f"<b>{esc(t(lang, 'doc_sources'))}</b>"]
        for c in sources:
            quote = " ".join((c.get("quote") or "").split())
            lines.append(citation_line({**c, "codes": []}) + (f" — «{esc(_short(quote, 200))}»" if quote else ""))
    return pack(lines, lang)


def stream_text(header: str, body: str, lang: str) -> str:
    """What a message shows while the answer streams (plain text, no parse mode)."""
    text = f"{header}\n\n{body.strip()}" if body.strip() else header
    if lang == "ar":
        text = "\n".join(RLM + line if line else line for line in text.split("\n"))
    return text[: LIMIT - 2] + ("…" if len(text) > LIMIT - 2 else "")


def pack(lines: list[str], lang: str, budget: int = BUDGET) -> list[str]:
    """Join lines into messages under ``budget`` characters; overlong lines were cut by callers."""
    if lang == "ar":
        lines = [RLM + line if line and not line.startswith("<blockquote>") else line for line in lines]
    flat: list[str] = []
    for line in lines:
        if len(line) > budget:  # a single huge line: drop its tags and cut it, rather than break markup
            flat += [esc(p) for p in _pieces(html.unescape(re.sub(r"<[^>]+>", "", line)), budget // 6)]
        else:
            flat.append(line)
    parts: list[str] = []
    current = ""
    for line in flat:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > budget and current:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current or "…")
    return parts


def _pieces(text: str, size: int) -> list[str]:
    """Cut plain text into pieces of at most ``size`` characters at whitespace."""
    out: list[str] = []
    while len(text) > size:
        cut = text.rfind(" ", 0, size)
        cut = cut if cut > size // 2 else size
        out.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        out.append(text)
    return out


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _short_middle(text: str, n: int) -> str:
    """A path or web address cut in its middle: where it is and its file name both stay."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    head = n // 3
    return text[:head] + "…" + text[-(n - head - 1):]
