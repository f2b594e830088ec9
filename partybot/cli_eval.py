"""`partybot eval` and `partybot eval-facts`: score question sets and the facts read at ingest
(``partybot.evaluation`` for the metrics, ``partybot.eval_runs`` for running and resuming)."""

from __future__ import annotations

import sys
from pathlib import Path

from partybot.cli_docs import require_documents, services as _services
from partybot.settings import Settings


def cmd_eval(args, settings: Settings) -> int:
    from partybot.evaluation import load_cases

    cases = [c for f in args.files for c in load_cases(Path(f))]
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        print(f"error: question ids repeat across {', '.join(args.files)}: "
              f"{', '.join(sorted({i for i in ids if ids.count(i) > 1})[:5])}", file=sys.stderr)
        return 2
    if args.resume and not args.out:
        print("error: --resume continues the predictions file given by --out; name it", file=sys.stderr)
        return 2
    if args.jobs > 1 and not args.retrieval_only:
        print("error: --jobs runs retrieval-only evaluations in parallel; the answer path runs one question "
              "at a time (add --retrieval-only, or leave --jobs out)", file=sys.stderr)
        return 2
    chat_backend = None
    if args.reference_replies:
        from partybot.reference import reference_backend

        try:
            chat_backend = reference_backend(cases)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.reply_cache:
        from langchain_core.globals import set_llm_cache

        from partybot.reply_cache import SQLiteReplyCache

        set_llm_cache(SQLiteReplyCache(Path(args.reply_cache)))
    with _services(settings, chat_backend=chat_backend) as services:
        require_documents(services)
        if args.ablate:
            return _ablate(args, cases, services)
        report = _run_eval(args, cases, services)
    _print_eval(args, cases, report)
    return 0


def _run_eval(args, cases, services) -> dict:
    from partybot.eval_runs import Predictions, run_answer_eval, run_retrieval_eval
    from partybot.progress import Progress

    out = Path(args.out) if args.out else None
    done = len(Predictions.peek(out, cases)) if args.resume else 0
    if done:
        print(f"resuming: {done} of {len(cases)} questions already in {args.out}", file=sys.stderr)
    bar = Progress(len(cases), "eval", "q", done=done)
    try:
        if args.retrieval_only:
            return run_retrieval_eval(cases, lambda q, k: services.search.search(q, k=k), k=args.k, out=out,
                                      progress=bar.update, resume=args.resume, jobs=args.jobs)
        answerer = services.answerer
        return run_answer_eval(cases, lambda q: answerer.answer(q), out=out, progress=bar.update,
                               resume=args.resume)
    finally:
        bar.close()


def _print_eval(args, cases, report: dict) -> None:
    from partybot.evaluation import format_table

    print(f"retrieval over {len(cases)} questions ({sum(1 for c in cases if c.answerable)} answerable):")
    print(format_table(report["retrieval"], ["n", "hit@1", "hit@3", "hit@5", "mrr@10"]))
    if not args.retrieval_only:
        print(f"\nanswers ({report['model']}):")
        print(format_table(report["answers"], ["n", "fact_recall", "citation_acc", "abstention_acc",
                                               "false_abstention", "language_ok", "readable", "wrong_facts"]))
        lat = report["latency"]
        print(f"\nend-to-end latency p50 {lat['p50_ms'] / 1000:.2f} s, p95 {lat['p95_ms'] / 1000:.2f} s; "
              f"modes: {', '.join(f'{k} {v}' for k, v in sorted(report['modes'].items()))}")
    if args.out:
        resumed = f" ({report['resumed']} kept from the stopped run)" if report.get("resumed") else ""
        print(f"predictions written to {args.out}{resumed}")


def cmd_eval_facts(args, settings: Settings) -> int:
    """The relations and issue dates read at ingest against those the documents state."""
    from partybot.facts_eval import evaluate, registry_from_files, report
    from retrieval.registry import registry_of
    from partybot.compose import open_catalog

    try:
        registry = (registry_from_files([Path(d) for d in args.docs]) if args.docs
                    else registry_of(open_catalog(settings)))
        result = evaluate(registry, [Path(f) for f in args.relations], [Path(f) for f in args.codes or []])
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(result, details=args.details))
    return 0


def _ablate(args, cases, services) -> int:
    from core.rules import registered
    from partybot.ablation import ablate, table

    answerer = services.answerer  # (importing the answer path declares its rules)
    known = {r.name: r for r in registered()}
    names = [n for n in (args.rules or "").split(",") if n] or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"error: unknown rule(s) {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    print(f"ablation over {len(cases)} questions: all rules on, then {len(names)} rule(s) off one at a time",
          file=sys.stderr)
    result = ablate(cases, answerer, rules=[known[n] for n in names],
                    out=Path(args.out) if args.out else None,
                    progress=lambda what: print(f"  run: {what}", file=sys.stderr, flush=True))
    print("What each rule adds (all rules on minus that rule off; ar/vi/en; for false abstention and wrong facts, "
          "the drop; positive = the rule helps):\n")
    print(table(result))
    return 0


def add_parsers(sub) -> None:
    e = sub.add_parser("eval", help="score JSONL question sets (one corpus, several files)")
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--retrieval-only", action="store_true", help="score retrieval only (no LLM)")
    e.add_argument("--ablate", action="store_true",
                   help="run once with every rule on, then once with each rule off; print what each is worth")
    e.add_argument("--rules", help="with --ablate: only these rules (comma-separated names)")
    e.add_argument("--reference-replies", action="store_true",
                   help="replace every reply of the model by the question's reference answer (what the "
                        "same pipeline scores with a perfect model: the model's part)")
    e.add_argument("--reply-cache", metavar="FILE",
                   help="keep the model's replies in this SQLite file and reuse them for the same prompt "
                        "(a rerun asks the model only what a change made new)")
    e.add_argument("--out", help="write one prediction per line here, as each is made (with --ablate: the "
                                 "JSON report)")
    e.add_argument("--resume", action="store_true",
                   help="continue a stopped run: keep the predictions already in --out, answer the rest")
    e.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="with --retrieval-only: N questions at a time")
    e.add_argument("-k", type=int, default=10)
    e.set_defaults(func=cmd_eval)

    f = sub.add_parser("eval-facts", help="score the relations and issue dates read at ingest against gold files")
    f.add_argument("relations", nargs="+", metavar="RELATIONS.jsonl")
    f.add_argument("--codes", nargs="*", metavar="CODES.jsonl", help="gold issue dates")
    f.add_argument("--details", action="store_true", help="list every wrong or missed relation and date")
    f.add_argument("--docs", nargs="*", metavar="FOLDER",
                   help="read these folders' .md/.txt files as ingest would, instead of the index (no model)")
    f.set_defaults(func=cmd_eval_facts)
