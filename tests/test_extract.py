"""Text extraction (ingest.extract) and the bounded parsing worker (ingest.worker).

Real PDFs (fpdf2, pypdf for encryption) and .docx files (python-docx, zipfile) are made here.
"""

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from ingest import extract as extract_mod
from ingest.extract import Extracted, extract_bytes
from ingest.worker import extract_isolated, extract_path_isolated
from core.errors import IngestError

VI = "Điều 1. Đảng viên phải gương mẫu chấp hành nghị quyết của Đảng."
AR = "المادة الأولى: يلتزم العضو بالنظام الداخلي للحزب."
EN = "Article 1. Members shall comply with the regulations."
MB = 1024 * 1024

_FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
]


def unicode_font() -> str | None:
    return next((f for f in _FONT_CANDIDATES if Path(f).is_file()), None)


def make_pdf(lines: list[str], *, title: str | None = None, unicode: bool = False, pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if unicode:
        font = unicode_font()
        if font is None:
            pytest.skip("no Unicode TrueType font (DejaVuSans) on this machine")
        pdf.add_font("uni", fname=font)
        pdf.set_font("uni", size=12)
    else:
        pdf.set_font("helvetica", size=12)
    for _ in range(pages):
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_scanned_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a picture of text, no text layer
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, user: str, owner: str = "owner-secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user, owner)  # RC4-128: no extra crypto package needed
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(*, title: str | None = "Quy định về đảng viên") -> bytes:
    import docx

    d = docx.Document()
    if title:
        d.core_properties.title = title
    d.add_heading("Chương I. Quy định chung", level=1)
    d.add_paragraph(VI)
    d.add_paragraph("before the table")
    table = d.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "Mã"
    table.cell(0, 1).text = "Nội dung"
    table.cell(0, 2).text = "Ghi chú"
    table.cell(1, 0).text = "37-QĐ/TW"
    table.cell(1, 1).text = AR
    table.cell(1, 2).text = "x"
    merged = table.cell(2, 0).merge(table.cell(2, 2))
    merged.text = "merged row"
    d.add_heading("Chương II", level=2)
    d.add_paragraph("after the table")
    d.add_paragraph(EN)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def rezip(data: bytes, extra: dict[str, bytes] | None = None, drop: set[str] = frozenset()) -> bytes:
    """Copy a .docx's zip, dropping and adding members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in drop:
                dst.writestr(info, src.read(info.filename))
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


HTML = f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Điều lệ Đảng</title>
<style>body {{ color: red }}</style><script>var secret = "SCRIPT-TEXT";</script></head>
<body>
<header><nav><a href="/">Trang chủ</a> | <a href="/en">NAV-TEXT</a></nav></header>
<main><article>
<h1>Quy định 37-QĐ/TW</h1>
<p>{VI}<br>Dòng thứ hai.</p>
<div dir="rtl"><p>{AR}</p></div>
<ul><li>một</li><li>hai</li></ul>
<table><tr><th>Mã</th><th>Tên</th></tr><tr><td>37-QĐ/TW</td><td>Quy định</td></tr></table>
</article></main>
<footer>FOOTER-TEXT ©</footer>
<script>document.write("MORE-SCRIPT")</script>
</body></html>"""


def reason_of(data: bytes, name: str) -> str:
    with pytest.raises(IngestError) as info:
        extract_bytes(data, name)
    assert info.value.source == name
    assert "\n" not in info.value.reason
    return info.value.reason


# --- plain text and Markdown ------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_text_encodings_with_vietnamese_and_arabic(encoding):
    text = f"{VI}\n\n{AR}\n{EN}\n"
    got = extract_bytes(text.encode(encoding), "quy-dinh.txt")
    assert got == Extracted(text, None, "txt", {})


def test_markdown_title_and_kind():
    got = extract_bytes(f"# Quy định 37\n\n{VI}\n".encode(), "notes.MD")
    assert (got.kind, got.title) == ("md", "Quy định 37")
    front = extract_bytes(f"---\ntitle: \"Điều lệ\"\n---\n{AR}\n".encode(), "a.markdown")
    assert front.title == "Điều lệ" and AR in front.text


def test_text_that_is_not_utf8_is_refused_with_advice():
    assert "not UTF-8" in reason_of(VI.encode("cp1258", "replace"), "legacy.txt")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", "\ufeff  \n".encode("utf-8")])
@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html", "empty.pdf", "empty.docx"])
def test_empty_documents(data, name):
    assert reason_of(data, name).startswith("empty document")


def test_html_with_only_script_is_empty():
    reason = reason_of(b"<html><body><script>var a = 1;</script></body></html>", "app.html")
    assert reason.startswith("empty document") and "JavaScript" in reason


@pytest.mark.parametrize("name", ["junk.txt", "junk.md", "junk.html", "junk", "junk.pdf", "junk.docx"])
def test_binary_junk_is_refused(name):
    junk = bytes(range(256)) * 8
    reason = reason_of(junk, name)
    assert "binary" in reason or "corrupt" in reason


@pytest.mark.parametrize("data, what", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "legacy Word"),
])
def test_known_binary_formats_are_named(data, what):
    assert what in reason_of(data, "scan.txt")


def test_unsupported_extension_lists_the_supported_ones():
    reason = reason_of(b"hello", "notes.xyz")
    assert reason.startswith("unsupported file type .xyz (supported: ")
    assert ".pdf" in reason and ".docx" in reason


def test_no_extension_is_sniffed():
    assert extract_bytes(VI.encode(), "README").kind == "txt"
    assert extract_bytes(HTML.encode(), "index").kind == "html"


# --- PDF ---------------------------------------------------------------------------------------

def test_pdf_text_and_title():
    got = extract_bytes(make_pdf([EN, "Second line."], title="Member rules", pages=2), "rules.pdf")
    assert got.kind == "pdf" and got.title == "Member rules"
    assert got.text.count(EN) == 2 and got.meta["pages"] == 2


def test_pdf_vietnamese_and_arabic_survive():
    got = extract_bytes(make_pdf([VI, AR, EN], title="Điều lệ", unicode=True), "dieu-le.pdf")
    assert VI in got.text and EN in got.text
    assert got.title == "Điều lệ"
    # The Arabic line comes back in reading order (fpdf2 draws it in visual order).
    for word in ("المادة", "الأولى", "يلتزم", "العضو", "بالنظام", "الداخلي", "للحزب"):
        assert word in got.text, (word, got.text)


def test_pdf_in_logical_order_is_left_alone():
    assert extract_mod._fix_visual_rtl(AR) == AR
    assert extract_mod._fix_visual_rtl(AR[::-1]) == AR


def test_encrypted_pdf_is_refused():
    data = encrypt_pdf(make_pdf([EN]), user="s3cret")
    assert reason_of(data, "secret.pdf").startswith("encrypted PDF: ")


def test_pdf_with_only_an_owner_password_is_read():
    data = encrypt_pdf(make_pdf([EN]), user="")
    assert EN in extract_bytes(data, "restricted.pdf").text


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + bytes(range(256)) * 20,
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
])
def test_corrupt_pdf(data):
    assert reason_of(data, "broken.pdf").startswith("corrupt or unreadable PDF")


def test_truncated_pdf_is_refused_or_read_never_crashes():
    data = make_pdf([EN] * 30)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        try:
            extract_bytes(data[:cut], "cut.pdf")
        except IngestError as exc:
            assert "\n" not in exc.reason


def test_scanned_pdf_has_no_text_layer():
    assert reason_of(make_scanned_pdf(), "scan.pdf").startswith("no text layer (scanned PDF?)")


def test_content_overrides_a_wrong_extension():
    pdf = make_pdf([EN])
    assert extract_bytes(pdf, "really-a-pdf.txt").kind == "pdf"
    got = extract_bytes(make_docx(), "really-a-docx.html")
    assert got.kind == "docx" and got.meta["declared_kind"] == "html"
    assert extract_bytes(HTML.encode(), "page.txt").kind == "html"


def test_a_pdf_name_on_an_html_page_is_refused():
    reason = reason_of(HTML.encode(), "download.pdf")
    assert reason.startswith("corrupt or unreadable PDF") and "HTML" in reason


# --- DOCX --------------------------------------------------------------------------------------

def test_docx_paragraphs_tables_and_headings_in_body_order():
    got = extract_bytes(make_docx(), "quy-dinh.docx")
    assert got.kind == "docx" and got.title == "Quy định về đảng viên"
    text = got.text
    order = ["Chương I. Quy định chung", VI, "before the table", "Mã | Nội dung | Ghi chú",
             f"37-QĐ/TW | {AR} | x", "merged row", "Chương II", "after the table", EN]
    positions = [text.find(s) for s in order]
    assert -1 not in positions, (positions, text)
    assert positions == sorted(positions)
    assert "merged row | merged row" not in text
    assert "\nChương II\n" in text  # a heading is a line of its own
    assert got.meta["tables"] == 1


def test_docx_title_falls_back_to_first_heading():
    assert extract_bytes(make_docx(title=None), "x.docx").title == "Chương I. Quy định chung"


def test_docx_zip_bomb_ratio_is_refused_before_inflating():
    bomb = rezip(make_docx(), {"word/media/bomb.bin": b"\0" * (20 * MB)})
    assert len(bomb) < MB
    reason = reason_of(bomb, "bomb.docx")
    assert "zip bomb" in reason and "word/media/bomb.bin" in reason


def test_docx_zip_bomb_total_size_and_member_count(monkeypatch):
    data = make_docx()
    monkeypatch.setattr(extract_mod, "DOCX_MAX_TOTAL_BYTES", 1000)
    assert "unpacks to" in reason_of(data, "big.docx")
    monkeypatch.setattr(extract_mod, "DOCX_MAX_TOTAL_BYTES", 200 * MB)
    monkeypatch.setattr(extract_mod, "DOCX_MAX_MEMBERS", 3)
    assert "parts" in reason_of(data, "many.docx")


def test_corrupt_docx():
    assert reason_of(b"PK\x03\x04" + b"\x01" * 300, "broken.docx").startswith("corrupt .docx")
    assert reason_of(make_docx()[:-200], "cut.docx").startswith("corrupt .docx")
    assert "not a Word .docx" in reason_of(rezip(make_docx(), drop={"word/document.xml"}), "x.docx")
    assert reason_of(VI.encode(), "text.docx").startswith("corrupt .docx: not a zip archive")


def test_docx_with_broken_xml_is_refused():
    data = rezip(make_docx(), {"word/document2.xml": b""}, drop={"word/document.xml"})
    data = rezip(data, {"word/document.xml": b"<w:document><unclosed>"})
    assert reason_of(data, "badxml.docx").startswith("corrupt or unreadable .docx")


# --- HTML --------------------------------------------------------------------------------------

def test_html_keeps_content_and_structure_drops_chrome():
    got = extract_bytes(HTML.encode(), "page.html")
    assert got.kind == "html" and got.title == "Điều lệ Đảng"
    text = got.text
    for kept in ("Quy định 37-QĐ/TW", VI, "Dòng thứ hai.", AR, "Mã | Tên", "37-QĐ/TW | Quy định"):
        assert kept in text, (kept, text)
    for dropped in ("SCRIPT-TEXT", "MORE-SCRIPT", "NAV-TEXT", "FOOTER-TEXT", "color: red", "Trang chủ"):
        assert dropped not in text
    assert f"{VI}\nDòng thứ hai." in text  # <br> is a line break
    assert "một\nhai" in text  # list items are lines


def test_html_title_falls_back_to_h1_and_article_header_is_kept():
    page = "<html><body><article><header><h1>Chỉ thị 24</h1></header><p>Nội dung.</p></article></body></html>"
    got = extract_bytes(page.encode(), "a.htm")
    assert got.title == "Chỉ thị 24" and got.text.startswith("Chỉ thị 24")


def test_html_in_a_declared_legacy_charset():
    page = '<html><head><meta charset="windows-1258"><title>T</title></head><body><p>Café</p></body></html>'
    assert "Café" in extract_bytes(page.encode("cp1258"), "old.html").text


def test_deeply_nested_html_does_not_crash():
    page = "<html><body>" + "<div>" * 3000 + "deep" + "</div>" * 3000 + "</body></html>"
    assert extract_bytes(page.encode(), "deep.html").text == "deep"


# --- the bounded worker -----------------------------------------------------------------------

def test_worker_returns_the_same_as_in_process():
    for data, name in [(make_pdf([EN], title="T"), "a.pdf"), (make_docx(), "b.docx"),
                       (HTML.encode(), "c.html"), (f"{VI}\n{AR}".encode(), "d.txt")]:
        assert extract_isolated(data, name, max_bytes=10 * MB, timeout_s=30) == extract_bytes(data, name)


def test_ingest_error_reason_crosses_the_process_boundary():
    data = encrypt_pdf(make_pdf([EN]), user="s3cret")
    with pytest.raises(IngestError) as info:
        extract_isolated(data, "secret.pdf", max_bytes=10 * MB, timeout_s=30)
    assert info.value.source == "secret.pdf"
    assert info.value.reason == reason_of(data, "secret.pdf")
    bomb = rezip(make_docx(), {"word/media/bomb.bin": b"\0" * (20 * MB)})
    with pytest.raises(IngestError, match="zip bomb"):
        extract_isolated(bomb, "bomb.docx", max_bytes=10 * MB, timeout_s=30)


@pytest.fixture
def no_spawn(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a worker was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)


def test_oversize_is_refused_before_reading_or_spawning(tmp_path, no_spawn):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(3 * MB)  # sparse: stat says 3 MB
    with pytest.raises(IngestError) as info:
        extract_path_isolated(big, max_bytes=1 * MB, timeout_s=5)
    assert info.value.reason == "file is 3.0 MB, over the 1 MB limit (PARTYBOT_MAX_FILE_MB)"
    with pytest.raises(IngestError, match=r"over the 1 MB limit \(PARTYBOT_MAX_FILE_MB\)"):
        extract_isolated(b"x" * (MB + 1), "big.txt", max_bytes=MB, timeout_s=5)


def test_unsupported_type_is_refused_before_spawning(tmp_path, no_spawn):
    path = tmp_path / "notes.xyz"
    path.write_text("hello")
    with pytest.raises(IngestError, match=r": unsupported file type \.xyz"):
        extract_path_isolated(path, max_bytes=MB, timeout_s=5)
    with pytest.raises(IngestError, match="no such file"):
        extract_path_isolated(tmp_path / "missing.txt", max_bytes=MB, timeout_s=5)


def test_timeout_kills_the_child():
    import time

    start = time.monotonic()
    with pytest.raises(IngestError) as info:
        extract_isolated(b"hello", "slow.txt", max_bytes=MB, timeout_s=0.5, _test_hook="sleep:30")
    assert time.monotonic() - start < 5
    assert info.value.reason.startswith("parsing took longer than 0.5 s")


def test_out_of_memory_in_the_child_is_reported():
    with pytest.raises(IngestError, match="out of memory \\(limit 256 MB\\)"):
        extract_isolated(b"hello", "a.txt", max_bytes=MB, timeout_s=10, memory_mb=256, _test_hook="oom")


def test_child_crash_is_reported():
    with pytest.raises(IngestError, match=r": parser crashed \(SIGABRT\)"):
        extract_isolated(b"hello", "a.txt", max_bytes=MB, timeout_s=10, _test_hook="crash")


def test_library_printing_to_stdout_does_not_break_the_reply():
    got = extract_isolated(b"hello", "a.txt", max_bytes=MB, timeout_s=10, _test_hook="stdout")
    assert got.text == "hello"


def test_worker_does_not_import_heavy_modules():
    import json
    import sys

    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "ingest.worker", "--source", "a.pdf"],
                         input=make_pdf([EN]), capture_output=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert json.loads(run.stdout)["ok"] is True
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.decode().splitlines()
                if line.startswith("import time:")}
    assert "pypdf" in imported
    assert not imported & {"torch", "chromadb", "sentence_transformers", "numpy", "pydantic", "httpx"}


# --- end to end through the pipeline ----------------------------------------------------------

def test_pipeline_indexes_good_files_and_reports_bad_ones(tmp_path, services, settings):
    from ingest.pipeline import expand, ingest_one

    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "good.txt").write_text(f"Quy định 37-QĐ/TW\n\n{VI}\n", encoding="utf-8")
    (folder / "rules.docx").write_bytes(make_docx())
    (folder / "members.pdf").write_bytes(make_pdf([EN, "Second paragraph about discipline."], title="Members"))
    (folder / "page.html").write_bytes(HTML.encode())
    (folder / "secret.pdf").write_bytes(encrypt_pdf(make_pdf([EN]), user="s3cret"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.docx").write_bytes(bytes(range(256)) * 4)
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 4)

    outcomes = {Path(item).name: ingest_one(item, services.index, settings) for item in expand([str(folder)])}
    good = {"good.txt", "rules.docx", "members.pdf", "page.html"}
    bad = {"secret.pdf": "encrypted PDF", "empty.txt": "empty document", "junk.docx": "corrupt .docx",
           "junk.txt": "binary or unsupported content"}
    assert set(outcomes) == good | set(bad)
    for name in good:
        assert outcomes[name].ok, (name, outcomes[name].error)
    for name, start in bad.items():
        error = outcomes[name].error
        assert error and error.startswith(start) and "\n" not in error, (name, error)
    docs = {Path(d.source).name: d for d in services.catalog.documents()}
    assert set(docs) == good
    assert docs["rules.docx"].kind == "docx" and docs["rules.docx"].title == "Quy định về đảng viên"
    assert docs["members.pdf"].kind == "pdf" and docs["members.pdf"].title == "Members"
    assert docs["page.html"].kind == "html" and docs["page.html"].title == "Điều lệ Đảng"
    assert docs["good.txt"].kind == "txt"
