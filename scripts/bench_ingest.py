#!/usr/bin/env python
"""Ingest throughput with the real embedder: chunks per second, cold and warm, and peak memory.

The documents are the project's own (the samples and the development and held-out documents),
written again as often as needed to reach ``--chunks`` (each copy marked, so no copy's text is
another's and nothing comes from the embedding cache by accident). They are ingested through the
real path (``partybot ingest``'s: extraction in a worker, chunking, each chunk's and each
sentence's vector, Chroma, the catalog) into a fresh data folder:

- cold: an empty embedding cache, so every chunk and sentence is embedded;
- warm: another fresh data folder given the cold run's embedding cache (a re-ingest after a
  change of chunking or a restore: nothing is embedded again).

    .venv/bin/python scripts/bench_ingest.py --chunks 1000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

SOURCES = [REPO / "data" / "samples", *sorted((REPO / "eval").glob("*/*/docs")), REPO.parent / "shared" / "eval" / "v2" / "docs"]


def corpus(folder: Path, chunks: int) -> int:
    """Write copies of the project's documents into ``folder`` until about ``chunks`` chunks."""
    from ingest.pipeline import prepare

    docs = [p for src in SOURCES if src.is_dir() for p in sorted(src.iterdir()) if p.suffix in (".txt", ".md")]
    per_doc = {p: len(prepare(p.read_text(encoding="utf-8"), p.name).chunks) for p in docs}
    total, copy = 0, 0
    while total < chunks:
        for p in docs:
            if total >= chunks:
                break
            text = p.read_text(encoding="utf-8")
            marked = "\n".join(f"{line} ({copy})" if line.strip() and not line.startswith("#") else line
                               for line in text.splitlines())
            (folder / f"c{copy:03d}-{p.name}").write_text(marked, encoding="utf-8")
            total += per_doc[p]
        copy += 1
    return total


def ingest(data: Path, docs: Path) -> dict:
    from partybot.cli_docs import ingest_items
    from partybot.compose import build
    from partybot.settings import Settings

    settings = Settings(data_dir=data, models_dir=REPO / "var" / "models", _env_file=None)
    app = build(settings)
    try:
        t = time.perf_counter()  # the model is already loaded (build loads it)
        results = ingest_items([str(docs)], settings, app, quiet=True)
        seconds = time.perf_counter() - t
        chunks = sum(d.n_chunks for d in app.catalog.documents())
        return {"documents": len(results), "chunks": chunks, "seconds": round(seconds, 1),
                "chunks_per_s": round(chunks / seconds, 2), "embedded": app.embedder.computed}
    finally:
        app.close()


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(own / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        tmp = Path(tmp)
        (tmp / "docs").mkdir()
        corpus(tmp / "docs", args.chunks)
        cold = ingest(tmp / "cold", tmp / "docs")
        (tmp / "warm").mkdir()
        for suffix in ("", "-wal"):  # the cache with what its write-ahead log still holds
            if (tmp / "cold" / f"embeddings.sqlite3{suffix}").exists():
                shutil.copy2(tmp / "cold" / f"embeddings.sqlite3{suffix}", tmp / "warm" / f"embeddings.sqlite3{suffix}")
        warm = ingest(tmp / "warm", tmp / "docs")
    out = {"cold": cold, "warm": warm, "peak_rss_mb": peak_rss_mb(),
           "cpus": os.cpu_count(), "load": list(os.getloadavg())}
    if args.json:
        print(json.dumps(out))
    else:
        for name in ("cold", "warm"):
            r = out[name]
            print(f"{name}: {r['chunks']} chunks of {r['documents']} documents in {r['seconds']} s: "
                  f"{r['chunks_per_s']} chunks/s ({r['embedded']} texts embedded)")
        print(f"peak RSS {out['peak_rss_mb']} MB; load {out['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
