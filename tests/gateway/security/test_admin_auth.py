"""The admin API's bearer check (`gateway.api.auth`), through the real app's
`GET /api/v1/submissions`.

A missing or wrong token is 401 with `WWW-Authenticate: Bearer`; no configured token
closes the API (403); a client that keeps guessing gets 429 for a while
(`GATEWAY_ADMIN_FAILURES_PER_CLIENT`, "10/minute") while other clients are still
answered; the right token always works. Here rather than under tests/gateway/api/ for
this folder's real app on the embedded Redis (`start_app`): the check is a security one.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.ops.metrics import REGISTRY
from tests.gateway.security.conftest import StartApp, from_address

TOKEN = "5be3a0c7d9f14e2a8b6c0d4e2f1a3b5c"
URL = "/api/v1/submissions"
GUESSER = "203.0.113.7"
OTHER = "198.51.100.20"


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


@pytest.fixture
def admin(start_app: StartApp) -> TestClient:
    """The app with an admin token; requests from GUESSER."""
    return start_app(address=(GUESSER, 40000), admin_token=TOKEN)


def test_the_right_token_is_answered(admin: TestClient) -> None:
    response = admin.get(URL, headers=bearer(TOKEN))
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_scheme_is_case_insensitive(admin: TestClient, scheme: str) -> None:
    assert admin.get(URL, headers=bearer(TOKEN, scheme)).status_code == 200


def test_a_missing_token_is_401_with_a_bearer_challenge(admin: TestClient) -> None:
    response = admin.get(URL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [
        bearer("wrong-token-of-the-right-length!"),
        bearer(TOKEN[:-1]),
        bearer(TOKEN + "x"),
        bearer(TOKEN.upper()),
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
    ],
)
def test_a_wrong_token_is_401_with_a_bearer_challenge(
    admin: TestClient, headers: dict[str, str]
) -> None:
    response = admin.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_without_a_configured_token_the_api_is_closed(start_app: StartApp) -> None:
    client = start_app()  # GATEWAY_ADMIN_TOKEN unset
    for headers in ({}, bearer(TOKEN), bearer("")):
        response = client.get(URL, headers=headers)
        assert response.status_code == 403
        assert "GATEWAY_ADMIN_TOKEN" in response.json()["detail"]


def test_an_empty_configured_token_is_closed_too(start_app: StartApp) -> None:
    client = start_app(admin_token="   ")
    assert client.get(URL, headers=bearer("   ")).status_code == 403
    assert client.get(URL, headers=bearer("")).status_code == 403


def test_ten_failures_then_429_with_retry_after(admin: TestClient) -> None:
    statuses = [admin.get(URL, headers=bearer(f"guess-{n:02d}")).status_code for n in range(10)]
    assert statuses == [401] * 10
    refused = admin.get(URL, headers=bearer("guess-10"))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert admin.get(URL).status_code == 429  # no token at all: still too many


def test_another_client_is_still_answered_401(admin: TestClient) -> None:
    for n in range(11):
        admin.get(URL, headers=bearer(f"guess-{n}"))
    assert admin.get(URL, headers=bearer("guess-11")).status_code == 429
    with from_address(admin, OTHER) as other:
        response = other.get(URL, headers=bearer("not-it"))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_right_token_works_for_a_client_that_was_refused(admin: TestClient) -> None:
    for n in range(12):
        admin.get(URL, headers=bearer(f"guess-{n}"))
    assert admin.get(URL, headers=bearer("guess")).status_code == 429
    for _ in range(3):
        assert admin.get(URL, headers=bearer(TOKEN)).status_code == 200


def test_right_tokens_do_not_count_as_failures(admin: TestClient) -> None:
    for _ in range(15):
        assert admin.get(URL, headers=bearer(TOKEN)).status_code == 200
    assert admin.get(URL, headers=bearer("guess")).status_code == 401


def test_the_failure_limit_is_configurable(start_app: StartApp) -> None:
    client = start_app(admin_token=TOKEN, admin_failures_per_client="2/minute")
    statuses = [client.get(URL, headers=bearer("guess")).status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]


def test_a_429_is_counted_as_refused_admin_auth(admin: TestClient) -> None:
    before = REGISTRY.get_sample_value("gateway_refused_total", {"limit": "admin_auth"}) or 0
    for n in range(13):
        admin.get(URL, headers=bearer(f"guess-{n}"))
    after = REGISTRY.get_sample_value("gateway_refused_total", {"limit": "admin_auth"}) or 0
    assert after - before == 3
