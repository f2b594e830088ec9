"""Bytes of one document -> plain text, a title and the kind of document.

Supported: plain text (.txt), Markdown (.md, .markdown), PDF with a text layer, Word .docx and
HTML (.html, .htm). The type is sniffed from the bytes: a strong signature (``%PDF-``, a zip
holding ``word/document.xml``) wins over the file name, so ``report.txt`` that is really a PDF
is read as a PDF, while a ``.pdf`` or ``.docx`` whose bytes are something else is refused
rather than indexed as garbage (a saved HTML error page, say).

Every failure is an :class:`IngestError` whose ``reason`` is one actionable line.

This module runs inside the parsing worker (``ingest.worker``); keep its imports light: the
parsers (pypdf, python-docx, BeautifulSoup) are imported only when a document needs them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

from core.errors import IngestError
from text.scripts import ARABIC, ARABIC_SPAN, LATIN_RANGES

SUFFIX_KIND = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED = ", ".join(SUFFIX_KIND)

# .docx zip-bomb limits (checked on the zip's central directory before anything is inflated).
DOCX_MAX_TOTAL_BYTES = 200 * 1024 * 1024
DOCX_MAX_RATIO = 100
DOCX_RATIO_MIN_BYTES = 1024 * 1024  # a tiny member that compresses well is no threat
DOCX_MAX_MEMBERS = 5000


@dataclass
class Extracted:
    text: str
    title: str | None
    kind: str  # txt | md | pdf | docx | html
    meta: dict = field(default_factory=dict)


def suffix_of(filename: str) -> str:
    return PurePath(filename).suffix.lower()


def check_supported(filename: str) -> None:
    """Refuse a file name whose extension is not supported (a missing extension is sniffed)."""
    suffix = suffix_of(filename)
    if suffix and suffix not in SUFFIX_KIND:
        raise IngestError(filename, f"unsupported file type {suffix} (supported: {SUPPORTED})")


def extract_bytes(data: bytes, filename: str) -> Extracted:
    """Extract the text of one document; ``filename`` gives the extension (and names errors)."""
    check_supported(filename)
    if not data or not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise IngestError(filename, "empty document: no text found"
                          + (" (the file is 0 bytes)" if not data else ""))
    suffix = suffix_of(filename)
    named = SUFFIX_KIND.get(suffix)
    kind = _resolve_kind(data, filename, named)
    if kind == "pdf":
        result = _pdf(data, filename)
    elif kind == "docx":
        result = _docx(data, filename)
    else:
        # HTML may declare another charset in a <meta> tag: BeautifulSoup reads it from the bytes.
        text = decode_text(data, filename, other_ok=kind == "html")
        if kind == "txt" and named != "md" and _looks_like_html(text):
            kind = "html"
        if kind == "html":
            result = _html(data, text, filename)
        else:
            result = Extracted(text, _markdown_title(text) if kind == "md" else None, kind, {})
    if named and named != result.kind:
        result.meta["declared_kind"] = named
    if not result.text.strip():
        raise IngestError(filename, "empty document: no text found")
    return result


# --- sniffing ----------------------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive", b"7z\xbc\xaf": "a 7-zip archive", b"Rar!": "a RAR archive",
    b"{\\rtf": "an RTF document",
}


def _resolve_kind(data: bytes, filename: str, named: str | None) -> str:
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "docx"  # _docx checks that the zip really is a Word document
    if data.startswith(_OLE2):
        raise IngestError(filename, "legacy Word/Office file (.doc) or password-protected .docx: "
                          "save it as an unprotected .docx or PDF and try again")
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise IngestError(filename, f"binary or unsupported content ({what}); "
                              f"supported: {SUPPORTED}")
    if named == "pdf":
        raise IngestError(filename, "corrupt or unreadable PDF: the file does not start with %PDF- "
                          f"({_what_is_it(data)})")
    if named == "docx":
        raise IngestError(filename, f"corrupt .docx: not a zip archive ({_what_is_it(data)})")
    if named:
        return named
    # No extension: sniff. decode_text refuses binary junk.
    return "html" if _looks_like_html(decode_text(data, filename)) else "txt"


def _what_is_it(data: bytes) -> str:
    try:
        text = decode_text(data, "?")
    except IngestError:
        return "content is binary"
    return "content looks like HTML, e.g. a saved error page" if _looks_like_html(text) else "content is plain text"


_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*(<\?xml[^>]*>\s*)?(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])",
                         re.IGNORECASE | re.DOTALL)


def _looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text[:4096]))


_BAD_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_text(data: bytes, filename: str, *, other_ok: bool = False) -> str | None:
    """UTF-8 (with or without BOM) or UTF-16/32 with a BOM; anything else is refused (or, with
    ``other_ok``, None is returned for text in another encoding; binary is still refused)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encodings = ["utf-32"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8"]
        sample = data[:4096]
        if len(sample) >= 4 and sample.count(0) > len(sample) // 4:
            # UTF-16 without a BOM: one NUL in every other byte of mostly-ASCII text.
            even, odd = sample[0::2].count(0), sample[1::2].count(0)
            if odd > 0.3 * len(sample) / 2 and even == 0:
                encodings = ["utf-16-le"]
            elif even > 0.3 * len(sample) / 2 and odd == 0:
                encodings = ["utf-16-be"]
            else:
                raise IngestError(filename, f"binary or unsupported content (supported: {SUPPORTED})")
    for enc in encodings:
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        if b"\x00" in data[:4096]:
            raise IngestError(filename, f"binary or unsupported content (supported: {SUPPORTED})")
        if other_ok and not _BAD_CONTROL.search(data[:20000].decode("latin-1")):
            return None
        raise IngestError(filename, "text is not UTF-8: save it as UTF-8 (or UTF-16 with a BOM) and try again")
    if text.startswith("\ufeff"):
        text = text[1:]
    sample = text[:20000]
    if sample and len(_BAD_CONTROL.findall(sample)) > max(2, len(sample) // 200):
        raise IngestError(filename, f"binary or unsupported content (supported: {SUPPORTED})")
    return text


def _markdown_title(text: str) -> str | None:
    front = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if front:
        m = re.search(r"^title:\s*[\"']?(.+?)[\"']?\s*$", front.group(1), re.MULTILINE)
        if m:
            return m.group(1).strip()
    m = re.search(r"^#\s+(.+?)\s*#*\s*$", text[:5000], re.MULTILINE)
    return m.group(1).strip() if m else None


# --- PDF ---------------------------------------------------------------------------------------

def _pdf(data: bytes, filename: str) -> Extracted:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns at length about broken files
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")  # owner-password-only PDFs open with an empty password
            except (DependencyError, NotImplementedError) as exc:
                raise IngestError(filename, f"encrypted PDF: cannot decrypt it here ({_one_line(exc)}); "
                                  "save an unencrypted copy and try again") from None
            if not ok:
                raise IngestError(filename, "encrypted PDF: it needs a password; "
                                  "save an unencrypted copy and try again")
        pages = []
        for page in reader.pages:
            pages.append(_fix_visual_rtl(page.extract_text() or ""))
        title = None
        try:
            meta = reader.metadata
            title = _pdf_title(meta.title if meta else None)
        except Exception:  # broken Info dictionaries are common and harmless
            title = None
    except IngestError:
        raise
    except FileNotDecryptedError:
        raise IngestError(filename, "encrypted PDF: it needs a password; save an unencrypted copy "
                          "and try again") from None
    except MemoryError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many types on broken files
        raise IngestError(filename, f"corrupt or unreadable PDF ({_one_line(exc)})") from None
    empty_pages = sum(1 for p in pages if not p.strip())
    text = "\n\n".join(p.strip() for p in pages)
    if not re.search(r"\w", text):
        raise IngestError(filename, f"no text layer (scanned PDF?): {len(pages)} page(s) without "
                          "extractable text; run OCR on it first")
    return Extracted(text, title, "pdf", {"pages": len(pages), "pages_without_text": empty_pages})


def _pdf_title(raw) -> str | None:
    if not raw or not isinstance(raw, str):
        return None
    title = re.sub(r"^Microsoft (Word|PowerPoint) - ", "", raw.strip())
    if not title or title.lower() in {"untitled", "title", "document"}:
        return None
    if re.search(r"\.(docx?|pdf|odt|rtf|txt)$", title, re.IGNORECASE):
        return None  # a file name, not a title
    return title


_LTR_RUN = re.compile(rf"[0-9{LATIN_RANGES}]+(?:[.,:/-][0-9{LATIN_RANGES}]+)*")
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def _fix_visual_rtl(text: str) -> str:
    """Some PDF producers draw Arabic in visual (left-to-right) order, so the extracted line is
    reversed. A reversed line is recognised by its words: Arabic words often start with the
    article "ال" and end with "ة"; reversed, they end with "لا" and start with "ة". Only lines
    with clear evidence are turned back; text already in logical order is left alone."""
    if not ARABIC.search(text):
        return text
    out = []
    for line in text.split("\n"):
        words = [w for w in ARABIC_SPAN.findall(line) if len(w) > 2]
        logical = sum(w.startswith("ال") or w.endswith(("ة", "ى")) for w in words)
        visual = sum(w.endswith("لا") or w.startswith(("ة", "ى")) for w in words)
        if visual >= 2 and visual > 2 * logical:
            line = line[::-1].translate(_MIRROR)
            line = _LTR_RUN.sub(lambda m: m.group(0)[::-1], line)
        out.append(line)
    return "\n".join(out)


# --- DOCX --------------------------------------------------------------------------------------

def _check_docx_zip(data: bytes, filename: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise IngestError(filename, f"corrupt .docx: not a readable zip archive ({_one_line(exc)})") from None
    if len(infos) > DOCX_MAX_MEMBERS:
        raise IngestError(filename, f"refusing .docx with {len(infos)} parts (limit {DOCX_MAX_MEMBERS}): "
                          "possible zip bomb")
    total = sum(i.file_size for i in infos)
    if total > DOCX_MAX_TOTAL_BYTES:
        raise IngestError(filename, f"refusing .docx that unpacks to {total / 2**20:.0f} MB "
                          f"(limit {DOCX_MAX_TOTAL_BYTES // 2**20} MB): possible zip bomb")
    for i in infos:
        if i.file_size > DOCX_RATIO_MIN_BYTES and i.file_size > DOCX_MAX_RATIO * max(i.compress_size, 1):
            raise IngestError(filename, f"refusing .docx: part {i.filename} is compressed "
                              f"{i.file_size // max(i.compress_size, 1)}:1 (limit {DOCX_MAX_RATIO}:1), "
                              "possible zip bomb")
    if "word/document.xml" not in names:
        what = "an OpenDocument file" if "content.xml" in names else "a zip archive"
        raise IngestError(filename, f"{what}, not a Word .docx (no word/document.xml); "
                          f"supported: {SUPPORTED}")


def _docx(data: bytes, filename: str) -> Extracted:
    _check_docx_zip(data, filename)
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:
        raise IngestError(filename, f"corrupt or unreadable .docx ({_one_line(exc)})") from None

    lines: list[str] = []
    first_heading = None
    tables = 0

    def cell_text(cell) -> str:
        parts = []
        for item in cell.iter_inner_content():
            if isinstance(item, Paragraph):
                parts.append(item.text.strip())
            elif isinstance(item, Table):
                parts.extend(table_lines(item))
        return " ".join(p for p in parts if p)

    def table_lines(table) -> list[str]:
        rows = []
        for row in table.rows:
            cells, seen = [], set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell appears once per grid column
                    continue
                seen.add(id(cell._tc))
                cells.append(cell_text(cell))
            if any(cells):
                rows.append(" | ".join(cells))
        return rows

    def blocks(container, parent):
        # Body order; content controls (<w:sdt>, e.g. a cover page) are looked into.
        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                yield Paragraph(child, parent)
            elif child.tag == qn("w:tbl"):
                yield Table(child, parent)
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    yield from blocks(content, parent)

    try:
        for block in blocks(document.element.body, document._body):
            if isinstance(block, Paragraph):
                text = block.text.strip()
                if not text:
                    continue
                style = (block.style.name if block.style is not None else "") or ""
                if style.startswith(("Heading", "Title")):
                    lines.append("")  # headings stand on their own line, after a break
                    first_heading = first_heading or (text if style in ("Title", "Heading 1") else None)
                lines.append(text)
            elif isinstance(block, Table):
                tables += 1
                lines.append("")
                lines.extend(table_lines(block))
                lines.append("")
        title = (document.core_properties.title or "").strip() or first_heading
    except MemoryError:
        raise
    except Exception as exc:
        raise IngestError(filename, f"corrupt or unreadable .docx ({_one_line(exc)})") from None
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return Extracted(text, title, "docx", {"tables": tables})


# --- HTML --------------------------------------------------------------------------------------

_DROP = ["script", "style", "noscript", "template", "nav", "svg", "canvas", "iframe", "object",
         "embed", "form", "button", "select", "head"]
_BLOCK = ["address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog", "div",
          "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
          "hgroup", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody",
          "thead", "tfoot", "tr", "ul", "header", "footer", "legend"]
_NL, _PARA, _CELL, _PRE_NL, _PRE_SP = "\ue000", "\ue001", "\ue002", "\ue003", "\ue004"


def _html(data: bytes, text: str | None, filename: str) -> Extracted:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(text if text is not None else data, "html.parser")
    except MemoryError:
        raise
    except Exception as exc:
        raise IngestError(filename, f"unreadable HTML ({_one_line(exc)})") from None

    title = None
    if soup.title and soup.title.get_text(strip=True):
        title = " ".join(soup.title.get_text().split())
    for tag in soup.find_all(_DROP):
        tag.decompose()
    # Page chrome goes; an article's own <header>/<footer> (its title, its date) stays.
    for tag in soup.find_all(["header", "footer"]):
        if not tag.decomposed and tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    h1 = soup.find("h1")
    if title is None and h1 is not None and h1.get_text(strip=True):
        title = " ".join(h1.get_text().split())

    for pre in soup.find_all("pre"):
        for s in pre.find_all(string=True):
            s.replace_with(s.replace("\n", _PRE_NL).replace(" ", _PRE_SP).replace("\t", _PRE_SP))
    for br in soup.find_all("br"):
        br.replace_with(_NL)
    for tag in soup.find_all(_BLOCK):
        sep = _PARA if tag.name in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre",
                                    "blockquote", "section", "article") else _NL
        tag.insert_before(sep)
        tag.append(sep)
    for tag in soup.find_all(["td", "th"]):
        tag.append(_CELL)

    raw = soup.get_text()
    raw = re.sub(r"\s+", " ", raw)  # source whitespace means nothing in HTML
    raw = raw.replace(_PRE_NL, _NL).replace(_PRE_SP, " ")
    raw = re.sub(rf"\s*{_CELL}\s*(?=[{_NL}{_PARA}]|$)", "", raw)  # no trailing cell separator
    raw = raw.replace(_CELL, " | ")
    raw = re.sub(rf"[ {_NL}{_PARA}]*[{_NL}{_PARA}][ {_NL}{_PARA}]*",
                 lambda m: "\n\n" if _PARA in m.group(0) else "\n", raw)
    out = "\n".join(line.strip() for line in raw.split("\n"))
    out = re.sub(r"\n{3,}", "\n\n", out).strip()
    if not out:
        raise IngestError(filename, "empty document: no text found in the HTML "
                          "(a page that needs JavaScript cannot be read)")
    return Extracted(out, title, "html", {})


def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split()) or exc.__class__.__name__
    msg = unicodedata.normalize("NFC", msg)
    return msg[:200]
