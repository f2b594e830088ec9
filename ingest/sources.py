"""A document's identity and how its name may be shown.

A document is identified by its source as given — a file's path relative to the ingest root (the
working directory of the command that ingests it), or a URL without its credentials — never by
its base name alone: ``a/same.txt`` and ``b/same.txt`` are two documents. Members see the source
in citations, so it must hold no secret (``user:password@`` in a URL) and no control character
(a newline or an ANSI escape in a file name would rewrite the admin's terminal or fake a line).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# "scheme://user:password@" anywhere in a text (an error message that quotes a URL).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")
# Characters that must not reach a terminal or a chat raw: C0/C1 controls, DEL, and the bidi
# embeddings, overrides and isolates (they can reverse how a name reads: "txt.exe" as "exe.txt").
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_UNSHOWABLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")


def is_url(item: str) -> bool:
    return bool(_URL.match(item))


def strip_credentials(url: str) -> str:
    """The URL without ``user:password@`` (and without a fragment, which names no other resource)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return redact_credentials(url.strip())
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def redact_credentials(text: str) -> str:
    """Any ``scheme://user:password@`` in ``text`` without its credentials."""
    return _USERINFO.sub(r"\1", text)


def source_for(item: str, root: Path | None = None) -> str:
    """The source name of a file or URL as given: a URL without credentials, or the file's path
    relative to ``root`` (default: the working directory), '/'-separated; a file outside the root
    keeps its absolute path. Symbolic links are not resolved: the path is the one given."""
    if is_url(item):
        return strip_credentials(item)
    path = Path(os.path.abspath(item))
    base = Path(os.path.abspath(root or Path.cwd()))
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def doc_id_for(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def base_name(source: str) -> str:
    """The last part of a source ('a/same.txt' -> 'same.txt'; a URL's last path segment)."""
    return source.rstrip("/").rsplit("/", 1)[-1]


_BIDI = re.compile(f"[{_BIDI_CONTROLS}]")


def escape_bidi(text: str) -> str:
    """The bidi embeddings, overrides and isolates as ``\\uXXXX`` (for JSON text: the same data)."""
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shown(name: str) -> str:
    """``name`` safe to print or send: control and bidi-override characters escaped
    ('bad\\nname.txt', 'x\\x1b[31m.txt'), everything else — Vietnamese, Arabic — as it is."""
    return _UNSHOWABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), name)
