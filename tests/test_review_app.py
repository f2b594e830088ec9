"""The review web app through its HTTP interface (Starlette's test client, a real SQLite log
store): login and throttling, every route guarded, CSRF, filters, escaping, review, eval cases,
dashboard and exports."""

import csv
import importlib
import io
import json
import pkgutil
import re

import pytest
from fastapi.testclient import TestClient

from core.errors import ConfigError
from partybot.logstore import LogStore
import partybot.review as review_pkg
from partybot.review.app import ROUTERS, create_app
from partybot.settings import Settings
from tests import review_data

PASSWORD = "correct horse battery staple"


@pytest.fixture
def env(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", review_password=PASSWORD,
                        review_token="tok-123", review_eval_file=tmp_path / "eval" / "project.jsonl")
    settings.data_dir.mkdir(parents=True)
    store = LogStore(f"sqlite:///{tmp_path / 'logs.sqlite3'}")
    ids = review_data.seed(store)
    app = create_app(settings, store)
    yield settings, store, ids, app
    store.close()


def login(client: TestClient, password: str = PASSWORD, name: str = "Lan"):
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"csrf": csrf, "password": password, "name": name, "next": "/"},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def client(env):
    c = TestClient(env[3])
    assert login(c).status_code == 303
    return c


def test_the_app_refuses_to_start_without_a_password(tmp_path):
    with pytest.raises(ConfigError, match="REVIEW_PASSWORD"):
        create_app(Settings(_env_file=None, data_dir=tmp_path), LogStore(f"sqlite:///{tmp_path / 'l.db'}"))


def test_every_route_requires_a_login(env):
    app, ids = env[3], env[2]
    c = TestClient(app)
    # Every routes_* module's router is in ROUTERS; each of their routes is requested through the
    # app below (a router left out of the app would answer 404 there).
    modules = {m.name for m in pkgutil.iter_modules(review_pkg.__path__) if m.name.startswith("routes_")}
    assert sorted(id(importlib.import_module(f"partybot.review.{m}").router) for m in modules) == sorted(map(id, ROUTERS))
    routes = [r for router in ROUTERS for r in router.routes]
    assert {r.path for r in routes} >= {"/", "/turns/{turn_id}", "/dashboard", "/export.{fmt}", "/login", "/logout",
                                        "/turns/{turn_id}/review", "/turns/{turn_id}/eval-case"}
    for route in routes:
        if route.path == "/login":
            continue
        path = route.path.replace("{turn_id}", str(ids[0])).replace("{fmt}", "csv")
        for method in route.methods - {"HEAD"}:
            r = c.request(method, path, follow_redirects=False)
            assert r.status_code in (303, 401), (method, path, r.status_code)
            if method == "GET":
                assert r.headers["location"].startswith("/login?next=")
            assert "480" not in r.text
    # a forged or tampered cookie is no session
    c.cookies.set("partybot_review", "eyJhIjogdHJ1ZX0=.deadbeef")
    assert c.get("/", follow_redirects=False).status_code == 303


def test_login_failure_then_throttling_then_success(env):
    c = TestClient(env[3])
    r = login(c, "wrong")
    assert r.status_code == 401 and "Wrong password" in r.text
    for _ in range(4):
        login(c, "wrong")
    r = login(c)  # even the right password waits after five failures
    assert r.status_code == 429 and "Too many failed logins" in r.text
    c2 = TestClient(env[3], client=("10.0.0.9", 5000))  # another client is not affected
    assert login(c2).status_code == 303


def test_login_needs_the_forms_csrf_token_and_only_redirects_on_site(env):
    c = TestClient(env[3])
    c.get("/login")
    r = c.post("/login", data={"csrf": "forged", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "expired" in r.text
    page = c.get("/login?next=//evil.example/x")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "password": PASSWORD, "next": "//evil.example/x"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_bearer_token_reads_but_cannot_post(env):
    c = TestClient(env[3])
    r = c.get("/export.jsonl", headers={"Authorization": "Bearer tok-123"})
    assert r.status_code == 200 and len(r.text.splitlines()) == len(review_data.TURNS)
    assert c.get("/", headers={"Authorization": "Bearer nope"}, follow_redirects=False).status_code == 303
    r = c.post(f"/turns/{env[2][0]}/review", headers={"Authorization": "Bearer tok-123"},
               data={"verdict": "wrong"}, follow_redirects=False)
    assert r.status_code == 401


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(env, client):
    store, tid = env[1], env[2][0]
    for path, data in ((f"/turns/{tid}/review", {"verdict": "wrong"}),
                       (f"/turns/{tid}/eval-case", {"type": "factoid"}), ("/logout", {})):
        r = client.post(path, data=data | {"csrf": "x"}, follow_redirects=False)
        assert r.status_code == 403, path
    assert store.get_review(tid) is None
    assert client.get("/").status_code == 200  # still logged in


def test_security_headers(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert "httponly" in login(TestClient(client.app)).headers["set-cookie"].lower()


def ids_on(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<td><a href="/turns/(\d+)">', html)]


def test_filters(env, client):
    ids = env[2]
    by_time = [ids[1], ids[0], ids[2], ids[3], ids[4], ids[5]]  # newest first (review_data.TURNS' days)
    assert ids_on(client.get("/").text) == by_time
    assert ids_on(client.get("/?sort=old").text) == by_time[::-1]
    assert ids_on(client.get("/?feedback=down").text) == [ids[0], ids[2], ids[4]]
    assert ids_on(client.get("/?feedback=up").text) == [ids[1]]
    assert ids_on(client.get("/?lang=vi").text) == [ids[1], ids[5]]
    assert ids_on(client.get("/?abstained=yes").text) == [ids[3], ids[4]]
    assert ids_on(client.get("/?low=1").text) == [ids[3], ids[4], ids[5]]  # relevance < 0.35
    assert ids_on(client.get("/?q=480 NGHÌN".lower()).text) == [ids[1]]
    assert ids_on(client.get("/?q=weather").text) == [ids[3]]
    assert ids_on(client.get("/?q=100%25").text) == []  # % is a character, not a wildcard
    from datetime import date, timedelta

    today = date.today()
    two = (today - timedelta(days=2)).isoformat()
    assert ids_on(client.get(f"/?from={two}").text) == [ids[1], ids[0], ids[2], ids[3]]
    assert ids_on(client.get(f"/?to={two}").text) == [ids[3], ids[4], ids[5]]
    r = client.get("/?from=yesterday")
    assert r.status_code == 400 and "use YYYY-MM-DD" in r.text and len(ids_on(r.text)) == len(ids)
    client.post(f"/turns/{ids[0]}/review", data={"csrf": csrf_of(client.get("/").text), "verdict": "wrong"})
    assert ids[0] not in ids_on(client.get("/?unreviewed=1").text)
    assert ids_on(client.get("/?verdict=wrong").text) == [ids[0]]
    assert ids_on(client.get("/?feedback=down&lang=en&unreviewed=1").text) == [ids[4]]


def test_paging(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, review_password=PASSWORD)
    store = LogStore(f"sqlite:///{tmp_path / 'l.db'}")
    for i in range(120):
        store.log_turn(user_id=1, chat_id=1, chat_type="private", answer=review_data.answer(f"q{i}", "a", "en"))
    c = TestClient(create_app(settings, store))
    login(c)
    first = c.get("/")
    assert "Page 1 of 3" in first.text and len(ids_on(first.text)) == 50 and 'rel="prev"' not in first.text
    last = c.get("/?page=3")
    assert len(ids_on(last.text)) == 20 and 'rel="next"' not in last.text
    assert ids_on(c.get("/?page=2&lang=en").text) == list(range(70, 20, -1))
    store.close()


def test_stored_text_is_escaped_everywhere(env, client):
    xss_id = env[2][4]
    for page in (client.get("/").text, client.get(f"/turns/{xss_id}").text):
        assert "<script>window.__xss" not in page and "<img src=x" not in page
        assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in page


def test_detail_shows_citations_as_links_passages_scores_and_rtl(env, client):
    ar_id, vi_id = env[2][2], env[2][5]
    page = client.get(f"/turns/{ar_id}").text
    assert '<a class="cite" href="#cite-1">[1]</a>' in page
    assert 'id="cite-1"' in page and 'href="#passage-1"' in page and 'id="passage-1"' in page
    assert re.search(r'id="question" dir="rtl" lang="ar"', page)
    assert "0.800" in page and "local:qwen" in page and "answer.ar@2" in page and "👎" in page
    assert "wrong number" in page  # the feedback reason
    assert "<b>understand</b>" in page and "<b>check</b> purpose=answer" in page  # the stages the answer ran
    page = client.get(f"/turns/{vi_id}").text
    assert "[7]" in page and 'href="#cite-7"' not in page  # an invalid marker is not a link
    assert client.get("/turns/99999").status_code == 404


def test_review_is_saved_replaced_and_recorded_with_the_reviewer(env, client):
    store, tid = env[1], env[2][0]
    page = client.get(f"/turns/{tid}").text
    r = client.post(f"/turns/{tid}/review", data={"csrf": csrf_of(page), "verdict": "wrong", "note": "number off",
                                                  "corrected_answer": "More than 480,000 [1]."},
                    follow_redirects=False)
    assert r.status_code == 303
    rv = store.get_review(tid)
    assert rv["verdict"] == "wrong" and rv["note"] == "number off" and rv["reviewer"] == "Lan"
    client.post(f"/turns/{tid}/review", data={"csrf": csrf_of(page), "verdict": "correct"})
    assert store.get_review(tid)["verdict"] == "correct" and store.get_review(tid)["note"] is None
    r = client.post(f"/turns/{tid}/review", data={"csrf": csrf_of(page), "verdict": "maybe"})
    assert r.status_code == 400 and store.get_review(tid)["verdict"] == "correct"
    assert "Review saved." in client.get(f"/turns/{tid}?msg=review").text


def test_a_reviewed_turn_becomes_an_eval_case_once(env, client):
    settings, store, ids = env[0], env[1], env[2]
    tid = ids[0]
    page = client.get(f"/turns/{tid}").text
    assert 'id="eval-form"' not in page  # review first
    r = client.post(f"/turns/{tid}/eval-case", data={"csrf": csrf_of(page), "type": "factoid", "gold": "c1",
                                                     "facts": "480", "reference": "x"})
    assert r.status_code == 400 and "Review the turn" in r.text
    client.post(f"/turns/{tid}/review", data={"csrf": csrf_of(page), "verdict": "wrong",
                                              "corrected_answer": "Hanoi has more than 480,000 members (9%) [1]."})
    page = client.get(f"/turns/{tid}").text
    assert 'value="c1" checked' in page and 'value="480,000; 9%"' in page  # the draft
    bad = client.post(f"/turns/{tid}/eval-case", data={"csrf": csrf_of(page), "type": "factoid", "facts": "480",
                                                       "reference": "x"})
    assert bad.status_code == 400 and "tick at least one passage" in bad.text
    assert not settings.review_eval_file.exists()
    r = client.post(f"/turns/{tid}/eval-case", data={"csrf": csrf_of(page), "type": "factoid", "gold": ["c1"],
                                                     "facts": "480,000; 9%", "reference": "Hanoi has more than "
                                                     "480,000 members (9%)."}, follow_redirects=False)
    assert r.status_code == 303
    lines = settings.review_eval_file.read_text(encoding="utf-8").splitlines()
    case = json.loads(lines[0])
    assert case == {"id": f"rv-en-{tid:05d}", "lang": "en", "type": "factoid", "noisy": False,
                    "question": review_data.TURNS[0][0], "gold_docs": ["000_a.txt"],
                    "gold_spans": ["أكثر من 480 ألف عضو في الحزب"], "answer_facts": ["480,000", "9%"],
                    "reference_answer": "Hanoi has more than 480,000 members (9%).", "source_turn": tid}
    assert store.get_review(tid)["eval_case_id"] == case["id"]
    assert "Already added" in client.get(f"/turns/{tid}").text
    again = client.post(f"/turns/{tid}/eval-case", data={"csrf": csrf_of(page), "type": "unanswerable"})
    assert again.status_code == 400 and "already in" in again.text
    assert len(settings.review_eval_file.read_text(encoding="utf-8").splitlines()) == 1
    # should have abstained: an unanswerable case, no gold
    other = ids[2]
    client.post(f"/turns/{other}/review", data={"csrf": csrf_of(page), "verdict": "should_abstain"})
    assert 'value="unanswerable" selected' in client.get(f"/turns/{other}").text
    client.post(f"/turns/{other}/eval-case", data={"csrf": csrf_of(page), "type": "unanswerable", "reference": ""})
    case2 = json.loads(settings.review_eval_file.read_text(encoding="utf-8").splitlines()[1])
    assert case2["type"] == "unanswerable" and case2["gold_docs"] == [] and case2["answer_facts"] == []
    from partybot.evaluation import load_cases

    assert [c.id for c in load_cases(settings.review_eval_file)] == [case["id"], case2["id"]]


def test_exports_follow_the_filters_and_defuse_formulas(env, client):
    ids = env[2]
    r = client.get("/export.csv?feedback=down")
    assert r.headers["content-disposition"].startswith('attachment; filename="partybot-turns-')
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(x["id"]) for x in rows] == [ids[4], ids[2], ids[0]]  # oldest first
    assert {"verdict", "reviewed_at", "eval_case_id"} <= set(rows[0])
    lines = client.get("/export.jsonl?lang=ar").text.splitlines()
    assert [json.loads(x)["question"] for x in lines] == [review_data.TURNS[2][0]]
    assert client.get("/export.xml").status_code == 404
    store = env[1]
    store.log_turn(user_id=1, chat_id=1, chat_type="private",
                   answer=review_data.answer('=HYPERLINK("http://x","y")', "a", "en"))
    rows = list(csv.DictReader(io.StringIO(client.get("/export.csv?q=hyperlink").content.decode("utf-8-sig"))))
    assert rows[0]["question"].startswith("'=HYPERLINK")


def test_dashboard_draws_four_charts(client):
    page = client.get("/dashboard?days=30").text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
    for title in ("Questions per day", "Abstention rate per day", "Feedback by language",
                  "Answer time per day (seconds)"):
        assert f"<title>{title}</title>" in page
    assert "<strong>6</strong> questions" in page and "abstention rate <strong>33%</strong>" in page
    assert client.get("/dashboard?days=abc").status_code == 200


def test_logout_ends_the_session(client):
    page = client.get("/").text
    r = client.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_eval_spans_are_lines_holding_the_facts():
    from partybot.review.evalcase import spans_of

    text = "A first line, long enough.\nHanoi has 480 thousand members.\nThe longest line of this passage, by far."
    assert spans_of(text, ["480,000"]) == ["Hanoi has 480 thousand members."]
    assert spans_of(text, ["nothing"]) == ["The longest line of this passage, by far."]


def test_eval_spans_of_real_chunks_are_substrings_of_their_documents(services):
    """What the scoring rule needs: gold spans made from indexed chunks are document text (its
    display form, as ingested: NFC, tatweel removed)."""
    from text.normalize import clean_display
    from ingest.pipeline import prepare
    from partybot.review.evalcase import facts_in, spans_of
    from partybot.settings import SAMPLES_DIR

    docs = {f.name: f.read_text(encoding="utf-8") for f in sorted(SAMPLES_DIR.glob("*.txt"))}
    for name, text in docs.items():
        services.index.put(prepare(text, name))
    n = 0
    for hit in services.search.search("عدد أعضاء الحزب في هانوي", k=20).passages:
        for span in spans_of(hit.text, facts_in(hit.text)) + spans_of(hit.text, []):
            assert span in clean_display(docs[hit.source]), span[:60]
            n += 1
    assert n >= 20


def test_times_and_date_filters_follow_the_review_time_zone(tmp_path):
    from datetime import UTC, datetime

    from partybot import logstore

    settings = Settings(_env_file=None, data_dir=tmp_path, review_password=PASSWORD,
                        review_timezone="Asia/Ho_Chi_Minh")
    store = LogStore(f"sqlite:///{tmp_path / 'l.db'}")
    tid = store.log_turn(user_id=1, chat_id=1, chat_type="private", answer=review_data.answer("late", "a", "en"))
    with store.engine.begin() as conn:  # 20:00 UTC is 03:00 the next day in Hanoi (UTC+7)
        conn.execute(logstore.turns.update().values(created_at=datetime(2026, 1, 1, 20, 0, tzinfo=UTC)))
    c = TestClient(create_app(settings, store))
    login(c)
    assert ids_on(c.get("/?from=2026-01-02&to=2026-01-02").text) == [tid]
    assert ids_on(c.get("/?to=2026-01-01").text) == []
    assert "2026-01-02 03:00 +07" in c.get(f"/turns/{tid}").text
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(_env_file=None, review_timezone="Mars/Olympus")
    store.close()


# -- sessions end at logout and expire on the server ------------------------------------------------
def test_a_session_cookie_replayed_after_logout_is_refused(env, client):
    store, tid = env[1], env[2][0]
    old = client.cookies.get("partybot_review")
    page = client.get("/").text
    assert client.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False).status_code == 303
    replay = TestClient(env[3])  # someone who copied the cookie before the logout
    replay.cookies.set("partybot_review", old)
    for path in ("/", f"/turns/{tid}", "/dashboard", "/export.csv"):
        r = replay.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
        assert "480" not in r.text
    r = replay.post(f"/turns/{tid}/review", data={"csrf": csrf_of(page), "verdict": "wrong"}, follow_redirects=False)
    assert r.status_code == 401 and store.get_review(tid) is None
    assert 'name="password"' in replay.get("/login").text  # the login form, not a logged-in redirect


def test_sessions_expire_on_the_server_and_expired_ones_are_purged(env, client):
    from datetime import timedelta

    import sqlalchemy as sa

    from partybot import logstore

    store = env[1]

    def live_rows() -> int:
        with store.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(logstore.review_sessions)).scalar()

    assert live_rows() == 1
    with store.engine.begin() as conn:  # the session's time is up (its signed cookie says 12 h still)
        conn.execute(logstore.review_sessions.update().values(expires_at=logstore.now() - timedelta(seconds=1)))
    assert client.get("/", follow_redirects=False).status_code == 303
    other = TestClient(env[3])
    assert login(other).status_code == 303  # a login clears the expired rows away
    assert live_rows() == 1 and other.get("/").status_code == 200


# -- path parameters: a malformed or out-of-range id is no page ----------------------------------
BAD_IDS = ("99999999999999999999", str(2**63), str(2**31), "-1", "0", "abc", "1.5", "1e3", "+1", "01", "1_0",
           "%201", "%D9%A1", "9" * 5000)  # %D9%A1: an Arabic-Indic digit one


def test_malformed_or_out_of_range_ids_are_404_on_every_route(env):
    store = env[1]
    c = TestClient(env[3], raise_server_exceptions=False)
    login(c)
    csrf = csrf_of(c.get("/").text)
    for raw in BAD_IDS:
        for method, path in (("GET", f"/turns/{raw}"), ("POST", f"/turns/{raw}/review"),
                             ("POST", f"/turns/{raw}/eval-case")):
            r = c.request(method, path, data={"csrf": csrf, "verdict": "wrong", "type": "unanswerable"},
                          follow_redirects=False)
            assert r.status_code == 404, (method, path, r.status_code)
            assert "text/html" in r.headers["content-type"]
    for fmt in ("xml", "csv.csv", "CSV", "jsonl%00", "99999999999999999999"):
        assert c.get(f"/export.{fmt}").status_code == 404, fmt
    assert all(store.get_review(t) is None for t in env[2])
    assert c.get("/").status_code == 200  # and the connection carried on


# -- every response carries the security headers, errors and crashes included ---------------------
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy",
                    "cache-control")


def assert_secured(r, what: str) -> None:
    missing = [h for h in SECURITY_HEADERS if h not in r.headers]
    assert not missing, (what, r.status_code, missing)
    assert "default-src 'none'" in r.headers["content-security-policy"], what


def test_every_error_response_carries_the_security_headers(env, monkeypatch, caplog):
    app, store, tid = env[3], env[1], env[2][0]
    c = TestClient(app, raise_server_exceptions=False)
    login(c)
    stranger = TestClient(app, raise_server_exceptions=False)
    responses = {
        "no such route (404)": c.get("/nowhere"),
        "no such turn (404)": c.get("/turns/99999"),
        "malformed id (validation, 404)": c.get("/turns/abc"),
        "huge id (404)": c.get("/turns/99999999999999999999"),
        "wrong method (405)": c.put("/"),
        "bad CSRF token (403, exception handler)": c.post("/logout", data={"csrf": "x"}),
        "no login, GET (303, exception handler)": stranger.get("/", follow_redirects=False),
        "no login, POST (401, exception handler)": stranger.post("/logout"),
    }

    def broken(*_a, **_k):
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(store, "get_turn", broken)
    with caplog.at_level("ERROR", logger="partybot.review"):
        responses["unexpected exception (500)"] = crash = c.get(f"/turns/{tid}")
    for what, r in responses.items():
        assert_secured(r, what)
    assert crash.status_code == 500 and "on fire" not in crash.text and "Traceback" not in crash.text
    assert "the database is on fire" in caplog.text  # logged, with its traceback, for the operator


def test_an_error_does_not_reset_the_connection(env, monkeypatch):
    """Through a real server (uvicorn): after a request that failed, the next one on the same
    keep-alive connection is answered."""
    import http.client

    from tests.conftest import serving

    store, tid = env[1], env[2][0]
    with serving(env[3], log_level="critical") as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        auth = {"Authorization": "Bearer tok-123"}

        def get(path: str) -> int:
            conn.request("GET", path, headers=auth)
            r = conn.getresponse()
            r.read()
            assert all(r.getheader(h) for h in SECURITY_HEADERS), path
            return r.status

        assert get("/turns/99999999999999999999") == 404
        assert get("/") == 200
        monkeypatch.setattr(store, "get_turn", lambda *_a: 1 / 0)
        assert get(f"/turns/{tid}") == 500
        assert get("/dashboard") == 200  # same connection
        conn.close()
