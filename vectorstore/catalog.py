"""The document catalog: which documents and chunks are live, in SQLite (WAL).

The catalog is the source of truth for what a query may see. Chroma may briefly hold chunks of
an old and a new version of a document; queries keep only chunk ids that the catalog lists, and
the catalog switches versions in one transaction (see ``vectorstore.index``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from vectorstore.faults import Foreign
from vectorstore.sqlite import connect

MIGRATIONS: list[str] = [
    # 1: documents and chunks
    """
    CREATE TABLE documents (
        doc_id TEXT PRIMARY KEY,
        source TEXT NOT NULL UNIQUE,
        title TEXT,
        lang TEXT,
        kind TEXT,
        codes TEXT NOT NULL DEFAULT '[]',
        dates TEXT NOT NULL DEFAULT '[]',
        content_hash TEXT NOT NULL,
        n_chunks INTEGER NOT NULL,
        chars INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE chunks (
        chunk_id TEXT PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        text TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        locator TEXT NOT NULL DEFAULT '[]',
        codes TEXT NOT NULL DEFAULT '[]',
        lang TEXT,
        terms TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX chunks_by_doc ON chunks(doc_id, ordinal);
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO state VALUES ('generation', '0');
    """,
]


def _statements(script: str) -> list[str]:
    """A migration script's statements, for running them one by one in the caller's transaction
    (``executescript`` would commit it)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [st for st in out if st.strip(" ;\n")]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class DocumentRow:
    doc_id: str
    source: str
    title: str | None
    lang: str | None
    kind: str | None
    codes: list[str]
    dates: list[str]
    content_hash: str
    n_chunks: int
    chars: int
    added_at: str
    updated_at: str
    meta: dict = field(default_factory=dict)


@dataclass
class ChunkRow:
    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    locator: list[str]
    codes: list[str]
    lang: str | None
    terms: str = ""  # lexical terms, space-separated (tokenised once, at ingest)


def _doc(row: sqlite3.Row) -> DocumentRow:
    d = dict(row)
    for k in ("codes", "dates", "meta"):
        d[k] = json.loads(d[k])
    return DocumentRow(**d)


def _chunk(row: sqlite3.Row) -> ChunkRow:
    d = dict(row)
    d["locator"] = json.loads(d["locator"])
    d["codes"] = json.loads(d["codes"])
    return ChunkRow(**d)


class Catalog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = connect(path)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._migrate()

    def _migrate(self) -> None:
        """Bring the schema up to date. Two processes opening a new catalog at once both see
        version 0: the version is read again inside a write transaction (BEGIN IMMEDIATE takes
        SQLite's write lock first), so the second one finds the first one's work done."""
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise Foreign(f"the catalog {self.path} was written by a newer partybot (schema {version}; this one "
                              f"knows {len(MIGRATIONS)}): upgrade partybot, or restore a backup this version made")
            if version == len(MIGRATIONS):
                return
            if version == 0 and self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise Foreign(f"{self.path} is not a partybot catalog (an SQLite file of something else): "
                              "nothing was changed; set PARTYBOT_DATA_DIR to partybot's own folder")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in _statements(script):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._db.close()

    # -- reads -------------------------------------------------------------------------------
    def generation(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT value FROM state WHERE key='generation'").fetchone()[0])

    def get(self, doc_id: str) -> DocumentRow | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return _doc(row) if row else None

    def find(self, key: str) -> list[DocumentRow]:
        """The documents ``key`` names, compared literally (no wildcards): the one whose id or
        source is exactly ``key``; else those whose id starts with it (at least 4 characters);
        else those whose source's file name is ``key``."""
        key = key.strip()
        if not key:
            return []
        with self._lock:
            rows = self._db.execute("SELECT * FROM documents WHERE doc_id=? OR source=?", (key, key)).fetchall()
            if not rows and len(key) >= 4:
                rows = self._db.execute("SELECT * FROM documents WHERE substr(doc_id, 1, ?)=?",
                                        (len(key), key)).fetchall()
            if not rows:
                rows = [r for r in self._db.execute("SELECT * FROM documents")
                        if r["source"].rsplit("/", 1)[-1] == key]
        return [_doc(r) for r in rows]

    def live_chunk_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT chunk_id FROM chunks")}

    def sources_by_content(self) -> dict[str, list[str]]:
        """Each document text's sources (more than one: the same text under several names)."""
        out: dict[str, list[str]] = {}
        with self._lock:
            for content_hash, source in self._db.execute("SELECT content_hash, source FROM documents"):
                out.setdefault(content_hash, []).append(source)
        return out

    def with_content(self, content_hash: str) -> list[DocumentRow]:
        """Documents whose text is this (the same content under several names)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM documents WHERE content_hash=? ORDER BY added_at",
                                    (content_hash,)).fetchall()
        return [_doc(r) for r in rows]

    def documents(self) -> list[DocumentRow]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM documents ORDER BY added_at, source").fetchall()
        return [_doc(r) for r in rows]

    def chunk_ids(self, doc_id: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]

    def snapshot(self) -> tuple[int, list[ChunkRow], dict[str, DocumentRow]]:
        """A consistent view: (generation, all live chunks, documents by id), in one read transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                gen = int(self._db.execute("SELECT value FROM state WHERE key='generation'").fetchone()[0])
                chunks = [_chunk(r) for r in self._db.execute("SELECT * FROM chunks ORDER BY doc_id, ordinal")]
                docs = {r["doc_id"]: _doc(r) for r in self._db.execute("SELECT * FROM documents")}
            finally:
                self._db.execute("COMMIT")
        return gen, chunks, docs

    # -- writes ------------------------------------------------------------------------------
    def replace(self, doc: DocumentRow, chunks: list[ChunkRow]) -> None:
        """Make ``doc`` with ``chunks`` the live version, atomically replacing any older one."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                old = self._db.execute("SELECT added_at FROM documents WHERE doc_id=?", (doc.doc_id,)).fetchone()
                if old:
                    doc.added_at = old[0]
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.doc_id,))
                self._db.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.doc_id, doc.source, doc.title, doc.lang, doc.kind, json.dumps(doc.codes),
                     json.dumps(doc.dates), doc.content_hash, doc.n_chunks, doc.chars, doc.added_at,
                     doc.updated_at, json.dumps(doc.meta, ensure_ascii=False, default=str)))
                self._db.executemany(
                    "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [(c.chunk_id, c.doc_id, c.ordinal, c.text, c.start, c.end,
                      json.dumps(c.locator, ensure_ascii=False), json.dumps(c.codes), c.lang, c.terms)
                     for c in chunks])
                self._bump()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
                if cur.rowcount:
                    self._bump()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return bool(cur.rowcount)

    def advance_generation(self, past: int) -> int:
        """Move the generation past ``past`` (after a restore: every reader reloads its view)."""
        with self._lock:
            value = max(self.generation(), past) + 1
            self._db.execute("UPDATE state SET value=? WHERE key='generation'", (str(value),))
        return value

    def _bump(self) -> None:
        self._db.execute("UPDATE state SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
