"""Lexical terms, BM25, the index's write path and hybrid search, on the hashing fake embedder."""

import threading
from pathlib import Path

import pytest

from ingest.pipeline import prepare
from retrieval.bm25 import BM25
from retrieval.retriever import PartyRetriever
from text.tokenize import terms
from tests.conftest import SAMPLES


def test_terms_fold_vietnamese_and_keep_compounds():
    t = terms("Đảng viên không được làm gì theo 37-QĐ/TW? 1.700 tổ chức")
    assert "dang_vien" in t and "1700" in t and "code:37-qd/tw" in t and "code:37-qd" in t
    q = terms("dang vien khong duoc lam gi", query=True)
    assert "dang_vien" in q  # typed without diacritics, the compound still matches


def test_terms_arabic_light_stemming_and_normalisation():
    assert terms("والمنظمات")[0] == terms("المنظمات")[0]
    assert terms("هانوى") == terms("هانوي")
    assert "لجن" in terms("لجنة")  # a word's own first letter is not a clitic


def test_bm25_ranks_matching_document_first():
    bm = BM25([["a", "b"], ["c", "d", "c"], ["e"]])
    assert bm.top(["c"], 3)[0][0] == 1
    assert bm.top(["zzz"], 3) == []


def _ingest_samples(services):
    for f in sorted(SAMPLES.glob("*.txt")):
        services.index.put(prepare(f.read_text(encoding="utf-8"), f.name))


def test_reingest_is_a_noop(services):
    _ingest_samples(services)
    computed = services.embedder.computed
    count = services.store.count()
    for f in sorted(SAMPLES.glob("*.txt")):
        r = services.index.put(prepare(f.read_text(encoding="utf-8"), f.name))
        assert r.status == "unchanged" and r.embedded == 0
    assert services.embedder.computed == computed
    assert services.store.count() == count


def test_new_pipeline_version_reindexes_the_same_text_from_the_embedding_cache(services, monkeypatch):
    import ingest.pipeline

    text = "تنفيذ القرار رقم 18 والقرار رقم 28 بشأن الجهاز."
    first = services.index.put(prepare(text, "doc.txt"))
    assert services.index.put(prepare(text, "doc.txt")).status == "unchanged"
    monkeypatch.setattr(ingest.pipeline, "PIPELINE_VERSION", ingest.pipeline.PIPELINE_VERSION + 1)
    again = services.index.put(prepare(text, "doc.txt"))
    assert (again.status, again.embedded) == ("updated", 0)  # the chunk text's vector is cached
    assert set(services.store.ids()) == set(services.catalog.chunk_ids(first.doc_id))
    assert services.catalog.get(first.doc_id).codes == ["18-nq", "18-qd", "28-nq", "28-qd"]


def test_changed_document_replaces_old_chunks(services):
    services.index.put(prepare("Điều 1. Nội dung cũ về tổ chức cơ sở đảng.", "doc.txt"))
    old_ids = set(services.catalog.chunk_ids(prepare("x", "doc.txt").doc.doc_id))
    r = services.index.put(prepare("Điều 1. Nội dung mới về kỷ luật đảng viên.", "doc.txt"))
    assert r.status == "updated"
    new_ids = set(services.catalog.chunk_ids(r.doc_id))
    assert not old_ids & new_ids
    assert set(services.store.ids()) == new_ids
    hits = services.search.search("kỷ luật đảng viên", k=3).passages
    assert all("mới" in p.text for p in hits)


def test_queries_never_see_both_or_neither_version_during_replacement(services):
    """Hammer search while a document flips between two versions."""
    services.index.put(prepare("Điều 1. Phiên bản B về sinh hoạt chi bộ.", "flip.txt"))
    stop = threading.Event()
    seen: list[set[str]] = []

    def writer():
        for i in range(15):
            services.index.put(prepare(f"Điều 1. Phiên bản {'AB'[i % 2]} về sinh hoạt chi bộ.", "flip.txt"))
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    while not stop.is_set():
        got = services.search.search("sinh hoạt chi bộ", k=5).passages
        seen.append({p.text for p in got if p.source == "flip.txt"})
    t.join()
    assert seen and all(len(s) == 1 for s in seen)


def test_remove_document(services):
    _ingest_samples(services)
    doc = services.catalog.find("000_4ddb1c029ae9f81a.txt")[0]
    assert services.index.remove(doc.doc_id)
    assert services.catalog.get(doc.doc_id) is None
    assert not any(p.doc_id == doc.doc_id for p in services.search.search("هانوي", k=10).passages)
    assert services.index.reconcile() == 0


def test_code_match_lifts_the_chunk_that_names_the_code(services):
    _ingest_samples(services)
    result = services.search.search("quang binh gan 'bon khong' voi quy dinh nao vay, qd 37 a?", k=5)
    assert result.codes == ["37-QĐ"]
    top = result.passages[0]
    assert top.code_match == 2 and "37-QĐ/TW" in top.codes and top.source.startswith("003_")


def test_passages_carry_source_locator_and_scores(services):
    _ingest_samples(services)
    result = services.search.search("كم عدد أعضاء الحزب في لجنة الحزب بهانوي؟", k=5)
    assert result.lang == "ar" and len(result.passages) == 5
    p = result.passages[0]
    assert p.source.endswith(".txt") and p.locator.startswith("¶") and 0 < p.dense <= 1
    assert result.relevance == max(x.dense for x in result.passages)
    assert [x.score for x in result.passages] == sorted((x.score for x in result.passages), reverse=True)


def test_langchain_retriever(services):
    _ingest_samples(services)
    retriever = PartyRetriever(search=services.search, k=3)
    docs = retriever.invoke("Quang Ninh tourism agriculture")
    assert len(docs) == 3 and docs[0].metadata["source"].endswith(".txt") and docs[0].id




def test_the_document_a_code_names_ranks_above_documents_that_mention_it(services):
    _ingest_samples(services)  # 003 mentions 37-QD/TW in one passage
    regulation = ("QUY ĐỊNH 37-QĐ/TW VỀ NHỮNG ĐIỀU ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM\n\n"
                  + "\n\n".join(f"Điều {k}. Điều cấm thứ {k} đối với đảng viên." for k in range(1, 6)))
    services.index.put(prepare(regulation, "qd37.txt"))
    result = services.search.search("ما الذي يحظر على أعضاء الحزب وفق اللائحة 37؟", k=6)
    # every article of the regulation, though only its first carries the code, and the one
    # passage that mentions it; no other passage of the Arabic articles
    top = [(p.source, p.code_match) for p in result.passages]
    assert sorted(top) == [("003_eeaed4cf06070700.txt", 2)] + [("qd37.txt", 2)] * 5


def test_a_document_in_the_official_layout_is_titled_by_its_type_and_subject():
    text = ("BAN CHẤP HÀNH TRUNG ƯƠNG\n*\nSố 37-QĐ/TW\n\nĐẢNG CỘNG SẢN VIỆT NAM\nHà Nội, ngày 25 tháng 10 năm 2021\n\n"
            "QUY ĐỊNH\nVỀ NHỮNG ĐIỀU ĐẢNG VIÊN\nKHÔNG ĐƯỢC LÀM\n\nĐiều 1. Nói, viết, làm trái Cương lĩnh chính trị.\n")
    doc = prepare(text, "qd37.pdf", title="Microsoft Word - QD37").doc
    assert doc.title == "QUY ĐỊNH VỀ NHỮNG ĐIỀU ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM"
    assert doc.meta["primary_codes"] == ["37-qd/tw"] and doc.meta["date"] == "2021-10-25"
    # a numbered section heading in capitals ends the subject; no type line: the first line
    assert prepare("NGHỊ QUYẾT\nVỀ PHÁT TRIỂN TỈNH\nI. TÌNH HÌNH\nNội dung.", "nq.txt").doc.title == \
        "NGHỊ QUYẾT VỀ PHÁT TRIỂN TỈNH"
    assert prepare("Hà Nội có 50 đảng bộ.\nNội dung.", "a.txt").doc.title == "Hà Nội có 50 đảng bộ."


def test_a_subject_in_sentence_case_opens_with_ve_and_the_signing_place_is_not_a_topic():
    text = ("BAN CHẤP HÀNH TRUNG ƯƠNG\nĐẢNG CỘNG SẢN VIỆT NAM\n\nSố 69-QĐ/TW\n\nHà Nội, ngày 06 tháng 7 năm 2022\n\n"
            "QUY ĐỊNH\nVề kỷ luật tổ chức đảng, đảng viên vi phạm\n\n*Bản tóm tắt.*\n\n"
            "Điều 1. Đảng viên ở Quảng Ninh và ở mọi nơi.\n")
    doc = prepare(text, "qd69.md").doc
    assert doc.title == "QUY ĐỊNH Về kỷ luật tổ chức đảng, đảng viên vi phạm"
    # "Hà Nội, ngày …" says where it was signed; the body names Quảng Ninh
    assert doc.meta["places"] == ["quang ninh"]
    assert prepare("Hà Nội có 50 đảng bộ.\nNội dung.", "a.txt").doc.meta["places"] == ["ha noi"]


def test_a_passage_is_also_scored_by_its_sentence_closest_to_the_question():
    import numpy as np

    from retrieval.hybrid import FusionWeights, HybridSearch, Passage

    q = np.array([1.0, 0.0], dtype=np.float32)
    close = "Đảng bộ Hà Nội có hơn 480 nghìn đảng viên."  # the answer, in a passage about much else
    vectors = {close: np.array([0.95, 0.31], dtype=np.float32)}

    class Cache:  # the embedding cache: the vectors embedded at ingest, nothing computed
        def cached(self, texts):
            return {t: vectors[t] for t in texts if t in vectors}

    search = object.__new__(HybridSearch)
    search.embedder, search.weights = Cache(), FusionWeights()
    general = Passage("a", "d1", "a.txt", None, "Công tác xây dựng Đảng được chú trọng trong nhiều năm qua.",
                      "", [], "vi", score=0.50, dense=0.50)
    mixed = Passage("b", "d2", "b.txt", None, f"Thành phố tổ chức nhiều hoạt động văn hóa. {close}",
                    "", [], "vi", score=0.45, dense=0.45)
    ranked = search._by_sentences([general, mixed], q)
    assert [p.chunk_id for p in ranked] == ["b", "a"]
    assert ranked[1].score == 0.50  # no sentence vector in the cache: the passage keeps its score


def test_texts_are_embedded_shortest_first_and_returned_in_their_own_order(tmp_path):
    """Batches of texts of about one length (little padding); the caller's order is kept."""
    from vectorstore.embeddings import CachedEmbedder, HashEmbedder

    class Recording(HashEmbedder):
        def __init__(self):
            super().__init__()
            self.batches = []

        def embed_documents(self, texts, titles=None):
            self.batches.append(list(texts))
            return super().embed_documents(texts, titles)

    inner = Recording()
    cache = CachedEmbedder(inner, tmp_path / "cache.sqlite3")
    texts = [("word " * n).strip() for n in (40, 3, 25, 1, 70) * 10]  # 50 texts, mixed lengths
    got = cache.embed_documents(texts)
    sent = [t for b in inner.batches for t in b]
    assert [len(t) for t in sent] == sorted(len(t) for t in texts)
    assert (got == HashEmbedder().embed_documents(texts)).all()
