"""Redis commands packed by hiredis's C packer instead of redis-py's Python loop.

redis-py's synchronous connections pack with `hiredis.pack_command` when hiredis is
installed (`redis.connection.HiredisRespSerializer`); its asyncio connections (5.x, which
arq pins) still encode and join every argument in Python: 4% of a USSD hop's CPU, the
session store's begin and commit carrying fifteen arguments each. The bytes on the wire
are the same (tests/state).
"""

from __future__ import annotations

from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.connection import HiredisRespSerializer
from redis.typing import EncodableT

_HIREDIS = HiredisRespSerializer()  # stateless: one for every connection


class HiredisPacking:
    """`pack_command` of an asyncio connection, in C: redis-py's own serializer of its
    synchronous connections (multi-word command names split, DataError for what hiredis
    refuses)."""

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        packed: list[bytes] = _HIREDIS.pack(*args)  # type: ignore[arg-type]
        return packed


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
