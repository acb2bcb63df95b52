"""Whether the console is open, and with which key its sessions are signed.

Its key is `GATEWAY_CONSOLE_SECRET`, the same on every process. Without it the console
is closed (its pages answer 403 saying so), except in development, where a key made at
start is used, loudly: sessions then end with the process and work on it alone.
"""

from __future__ import annotations

import logging
import secrets

from gateway.console.sessions import Sessions
from gateway.settings import Settings, secret
from state.store import Client

logger = logging.getLogger(__name__)


def console_for(settings: Settings, redis: Client) -> Sessions | None:
    key = secret(settings.console_secret)
    if key is None and settings.development:
        logger.warning(
            "GATEWAY_CONSOLE_SECRET is not set: the console signs sessions with a key made "
            "at start (development only; sessions end with this process)"
        )
        key = secrets.token_urlsafe(32)
    if key is None:
        logger.warning("the console is closed: GATEWAY_CONSOLE_SECRET is not set")
        return None
    return Sessions(
        key,
        redis,
        idle_seconds=settings.console_idle_minutes * 60,
        lifetime_seconds=settings.console_session_hours * 3600,
    )
