"""A bare python-socketio + uvicorn relay with SQLite group commit: Raasel's stack, no Raasel.

The second reference of the benchmark (the first is bench/node-relay/): the same server
libraries Raasel runs on (python-socketio's ASGI server, uvicorn with the websockets-sansio
protocol, uvloop, TLS in uvicorn), with durable storage done the cheap way, so the gap
between it and Raasel is what Raasel's own code costs (issue 8, docs/benchmarks.md).

Wire contract, identical to the Node relay: Engine.IO v4 over WebSocket only, the auth
object ``{token, pair, side}`` (any token accepted), ``message:send`` with
``{conversation_id, client_id, text}`` answered ``{ok: true, message}``, and ``message:new``
``{message}`` to the other side of the pair.

Storage: one plain ``sqlite3`` connection in a writer thread, WAL, ``synchronous=FULL``.
The thread takes every message queued since its last commit, inserts them with one
``executemany`` and commits (group commit: the batch grows with the load, no timer).
Only after COMMIT are the senders' futures resolved; each handler then answers the ack
and the message is emitted to the peer's room after it. (client_id) is unique per
conversation, as in Raasel, so a retried send is stored once.

    python -m bench.python_relay --cert cert.pem --key key.pem --db relay.sqlite3 --port 9444
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import queue
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import socketio
import uvicorn

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    sender_side TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id ON messages (conversation_id, client_id);
"""
INSERT = (
    "INSERT INTO messages (id, conversation_id, client_id, sender_side, text, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
MAX_BATCH = 1024

Row = tuple[str, str, str, str, str]  # conversation_id, client_id, side, text, created_at
Pending = tuple[Row, "asyncio.Future[int]"]


class GroupCommitter:
    """Messages in, ids out after COMMIT: one writer thread, one transaction per batch."""

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        last = self.db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        self.ids = itertools.count(int(last) + 1)
        self.batches = 0
        self.thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self.thread.start()

    def store(self, row: Row) -> asyncio.Future[int]:
        future: asyncio.Future[int] = self.loop.create_future()
        self.queue.put((row, future))
        return future

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            try:
                outcome: list[int] | BaseException = self._commit([row for row, _ in batch])
            except Exception as exc:  # the senders get the error; the thread lives on
                outcome = exc
            self.loop.call_soon_threadsafe(_settle, [f for _, f in batch], outcome)
        self.db.close()

    def _commit(self, rows: list[Row]) -> list[int]:
        ids = [next(self.ids) for _ in rows]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(INSERT, [(i, *row) for i, row in zip(ids, rows, strict=True)])
        except sqlite3.IntegrityError:  # a retried client id in the batch: one by one
            self.db.execute("ROLLBACK")
            self.db.execute("BEGIN IMMEDIATE")
            for n, (i, row) in enumerate(zip(ids, rows, strict=True)):
                self.db.execute(INSERT.replace("INSERT", "INSERT OR IGNORE", 1), (i, *row))
                ids[n] = self.db.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? AND client_id = ?",
                    row[:2],
                ).fetchone()[0]
        self.db.execute("COMMIT")
        self.batches += 1
        return ids


def _settle(futures: list[asyncio.Future[int]], outcome: list[int] | BaseException) -> None:
    for n, future in enumerate(futures):
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome[n])


def build(db_path: Path) -> tuple[socketio.ASGIApp, socketio.AsyncServer, list[GroupCommitter]]:
    sio = socketio.AsyncServer(
        async_mode="asgi",
        transports=["websocket"],
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
    )
    committer: list[GroupCommitter] = []  # made at start-up, on the serving loop
    sides: dict[str, tuple[str, str, str]] = {}  # sid -> (pair, side, peer room)
    background: set[asyncio.Task[Any]] = set()

    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
        if not isinstance(auth, dict) or not isinstance(auth.get("token"), str):
            return False
        pair = auth.get("pair")
        if not isinstance(pair, str):
            return False
        side = "agent" if auth.get("side") == "agent" else "customer"
        peer = "customer" if side == "agent" else "agent"
        sides[sid] = (pair, side, f"{pair}:{peer}")
        await sio.enter_room(sid, f"{pair}:{side}")
        return True

    async def disconnect(sid: str, *_: Any) -> None:
        sides.pop(sid, None)

    async def send(sid: str, payload: Any) -> dict[str, Any] | None:
        known = sides.get(sid)
        if known is None or not isinstance(payload, dict):
            return None
        pair, side, peer = known
        conversation_id = str(payload.get("conversation_id") or pair)
        client_id = str(payload.get("client_id") or "")
        text = str(payload.get("text") or "")
        created_at = datetime.now(UTC).isoformat()
        try:
            message_id = await committer[0].store(
                (conversation_id, client_id, side, text, created_at)
            )
        except sqlite3.Error:
            return {"ok": False, "error": {"code": "internal", "message": "store failed"}}
        message = {
            "id": str(message_id),
            "conversation_id": conversation_id,
            "client_id": client_id,
            "sender_side": side,
            "kind": "text",
            "text": text,
            "created_at": created_at,
        }
        # Ack first (python-socketio sends it when this returns), then the fan-out: the
        # task starts on the loop's next turn, after the ack is queued.
        task = asyncio.create_task(sio.emit("message:new", {"message": message}, room=peer))
        background.add(task)
        task.add_done_callback(background.discard)
        return {"ok": True, "message": message}

    sio.on("connect", connect)
    sio.on("disconnect", disconnect)
    sio.on("message:send", send)

    async def on_startup() -> None:
        committer.append(GroupCommitter(db_path, asyncio.get_running_loop()))

    async def on_shutdown() -> None:
        for c in committer:
            c.close()

    app = socketio.ASGIApp(sio, on_startup=on_startup, on_shutdown=on_shutdown)
    return app, sio, committer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--db", required=True, help="SQLite file (created)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9444)
    args = parser.parse_args()
    app, _, _ = build(Path(args.db))
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.cert,
        ssl_keyfile=args.key,
        ws="websockets-sansio",  # as Raasel's node (src/raasel/server.py)
        loop="uvloop",
        log_level="warning",
        lifespan="on",
        server_header=False,
    )
    # The same GC tuning as Raasel's node, so the comparison is of the code, not of this.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
