"""Back up and restore a data directory while the bot runs.

A backup is a folder: the catalog and the embedding cache copied with SQLite's online backup
(a consistent snapshot while readers read), the vectors exported from Chroma into a SQLite file of
their own (so it works the same for an embedded store and a Chroma server, and never copies
segment files a reader holds open), the conversation logs when they are a SQLite file, and a
``manifest.json`` with each file's sha256. It is taken under the writer lock: no ingest or
removal runs between the catalog's copy and the vectors' export, so the two agree.

Restoring checks every file's sha256 first (a damaged backup changes nothing), then, under the
writer lock, copies the catalog and the cache back (into the live files when they can be read, so
a running bot sees the restored content; over them when they are damaged), replaces the vectors
with the backup's, and moves the catalog's generation past both the old and the backup's, so
every reader reloads its view.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import PartybotError
from vectorstore.catalog import now

FORMAT = 1
MANIFEST = "manifest.json"
CATALOG, CACHE, VECTORS, LOGS = "catalog.sqlite3", "embeddings.sqlite3", "vectors.sqlite3", "logs.sqlite3"
_BATCH = 1000


class BackupError(PartybotError):
    """A backup cannot be written or read; the message says why and what to do."""


@dataclass
class Summary:
    path: Path
    documents: int
    chunks: int
    vectors: int
    generation: int
    files: dict[str, str]  # name -> sha256


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_sqlite(src: Path, dst: Path) -> None:
    """``src`` into ``dst`` by SQLite's online backup: consistent while others read or write it."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst, timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def export_vectors(store, dst: Path) -> int:
    db = sqlite3.connect(dst)
    try:
        db.execute("CREATE TABLE vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL, document TEXT, metadata TEXT)")
        n = 0
        for ids, vectors, texts, metas in store.export(_BATCH):
            db.executemany("INSERT INTO vectors VALUES (?,?,?,?)",
                           [(i, np.asarray(v, dtype=np.float32).tobytes(), t, json.dumps(m, ensure_ascii=False))
                            for i, v, t, m in zip(ids, vectors, texts, metas)])
            n += len(ids)
        db.commit()
        return n
    finally:
        db.close()


def import_vectors(store, src: Path) -> int:
    """Replace every vector of ``store`` with those of ``src``."""
    store.delete(store.ids())
    db = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    n = 0
    try:
        rows = db.execute("SELECT id, vector, document, metadata FROM vectors ORDER BY id")
        while batch := rows.fetchmany(_BATCH):
            store.upsert([r[0] for r in batch], np.stack([np.frombuffer(r[1], dtype=np.float32) for r in batch]),
                         [r[2] or "" for r in batch], [json.loads(r[3] or "{}") for r in batch])
            n += len(batch)
    finally:
        db.close()
    return n


def write_backup(app, dest: Path, *, logs: Path | None, cache: bool = True) -> Summary:
    """Everything ``app`` (the composed services) holds, into the new folder ``dest``. The caller
    holds the writer lock."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: give a new folder for the backup")
    work = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    copy_sqlite(app.catalog.path, work / CATALOG)
    if cache and app.embedder.path.exists():
        copy_sqlite(app.embedder.path, work / CACHE)
    if logs is not None and logs.exists():
        copy_sqlite(logs, work / LOGS)
    vectors = export_vectors(app.store, work / VECTORS)
    gen, chunks, docs = app.catalog.snapshot()
    files = {f.name: sha256(f) for f in sorted(work.iterdir())}
    manifest = {"format": FORMAT, "created": now(), "generation": gen, "documents": len(docs),
                "chunks": len(chunks), "vectors": vectors, "embedder": app.embedder.model_id, "files": files}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if dest.exists():
        dest.rmdir()
    os.replace(work, dest)
    return Summary(dest, len(docs), len(chunks), vectors, gen, files)


def read_manifest(src: Path) -> dict:
    """The backup's manifest, every file checked against it; a one-line error otherwise."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a partybot backup (no readable {MANIFEST}: {exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{src} is not in backup format {FORMAT} (written by another version?); this "
                          f"partybot reads only format {FORMAT}")
    missing = [k for k in ("created", "generation", "documents", "chunks", "embedder", "files") if k not in manifest]
    missing += [name for name in (CATALOG, VECTORS) if name not in manifest.get("files", {})]
    if missing:
        raise BackupError(f"the backup {src} is incomplete (its manifest lacks {', '.join(missing)}): nothing was "
                          "restored; use another backup")
    for name, digest in manifest["files"].items():
        if not (src / name).is_file() or sha256(src / name) != digest:
            raise BackupError(f"the backup {src} is damaged ({name} is missing or changed): nothing was "
                              "restored; use another backup")
    return manifest


def _readable(path: Path) -> bool:
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    finally:
        db.close()


def restore_sqlite(src: Path, live: Path) -> None:
    """``src`` over ``live``: into the live file when it can be read (its open readers see the
    restored content), over it when it is damaged or missing."""
    try:
        if _readable(live):
            copy_sqlite(src, live)
            return
    except sqlite3.DatabaseError:
        pass
    tmp = live.with_name(f".{live.name}.restoring")
    shutil.copyfile(src, tmp)
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, live)
