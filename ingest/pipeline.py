"""From a path or URL to indexed chunks: extract, normalise, detect, chunk, index.

The CLI (`partybot ingest`) and the bot's admin upload call the same functions here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ingest.chunking import chunk_text
from ingest.facts import FACTS_VERSION, document_facts, genre, own_code, places_named
from text.codes import find_codes
from text.dates import find_dates
from text.language import detect
from text.normalize import clean_display, fold
from ingest.sources import base_name, doc_id_for, is_url, redact_credentials, source_for, strip_credentials
from core.errors import IngestError
from text.tokenize import terms
from vectorstore.catalog import ChunkRow, DocumentRow, now
from vectorstore.faults import diagnose
from vectorstore.index import Index, IndexResult, Prepared

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm"}

# Raise when what `prepare` extracts from the same text changes (chunks, codes, dates): a
# document's hash covers it, so ingesting the same file again after an upgrade re-indexes it
# (vectors of unchanged chunk texts come from the embedding cache).
# 2: codes after Arabic proclitics ("والقرار رقم 18") and without issuer ("18-NQ").
# 3: numbered headings only ("Điều lệ", "Mục tiêu" are not); an article written on one line with
#    its text starts a section however long the line.
# 4: a heading is followed by nothing, punctuation or a capitalised title ("Điều 5 của Quy định
#    này, …" is a reference); Arabic headings need a number or an ordinal; the locator is the number.
# 5: a document in the official layout is titled by its type and subject lines ("QUY ĐỊNH VỀ …"),
#    not by the issuer on its first line.
# 6: the Politburo's "QĐi" codes (07-QĐi/TW); document facts (ingest.facts) and the provinces and
#    cities a document names in the metadata.
# 7: a chunk of English quoting a Vietnamese phrase is English (text.language); the place in a
#    heading's place-and-date line is where the document was signed, not one it is about.
# 8: language knowledge from text/lexicon; relations read with "the place of" phrases
#    (construct: the document named next is the replaced one) and a verb a few words before the
#    rest of its phrase ("وتحل الخطة 40 محل الخطة 12").
PIPELINE_VERSION = 8


@dataclass
class Outcome:
    source: str
    result: IndexResult | None = None
    error: str | None = None
    title: str | None = None
    lang: str | None = None
    codes: list[str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# The type line of a Vietnamese official document ("QUY ĐỊNH", "NGHỊ QUYẾT" …), folded.
_DOC_TYPES = {"quy dinh", "nghi quyet", "chi thi", "ket luan", "quyet dinh", "huong dan", "thong bao",
              "quy che", "ke hoach", "chuong trinh", "dieu le", "luat", "nghi dinh", "thong tu", "bao cao"}


def _official_title(text: str) -> str | None:
    """The title of a document in the official layout: issuer, number, place and date, then the
    type in capitals on a line of its own and the subject under it ("QUY ĐỊNH" / "VỀ NHỮNG ĐIỀU
    ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM"): "QUY ĐỊNH VỀ NHỮNG ĐIỀU ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM", not the issuer
    on the first line."""
    lines = [line.strip() for line in text.split("\n")[:40]]
    lines = [line for line in lines if line][:20]
    for i, line in enumerate(lines):
        if line.isupper() and fold(line).strip(" .:") in _DOC_TYPES:
            subject = []
            for nxt in lines[i + 1:i + 4]:  # the subject, wrapped over up to three lines
                if _is_heading(nxt):
                    break
                if not nxt.isupper():
                    # or one line in sentence case, which always opens with "Về" ("about")
                    if not subject and fold(nxt).startswith("ve "):
                        subject.append(nxt)
                    break
                subject.append(nxt)
            if subject:
                return " ".join([line, *subject])[:200]
    return None


def _is_heading(line: str) -> bool:
    """A part, chapter, section or article heading, or a numbered one ("I. TÌNH HÌNH")."""
    return bool(re.match(r"(?:(?:ĐIỀU|CHƯƠNG|PHẦN|MỤC)\s+\w+|(?:[IVXLC]+|\d+)[.)]\s)", line))


def _title(extracted_title: str | None, text: str, source: str) -> str:
    if (official := _official_title(text)):
        return official
    if extracted_title and extracted_title.strip():
        return extracted_title.strip()[:200]
    for line in text.split("\n"):
        line = line.strip()
        if line:
            if len(line) <= 200:
                return line
            break
    return base_name(source)  # the file's name: its folders say nothing about it


def prepare(text: str, source: str, *, title: str | None = None, kind: str = "txt",
            meta: dict | None = None, target: int = 700, maximum: int = 1100) -> Prepared:
    """Build the catalog rows for one document (pure: no I/O, no model)."""
    display = clean_display(text)
    if not display:
        raise IngestError(source, "empty document: no text found")
    content_hash = hashlib.sha256(f"{PIPELINE_VERSION}\n{display}".encode()).hexdigest()
    doc_id = doc_id_for(source)
    lang = detect(display)
    title = _title(title, display, source)
    codes = [c.key for c in find_codes(display)]
    head = display[:400] + "\n" + title
    meta = dict(meta or {})
    meta["primary_codes"] = [c.key for c in find_codes(head)]
    dates = find_dates(display)
    head_dates = find_dates(display[:600])
    if head_dates:
        meta["date"] = head_dates[0]
    own = own_code(display, title)
    meta.update(genre=genre(display), own_code=own.key if own else None, facts_version=FACTS_VERSION,
                places=places_named(display))
    chunks = []
    for c in chunk_text(display, target=target, maximum=maximum):
        chunk_id = hashlib.sha256(f"{doc_id}|{content_hash}|{c.ordinal}".encode()).hexdigest()[:32]
        chunks.append(ChunkRow(chunk_id, doc_id, c.ordinal, c.text, c.start, c.end, c.locator,
                               [k.key for k in find_codes(c.text)], detect(c.text, default=lang),
                               " ".join(terms(c.text))))
    meta["facts"] = [dict(f.to_dict(), chunk=_chunk_at(chunks, f.start), quote=display[f.start:f.end].strip()[:400])
                     for f in document_facts(display, own)]
    stamp = now()
    doc = DocumentRow(doc_id, source, title, lang, kind, codes, dates[:50], content_hash,
                      len(chunks), len(display), stamp, stamp, meta)
    return Prepared(doc, chunks)


def _chunk_at(chunks: list[ChunkRow], offset: int) -> int:
    """The ordinal of the chunk that holds ``offset`` (a fact's sentence), or the nearest before."""
    best = 0
    for c in chunks:
        if c.start <= offset:
            best = c.ordinal
        if c.start <= offset < c.end:
            return c.ordinal
    return best


def expand(inputs: Iterable[str]) -> Iterator[str]:
    """Files, folders (recursively, supported types only) and URLs, in a stable order, each once."""
    seen: set[str] = set()
    for item in _expand(inputs):
        key = item if is_url(item) else os.path.abspath(item)
        if key not in seen:
            seen.add(key)
            yield item


def _expand(inputs: Iterable[str]) -> Iterator[str]:
    for item in inputs:
        if is_url(item):
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith("."):
                    yield str(p)
        else:
            yield item


def load(item: str, settings):
    """Extract one file or URL in a bounded worker. Returns the Extracted text. A URL's
    credentials are used to fetch it and kept nowhere."""
    from ingest.worker import extract_isolated, extract_path_isolated

    if is_url(item):
        from ingest.urls import fetch_url

        fetched = fetch_url(item, max_bytes=settings.max_file_bytes, timeout_s=settings.url_timeout_s,
                            allow_private=settings.allow_private_urls)
        return extract_isolated(fetched.data, fetched.filename, max_bytes=settings.max_file_bytes,
                                timeout_s=settings.parse_timeout_s)
    path = Path(item)
    if not path.exists():
        raise IngestError(path.name or item, "no such file or folder")
    return extract_path_isolated(path, max_bytes=settings.max_file_bytes, timeout_s=settings.parse_timeout_s)


def ingest_one(item: str, index: Index, settings, *, source: str | None = None,
               progress: Callable[[int], None] | None = None) -> Outcome:
    """Ingest one file or URL under its source name (``source_for``, unless given); errors become
    an Outcome with a one-line reason, never an exception. Nothing kept or reported holds a
    URL's credentials."""
    name = strip_credentials(source) if source else source_for(item)
    try:
        extracted = load(item, settings)
        prepared = prepare(extracted.text, name, title=extracted.title, kind=extracted.kind,
                           meta=extracted.meta, target=settings.chunk_target_chars,
                           maximum=settings.chunk_max_chars)
        with index.writing():
            legacy = _legacy(index, prepared.doc)
            result = index.put(prepared, progress=progress)
            if legacy is not None:
                # Indexed before sources were paths: the same document under its base name.
                index.remove(legacy.doc_id)
                result.same_as = [s for s in result.same_as if s != legacy.source]
                result.status = "updated" if result.status == "added" else result.status
        return Outcome(name, result, title=prepared.doc.title, lang=prepared.doc.lang,
                       codes=prepared.doc.codes)
    except IngestError as exc:
        return Outcome(name, error=redact_credentials(exc.reason))
    except Exception as exc:  # one bad document must not stop the batch; a full disk must
        fault = diagnose(exc, settings.data_dir)
        if fault is not None:
            raise fault from exc
        log.exception("ingest of %s failed", name)
        return Outcome(name, error=redact_credentials(f"unexpected error: {exc.__class__.__name__}: {exc}"))


def _legacy(index: Index, doc: DocumentRow) -> DocumentRow | None:
    """The same document as an older version of partybot named it (by its base name alone), if
    the catalog holds it and nothing holds the new name yet."""
    old_name = base_name(doc.source)
    if old_name == doc.source or is_url(doc.source) or index.catalog.get(doc.doc_id):
        return None
    old = index.catalog.get(doc_id_for(old_name))
    return old if old is not None and old.source == old_name else None
