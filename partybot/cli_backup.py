"""`partybot backup PATH` and `partybot restore PATH` (see ``vectorstore.backup``)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from partybot.cli_docs import services, waiting_message, writing
from partybot.settings import Settings


def _logs_file(settings: Settings) -> Path | None:
    """The conversation logs' SQLite file, or None when they live in a database server."""
    return None if settings.database_url else settings.data_dir / "logs.sqlite3"


def cmd_backup(args, settings: Settings) -> int:
    from vectorstore.backup import write_backup

    with services(settings) as svc, writing(svc, "partybot backup", args, repair=False):
        summary = write_backup(svc, Path(args.path), logs=_logs_file(settings), cache=not args.no_cache)
    print(f"backed up {summary.documents} document(s), {summary.chunks} chunks, {summary.vectors} vectors "
          f"(generation {summary.generation}) to {summary.path}: {', '.join(summary.files)}")
    if settings.database_url:
        print("note: the conversation logs are in the database at DATABASE_URL: back them up with its own "
              "tools (pg_dump)", file=sys.stderr)
    return 0


def _generation(path: Path) -> int:
    """The live catalog's generation, or 0 when it cannot be read."""
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT value FROM state WHERE key='generation'").fetchone()[0])
        finally:
            db.close()
    except (sqlite3.Error, TypeError, ValueError):
        return 0


def _open_moving_damaged_vectors(settings: Settings):
    """The services; a damaged embedded Chroma is moved aside first (the backup replaces it)."""
    from partybot.compose import build
    from vectorstore.faults import Damaged

    try:
        return build(settings)
    except Damaged:
        if settings.chroma_host or not settings.chroma_path.exists():
            raise
        aside = settings.chroma_path.with_name(f"chroma.damaged-{int(time.time())}")
        os.replace(settings.chroma_path, aside)
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # the failed open stays cached for its path
        print(f"the vector index was damaged: moved to {aside}", file=sys.stderr)
        return build(settings)


def cmd_restore(args, settings: Settings) -> int:
    from vectorstore.backup import CACHE, CATALOG, LOGS, VECTORS, import_vectors, read_manifest, restore_sqlite
    from vectorstore.lock import WriterLock

    src = Path(args.path)
    manifest = read_manifest(src)  # every file checked before anything changes
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with WriterLock(settings.data_dir).hold("partybot restore", wait=not args.no_wait, on_wait=waiting_message):
        before = _generation(settings.catalog_path)
        restore_sqlite(src / CATALOG, settings.catalog_path)
        if (src / CACHE).exists():
            restore_sqlite(src / CACHE, settings.data_dir / "embeddings.sqlite3")
        logs = _logs_file(settings)
        if args.logs and logs is not None and (src / LOGS).exists():
            restore_sqlite(src / LOGS, logs)
        with _open_moving_damaged_vectors(settings) as svc:
            if svc.embedder.model_id != manifest["embedder"]:
                print(f"warning: the backup's vectors are of {manifest['embedder']}, this data directory uses "
                      f"{svc.embedder.model_id}: run `partybot docs check --repair --force` to embed them "
                      "again", file=sys.stderr)
            vectors = import_vectors(svc.store, src / VECTORS)
            generation = svc.catalog.advance_generation(max(before, manifest["generation"]))
            health = svc.index.check()
    print(f"restored {manifest['documents']} document(s), {manifest['chunks']} chunks, {vectors} vectors from "
          f"{src} (written {manifest['created']}); generation {generation}")
    if not health.consistent:
        print("the catalog and the vectors disagree: run `partybot docs check --repair`", file=sys.stderr)
        return 1
    if args.logs and logs is None:
        print("note: the conversation logs are in the database at DATABASE_URL: restore them with its own "
              "tools", file=sys.stderr)
    return 0


def add_parsers(sub, no_wait) -> None:
    b = sub.add_parser("backup", parents=[no_wait],
                       help="copy the catalog, vectors, embedding cache and logs to a new folder (the bot may run)")
    b.add_argument("path", metavar="PATH", help="a new folder")
    b.add_argument("--no-cache", action="store_true", help="leave the embedding cache out (smaller; a repair "
                                                           "after restoring embeds again)")
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", parents=[no_wait],
                       help="replace the catalog, vectors and embedding cache with a backup's")
    r.add_argument("path", metavar="PATH", help="a folder `partybot backup` wrote")
    r.add_argument("--logs", action="store_true", help="restore the conversation logs too (turns logged since "
                                                       "the backup are lost)")
    r.set_defaults(func=cmd_restore)

