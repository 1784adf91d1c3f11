"""The gateway's local cache (SQLite, WAL): per-device operations and the report outbox.

Operations (deploy/stop) are queued here before the HTTP push is acknowledged, with the
number of bytes the device has acknowledged, so a gateway restart resumes a transfer where
it stopped. The outbox holds reports for the API server until the API acknowledges them:
an acknowledged status change is never lost to a gateway crash.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmbed.files import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL, app TEXT NOT NULL, module_id TEXT NOT NULL,
    action TEXT NOT NULL,                -- deploy | stop
    wasm BLOB, sha256 BLOB, entry TEXT, memory_limit INTEGER, fuel_limit INTEGER,
    state TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed | superseded
    acked_offset INTEGER NOT NULL DEFAULT 0, error TEXT, created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ops_pending ON ops(device, state, seq);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
"""


@dataclass
class Op:
    seq: int
    device: str
    app: str
    module_id: str
    action: str
    wasm: bytes | None
    sha256: bytes | None
    entry: str | None
    memory_limit: int | None
    fuel_limit: int | None
    state: str
    acked_offset: int
    error: str | None


class GatewayCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(private_file(path), isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name='outbox'").fetchone()
        self.last_seq: int = row[0] if row else 0  # of the newest report posted

    def close(self) -> None:
        self.db.close()

    # --- operations ---------------------------------------------------------------------

    def enqueue_deploy(
        self, device: str, app: str, module_id: str, wasm: bytes, sha256: bytes, entry: str,
        memory_limit: int, fuel_limit: int,
    ) -> bool:
        """Queue a deployment; False if this exact module is already on its way. A module
        delivered before is sent again: the API asks only when the device lost it."""
        row = self.db.execute(
            "SELECT 1 FROM ops WHERE device=? AND module_id=? AND action='deploy' "
            "AND state='pending'", (device, module_id),
        ).fetchone()
        if row:
            return False
        self.db.execute("BEGIN IMMEDIATE")
        # a newer module of the same app replaces any transfer still pending
        self.db.execute(
            "UPDATE ops SET state='superseded' WHERE device=? AND app=? AND state='pending' "
            "AND action='deploy'", (device, app),
        )
        self.db.execute(
            "INSERT INTO ops(device, app, module_id, action, wasm, sha256, entry, memory_limit,"
            " fuel_limit, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (device, app, module_id, "deploy", wasm, sha256, entry, memory_limit, fuel_limit,
             time.time()),
        )
        self.db.execute("COMMIT")
        return True

    def enqueue_stop(self, device: str, app: str, module_id: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "UPDATE ops SET state='superseded' WHERE device=? AND module_id=? AND "
            "state='pending' AND action='deploy'", (device, module_id),
        )
        self.db.execute(
            "INSERT INTO ops(device, app, module_id, action, created) VALUES (?,?,?,?,?)",
            (device, app, module_id, "stop", time.time()),
        )
        self.db.execute("COMMIT")

    def next_op(self, device: str) -> Op | None:
        row = self.db.execute(
            "SELECT seq, device, app, module_id, action, wasm, sha256, entry, memory_limit, "
            "fuel_limit, state, acked_offset, error FROM ops "
            "WHERE device=? AND state='pending' ORDER BY seq LIMIT 1", (device,),
        ).fetchone()
        return Op(*row) if row else None

    def progress(self, seq: int, offset: int) -> None:
        self.db.execute("UPDATE ops SET acked_offset=? WHERE seq=?", (offset, seq))

    def finish(self, seq: int, error: str | None = None) -> None:
        state = "failed" if error else "done"
        self.db.execute(
            "UPDATE ops SET state=?, error=?, wasm=NULL WHERE seq=?", (state, error, seq)
        )

    def op_state(self, seq: int) -> str | None:
        row = self.db.execute("SELECT state FROM ops WHERE seq=?", (seq,)).fetchone()
        return row[0] if row else None

    def pending_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM ops WHERE state='pending'").fetchone()[0]

    # --- outbox -------------------------------------------------------------------------

    def post(self, event: dict[str, Any]) -> None:
        cur = self.db.execute("INSERT INTO outbox(body) VALUES (?)", (json.dumps(event),))
        self.last_seq = cur.lastrowid or self.last_seq

    def peek(self, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        rows = self.db.execute(
            "SELECT seq, body FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [(seq, json.loads(body)) for seq, body in rows]

    def drop(self, seq: int) -> None:
        self.db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def ack(self, upto_seq: int) -> None:
        self.db.execute("DELETE FROM outbox WHERE seq <= ?", (upto_seq,))

    def outbox_size(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
