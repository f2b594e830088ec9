"""The review app's registry pages (``partybot.review.routes_registry``): every document code the
indexed documents name with its status, and one code's facts, evidence and relations, read from
the data directory's catalog (no embedding model)."""

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from partybot.cli_docs import ingest_items
from partybot.compose import build
from partybot.settings import Settings
from tests.test_review_app import assert_secured, client, env, login  # noqa: F401 (fixtures)

FIXTURES = Path(__file__).parent / "fixtures" / "validity"


def ingest(env, *names: str) -> None:
    settings = Settings(_env_file=None, data_dir=env[0].data_dir, embedder="hash")
    svc = build(settings)
    try:
        ingest_items([str(FIXTURES / n) for n in names] or [str(FIXTURES)], settings, svc, quiet=True)
    finally:
        svc.close()


def url(code: str) -> str:
    return "/registry/" + quote(code, safe="")


def row_of(html: str, code: str) -> str:
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if f'href="{url(code)}">{code}</a></td>' in r]
    assert len(rows) == 1, code
    return rows[0]


def test_the_list_shows_every_code_with_its_status(env, client):
    r = client.get("/registry")  # nothing indexed yet, and the page creates no catalog
    assert r.status_code == 200 and "No codes yet" in r.text and not env[0].catalog_path.exists()
    assert '<a href="/registry" class="here">Registry</a>' in r.text
    ingest(env, "reg22_news_en.md")
    assert "22-QĐ/TW" in client.get("/registry").text and "47-QĐ/TW" not in client.get("/registry").text
    ingest(env)  # the catalog changed: the registry is read again
    html = client.get("/registry").text
    row = row_of(html, "47-QĐ/TW")
    assert "replaced" in row and f'<a href="{url("37-QĐ/TW")}">37-QĐ/TW</a>' in row
    assert "2011-11-01" in row and "mentioned in 1 document<" in row and "central" in row and "Regulation" in row
    assert "in force as stated" in row_of(html, "37-QĐ/TW") and "text ingested" in row_of(html, "37-QĐ/TW")
    assert f'<a href="{url("22-QĐ/TW")}">22-QĐ/TW</a>' in row_of(html, "30-QĐ/TW")
    assert "unknown" in row_of(html, "35-CT/TW") and "mentioned in 2 documents" in row_of(html, "35-CT/TW")


def test_a_codes_page_shows_each_fact_with_its_evidence_and_the_relations_both_ways(env, client):
    ingest(env)
    r = client.get(url("47-QĐ/TW"))
    assert r.status_code == 200
    status = re.search(r'<p id="status">(.*?)</p>', r.text, re.S).group(1)
    assert "replaced" in status and f'<a href="{url("37-QĐ/TW")}">37-QĐ/TW</a>' in status
    facts = re.search(r'<table id="facts">(.*?)</table>', r.text, re.S).group(1)
    assert "2011-11-01" in facts and "qd37_official_vi.md" in facts and "official" in facts
    relations = re.search(r'<table id="relations">(.*?)</table>', r.text, re.S).group(1)
    assert "replaced by" in relations and f'<a href="{url("37-QĐ/TW")}">37-QĐ/TW</a>' in relations
    assert "Quy định này có hiệu lực kể từ ngày ký, thay thế Quy định số 47-QĐ/TW" in relations
    assert re.search(r"<td>0\.\d\d</td>", relations)
    # the other direction, from 37-QĐ/TW's page; the code written in other ways finds the same page
    for written in ("37-QĐ/TW", "37/QĐ-TW", "QĐ 37", "37-qd/tw"):
        page = client.get(url(written)).text
        relations = re.search(r'<table id="relations">(.*?)</table>', page, re.S).group(1)
        assert "<td>replaces</td>" in relations and f'<a href="{url("47-QĐ/TW")}">47-QĐ/TW</a>' in relations, written
        assert "QUY ĐỊNH VỀ NHỮNG ĐIỀU ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM" in page  # its own text is indexed
    assert client.get("/registry/37-QĐ/TW").status_code == 200  # the slash left unencoded
    page = client.get(url("22-QĐ/TW")).text
    assert "guided or implemented by" in page and f'href="{url("02-HD/TW")}"' in page
    assert "in force as stated" in page and "28 July 2021" in page


def test_an_unknown_code_is_a_404_page(env, client):
    ingest(env, "qd37_official_vi.md")
    for path in (url("999-QĐ/TW"), "/registry/hello", url("<script>x</script>")):
        r = client.get(path)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"], path
        assert 'class="error"' in r.text and "<script>x" not in r.text
        assert_secured(r, path)


def test_the_registry_needs_a_login(env):
    ingest(env, "qd37_official_vi.md")
    c = TestClient(env[3])
    for path in ("/registry", url("37-QĐ/TW"), url("999-QĐ/TW")):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
        assert "47-QĐ/TW" not in r.text
    r = c.get("/registry", headers={"Authorization": "Bearer tok-123"})
    assert r.status_code == 200 and "37-QĐ/TW" in r.text
    login(c)
    assert "47-QĐ/TW" in c.get("/registry").text
