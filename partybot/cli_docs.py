"""`partybot ingest` and `partybot docs list|remove|check`: the commands that change or inspect
what is indexed. Every write holds the data directory's writer lock for the whole command (see
``vectorstore.lock``): a second writer waits, saying who holds the lock, or with ``--no-wait``
fails at once. Names are printed with control characters escaped (``ingest.sources.shown``).
"""

from __future__ import annotations

import json
import sys

from partybot.settings import Settings


def progress_bar(total: int, desc: str, unit: str = "it"):
    from tqdm import tqdm

    from partybot.progress import shows_progress

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=not shows_progress(sys.stderr))


def services(settings: Settings, chat_backend=None):
    """The composed services (``partybot.compose.build``); a command closes them when done.
    ``chat_backend``: a ready LLM backend instead of the configured one."""
    from partybot.compose import build

    return build(settings, chat_backend=chat_backend)


def require_documents(services) -> None:
    """Questions against an empty index would all come back unanswered: say why instead."""
    settings = services.settings
    if not services.catalog.documents():
        from core.errors import PartybotError
        from partybot.settings import SAMPLES_DIR

        raise PartybotError(f"the index in {settings.data_dir} has no documents yet: run "
                            f"`partybot ingest {SAMPLES_DIR}` (or `make run` once) first")


def waiting_message(holder: str) -> None:
    print(f"waiting: {holder} is writing to this data directory (Ctrl-C to give up, or use --no-wait)",
          file=sys.stderr, flush=True)


def writing(svc, what: str, args=None, *, repair: bool = True):
    """The writer lock for a CLI command: wait with a message, or fail fast with --no-wait."""
    return svc.index.writing(what, wait=not getattr(args, "no_wait", False), on_wait=waiting_message, repair=repair)


def ingest_items(items: list[str], settings: Settings, svc=None, *, quiet: bool = False, args=None) -> list:
    """Ingest files, folders and URLs with ``svc`` (or services of its own, closed after)."""
    owned = svc is None
    svc = svc or services(settings)
    try:
        return _ingest(items, settings, svc, quiet=quiet, args=args)
    finally:
        if owned:
            svc.close()


def _ingest(items: list[str], settings: Settings, svc, *, quiet: bool, args) -> list:
    from ingest.pipeline import expand, ingest_one
    from ingest.sources import shown, source_for
    from vectorstore.faults import StorageError

    outcomes = []
    with writing(svc, "partybot ingest", args):
        todo = list(expand(items))
        bar = progress_bar(len(todo), "ingest", "doc")
        for item in todo:
            try:
                outcome = ingest_one(item, svc.index, settings)
            except StorageError:  # a full disk: stop here, say what was done, release the lock
                bar.close()
                done = sum(1 for o in outcomes if o.ok)
                print(f"stopped at {shown(source_for(item))}: {done} of {len(todo)} document(s) indexed "
                      "before it", file=sys.stderr)
                raise
            outcomes.append(outcome)
            bar.update(1)
            if quiet:
                continue
            if outcome.ok:
                r = outcome.result
                extra = f", {r.embedded} embedded" if r.status != "unchanged" else ""
                bar.write(f"{r.status:9} {shown(outcome.source)}  [{r.doc_id}] {r.chunks} chunks{extra}")
                if r.same_as:
                    bar.write(f"          same text as {', '.join(shown(s) for s in r.same_as)}: remove one "
                              "with `partybot docs remove NAME` if it is a copy", file=sys.stderr)
            else:
                bar.write(f"FAILED    {shown(outcome.source)}: {shown(outcome.error)}", file=sys.stderr)
        bar.close()
    return outcomes


def cmd_ingest(args, settings: Settings) -> int:
    outcomes = ingest_items(args.items, settings, args=args)
    failed = [o for o in outcomes if not o.ok]
    done = len(outcomes) - len(failed)
    print(f"{done} document(s) indexed, {sum(1 for o in outcomes if o.ok and o.result.status == 'unchanged')} "
          f"unchanged, {len(failed)} failed")
    return 1 if failed else 0


def cmd_docs_list(args, settings: Settings) -> int:
    from text.codes import parse_key
    from ingest.sources import shown
    from partybot.compose import open_catalog

    docs = open_catalog(settings).documents()
    if args.json:  # JSON escapes control characters itself
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        print("no documents yet: run `partybot ingest PATH`")
    for d in docs:
        codes = ", ".join(parse_key(k).display for k in d.meta.get("primary_codes", [])[:3])
        title = shown(d.title[:60]) if d.title else ""
        print(f"{d.doc_id}  {d.lang or '??'}  {d.n_chunks:4d} chunks  {shown(d.source)}  {title}"
              + (f"  [{codes}]" if codes else ""))
    return 0


def cmd_docs_show(args, settings: Settings) -> int:
    """What the documents say about one code (or, without a code, every code they name)."""
    from answering.validity import Cites, describe, label
    from ingest.sources import shown
    from retrieval.registry import record_dict, registry_of
    from text.codes import find_codes
    from partybot.compose import open_catalog

    registry = registry_of(open_catalog(settings))
    if not args.code:
        records = registry.all()
        if args.json:
            print(json.dumps([record_dict(r, registry) for r in records], ensure_ascii=False, indent=1))
            return 0
        if not records:
            print("no codes yet: run `partybot ingest PATH`")
        for r in records:
            status = registry.status(r)
            state = {"replaced": f"replaced by {status.current.display if status.current else '?'}",
                     "in_force_stated": "in force (as stated)", "disputed": "disputed",
                     "unknown": "status unknown"}[status.state]
            issued = r.issued()
            text = "text ingested" if r.own_text else f"mentioned in {len(r.mentioned_in)}"
            several = f"  (names {len(r.issue_years())} documents: {', '.join(r.issue_years())})" \
                if len(r.issue_years()) > 1 else ""
            print(f"{r.code.display:16} {state:26} {issued[0] if issued else '':10}  {text}{several}")
        return 0
    codes = find_codes(args.code)
    records = [rec for c in codes for rec in registry.find(c)]
    if not records:
        from answering.prompts import messages

        print(messages(args.lang)["validity"]["unknown_code"].format(code=shown(args.code)), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([record_dict(r, registry) for r in records], ensure_ascii=False, indent=1))
        return 0
    for rec in records:
        cites = Cites(_NoPassages())
        print(f"{label(rec.code, args.lang)}")
        for line in describe(rec, registry, args.lang, cites):
            print(f"  {line}")
        for n, (p, quote) in enumerate(zip(cites.passages, cites.quotes), 1):
            print(f"  [{n}] {shown(p.source)}: «{shown(quote)}»")
    return 0


class _NoPassages:
    """Citations by the facts' own sentences (the command loads no search)."""

    def passage(self, chunk_id: str):
        return None


def cmd_docs_remove(args, settings: Settings) -> int:
    from ingest.sources import is_url, redact_credentials, shown, strip_credentials

    # A URL is stored without its credentials, and they are never printed back.
    key = strip_credentials(args.id) if is_url(args.id.strip()) else args.id
    with services(settings) as svc, writing(svc, "partybot docs remove", args):
        matches = svc.catalog.find(key)
        if len(matches) != 1:
            which = "no document matches" if not matches else f"{len(matches)} documents match"
            print(f"{which} {shown(redact_credentials(key))!r}; give the id or the whole source as `partybot docs list` "
                  "shows them", file=sys.stderr)
            for d in matches[:10]:
                print(f"  {d.doc_id}  {shown(d.source)}", file=sys.stderr)
            return 1
        svc.index.remove(matches[0].doc_id)
    print(f"removed {matches[0].doc_id} ({shown(matches[0].source)})")
    return 0


def cmd_docs_check(args, settings: Settings) -> int:
    """Report whether the catalog and the vectors agree; with --repair, make them agree."""
    from ingest.sources import shown

    with services(settings) as svc:
        if args.repair:
            with writing(svc, "partybot docs check --repair", args, repair=False):
                found = svc.index.repair(force=args.force)
                after = svc.index.check()
        else:  # between writes: a write in progress would show its new vectors as orphans
            with writing(svc, "partybot docs check", args, repair=False):
                found = after = svc.index.check()
    print(f"{found.chunks} chunks in the catalog, {found.vectors} vectors in Chroma")
    print(f"orphan vectors (no catalog chunk; a crashed write left them): {len(found.orphans)}"
          + (" — removed" if args.repair and found.orphans else ""))
    print(f"chunks without a vector (found by words only): {len(found.missing)}"
          + (" — restored" if args.repair and found.missing else ""))
    for sources in found.duplicates:
        print(f"same text under {len(sources)} names: {', '.join(shown(s) for s in sources)}")
    if after.consistent:
        print("ok: the catalog and the vectors agree")
        return 0
    print("the catalog and the vectors disagree: run `partybot docs check --repair` "
          "(any ingest or removal also repairs first)", file=sys.stderr)
    return 1
