"""How bench/hop_profile.py charges a sampled stack to a component."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.hop_profile import LOOP, OTHER, attribute, component

SERVER = (
    "Runner.run (asyncio/runners.py:118);"
    "RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:420)"
)
STORE = "SessionStore.begin (state/store.py:288);run_script (state/redis_compat.py:165)"
SEND = "StreamWriter.writelines (asyncio/streams.py:346)"


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        # A Redis send made by the store is the store's, not the event loop's.
        (f"{SERVER};_answer (gateway/api/channels.py:100);{STORE};{SEND}", "session store"),
        # Innermost first: the engine called from the conversation service.
        (
            f"{SERVER};Conversations._run (gateway/conversations/service.py:302);"
            "act (dialogs/engine/conversation.py:22)",
            "conversation engine",
        ),
        # The message log's database write is the log's, though it runs asyncpg.
        (
            "Runner.run (asyncio/runners.py:118);MessageLog._copy (state/database.py:236);"
            "Connection.copy_records_to_table (asyncpg/connection.py:1150)",
            "message log",
        ),
        # A metric counted in the service is the metrics'.
        (
            f"{SERVER};Conversations.handle (gateway/conversations/service.py:118);"
            "MutexValue.inc (prometheus_client/values.py:28)",
            "metrics",
        ),
        # SQLAlchemy's greenlet starts a stack of its own, with no caller in it.
        ("greenlet_spawn (sqlalchemy/util/concurrency.py:209)", "database driver"),
        ("Runner.run (asyncio/runners.py:118)", LOOP),
        ("<module> (gateway:6)", OTHER),
    ],
)
def test_a_sample_is_charged_to_its_innermost_deciding_frame(stack: str, expected: str) -> None:
    assert component(stack.split(";")).startswith(expected)


def test_shares_count_samples_and_leave_helper_threads_out(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        f"{SERVER};{STORE};{SEND} 3\n"
        "act (dialogs/engine/conversation.py:22) 1\n"
        "Thread._bootstrap (threading.py:1002);Condition.wait (threading.py:327) 50\n"
        "not a sample line\n"
    )
    samples, shares = attribute(raw)
    assert samples == 4
    assert shares == {
        "session store (Redis client, 2 scripts)": 0.75,
        "conversation engine": 0.25,
    }
