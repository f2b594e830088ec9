"""The real path, as CI must prove it: EmbeddingGemma from `make models`, the sample corpus,
one question per language, and a second ingest that embeds nothing.

Marked `smoke` (run by `make test`) and `slow` (left out of a bare `pytest`).
"""

import json

import pytest

from conftest import REAL_MODELS_DIR, REPO, SAMPLES

pytestmark = [pytest.mark.smoke, pytest.mark.slow]

QUESTIONS = [  # (language, question, gold source) — from eval/project.jsonl
    ("vi", "Chỉ thị 24-CT/TU của Thành ủy Hà Nội nói về gì?", "000_4ddb1c029ae9f81a.txt"),
    ("ar", "ما هو القرار الذي أصدرته كوانغ نينه بشأن التحول الرقمي؟", "004_941d1d55c515185c.txt"),
    ("en", "By when does Quang Ninh aim for comprehensive digital transformation?", "004_941d1d55c515185c.txt"),
]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from partybot.models import is_installed
    from partybot.services import open_services
    from partybot.settings import Settings

    if not is_installed("embeddinggemma-300m", REAL_MODELS_DIR):
        pytest.fail(f"EmbeddingGemma is not in {REAL_MODELS_DIR}: run `make models` (make test does)")
    settings = Settings(data_dir=tmp_path_factory.mktemp("real"), models_dir=REAL_MODELS_DIR,
                        embedder="sentence-transformers", _env_file=None)
    svc = open_services(settings)
    yield settings, svc
    svc.close()


def test_ingest_samples_then_reingest_embeds_nothing(real):
    from partybot.cli import ingest_items

    settings, svc = real
    first = ingest_items([str(SAMPLES)], settings, svc, quiet=True)
    assert [o.error for o in first] == [None] * 5
    assert sum(o.result.embedded for o in first) == sum(o.result.chunks for o in first) > 20
    second = ingest_items([str(SAMPLES)], settings, svc, quiet=True)
    assert {o.result.status for o in second} == {"unchanged"}
    assert sum(o.result.embedded for o in second) == 0


@pytest.mark.parametrize("lang,question,gold", QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_one_question_per_language(real, lang, question, gold):
    settings, svc = real
    if not svc.catalog.documents():
        from partybot.cli import ingest_items

        ingest_items([str(SAMPLES)], settings, svc, quiet=True)
    result = svc.search.search(question, k=5)
    assert result.lang == lang
    assert gold in [p.source for p in result.passages[:3]], [p.source for p in result.passages]
    assert result.relevance > 0.3


def test_unrelated_question_scores_lower(real):
    settings, svc = real
    on_topic = svc.search.search(QUESTIONS[0][1], k=5).relevance
    off_topic = svc.search.search("Công thức nấu phở bò gồm những gì?", k=5).relevance
    assert off_topic < on_topic
