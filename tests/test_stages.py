"""Each stage of the answer path on its own: understand, retrieve, decide (with the topic gate),
compose, repair; and the rules registry that switches them."""

import numpy as np
import pytest

from answering import checks
from answering.decide import ABSTAIN_BELOW, Decide
from answering.generate import AUTO_CITE, CANONICAL_CODES, NUMBER_WORDS, TRIM_CUT, Generate
from answering.quote import QUOTE_NEXT_SENTENCE, quote_answer
from answering.retrieve import ASKED_ARTICLE, retrieve
from answering.topic_gate import TOPIC_GATE, TopicGate
from answering.types import Decision
from answering.understand import SEARCH_IN_WRITTEN_LANGUAGE, understand
from core.errors import ConfigError
from core.rules import Rules, registered
from partybot.cli import ingest_items
from retrieval.hybrid import Passage

REG = """QUY ĐỊNH 12-QĐ/TW VỀ SINH HOẠT CHI BỘ

Điều 1. Chi bộ sinh hoạt thường kỳ mỗi tháng một lần vào ngày 3.

Điều 2. Đảng viên vắng mặt phải báo cáo lý do với bí thư chi bộ trước buổi sinh hoạt.

Điều 3. Quy định này có hiệu lực từ ngày 5 tháng 3 năm 2021.
"""


@pytest.fixture
def regulation(settings, services, tmp_path):
    path = tmp_path / "qd12.txt"
    path.write_text(REG, encoding="utf-8")
    ingest_items([str(path)], settings, services, quiet=True)
    return services


def test_understand_reads_language_codes_articles_and_what_is_asked():
    q = understand("  Điều 2 của Quy định 12-QĐ/TW   có hiệu lực khi nào? ", None, Rules())
    assert q.text == "Điều 2 của Quy định 12-QĐ/TW có hiệu lực khi nào?"
    assert (q.lang, q.search_lang) == ("vi", "vi")
    assert [c.display for c in q.codes] == ["12-QĐ/TW"] and q.articles == {"2"} and q.expects == "date"
    assert "12" not in " ".join(q.content_terms)  # the code is the document, not a content word
    for text, kind in [("Who signed it?", "person"), ("Ai ký quy định này?", "person"), ("من هو أمين اللجنة؟", "person"),
                       ("How many members?", "number"), ("Có bao nhiêu đảng viên?", "number"), ("كم عدد الأعضاء؟", "number"),
                       ("متى صدرت اللائحة؟", "date"), ("Chi bộ họp mấy lần?", "number"),
                       ("May party members do business?", None), ("What does it say?", None)]:
        assert understand(text, None, Rules()).expects == kind, text


def test_a_chosen_reply_language_does_not_change_the_script_retrieval_reads():
    q = understand("كم عدد أعضاء الحزب؟", "vi", Rules())
    assert (q.lang, q.search_lang) == ("vi", "ar")
    off = understand("كم عدد أعضاء الحزب؟", "vi", Rules().without(SEARCH_IN_WRITTEN_LANGUAGE.name))
    assert off.search_lang == "vi"


def test_retrieve_puts_the_asked_article_first_and_says_which_chunks_are_it(regulation, settings):
    q = understand("Điều 3 của Quy định 12-QĐ/TW nói gì?", None, Rules())
    found = retrieve(q, regulation.search, k=8, rules=Rules())
    assert found.article_ids and "Điều 3." in found.passages[0].text
    assert found.passages[0].chunk_id in found.article_ids
    plain = retrieve(q, regulation.search, k=8, rules=Rules().without(ASKED_ARTICLE.name))
    assert not plain.article_ids


def _decide(search, settings, rules, *, gate=None):
    return Decide(search, gate or TopicGate(search.embedder), settings, local_model=False, can_generate=lambda: True)


def _decided(search, settings, text, rules):
    """understand, retrieve and decide for ``text``."""
    q = understand(text, None, rules)
    return _decide(search, settings, rules)(q, retrieve(q, search, k=8, rules=rules), rules)


def test_decide_refuses_an_article_the_document_does_not_have(regulation, settings):
    rules = Rules(settings)
    d = _decided(regulation.search, settings, "Điều 9 của Quy định 12-QĐ/TW nói gì?", rules)
    assert (d.action, d.why) == ("abstain", "no such article")
    d = _decided(regulation.search, settings, "Điều 2 của Quy định 12-QĐ/TW nói gì?", rules)
    assert d.action == "answer" and d.compose == "generate" and "Điều 2." in d.excerpts[0]


def test_decide_refuses_below_the_relevance_floor_unless_the_rule_is_off(regulation, settings):
    settings.abstain_below = 0.99  # nothing is that close
    rules = Rules(settings)
    question = "Chi bộ sinh hoạt mấy lần?"
    assert _decided(regulation.search, settings, question, rules).why == "low relevance"
    assert _decided(regulation.search, settings, question, rules.without(ABSTAIN_BELOW.name)).action == "answer"


def test_a_question_naming_a_code_the_index_holds_is_not_refused_for_low_relevance(regulation, settings):
    from answering.decide import NAMED_CODE_FOUND

    settings.abstain_below = 0.99
    rules = Rules(settings)
    question = "Quy định 12-QĐ/TW yêu cầu gì?"
    assert _decided(regulation.search, settings, question, rules).action == "answer"
    off = rules.without(NAMED_CODE_FOUND.name)
    assert _decided(regulation.search, settings, question, off).why == "low relevance"


class _TopicEmbedder:
    """Meaning by keyword: a text about the weather or football points one way, about the party
    another (the hashing fake has no meaning, so the gate is off with it)."""
    model_id = "keywords"

    def _vec(self, text: str):
        t = text.lower()
        v = np.array([("weather" in t or "rain" in t or "football" in t) * 1.0,
                      ("party" in t or "đảng" in t or "chi bộ" in t) * 1.0, 0.1], dtype=np.float32)
        return v / np.linalg.norm(v)

    def embed_documents(self, texts):
        return [self._vec(t) for t in texts]

    def embed_queries(self, texts):
        return [self._vec(t) for t in texts]


def test_the_topic_gate_refuses_what_the_bot_is_not_for_and_lets_the_rest_through():
    gate = TopicGate(_TopicEmbedder(), {"on_topic": ["party rules and party members"],
                                        "off_topic": ["the weather, football"]})

    class S:
        off_topic_margin = 0.12

    rules = Rules(S())
    assert gate.usable(rules)
    emb = _TopicEmbedder()
    assert gate.off_topic(emb.embed_queries(["Will it rain tomorrow?"])[0], rules)
    assert not gate.off_topic(emb.embed_queries(["How often does a party cell meet?"])[0], rules)
    assert not gate.usable(rules.without(TOPIC_GATE.name))  # off: margin 0, the gate does not run


def _passage(n, text, lang="vi"):
    return Passage(f"c{n}", f"d{n}", f"doc{n}.txt", f"Doc {n}", text, "", [], lang)


def test_a_quote_takes_the_best_sentence_and_the_one_that_explains_it():
    text = ("Chi bộ đã thử nhiều hình thức sinh hoạt mới trong năm qua. Đó là sinh hoạt chuyên đề, "
            "sinh hoạt ngoài trời và đối thoại với đoàn viên thanh niên. Báo cáo được gửi lên cấp trên.")
    q = understand("Chi bộ thử những hình thức sinh hoạt mới nào?", None, Rules())
    d = Decision("answer", compose="quote", sources=(_passage(1, text),), excerpts=(text,))
    on = quote_answer(q, d, Rules())
    assert "sinh hoạt chuyên đề" in on.text and on.used == (1,) and on.mode == "quote"
    off = quote_answer(q, d, Rules().without(QUOTE_NEXT_SENTENCE.name))
    assert "hình thức sinh hoạt mới" in off.text


def test_repairs_of_a_reply_before_it_is_checked():
    excerpt = "Quy định 37-QĐ/TW có 19 điều."
    d = Decision("answer", compose="generate", sources=(_passage(1, excerpt, "vi"),), excerpts=(excerpt,))
    gen = Generate(search=None, local_model=False)
    q = understand("How many articles does Regulation 37 have?", None, Rules())
    timings: dict = {}
    out = gen.repair(q, d, "answer", "QD 37 has nineteen articles [1]. It was", None, "length", Rules(), timings)
    assert out == "37-QĐ/TW has 19 articles [1]."  # cut at its sentence, digits, the code as the source writes it
    raw = gen.repair(q, d, "answer", "QD 37 has nineteen articles [1]. It was", None, "length",
                     Rules().without(TRIM_CUT.name, NUMBER_WORDS.name, CANONICAL_CODES.name, AUTO_CITE.name), timings)
    assert raw == "QD 37 has nineteen articles [1]. It was"
    assert checks.check(out, lang="en", evidence=[excerpt], question=q.text, n_sources=1) == []


def test_every_rule_says_why_and_where_and_unknown_names_are_refused():
    import answering.pipeline  # noqa: F401  (importing the answer path declares its rules)

    rules = registered()
    assert len(rules) >= 20 and len({r.name for r in rules}) == len(rules)
    assert all(r.reason and r.stage in {"retrieve", "understand", "decide", "compose", "repair", "check"}
               for r in rules)
    with pytest.raises(ConfigError, match="unknown rule"):
        Rules(off=["no-such-rule"])
    r = Rules().without("digest")
    assert not r.on(next(x for x in rules if x.name == "digest")) and r.on(rules[0])


def test_an_article_the_text_says_it_leaves_out_is_not_given(services, settings, tmp_path):
    from answering.retrieve import LEFT_OUT

    path = tmp_path / "tomtat.txt"
    path.write_text("QUY ĐỊNH 15-QĐ/TW VỀ KỶ LUẬT (tóm tắt)\n\nĐiều 1. Phạm vi áp dụng cho mọi đảng viên.\n\n"
                    "Điều 4, Điều 5 và Điều 6 không được tóm tắt trong tài liệu này.\n", encoding="utf-8")
    ingest_items([str(path)], settings, services, quiet=True)
    rules = Rules(settings)
    assert _decided(services.search, settings, "Điều 6 của Quy định 15-QĐ/TW nói gì?", rules).why == "no such article"
    assert _decided(services.search, settings, "Điều 1 của Quy định 15-QĐ/TW nói gì?", rules).action == "answer"
    off = _decided(services.search, settings, "Điều 6 của Quy định 15-QĐ/TW nói gì?", rules.without(LEFT_OUT.name))
    assert off.action == "answer"


def test_a_how_many_or_when_question_is_answered_only_from_sources_that_give_a_number_or_a_date(
        services, settings, tmp_path):
    from answering.decide import ASKED_KIND, gives

    assert gives("number", "Đảng bộ có 480 nghìn đảng viên") and gives("number", "خمسة كوادر")
    # a code, a date, an article label or a list item's number is not a count
    assert not gives("number", "Điều 2. Quy định số 69-QĐ/TW ngày 06/7/2022 áp dụng.\n1. Đảng viên")
    assert gives("date", "ban hành năm 2022") and not gives("date", "Đảng viên phải gương mẫu.")
    path = tmp_path / "guong-mau.txt"
    path.write_text("Đảng viên phải gương mẫu trong sinh hoạt chi bộ. Chi bộ nhắc nhở đảng viên vi phạm "
                    "và báo cáo cấp ủy cấp trên.", encoding="utf-8")
    ingest_items([str(path)], settings, services, quiet=True)
    rules = Rules(settings)
    assert gives("article", "Điều 51. Vi phạm về hôn nhân") and not gives("article", "Bổ sung quy định mới")
    for question in ("Chi bộ nhắc nhở bao nhiêu đảng viên vi phạm?", "Chi bộ nhắc nhở đảng viên vi phạm vào ngày nào?",
                     "Điều nào quy định việc chi bộ nhắc nhở đảng viên vi phạm?"):
        assert _decided(services.search, settings, question, rules).why == "asked kind not in sources"
        assert _decided(services.search, settings, question, rules.without(ASKED_KIND.name)).action == "answer"
    # "when" about a practice may be answered without a date ("each month", "after the meeting")
    for question in ("Chi bộ nhắc nhở ai?", "Chi bộ nhắc nhở đảng viên vi phạm khi nào?"):
        assert _decided(services.search, settings, question, rules).action == "answer"


def test_a_refusal_names_the_closest_documents_as_the_asker_can_read_them():
    from answering.quote import refusal

    en = Passage("c1", "d1", "news/reg144.md", "Politburo sets five standards", "…", "", [], "en", dense=0.5)
    ar = Passage("c2", "d2", "seeds/003_ee.txt", "003_ee.txt", "…", "", [], "ar", dense=0.5)
    codes = {"d1": "144-QĐ/TW", "d2": None}
    text = refusal("ar", (en, ar), Rules(), codes=codes)
    assert "144-QĐ/TW" in text and "Politburo" not in text and "003_ee" not in text
    assert "Politburo sets five standards" in refusal("en", (en, ar), Rules(), codes=codes)
