"""Conversation state: the session store (Redis, or an embedded Redis by default).

Redis holds conversation state only; whatever must never be lost (submissions) goes to
the database.
"""

from state.store import Begun, SessionRecord, SessionStore, citizen_key

__all__ = ["Begun", "SessionRecord", "SessionStore", "citizen_key"]
