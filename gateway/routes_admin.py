"""The admin API (bearer `GATEWAY_ADMIN_TOKEN`): the message log for now.

Without a configured token the admin API is closed (403), never open.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request

from gateway.settings import Settings, secret


def admin_router(settings: Settings) -> APIRouter:
    def authorised(authorization: Annotated[str, Header()] = "") -> None:
        token = secret(settings.admin_token)
        given = authorization.removeprefix("Bearer ").strip()
        if token is None or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(status_code=403, detail="a valid admin bearer token is required")

    router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[Depends(authorised)])

    @router.get("/messages")
    async def messages(
        request: Request,
        address: Annotated[str, Query(min_length=3, max_length=80)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Messages in and out for one address (phone number or channel user id)."""
        rows = await request.app.state.messages.for_address(address, limit)
        return [
            {
                "at": row.at.isoformat(),
                "channel": row.channel,
                "direction": row.direction,
                "address": row.address,
                "text": row.text,
                "provider_id": row.provider_id,
                "status": row.status,
                "segments": row.segments,
            }
            for row in rows
        ]

    return router
