"""One contract for the Chroma store, run against both ways the project opens Chroma.

- ``embedded``: ``chromadb.PersistentClient`` in a temporary folder (the default);
- ``server``: a real ``chroma run`` server on loopback, reached with ``chromadb.HttpClient``
  (``CHROMA_HOST``/``CHROMA_PORT``), started once per session.

Everything goes through the project's own classes (``Settings`` with the hashing embedder,
``partybot.compose.build``, ``Index``, ``HybridSearch``), so the same assertions prove that the write
path, the query path and reconciliation behave identically on both backends.
Run only the embedded half with ``-m "not server"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import prepare
from partybot.compose import build
from partybot.settings import Settings
from tests.conftest import REPO, SAMPLES, free_port

CHROMA_EXE = Path(sys.executable).parent / "chroma"
SERVER_START_TIMEOUT_S = 30.0


# -- the server ------------------------------------------------------------------------------


class ChromaServer:
    """A ``chroma run`` child process on 127.0.0.1 (started and stopped by the tests only)."""

    def __init__(self, path: Path, log_path: Path):
        self.path = path
        self.log_path = log_path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ChromaServer":
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA_EXE), "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"chroma server exited with {self.proc.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"chroma server did not answer /api/v2/heartbeat within "
                    f"{SERVER_START_TIMEOUT_S:.0f} s:\n{self._log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"


def _need_chroma_exe() -> None:
    if not CHROMA_EXE.exists():
        pytest.skip(f"the chroma executable is missing ({CHROMA_EXE}): cannot start a Chroma server")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    _need_chroma_exe()
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "db", root / "server.log").start()
    yield server
    server.stop()


# -- settings for one backend ----------------------------------------------------------------

BACKENDS = ["embedded", pytest.param("server", marks=pytest.mark.server)]


def _settings(data_dir: Path, server: ChromaServer | None, collection: str) -> Settings:
    extra = {"chroma_host": "127.0.0.1", "chroma_port": server.port} if server else {}
    return Settings(data_dir=data_dir, embedder="hash", chroma_collection=collection,
                    _env_file=None, **extra)


@pytest.fixture(params=BACKENDS)
def settings(request, tmp_path):
    """Overrides conftest's ``settings``, so conftest's ``services`` runs on each backend."""
    server = request.getfixturevalue("chroma_server") if request.param == "server" else None
    # A fresh collection per test: the server is shared by the whole session.
    return _settings(tmp_path / "data", server, f"t{uuid.uuid4().hex[:12]}")


def _sample(name_prefix: str) -> tuple[str, str]:
    path = next(SAMPLES.glob(f"{name_prefix}_*.txt"))
    return path.read_text(encoding="utf-8"), path.name


def _stored(services, **where) -> dict:
    return services.store.collection.get(include=["metadatas", "documents"], **where)


def _rows(got: dict) -> list[tuple]:
    return sorted(zip(got["ids"], got["documents"], (json.dumps(m, sort_keys=True) for m in got["metadatas"])))


# -- the contract ----------------------------------------------------------------------------


def test_backend_is_the_one_asked_for(settings, services):
    from chromadb.api.fastapi import FastAPI

    client = services.store.lc._client
    if settings.chroma_host:
        assert isinstance(client._server, FastAPI)  # the HTTP client
        assert not settings.chroma_path.exists()  # nothing written locally
    else:
        assert not isinstance(client._server, FastAPI)
        assert settings.chroma_path.is_dir() and any(settings.chroma_path.iterdir())


def test_upsert_and_query_return_ids_with_cosine_similarity(services):
    dim = services.embedder.dim
    e0, e1 = np.zeros(dim, np.float32), np.zeros(dim, np.float32)
    e0[0], e1[1] = 1.0, 1.0
    mid = (e0 + e1) / np.sqrt(2)
    vectors = np.stack([e0, e1, mid, -e0])
    ids = ["same", "orthogonal", "diagonal", "opposite"]
    services.store.upsert(ids, vectors, [f"text {i}" for i in ids], [{"doc_id": i} for i in ids])
    assert services.store.count() == 4
    assert sorted(services.store.ids()) == sorted(ids)

    hits = services.store.query(e0, k=4)
    assert [i for i, _ in hits] == ["same", "diagonal", "orthogonal", "opposite"]
    sims = dict(hits)
    assert sims["same"] == pytest.approx(1.0, abs=1e-4)
    assert sims["diagonal"] == pytest.approx(np.sqrt(0.5), abs=1e-4)
    assert sims["orthogonal"] == pytest.approx(0.0, abs=1e-4)
    assert sims["opposite"] == pytest.approx(-1.0, abs=1e-4)
    assert services.store.query(e0, k=0) == []
    assert [i for i, _ in services.store.query(e1, k=1)] == ["orthogonal"]

    # upsert overwrites in place: same id, new vector, still four items
    services.store.upsert(["opposite"], e0[None, :], ["now the same"], [{"doc_id": "opposite"}])
    assert services.store.count() == 4
    assert dict(services.store.query(e0, k=4))["opposite"] == pytest.approx(1.0, abs=1e-4)


def test_ingested_document_is_found_by_search(services):
    text, name = _sample("000")
    prepared = prepare(text, name)
    result = services.index.put(prepared)
    assert result.status == "added" and result.chunks == len(prepared.chunks) > 1
    assert result.embedded == result.chunks
    assert sorted(services.store.ids()) == sorted(c.chunk_id for c in prepared.chunks)
    meta = _stored(services, ids=[prepared.chunks[0].chunk_id])["metadatas"][0]
    assert meta["doc_id"] == prepared.doc.doc_id and meta["source"] == name and meta["ordinal"] == 0

    target = prepared.chunks[1]
    found = services.search.search(target.text[:300], k=3)
    assert found.passages[0].chunk_id == target.chunk_id
    assert found.passages[0].source == name and 0.5 < found.passages[0].dense <= 1.0001
    assert found.relevance == found.passages[0].dense


def test_reput_of_unchanged_document_embeds_and_changes_nothing(services):
    text, name = _sample("001")
    services.index.put(prepare(text, name))
    computed, generation = services.embedder.computed, services.catalog.generation()
    before = _stored(services)
    result = services.index.put(prepare(text, name))
    assert result.status == "unchanged" and result.embedded == 0
    assert services.embedder.computed == computed
    assert services.catalog.generation() == generation
    after = _stored(services)
    assert _rows(after) == _rows(before) and len(_rows(after)) == result.chunks


def test_changed_document_replaces_its_chunks(services):
    text, name = _sample("003")
    first = prepare(text, name)
    services.index.put(first)
    other = prepare(*_sample("004"))
    services.index.put(other)
    old_ids = [c.chunk_id for c in first.chunks]

    changed_text = text.rstrip() + "\n\nفقرة جديدة أضيفت في النسخة الثانية من الوثيقة حول تنظيم الحزب.\n"
    second = prepare(changed_text, name)
    result = services.index.put(second)
    assert result.status == "updated" and result.doc_id == first.doc.doc_id
    # Chunks whose text did not change come from the embedding cache.
    assert 0 < result.embedded < result.chunks

    new_ids = {c.chunk_id for c in second.chunks}
    assert not new_ids & set(old_ids)
    assert services.store.collection.get(ids=old_ids, include=[])["ids"] == []
    assert set(_stored(services, where={"doc_id": first.doc.doc_id})["ids"]) == new_ids
    assert services.store.count() == len(second.chunks) + len(other.chunks)
    assert set(services.catalog.chunk_ids(first.doc.doc_id)) == new_ids
    hits = services.search.search("فقرة جديدة أضيفت في النسخة الثانية", k=1).passages
    assert hits[0].chunk_id in new_ids and "النسخة الثانية" in hits[0].text


def test_remove_deletes_vectors_and_catalog_rows(services):
    kept, gone = prepare(*_sample("002")), prepare(*_sample("004"))
    services.index.put(kept)
    services.index.put(gone)
    assert services.index.remove(gone.doc.doc_id)
    assert not services.index.remove(gone.doc.doc_id)  # second time: nothing to remove
    assert services.catalog.get(gone.doc.doc_id) is None
    assert _stored(services, where={"doc_id": gone.doc.doc_id})["ids"] == []
    assert sorted(services.store.ids()) == sorted(c.chunk_id for c in kept.chunks)
    hits = services.search.search(gone.chunks[0].text[:300], k=10).passages
    assert hits and all(p.doc_id == kept.doc.doc_id for p in hits)


def test_reconcile_removes_orphans_of_an_interrupted_ingest(services, monkeypatch):
    live = prepare(*_sample("000"))
    services.index.put(live)
    doomed = prepare(*_sample("001"))

    # A crash after the vectors were written but before the catalog switched versions.
    def crash(*_a, **_k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(services.catalog, "replace", crash)
        with pytest.raises(KeyboardInterrupt):
            services.index.put(doomed)
    orphans = {c.chunk_id for c in doomed.chunks}
    assert orphans <= set(services.store.ids())
    # Queries ignore vectors that the catalog does not list ...
    hits = services.search.search(doomed.chunks[0].text[:300], k=10).passages
    assert hits and not {p.chunk_id for p in hits} & orphans
    # ... and reconcile deletes them, leaving exactly the live chunks.
    assert services.index.reconcile() == len(orphans)
    assert sorted(services.store.ids()) == sorted(c.chunk_id for c in live.chunks)
    assert services.index.reconcile() == 0
    # The interrupted document can be ingested again normally.
    assert services.index.put(doomed).status == "added"
    assert services.store.count() == len(live.chunks) + len(doomed.chunks)


_REOPEN = """
import json, sys
from partybot.compose import build
from partybot.settings import Settings
s = Settings()
svc = build(s)
hits = svc.search.search(sys.argv[1], k=1).passages
print(json.dumps({"host": s.chroma_host, "count": svc.store.count(), "docs": len(svc.catalog.documents()),
                  "top": hits[0].chunk_id if hits else None, "computed": svc.embedder.computed}))
svc.close()
"""


def test_persists_across_reopening_the_client(settings, services, tmp_path):
    prepared = prepare(*_sample("003"))
    services.index.put(prepared)
    count = services.store.count()
    services.close()

    # A fresh process (so no client or Chroma system cached in memory), configured the way a
    # deployment is: from the environment (PARTYBOT_*, CHROMA_HOST/CHROMA_PORT).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PARTYBOT_") and k not in ("CHROMA_HOST", "CHROMA_PORT")}
    env.update(PARTYBOT_DATA_DIR=str(settings.data_dir), PARTYBOT_EMBEDDER="hash",
               PARTYBOT_CHROMA_COLLECTION=settings.chroma_collection,
               PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    if settings.chroma_host:
        env.update(CHROMA_HOST=settings.chroma_host, CHROMA_PORT=str(settings.chroma_port))
    target = prepared.chunks[2]
    out = subprocess.run([sys.executable, "-c", _REOPEN, target.text[:300]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"host": settings.chroma_host, "count": count, "docs": 1, "top": target.chunk_id,
                   "computed": 0}


@pytest.mark.server
def test_server_keeps_data_across_a_restart(tmp_path):
    _need_chroma_exe()
    server = ChromaServer(tmp_path / "db", tmp_path / "server.log").start()
    try:
        s = _settings(tmp_path / "data", server, "restart")
        svc = build(s)
        prepared = prepare(*_sample("002"))
        svc.index.put(prepared)
        svc.close()
        server.stop()
        server.start()  # same path, same port
        svc = build(s)
        try:
            assert sorted(svc.store.ids()) == sorted(c.chunk_id for c in prepared.chunks)
            hits = svc.search.search(prepared.chunks[0].text[:300], k=1).passages
            assert hits[0].chunk_id == prepared.chunks[0].chunk_id
        finally:
            svc.close()
    finally:
        server.stop()


def test_telemetry_is_disabled_in_the_client(settings, monkeypatch):
    from vectorstore.store import make_client

    # Even where the environment asks for it, the project's client keeps telemetry off.
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "True")
    client = make_client(settings)
    assert client.get_settings().anonymized_telemetry is False


def test_no_default_embedding_function_fallback(services, monkeypatch):
    from chromadb.utils import embedding_functions

    from vectorstore.embeddings import LangChainEmbeddings

    # If anything fell back to Chroma's default model (which would download ONNX weights),
    # this fails loudly instead.
    def forbidden(*_a, **_k):
        raise AssertionError("Chroma's default embedding function was called")

    for name in ("DefaultEmbeddingFunction", "ONNXMiniLM_L6_V2"):
        cls = getattr(embedding_functions, name, None)
        if cls is not None:
            monkeypatch.setattr(cls, "__call__", forbidden)

    collection = services.store.collection
    assert collection._embedding_function is None
    assert (collection.configuration_json or {}).get("embedding_function") is None
    assert collection.metadata.get("hnsw:space") == "cosine"
    lc_embeddings = services.store.lc.embeddings
    assert isinstance(lc_embeddings, LangChainEmbeddings) and lc_embeddings.embedder is services.embedder

    prepared = prepare(*_sample("004"))
    services.index.put(prepared)
    # The stored vectors are the project's (precomputed, with the document's title), dim included.
    got = services.store.collection.get(ids=[c.chunk_id for c in prepared.chunks], include=["embeddings"])
    by_id = dict(zip(got["ids"], np.asarray(got["embeddings"])))
    expected = services.embedder.embed_documents([c.text for c in prepared.chunks],
                                                 [prepared.doc.title] * len(prepared.chunks))
    stored = np.stack([by_id[c.chunk_id] for c in prepared.chunks])
    assert stored.shape == (len(prepared.chunks), services.embedder.dim)
    np.testing.assert_allclose(stored, expected, atol=1e-5)

    # LangChain's own text query path embeds with the project's embedder too.
    docs = services.store.lc.similarity_search(prepared.chunks[1].text[:300], k=1)
    assert docs[0].id == prepared.chunks[1].chunk_id
    assert services.search.search(prepared.chunks[1].text[:300], k=1).passages[0].chunk_id == \
        prepared.chunks[1].chunk_id
