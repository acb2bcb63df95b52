"""Redis commands packed by hiredis's C packer instead of redis-py's Python loop.

redis-py's synchronous connections pack with `hiredis.pack_command` when hiredis is
installed; its asyncio connections (5.x, which arq pins) still encode and join every
argument in Python: 4% of a USSD hop's CPU, the session store's begin and commit
carrying fifteen arguments each. The bytes on the wire are the same (tests/state).
"""

from __future__ import annotations

import hiredis
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import DataError
from redis.typing import EncodableT


class HiredisPacking:
    """`pack_command` of an asyncio connection, in C."""

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        # As redis-py does: a command name holding several words ("SCRIPT LOAD") is
        # sent as separate arguments.
        name = args[0]
        if isinstance(name, str):
            args = (*name.encode().split(), *args[1:])
        elif isinstance(name, bytes) and b" " in name:
            args = (*name.split(), *args[1:])
        try:
            # hiredis's stub types the tuple as having one item; any number is packed.
            return [hiredis.pack_command(args)]  # type: ignore[arg-type]
        except TypeError as exc:  # None, a bool, a dict...: redis-py's error for them
            raise DataError(f"invalid input in a Redis command: {exc}") from None


class PackedConnection(HiredisPacking, Connection):
    pass


class PackedSSLConnection(HiredisPacking, SSLConnection):
    pass


class PackedUnixDomainSocketConnection(HiredisPacking, UnixDomainSocketConnection):
    pass


PACKED: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: PackedConnection,
    SSLConnection: PackedSSLConnection,
    UnixDomainSocketConnection: PackedUnixDomainSocketConnection,
}


def packed(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """The hiredis-packing variant of a redis-py connection class (itself if none)."""
    return PACKED.get(connection_class, connection_class)
