"""Downloading documents (ingest.urls) against a real local HTTP server on 127.0.0.1."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import urls
from ingest.urls import fetch_url, filename_for
from core.errors import IngestError
from test_extract import HTML, make_pdf

MB = 1024 * 1024
PDF = make_pdf(["Article 1. Members shall comply with the regulations."], title="Members")
BIG = b"a" * (2 * MB)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _send(self, code, body=b"", ctype="text/plain", headers=None, length=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        path = self.path
        if path == "/page.html":
            self._send(200, HTML.encode(), "text/html; charset=utf-8")
        elif path == "/private.html":  # Basic auth alice:S3cret, as a URL's user:password sends it
            if self.headers.get("Authorization") == "Basic YWxpY2U6UzNjcmV0":
                self._send(200, HTML.encode(), "text/html; charset=utf-8")
            else:
                self._send(401, b"who are you?", headers={"WWW-Authenticate": 'Basic realm="x"'})
        elif path == "/docs/members":
            self._send(200, PDF, "application/pdf")
        elif path == "/download?id=7":
            self._send(200, PDF, "application/octet-stream",
                       {"Content-Disposition": 'attachment; filename="quy-dinh.pdf"'})
        elif path == "/legacy":
            self._send(200, "Café المادة".encode("cp1256"), "text/plain; charset=windows-1256")
        elif path == "/host":
            self._send(200, f"Host was {self.headers['Host']}".encode(), "text/plain")
        elif path == "/redirect":
            self._send(302, headers={"Location": "/page.html"})
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(301, headers={"Location": f"/chain/{n + 1}" if n < 10 else "/page.html"})
        elif path == "/to-metadata":
            self._send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        elif path == "/to-localhost":
            self._send(307, headers={"Location": f"http://127.0.0.2:{self.server.server_port}/page.html"})
        elif path == "/to-ftp":
            self._send(302, headers={"Location": "ftp://example.com/file.pdf"})
        elif path == "/big":
            self._send(200, BIG, "text/plain")
        elif path == "/big-streamed":
            self._send(200, BIG, "text/plain", length=False)  # HTTP/1.0: body ends at close
        elif path == "/image":
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image/png")
        elif path == "/server-error":
            self._send(503, b"down", "text/plain")
        else:
            self._send(404, b"nothing here", "text/plain")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def loopback_is_public(monkeypatch):
    """Pretend 127.0.0.1 is a public address, so the checks themselves can be exercised."""
    real = urls.is_forbidden
    monkeypatch.setattr(urls, "is_forbidden", lambda ip: False if str(ip) == "127.0.0.1" else real(ip))


def fetch(url, **kw):
    kw.setdefault("max_bytes", MB)
    kw.setdefault("timeout_s", 5)
    return fetch_url(url, **kw)


def reason(url, **kw):
    with pytest.raises(IngestError) as info:
        fetch(url, **kw)
    assert info.value.source == url
    assert "\n" not in info.value.reason
    return info.value.reason


def test_fetch_html_when_private_allowed(server):
    got = fetch(f"{server}/page.html", allow_private=True)
    assert got.data == HTML.encode()
    assert (got.source, got.final_url) == (f"{server}/page.html", f"{server}/page.html")
    assert (got.content_type, got.filename) == ("text/html", "page.html")


def test_fetch_pdf_name_from_content_type_and_disposition(server):
    got = fetch(f"{server}/docs/members", allow_private=True)
    assert (got.data, got.content_type, got.filename) == (PDF, "application/pdf", "members.pdf")
    got = fetch(f"{server}/download?id=7", allow_private=True)
    assert got.filename == "quy-dinh.pdf"


def test_text_in_a_declared_charset_becomes_utf8(server):
    assert fetch(f"{server}/legacy", allow_private=True).data.decode("utf-8") == "Café المادة"


def test_private_address_refused_by_default(server):
    r = reason(f"{server}/page.html")
    assert r == "refusing private or local address 127.0.0.1 (set PARTYBOT_ALLOW_PRIVATE_URLS=true to allow)"
    port = server.rsplit(":", 1)[1]
    assert reason(f"http://localhost:{port}/page.html").startswith("refusing private or local address ")


@pytest.mark.parametrize("addr", ["10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
                                  "224.0.0.1", "240.0.0.1", "100.64.0.1", "::1", "fe80::1", "fc00::1",
                                  "::ffff:127.0.0.1", "::"])
def test_forbidden_addresses(addr):
    import ipaddress

    assert urls.is_forbidden(ipaddress.ip_address(addr))


@pytest.mark.parametrize("addr", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(addr):
    import ipaddress

    assert not urls.is_forbidden(ipaddress.ip_address(addr))


def test_checked_address_is_the_one_connected_to(server, loopback_is_public, monkeypatch):
    """A host name is resolved once; the request goes to that address with the right Host header."""
    port = int(server.rsplit(":", 1)[1])
    calls = []
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, p, *a, **k):
        calls.append(host)
        if host == "docs.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p))]
        assert host == "127.0.0.1", host  # the connection itself asks for nothing else
        return real(host, p, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    got = fetch(f"http://docs.example:{port}/host")
    assert got.data == f"Host was docs.example:{port}".encode()
    assert calls.count("docs.example") == 1


def test_each_redirect_hop_is_checked(server, loopback_is_public):
    assert fetch(f"{server}/page.html").data == HTML.encode()  # the "public" side works
    r = reason(f"{server}/to-metadata")
    assert r.startswith("refusing private or local address 169.254.169.254")
    assert reason(f"{server}/to-localhost").startswith("refusing private or local address 127.0.0.2")


def test_redirects_are_followed_and_limited(server):
    got = fetch(f"{server}/redirect", allow_private=True)
    assert got.final_url == f"{server}/page.html" and got.source == f"{server}/redirect"
    assert fetch(f"{server}/chain/6", allow_private=True).final_url == f"{server}/page.html"  # 5 hops
    assert reason(f"{server}/chain/5", allow_private=True) == "too many redirects (over 5)"


@pytest.mark.parametrize("url", ["ftp://example.com/a.pdf", "file:///etc/passwd", "javascript:alert(1)",
                                 "gopher://example.com/"])
def test_only_http_and_https(url):
    assert reason(url) == "only http(s) URLs are supported"


def test_redirect_to_another_scheme_is_refused(server):
    assert reason(f"{server}/to-ftp", allow_private=True) == "only http(s) URLs are supported"


def test_http_errors(server):
    assert reason(f"{server}/nope", allow_private=True) == "HTTP 404 Not Found"
    assert reason(f"{server}/server-error", allow_private=True) == "HTTP 503 Service Unavailable"


def test_oversize_body_is_refused(server):
    r = reason(f"{server}/big", allow_private=True)
    assert r == "file is 2 MB, over the 1 MB limit (PARTYBOT_MAX_FILE_MB)"
    r = reason(f"{server}/big-streamed", allow_private=True)
    assert r.startswith("file is over the 1 MB limit (PARTYBOT_MAX_FILE_MB)")
    assert len(fetch(f"{server}/big", allow_private=True, max_bytes=3 * MB).data) == len(BIG)


def test_unreachable_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    assert reason(f"http://127.0.0.1:{port}/x.pdf", allow_private=True).startswith("unreachable: ")


def test_unresolvable_host(monkeypatch):
    def fail(*a, **k):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    r = reason("https://no-such-host.invalid/doc.pdf")
    assert r.startswith("unreachable: cannot resolve host no-such-host.invalid")


def test_slow_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        port = listener.getsockname()[1]
        r = reason(f"http://127.0.0.1:{port}/slow.html", allow_private=True, timeout_s=0.3)
        assert r.startswith("unreachable: timed out")
    finally:
        listener.close()


@pytest.mark.parametrize("url, ctype, disposition, expected", [
    ("https://x.org/docs/rules", "text/html", None, "rules.html"),
    ("https://x.org/", "text/html", None, "x_org.html"),
    ("https://x.org/a.htm", "text/html", None, "a.htm"),
    ("https://x.org/README.md", "text/plain", None, "README.md"),
    ("https://x.org/notes", "text/markdown", None, "notes.md"),
    ("https://x.org/notes", "text/plain", None, "notes.txt"),
    ("https://x.org/get.php?id=1", "application/pdf", None, "get.pdf"),
    ("https://x.org/d/quy%20dinh", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     None, "quy_dinh.docx"),
    ("https://x.org/dl", "application/octet-stream", "attachment; filename*=UTF-8''%C4%90i%E1%BB%81u%20l%E1%BB%87.pdf",
     "Điều_lệ.pdf"),
    ("https://x.org/dl/report.pdf", "application/octet-stream", None, "report.pdf"),
    ("https://x.org/photo", "image/png", None, "photo.png"),
])
def test_filename_for(url, ctype, disposition, expected):
    assert filename_for(url, ctype, disposition) == expected


def test_unsupported_content_type_gives_a_clear_refusal_downstream(server):
    from ingest.worker import extract_isolated

    got = fetch(f"{server}/image", allow_private=True)
    with pytest.raises(IngestError, match=r"unsupported file type \.png"):
        extract_isolated(got.data, got.filename, max_bytes=MB, timeout_s=10)


def test_pipeline_ingests_urls(server, services, settings):
    from ingest.pipeline import ingest_one

    local = settings.model_copy(update={"allow_private_urls": True})
    ok = ingest_one(f"{server}/docs/members", services.index, local)
    assert ok.ok, ok.error
    assert ok.title == "Members"
    page = ingest_one(f"{server}/page.html", services.index, local)
    assert page.ok and page.title == "Điều lệ Đảng"
    missing = ingest_one(f"{server}/missing.pdf", services.index, local)
    assert missing.error == "HTTP 404 Not Found"
    refused = ingest_one(f"{server}/page.html", services.index, settings)  # private not allowed
    assert refused.error.startswith("refusing private or local address")
    docs = {d.source: d for d in services.catalog.documents()}
    assert set(docs) == {f"{server}/docs/members", f"{server}/page.html"}
    assert docs[f"{server}/docs/members"].kind == "pdf"
    assert docs[f"{server}/page.html"].kind == "html"


def test_credentials_in_a_url_are_used_to_fetch_and_kept_nowhere(server, tmp_path, monkeypatch, capsys):
    """`partybot ingest http://alice:S3cret@host/page.html` stored the URL with the password as
    the source: `docs list` and every citation showed it to members."""
    from partybot.cli import main

    monkeypatch.setenv("PARTYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
    monkeypatch.setenv("PARTYBOT_ALLOW_PRIVATE_URLS", "true")
    secret_url = server.replace("http://", "http://alice:S3cret@")
    assert main(["ingest", f"{secret_url}/private.html"]) == 0  # the server got the credentials
    assert main(["ingest", f"{secret_url}/missing.pdf#frag"]) == 1  # a failure is reported without them
    assert main(["docs", "list"]) == 0
    assert main(["ask", "Điều lệ Đảng", "--retrieval-only", "--json"]) == 0
    out, err = capsys.readouterr()
    assert f"{server}/private.html" in out and "HTTP 404" in err
    assert "S3cret" not in out + err and "alice" not in out + err
    stored = [f for f in (tmp_path / "data").rglob("*") if f.is_file()]
    assert stored and not [f for f in stored if b"S3cret" in f.read_bytes() or b"alice" in f.read_bytes()]
