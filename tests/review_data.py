"""Logged turns for the review app's tests: three languages, feedback, an abstention, a low
score, a question carrying an XSS attempt, and turns spread over several days."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from partybot import logstore
from answering import Answer, Citation

XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss=2">'


def passage(n: int, source: str, text: str, lang: str = "ar", score: float = 0.8) -> dict:
    return {"chunk_id": f"c{n}", "doc_id": f"d{n}", "source": source, "title": f"Title {n}", "text": text,
            "locator": f"§{n}", "codes": ["37-QĐ/TW"] if n == 1 else [], "lang": lang, "score": score,
            "dense": score, "lexical": 0.1, "code_match": 0, "doc_date": None}


def answer(question: str, text: str, lang: str, *, abstained: bool = False, relevance: float = 0.7,
           total_ms: float = 1500.0) -> Answer:
    ps = [passage(1, "000_a.txt", "أكثر من 480 ألف عضو في الحزب"), passage(2, "001_b.txt", "نص آخر")]
    cites = [] if abstained else [Citation(1, "d1", "000_a.txt", "Title 1", ["37-QĐ/TW"], "§1",
                                           "أكثر من 480 ألف عضو", "c1")]
    return Answer(question, text, lang, abstained, not abstained, cites, ps, "local:qwen", f"answer.{lang}@2",
                  "abstain" if abstained else "llm", timings={"total_ms": total_ms}, relevance=relevance,
                  trace=[{"stage": "understand", "lang": lang}, {"stage": "decide", "action": "answer"},
                         {"stage": "check", "purpose": "answer", "problems": []}])


TURNS = [
    # (question, answer, lang, abstained, relevance, feedback, days ago, total_ms)
    ("How many party members does Hanoi have?", "More than 480,000 members [1].", "en", False, 0.71, -1, 0, 9000),
    ("Hà Nội có bao nhiêu đảng viên?", "Hơn 480 nghìn đảng viên [1].", "vi", False, 0.66, 1, 0, 12000),
    ("كم عدد أعضاء الحزب في هانوي؟", "أكثر من 480 ألف عضو [1].", "ar", False, 0.82, -1, 1, 300),
    ("What is the weather in Hanoi?", "The sources do not cover this.", "en", True, 0.12, None, 2, 150),
    (XSS, "Not in the sources.", "en", True, 0.20, -1, 3, 200),
    ("Chỉ thị 24 nói về gì?", "Chỉ thị 24-CT/TU về kỷ luật [1] [7].", "vi", False, 0.30, None, 10, 15000),
]


def seed(store: logstore.LogStore) -> list[int]:
    ids = []
    for q, a, lang, abst, rel, fb, days, ms in TURNS:
        tid = store.log_turn(user_id=42, chat_id=42, chat_type="private",
                             answer=answer(q, a, lang, abstained=abst, relevance=rel), total_ms=ms)
        if fb is not None:
            store.set_feedback(tid, fb, "wrong number" if fb == -1 else None)
        with store.engine.begin() as conn:
            conn.execute(logstore.turns.update().where(logstore.turns.c.id == tid)
                         .values(created_at=logstore.now() - timedelta(days=days)))
        ids.append(tid)
    return ids


def count_where(store: logstore.LogStore, **eq) -> int:
    with store.engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(logstore.turns)
        for k, v in eq.items():
            q = q.where(logstore.turns.c[k] == v)
        return conn.execute(q).scalar()
