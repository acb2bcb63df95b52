"""The benchmark's baseline: what any USSD endpoint must do at the least.

`POST /ussd` parses the Africa's Talking form and does one Redis GET and one SET of the
session on `GATEWAY_REDIS_URL`, with the gateway's own Redis client (`state.connect`), on
the same FastAPI and uvicorn as the gateway. Run: `uvicorn bench.baseline_app:app --workers N`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis

from state.connect import connect

URL = os.environ.get("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/1")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = connect(URL)
    try:
        yield
    finally:
        await app.state.redis.aclose()


app = FastAPI(lifespan=lifespan)


@app.post("/ussd")
async def ussd(request: Request) -> Response:
    form = await request.form()
    redis: Redis = request.app.state.redis
    key = f"baseline:{form['phoneNumber']}"
    previous = await redis.get(key)
    await redis.set(key, f"{form['sessionId']}|{form['text']}", ex=300)
    reply = "CON ok" if previous is None or len(str(form["text"])) < 200 else "END ok"
    return Response(reply, media_type="text/plain")
