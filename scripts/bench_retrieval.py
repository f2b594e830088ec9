#!/usr/bin/env python
"""Retrieval benchmark: ingest throughput, warm query latency and peak memory.

(a) The sample corpus (data/samples) with the configured embedder (Settings() defaults, i.e.
    the real EmbeddingGemma model; ``--embedder hash`` for a quick run): cold ingest (a fresh
    data folder, so nothing comes from the embedding cache; the models folder is shared),
    then warm query latency over realistic vi/ar/en questions.
(b) N synthetic chunks (default 50,000) added on top of the samples, through the same write
    path as real documents (``Index.put``: embedding cache, Chroma upsert, catalog switch), with
    random unit vectors of the model's dimension standing in for document embeddings; then the
    same questions, embedded by the real query embedder (its time counts).

All numbers come from one process on this machine; peak RSS is ``ru_maxrss`` so far.

    .venv/bin/python scripts/bench_retrieval.py                    # real model, 50k synthetic
    .venv/bin/python scripts/bench_retrieval.py --embedder hash --synthetic 5000
    .venv/bin/python scripts/bench_retrieval.py --skip-synthetic --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

SAMPLES = REPO / "data" / "samples"

# Realistic questions (from the dev set), with the sample document that answers each one:
# diacritics and none, codes, colloquial Arabic, typos in English.
QUERIES: list[tuple[str, str, str | None]] = [
    ("vi", "Đảng bộ Hà Nội có bao nhiêu đảng bộ trực thuộc và bao nhiêu đảng viên?", "000_"),
    ("vi", "tu dau nhiem ky nganh to chuc tham muu trinh bao nhieu de an?", "001_"),
    ("vi", "quang binh gan 'bon khong' voi quy dinh nao vay, qd 37 a?", "003_"),
    ("vi", "Phương châm 'ba rõ' của Quảng Ninh gồm những gì?", "004_"),
    ("ar", "كم عدد أعضاء الحزب في لجنة الحزب بهانوي؟", "000_"),
    ("ar", "القرار 39-NQ/TW يتكلم عن ايش؟", "002_"),
    ("ar", "ما الأشكال الجديدة لأنشطة خلايا الحزب التي جربتها كوانغ بينه؟", "003_"),
    ("en", "What share of the country's party members are in Hanoi?", "000_"),
    ("en", "wat did the organisation sector do to get ready for the 14th party congres?", "001_"),
    ("en", "Which sectors of Quang Ninh's economy did well recently?", "004_"),
]


def peak_rss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


class OtherCpu:
    """Share of the machine's CPU time used by *other* processes since construction (Linux).

    Timings taken while something else keeps the cores busy are pessimistic (torch's OpenMP
    threads spin-wait for a busy core); the report says how busy the machine was.
    """

    def __init__(self):
        self.t0, self.busy0, self.own0 = time.monotonic(), self._busy(), self._own()

    @staticmethod
    def _busy() -> float | None:
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def share(self) -> float | None:
        busy = self._busy()
        if busy is None or self.busy0 is None:
            return None
        wall = (time.monotonic() - self.t0) * (os.cpu_count() or 1)
        other = (busy - self.busy0) - (self._own() - self.own0)
        return round(max(0.0, other / wall), 3) if wall > 0 else None


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


# -- queries ---------------------------------------------------------------------------------


def run_queries(search, rounds: int, k: int) -> dict:
    """A warm-up pass over QUERIES, excluded (the first question typed without diacritics
    loads pyvi's accent model, ~0.6 s; the lexical snapshot is already built), then ``rounds``
    passes, timed one by one."""
    meter = OtherCpu()
    warm: list[float] = []
    for _, question, _ in QUERIES:
        t = time.perf_counter()
        search.search(question, k=k)
        warm.append((time.perf_counter() - t) * 1000)
    totals: list[float] = []
    parts: dict[str, list[float]] = {"embed_ms": [], "dense_ms": [], "lexical_ms": [], "fuse_ms": []}
    hits = 0
    by_lang: dict[str, list[float]] = {}
    for _ in range(rounds):
        for lang, question, gold in QUERIES:
            t = time.perf_counter()
            result = search.search(question, k=k)
            ms = (time.perf_counter() - t) * 1000
            totals.append(ms)
            by_lang.setdefault(lang, []).append(ms)
            tm = result.timings
            parts["embed_ms"].append(tm["embed_ms"])
            parts["dense_ms"].append(tm["dense_ms"])
            parts["lexical_ms"].append(tm["lexical_ms"])
            parts["fuse_ms"].append(tm["total_ms"] - tm["embed_ms"] - tm["dense_ms"] - tm["lexical_ms"])
            if gold and result.passages and result.passages[0].source.startswith(gold):
                hits += 1
    n = len(totals)
    return {
        "queries": n,
        "first_call_ms": round(warm[0], 1),
        "warmup_max_ms": round(max(warm), 1),
        "p50_ms": round(pct(totals, 50), 1),
        "p95_ms": round(pct(totals, 95), 1),
        "mean_ms": round(statistics.fmean(totals), 1),
        "max_ms": round(max(totals), 1),
        "p50_by_lang_ms": {lang: round(pct(v, 50), 1) for lang, v in by_lang.items()},
        "p50_parts_ms": {name: round(pct(v, 50), 2) for name, v in parts.items()},
        "top1_sample_doc_hit_rate": round(hits / n, 3),
        "other_processes_cpu_share": meter.share(),
    }


# -- synthetic corpus --------------------------------------------------------------------------

_VI_WORDS = (
    "đảng viên tổ chức cơ sở đảng chi bộ đảng bộ tỉnh ủy thành ủy ban thường vụ bộ chính trị ban bí thư "
    "nghị quyết chỉ thị quy định kết luận hướng dẫn điều lệ kiểm tra giám sát kỷ luật cán bộ công chức "
    "nhiệm kỳ đại hội hội nghị trung ương lãnh đạo chỉ đạo thực hiện triển khai nâng cao chất lượng "
    "sinh hoạt phát triển kinh tế xã hội quốc phòng an ninh chuyển đổi số cải cách hành chính "
    "sáp nhập đơn vị hành chính cấp xã huyện biên giới đồn biên phòng nông thôn mới du lịch "
    "công tác tư tưởng dân vận mặt trận tổ quốc đoàn thanh niên hội phụ nữ cựu chiến binh "
    "trách nhiệm nêu gương đạo đức lối sống tham nhũng lãng phí tiêu cực đánh giá xếp loại "
    "năm tháng ngày kết quả nhiệm vụ giải pháp mục tiêu chỉ tiêu đề án chương trình kế hoạch"
).split()
_EN_WORDS = (
    "party member organisation committee provincial municipal grassroots cell secretary standing "
    "politburo secretariat resolution directive regulation conclusion guidance statute inspection "
    "supervision discipline cadre civil servant term congress conference central leadership "
    "implementation quality activity development economy society defence security digital "
    "transformation administrative reform merger commune district border guard rural tourism "
    "ideology mass mobilisation front youth union women veterans responsibility example ethics "
    "corruption waste assessment result task solution target project programme plan year month"
).split()
_NAMED_CODES = ["37-QĐ/TW", "105-QĐ/TW", "09-NQ/TU", "39-NQ/TW", "24-CT/TU", "28-NQ/TW", "67-KL/TU", "18-NQ/TW"]


def _code_pool(rng: np.random.Generator, n: int = 400) -> tuple[list[str], np.ndarray]:
    """``n`` distinct document codes with Zipf-like frequencies; the codes the questions name
    sit at ranks 5, 10, ..., 40 (cited often, but not in every document)."""
    pool: list[str] = []
    while len(pool) < n:
        code = (f"{int(rng.integers(1, 300))}-{rng.choice(['QĐ', 'NQ', 'CT', 'KL', 'HD'])}/"
                f"{rng.choice(['TW', 'TU', 'TƯ'])}")
        if code not in pool and code not in _NAMED_CODES:
            pool.append(code)
    for rank, code in enumerate(_NAMED_CODES, 1):
        pool.insert(5 * rank - 1, code)
    weights = 1.0 / np.arange(1, len(pool) + 1)
    return pool, weights / weights.sum()


def _arabic_words() -> list[str]:
    words: list[str] = []
    for f in sorted(SAMPLES.glob("*.txt")):
        words += [w for w in f.read_text(encoding="utf-8").split() if w.isalpha()]
    return sorted(set(words)) or ["الحزب"]


class SyntheticCorpus:
    """Documents of chunk-sized texts (~700 characters) made of sentences in vi, ar or en.

    Words are drawn Zipf-like from each language's vocabulary; some sentences name document
    codes. Sentences come from a pool whose lexical terms (``text.tokenize.terms``, the
    ingest tokeniser) are computed once, and a chunk's terms are its sentences' terms: the
    catalog rows look like real ones without tokenising 50,000 chunks with pyvi first.
    About one chunk in five names a code (3% of sentences).
    """

    LANG_SHARE = (("vi", 0.5), ("ar", 0.3), ("en", 0.2))

    def __init__(self, seed: int = 7, pool: int = 3000):
        from text.codes import find_codes
        from text.tokenize import terms

        self.rng = np.random.default_rng(seed)
        vocab = {"vi": _VI_WORDS, "ar": _arabic_words(), "en": _EN_WORDS}
        codes, code_weights = _code_pool(self.rng)
        self.sentences: dict[str, list[tuple[str, list[str], list[str]]]] = {}
        for lang, words in vocab.items():
            weights = 1.0 / np.arange(1, len(words) + 1) ** 0.9
            weights /= weights.sum()
            out = []
            for _ in range(pool):
                n = int(self.rng.integers(10, 22))
                text = " ".join(self.rng.choice(words, size=n, p=weights))
                if self.rng.random() < 0.03:
                    text += " " + str(self.rng.choice(codes, p=code_weights))
                if self.rng.random() < 0.2:
                    text += f" {int(self.rng.integers(2, 2000))}"
                text = text[0].upper() + text[1:] + "."
                out.append((text, terms(text), [c.key for c in find_codes(text)]))
            self.sentences[lang] = out

    def documents(self, total_chunks: int, per_doc: int):
        from vectorstore.catalog import ChunkRow, DocumentRow, now
        from vectorstore.index import Prepared

        langs = [lang for lang, _ in self.LANG_SHARE]
        shares = [share for _, share in self.LANG_SHARE]
        made, d = 0, 0
        while made < total_chunks:
            n = min(per_doc, total_chunks - made)
            lang = str(self.rng.choice(langs, p=shares))
            source = f"synthetic/{d:06d}-{lang}.txt"
            doc_id = hashlib.sha256(source.encode()).hexdigest()[:16]
            content_hash = hashlib.sha256(f"{source}|{n}".encode()).hexdigest()
            pool = self.sentences[lang]
            chunks, codes, pos = [], [], 0
            for ordinal in range(n):
                picked = [pool[i] for i in self.rng.integers(0, len(pool), size=int(self.rng.integers(5, 9)))]
                text = " ".join(s[0] for s in picked)
                chunk_codes = sorted({c for s in picked for c in s[2]})
                codes += chunk_codes
                chunks.append(ChunkRow(
                    hashlib.sha256(f"{doc_id}|{content_hash}|{ordinal}".encode()).hexdigest()[:32],
                    doc_id, ordinal, text, pos, pos + len(text), [f"¶{ordinal + 1}"], chunk_codes,
                    lang, " ".join(t for s in picked for t in s[1])))
                pos += len(text) + 2
            stamp = now()
            doc = DocumentRow(doc_id, source, f"Synthetic document {d}", lang, "txt", sorted(set(codes)),
                              [], content_hash, n, pos, stamp, stamp, {})
            yield Prepared(doc, chunks)
            made += n
            d += 1


class RandomEmbedder:
    """Stands in for the document embedder: random unit vectors of the real model's dimension."""

    def __init__(self, dim: int, seed: int = 11):
        self.dim = dim
        self.model_id = f"random-{dim}"
        self.rng = np.random.default_rng(seed)

    def embed_documents(self, texts, titles=None):
        v = self.rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_queries(self, texts):
        return self.embed_documents(texts)


# -- the two parts ---------------------------------------------------------------------------


def bench_samples(svc, rounds: int, k: int) -> dict:
    from ingest.pipeline import prepare

    files = sorted(SAMPLES.glob("*.txt"))
    prepare_s = put_s = 0.0
    chunks = embedded = 0
    with svc.index.writing("bench"):  # one writer lock for the batch, as `partybot ingest` holds it
        for f in files:
            t = time.perf_counter()
            prepared = prepare(f.read_text(encoding="utf-8"), f.name, target=svc.settings.chunk_target_chars,
                               maximum=svc.settings.chunk_max_chars)
            t1 = time.perf_counter()
            result = svc.index.put(prepared)
            t2 = time.perf_counter()
            prepare_s += t1 - t
            put_s += t2 - t1
            chunks += result.chunks
            embedded += result.embedded
    total = prepare_s + put_s
    t = time.perf_counter()
    svc.search.snapshot()
    snapshot_s = time.perf_counter() - t
    return {
        "documents": len(files),
        "chunks": chunks,
        "embedded": embedded,
        "ingest_s": round(total, 2),
        "prepare_s": round(prepare_s, 2),
        "put_s": round(put_s, 2),
        "ingest_chunks_per_s": round(chunks / total, 2) if total else None,
        "lexical_snapshot_s": round(snapshot_s, 3),
        "query": run_queries(svc.search, rounds, k),
        "peak_rss_mb": round(peak_rss_mb(), 0),
    }


def bench_synthetic(svc, n: int, per_doc: int, rounds: int, k: int, progress: bool) -> dict:
    from vectorstore.embeddings import CachedEmbedder
    from vectorstore.index import Index

    t = time.perf_counter()
    corpus = SyntheticCorpus()
    gen_pool_s = time.perf_counter() - t
    fake = CachedEmbedder(RandomEmbedder(svc.embedder.dim), svc.settings.data_dir / "synthetic-embeddings.sqlite3")
    # The same write path as real documents; only the document embedder differs.
    index = Index(svc.catalog, svc.store, fake)
    build_s = put_s = 0.0
    done = docs = 0
    it = corpus.documents(n, per_doc)
    last = time.perf_counter()
    with index.writing("bench"):  # one writer lock for the batch, as `partybot ingest` holds it
        while True:
            t = time.perf_counter()
            prepared = next(it, None)
            build_s += time.perf_counter() - t
            if prepared is None:
                break
            t = time.perf_counter()
            index.put(prepared)
            put_s += time.perf_counter() - t
            done += len(prepared.chunks)
            docs += 1
            if progress and time.perf_counter() - last > 10:
                last = time.perf_counter()
                print(f"  ... {done}/{n} chunks, {done / put_s:.0f} chunks/s", file=sys.stderr, flush=True)
    t = time.perf_counter()
    snap = svc.search.snapshot()  # what the first query after an ingest pays
    snapshot_s = time.perf_counter() - t
    return {
        "synthetic_chunks": done,
        "synthetic_documents": docs,
        "total_chunks": len(snap.chunks),
        "chroma_count": svc.store.count(),
        "dim": svc.embedder.dim,
        "sentence_pool_s": round(gen_pool_s, 2),
        "build_rows_s": round(build_s, 2),
        "insert_s": round(put_s, 2),
        "insert_chunks_per_s": round(done / put_s, 1) if put_s else None,
        "lexical_snapshot_s": round(snapshot_s, 2),
        "query": run_queries(svc.search, rounds, k),
        "peak_rss_mb": round(peak_rss_mb(), 0),
    }


def profile_queries(search, k: int, top: int = 25) -> str:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _, question, _ in QUERIES:
        search.search(question, k=k)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embedder", choices=["sentence-transformers", "hash"],
                   help="default: the configured one (Settings(); the real model)")
    p.add_argument("--synthetic", type=int, default=50_000, metavar="N", help="synthetic chunks (default 50000)")
    p.add_argument("--skip-synthetic", action="store_true")
    p.add_argument("--chunks-per-doc", type=int, default=50, help="synthetic chunks per document (default 50)")
    p.add_argument("--embed-threads", type=int, metavar="N",
                   help="torch threads for the embedder (default: PARTYBOT_EMBED_THREADS, 0 = torch's default)")
    p.add_argument("--rounds", type=int, default=3, help=f"passes over the {len(QUERIES)} questions (default 3)")
    p.add_argument("-k", type=int, default=5, help="passages per query (default 5)")
    p.add_argument("--work-dir", type=Path, help="where the temporary data folder goes (default: system temp)")
    p.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    p.add_argument("--profile", action="store_true", help="print a cProfile of one pass over the questions")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")

    from core.errors import PartybotError
    from partybot.compose import build
    from partybot.settings import Settings

    command = shlex.join([sys.executable, *sys.argv[:1], *argv])
    meter = OtherCpu()
    base = Settings()
    work = Path(tempfile.mkdtemp(prefix="partybot-bench-", dir=args.work_dir))
    settings = base.model_copy(update={
        "data_dir": work / "data",  # cold: no embedding cache, empty catalog and Chroma
        "models_dir": base.models_path.resolve(),  # the models are shared
        "embedder": args.embedder or base.embedder,
        "chroma_collection": f"bench{uuid.uuid4().hex[:8]}",  # never touches a real collection
        **({"embed_threads": args.embed_threads} if args.embed_threads is not None else {}),
    })
    import torch

    report: dict = {
        "command": command,
        "host": {"python": platform.python_version(), "cpus": os.cpu_count(),
                 "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
                 "machine": platform.machine(), "loadavg_start": _loadavg(),
                 "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                 "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "settings": {"embedder": settings.embedder, "embedding_model": settings.embedding_model,
                     "chroma": f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "embedded",
                     "embed_threads": settings.embed_threads, "candidates": settings.candidates, "k": args.k},
    }
    if not args.json:
        print(f"# command: {command}")
        print(f"# host: {report['host']}")
        print(f"# settings: {report['settings']}  data: {settings.data_dir}", flush=True)

    svc = None
    try:
        t = time.perf_counter()
        try:
            svc = build(settings)
        except PartybotError as exc:
            print(f"error: {exc}\n(for a quick run without the model: --embedder hash)", file=sys.stderr)
            return 2
        report["open_s"] = round(time.perf_counter() - t, 2)
        report["settings"]["model_id"] = svc.embedder.model_id
        report["settings"]["dim"] = svc.embedder.dim
        report["host"]["torch_threads"] = torch.get_num_threads()
        report["rss_after_open_mb"] = round(peak_rss_mb(), 0)
        if not args.json:
            print(f"\nopened services in {report['open_s']} s (model {svc.embedder.model_id}, dim {svc.embedder.dim},"
                  f" torch threads {torch.get_num_threads()}), peak RSS {report['rss_after_open_mb']:.0f} MB",
                  flush=True)

        s = report["samples"] = bench_samples(svc, args.rounds, args.k)
        if not args.json:
            q = s["query"]
            print(f"\n(a) samples: {s['documents']} documents, {s['chunks']} chunks ({s['embedded']} embedded)")
            print(f"    ingest (cold): {s['ingest_chunks_per_s']} chunks/s  ({s['ingest_s']} s: prepare "
                  f"{s['prepare_s']} s, embed+store {s['put_s']} s)")
            _print_query(q)
            print(f"    peak RSS: {s['peak_rss_mb']:.0f} MB", flush=True)
        if args.profile:
            report["samples_profile"] = profile_queries(svc.search, args.k)
            if not args.json:
                print(report["samples_profile"])

        if not args.skip_synthetic and args.synthetic > 0:
            if not args.json:
                print(f"\n(b) synthetic: inserting {args.synthetic} chunks ({args.chunks_per_doc}/document,"
                      f" random unit vectors, dim {svc.embedder.dim}) ...", flush=True)
            y = report["synthetic"] = bench_synthetic(svc, args.synthetic, args.chunks_per_doc, args.rounds,
                                                      args.k, progress=not args.json)
            if not args.json:
                print(f"    index: {y['total_chunks']} chunks in the catalog, {y['chroma_count']} in Chroma")
                print(f"    insert: {y['insert_chunks_per_s']} chunks/s ({y['insert_s']} s; rows built in "
                      f"{y['build_rows_s']} s, sentence pool {y['sentence_pool_s']} s)")
                print(f"    lexical snapshot rebuild (first query after an ingest): {y['lexical_snapshot_s']} s")
                _print_query(y["query"])
                print(f"    peak RSS: {y['peak_rss_mb']:.0f} MB", flush=True)
            if args.profile:
                report["synthetic_profile"] = profile_queries(svc.search, args.k)
                if not args.json:
                    print(report["synthetic_profile"])
    finally:
        if svc is not None:
            if settings.chroma_host:  # leave no benchmark collection on a shared server
                try:
                    svc.store.lc.delete_collection()
                except Exception:  # best effort
                    pass
            svc.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report["host"]["loadavg_end"] = _loadavg()
    report["host"]["other_processes_cpu_share"] = other = meter.share()
    if other is not None and other > 0.1:
        report["warning"] = (f"other processes used {other:.0%} of the machine's CPU during the run:"
                             " timings are pessimistic")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"\n# load average: start {report['host']['loadavg_start']}, end {report['host']['loadavg_end']};"
              f" other processes' CPU share during the run: {other}")
        if "warning" in report:
            print(f"# WARNING: {report['warning']}")
    return 0


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _print_query(q: dict) -> None:
    parts = ", ".join(f"{k.removesuffix('_ms')} {v}" for k, v in q["p50_parts_ms"].items())
    print(f"    warm query ({q['queries']} calls after a warm-up pass; warm-up: first call "
          f"{q['first_call_ms']} ms, slowest {q['warmup_max_ms']} ms):\n     "
          f"p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms, max {q['max_ms']} ms")
    print(f"      p50 by part (ms): {parts};  by language: {q['p50_by_lang_ms']}")
    print(f"      top-1 from the right sample document: {q['top1_sample_doc_hit_rate']:.0%};"
          f" other processes' CPU share meanwhile: {q['other_processes_cpu_share']}")


if __name__ == "__main__":
    sys.exit(main())
