"""A person signed in to the console calls the API with their session, as the studio's
pages do: reading needs the session alone, a change also its CSRF token (a cookie alone
is what another site's form would send), and the person's roles hold as on the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from state.access import Grant, Role
from tests.gateway.api.test_studio import PERMIT, URL
from tests.gateway.console.desk_app import add_account, console_app, sign_in
from tests.redis_databases import RedisDatabase


def _csrf(client: TestClient) -> str:
    page = client.get("/console/account")
    assert page.status_code == 200, page.text
    return page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_a_signed_in_author_drafts_through_the_api(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "author@gov.bt", Grant(Role.AUTHOR, "construction-permit"))
        assert sign_in(client, "author@gov.bt").status_code == 303
        yaml_body = {"Content-Type": "application/yaml"}
        refused = client.put(URL + "/draft", content=PERMIT, headers=yaml_body)
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
        token = _csrf(client)
        saved = client.put(
            URL + "/draft", content=PERMIT, headers={**yaml_body, "X-CSRF-Token": token}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["updated_by"] == "author@gov.bt"
        assert "console" in saved.headers.get("set-cookie", "")  # idle timeout restarted
        read = client.get(URL + "/draft")
        assert read.status_code == 200
        assert read.json()["revision"] == 1
        other = client.get("/api/v1/studio/services/business-registration/draft")
        assert other.status_code == 404  # limited to the construction permit
        assert client.get("/api/v1/messages").status_code == 403


def test_without_a_session_the_api_still_asks_for_a_key(redis_database: RedisDatabase) -> None:
    with console_app(redis_database, admin_token="a-bootstrap-key-for-the-tests-1234") as client:
        answer = client.get(URL + "/draft")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        client.cookies.set("console", "forged")
        # As a page whose session ended: told to sign in again, and never held back as
        # a client guessing keys (10 failures a minute would be).
        for _ in range(12):
            ended = client.get(URL + "/draft")
            assert ended.status_code == 401
            assert "sign in again" in ended.json()["detail"]


def test_a_page_whose_cookie_went_is_told_to_sign_in_again(
    redis_database: RedisDatabase,
) -> None:
    """Signed out in another tab, the browser drops the cookie; the page still sends its
    CSRF header. With no API key anywhere the API is closed, yet the page hears 401."""
    with console_app(redis_database) as client:
        plain = client.get(URL + "/draft")
        assert plain.status_code == 403  # closed: no bootstrap key, no API key
        for _ in range(12):
            ended = client.put(
                URL + "/draft",
                content=PERMIT,
                headers={"Content-Type": "application/yaml", "X-CSRF-Token": "stale"},
            )
            assert ended.status_code == 401
            assert "sign in again" in ended.json()["detail"]
