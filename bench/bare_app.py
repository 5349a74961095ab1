"""The yardstick for the intake bench: a bare FastAPI app that does the least a durable webhook
receiver can do — verify the signature on the raw body and commit one SQLite row per request.

Same server settings as `backend-review serve`: uvicorn, uvloop + httptools, one worker, no
access log. Same SQLite pragmas: WAL, synchronous=FULL, a busy timeout. No JSON parsing, no
routing, no jobs, no logging per request, and the commit runs on the event loop (the cheapest
way to commit one row at a time; it blocks the loop for one fsync per request).

    GITHUB_WEBHOOK_SECRET=... python bench/bare_app.py --port 8001 --db /tmp/bare.db
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import sqlite3
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def make_app(db_path: str, secret: bytes) -> FastAPI:
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS deliveries ("
        " id TEXT PRIMARY KEY, event TEXT NOT NULL, received_at REAL NOT NULL)"
    )
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/webhooks/github", status_code=202)
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        signature = request.headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        delivery = request.headers.get("x-github-delivery", "")
        event = request.headers.get("x-github-event", "")
        try:
            conn.execute(
                "INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?)",
                (delivery, event, time.time()),
            )
        except sqlite3.IntegrityError:
            return JSONResponse({"delivery": delivery, "outcome": "duplicate"}, status_code=200)
        return JSONResponse({"delivery": delivery, "outcome": "stored"}, status_code=202)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file to write")
    args = parser.parse_args()
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    uvicorn.run(
        make_app(args.db, secret),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
