"""One conversation step as a pure function: (catalog, snapshot, inbound) -> outcome.

No I/O and no clock: the time comes in the inbound message, lookups and submissions go
out as effects whose results come back as inbound messages. Every behaviour can be tested
without a server, and a snapshot is all that survives between two steps.

`act` (conversation.py) begins or carries on a conversation; the waiting state of the
snapshot picks what an answer or a result does (states.py, the one table); the modules
beside them each hold one concern of a turn (see docs/architecture.md).
"""

from dialogs.engine.conversation import act
from dialogs.engine.reading import MAX_ANSWER_CHARS

__all__ = ["MAX_ANSWER_CHARS", "act"]
