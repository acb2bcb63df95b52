"""`GET /api/v1/messages`: the message log of one address, for the admin API
(`gateway.api.admin`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from gateway.api.auth import require
from gateway.api.deps import MessageLogDep
from state.access import Role

router = APIRouter(dependencies=[require(Role.ADMINISTRATOR)])


class LoggedMessage(BaseModel):
    """One message in or out, as the message log holds it."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime  # UTC, written without an offset
    channel: str
    direction: str  # "in" or "out"
    address: str
    text: str
    provider_id: str | None
    status: str
    segments: int


@router.get("/messages")
async def messages(
    log: MessageLogDep,
    address: Annotated[str, Query(min_length=3, max_length=80)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LoggedMessage]:
    """Messages in and out for one address (phone number or channel user id)."""
    return [LoggedMessage.model_validate(row) for row in await log.for_address(address, limit)]
