"""Download one document from an http(s) URL, safely.

- Only http and https.
- Every hop's host is resolved first and refused if any of its addresses is loopback,
  private, link-local, multicast, reserved or unspecified (unless ``allow_private``); the
  request then goes to the address that was checked (the Host header and TLS SNI still name
  the host), so DNS cannot answer differently between the check and the connection.
- Redirects are followed by hand, at most five, each hop checked again.
- The body is streamed and abandoned as soon as it is over ``max_bytes``.
- Every failure is an :class:`IngestError` with a one-line reason.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from ingest.extract import SUFFIX_KIND
from core.errors import IngestError

MAX_REDIRECTS = 5
USER_AGENT = "partybot/0.1 (document ingest)"

_MIME_SUFFIX = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/x-pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
}
_GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/download",
            "application/x-download", "application/force-download", "application/unknown"}


@dataclass
class Fetched:
    data: bytes
    source: str  # the URL as given
    final_url: str  # after redirects
    content_type: str  # media type, lower case, without parameters
    filename: str  # a name whose extension tells the extractor the type


def is_forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_forbidden(mapped)
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def _resolve(url: str, host: str, port: int, timeout_s: float) -> list[str]:
    try:
        literal = ipaddress.ip_address(host)
        return [str(literal)]
    except ValueError:
        pass
    # getaddrinfo has no timeout of its own: it runs in a helper thread that is waited for.
    box: dict = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    thread = threading.Thread(target=lookup, name="partybot-dns", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise IngestError(url, f"unreachable: resolving {host} took longer than {timeout_s:g} s")
    if "error" in box:
        exc = box["error"]
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else _one_line(exc)
        raise IngestError(url, f"unreachable: cannot resolve host {host} ({detail})")
    infos = box["infos"]
    addrs: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        if addr not in addrs:
            addrs.append(addr)
    if not addrs:
        raise IngestError(url, f"unreachable: cannot resolve host {host}")
    return addrs


def _check(url: str, host: str, addrs: list[str]) -> None:
    for addr in addrs:
        if is_forbidden(ipaddress.ip_address(addr)):
            shown = addr if addr == host else f"{addr} for {host}"
            raise IngestError(url, f"refusing private or local address {shown} "
                              "(set PARTYBOT_ALLOW_PRIVATE_URLS=true to allow)")


def _split(original: str, url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise IngestError(original, f"invalid URL {url} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise IngestError(original, "only http(s) URLs are supported")
    host = parts.hostname
    if not host:
        raise IngestError(original, f"invalid URL {url}: no host name")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f}".removesuffix(".0")


def fetch_url(url: str, *, max_bytes: int, timeout_s: float, allow_private: bool = False) -> Fetched:
    """Download ``url`` (see the module docstring for the rules)."""
    deadline = time.monotonic() + timeout_s
    current = url.strip()
    with httpx.Client(follow_redirects=False, timeout=httpx.Timeout(timeout_s),
                      headers={"User-Agent": USER_AGENT, "Accept": "*/*"}) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            scheme, host, port = _split(url, current)
            response = _open(client, url, current, scheme, host, port, allow_private, timeout_s)
            try:
                if response.is_redirect and response.headers.get("location"):
                    current = urljoin(current, response.headers["location"].strip())
                    continue
                if not 200 <= response.status_code < 300:
                    reason = response.reason_phrase or ""
                    raise IngestError(url, f"HTTP {response.status_code} {reason}".strip())
                data = _read(response, url, max_bytes, deadline, timeout_s)
                return _fetched(url, current, response, data)
            finally:
                response.close()
        raise IngestError(url, f"too many redirects (over {MAX_REDIRECTS})")


def _open(client: httpx.Client, original: str, url: str, scheme: str, host: str, port: int,
          allow_private: bool, timeout_s: float) -> httpx.Response:
    if allow_private:
        targets = [None]  # no check, no pinning: connect as the URL says
    else:
        addrs = _resolve(original, host, port, timeout_s)
        _check(original, host, addrs)
        targets = addrs[:3]
    last: Exception | None = None
    for addr in targets:
        try:
            if addr is None:
                request = client.build_request("GET", url)
            else:
                request = _pinned(client, url, scheme, host, port, addr)
            return client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last = exc
            continue
        except httpx.TimeoutException:
            raise IngestError(original, f"unreachable: timed out after {timeout_s:g} s") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise IngestError(original, f"unreachable: {_one_line(exc)}") from None
    raise IngestError(original, f"unreachable: {_one_line(last)}")


def _pinned(client: httpx.Client, url: str, scheme: str, host: str, port: int, addr: str) -> httpx.Request:
    """A request for ``url`` sent to ``addr``; Host and TLS SNI/verification still use ``host``."""
    target = httpx.URL(url)
    ip_host = addr  # httpx brackets IPv6 literals itself
    default = 443 if scheme == "https" else 80
    host_header = host if port == default else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default else f"[{host}]:{port}"
    request = client.build_request("GET", target.copy_with(host=ip_host), headers={"Host": host_header})
    if scheme == "https":
        request.extensions["sni_hostname"] = host
    return request


def _read(response: httpx.Response, url: str, max_bytes: int, deadline: float, timeout_s: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise IngestError(url, f"file is {_mb(int(declared))} MB, over the {_mb(max_bytes)} MB limit "
                          "(PARTYBOT_MAX_FILE_MB)")
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > max_bytes:
                raise IngestError(url, f"file is over the {_mb(max_bytes)} MB limit (PARTYBOT_MAX_FILE_MB); "
                                  "download stopped")
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise IngestError(url, f"unreachable: download took longer than {timeout_s:g} s")
    except httpx.TimeoutException:
        raise IngestError(url, f"unreachable: timed out after {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise IngestError(url, f"unreachable: download failed ({_one_line(exc)})") from None
    return b"".join(chunks)


def _fetched(url: str, final_url: str, response: httpx.Response, data: bytes) -> Fetched:
    msg = Message()
    msg["content-type"] = response.headers.get("content-type", "")
    ctype = msg.get_content_type() if response.headers.get("content-type") else ""
    charset = msg.get_param("charset")
    if ctype.startswith("text/") and isinstance(charset, str):
        data = _to_utf8(data, charset)
    filename = filename_for(final_url, ctype, response.headers.get("content-disposition"))
    return Fetched(data, url, final_url, ctype, filename)


def _to_utf8(data: bytes, charset: str) -> bytes:
    """Text declared in another charset becomes UTF-8 (the extractor reads UTF-8 only)."""
    try:
        codec = codecs.lookup(charset.strip().strip('"'))
    except LookupError:
        return data
    if codec.name in ("utf-8", "ascii") or data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return data
    try:
        return data.decode(codec.name).encode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return data


def filename_for(url: str, content_type: str, disposition: str | None = None) -> str:
    """A file name whose extension matches what the server says the body is."""
    path = unquote(urlsplit(url).path)
    base = PurePosixPath(path).name if path and not path.endswith("/") else ""
    if disposition:
        msg = Message()
        msg["content-disposition"] = disposition
        given = msg.get_filename()
        if given:
            base = PurePosixPath(given.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-]+", "_", base).strip("._")[:120]
    stem, suffix = (base.rsplit(".", 1) + [""])[:2] if "." in base else (base, "")
    suffix = f".{suffix.lower()}" if suffix else ""
    stem = stem or (urlsplit(url).hostname or "download").replace(".", "_")
    wanted = _MIME_SUFFIX.get(content_type)
    if wanted:
        # text/plain is how many servers send Markdown; a name that says .md is believed.
        if wanted == ".txt" and SUFFIX_KIND.get(suffix) == "md":
            return f"{stem}{suffix}"
        if wanted == ".html" and SUFFIX_KIND.get(suffix) == "html":
            return f"{stem}{suffix}"
        return f"{stem}{wanted}"
    if content_type in _GENERIC:
        return f"{stem}{suffix}"  # the extractor sniffs the bytes; a wrong name is refused there
    # A type we do not read (image/png, application/zip...): name it so, for a clear refusal.
    import mimetypes

    guessed = mimetypes.guess_extension(content_type) or suffix
    return f"{stem}{guessed}"


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "no address to connect to"
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:200]
