"""Moved to `state.redis_compat`, the seam over redis-py's internals.

These names stay until tests/state/test_packing.py imports them from there; then this
module goes.
"""

from state.redis_compat import PACKED as PACKED
from state.redis_compat import PackedConnection as PackedConnection
from state.redis_compat import packed as packed
