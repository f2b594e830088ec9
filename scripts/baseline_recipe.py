"""The usual recipe, measured the same way as partybot, for comparison (docs/answers.md).

1000-character split of each sample article, dense top-4 with the same embedding model, the
four chunks stuffed into one prompt with "cite like [1]", the same local model and settings.
Scored by partybot's own answer metrics; "abstained" is read from the usual refusal phrases.

    .venv/bin/python scripts/baseline_recipe.py ../shared/eval/dev.jsonl [--out PRED.jsonl]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from partybot.evaluation import answer_metrics, format_table, load_cases  # noqa: E402
from partybot.settings import SAMPLES_DIR, Settings  # noqa: E402

PROMPT = ("Answer the question using only the context below. Cite the sources you use like [1].\n\n"
          "Context:\n{context}\n\nQuestion: {question}\nAnswer:")
REFUSAL = re.compile(r"not (mentioned|provided|covered|found|available)|no information|does not (say|mention|contain)"
                     r"|cannot answer|không (có|đề cập|được đề cập)|لا (يوجد|تتضمن|يذكر|تذكر)|غير (مذكور|متوفر)", re.I)


def split(text: str, size: int = 1000) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--out")
    args = ap.parse_args()
    from partybot.backends import build_backend, build_embedder
    from answering.llm import resolve_chat

    settings = Settings()
    embedder = build_embedder(settings)
    chunks: list[tuple[str, str]] = []
    for path in sorted(SAMPLES_DIR.glob("*.txt")):
        chunks += [(path.name, c) for c in split(path.read_text(encoding="utf-8"))]
    vecs = np.asarray(embedder.embed_documents([c for _, c in chunks]), dtype=np.float32)
    backend = build_backend(settings)  # keep a reference: the local server lives as long as it
    chat = resolve_chat(backend)
    rows, preds, latencies = [], [], []
    for case in load_cases(Path(args.file)):
        t = time.perf_counter()
        qv = np.asarray(embedder.embed_queries([case.question])[0], dtype=np.float32)
        top = np.argsort(-(vecs @ qv))[:4]
        context = "\n\n".join(f"[{i}] {chunks[j][1]}" for i, j in enumerate(top, 1))
        text = chat.invoke(PROMPT.format(context=context, question=case.question)).content.strip()
        latencies.append(time.perf_counter() - t)
        cited = sorted({chunks[top[int(n) - 1]][0] for n in re.findall(r"\[(\d)\]", text) if 1 <= int(n) <= 4})
        pred = {"id": case.id, "answer": text, "abstained": not text or bool(REFUSAL.search(text)),
                "cited_docs": cited}
        preds.append(pred)
        rows.append((case, pred))
        print(f"{case.id}: {latencies[-1]:.1f} s", file=sys.stderr)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in preds), encoding="utf-8")
    cols = ["fact_recall", "citation_acc", "abstention_acc", "false_abstention", "language_ok", "readable"]
    print(format_table(answer_metrics(rows), cols))
    print(f"latency p50 {statistics.median(latencies):.2f} s; answers citing a source: "
          f"{sum(bool(p['cited_docs']) for p in preds)}/{len(preds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
