"""Odd input at the console, on the real PostgreSQL (which refuses a NUL in text): every
answer is a 4xx or a page, never a 500, and nothing odd reaches the database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.gateway.console.desk_app import (
    add_account,
    apply_for_drone_permit,
    console_app,
    csrf_of,
    officer,
    sign_in,
)
from tests.redis_databases import RedisDatabase
from tests.state.own_database import _pg

NUL = "\x00"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"gateway_console_{os.getpid()}"
    asyncio.run(_pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_pg(f"CREATE DATABASE {name}"))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _no_5xx(client: TestClient, method: str, path: str, **options: object) -> int:
    answer = client.request(method, path, **options)  # type: ignore[arg-type]
    assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
    return answer.status_code


@pytest.mark.integration
def test_nul_and_control_characters_get_a_clear_answer(
    redis_database: RedisDatabase, postgres_url: str
) -> None:
    with console_app(redis_database, database_url=postgres_url) as client:
        add_account(client, "dorji@gov.bt", officer())
        reference = apply_for_drone_permit(client)
        assert sign_in(client, f"dorji{NUL}@gov.bt").status_code in (401, 422)
        assert sign_in(client, "dorji@gov.bt").status_code == 303
        for query in ("reference=%00", "service=x%00", "from=2026%00", "status=%00"):
            assert _no_5xx(client, "GET", f"/console/applications?{query}") == 422
        assert _no_5xx(client, "GET", "/console/applications/DFA%00") == 422
        page = client.get(f"/console/applications/{reference}")
        csrf = csrf_of(page.text)
        returned = client.post(
            f"/console/applications/{reference}/return",
            data={"csrf": csrf, "steps": ["drone_model"], "note": f"Give{NUL} the \x1b[2Jmodel."},
        )
        assert returned.status_code == 303
        shown = client.get(f"/console/applications/{reference}").text
        assert "Give the [2Jmodel." in shown  # kept without its control characters
        _no_5xx(client, "POST", "/console/people/keys/x%00/revoke", data={"csrf": csrf})
