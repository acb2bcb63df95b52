"""The studio's pages as the server draws them (their script is tested in a browser,
test_studio_*_browser.py): who may open which page, the rows of the list as each person
may use them, the script and stylesheet served alone, and each page's content security
policy with its nonce."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from state.access import Grant, Role
from tests.gateway.console.desk_app import add_account, console_app, officer, sign_in
from tests.redis_databases import RedisDatabase

REGISTRATION = "business-registration"  # shipped, published, no draft
DRONE = "drone-flight-authorization"
PAGES = ["/console/studio", f"/console/studio/{REGISTRATION}", "/console/studio/lists/dzongkhags"]


def _as(client: TestClient, email: str, *grants: Grant) -> None:
    add_account(client, email, *grants)
    client.cookies.clear()
    assert sign_in(client, email).status_code == 303


@pytest.fixture
def client(redis_database: RedisDatabase) -> Iterator[TestClient]:
    with console_app(redis_database) as running:
        yield running


def test_a_person_not_signed_in_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    for path in [*PAGES, f"/console/studio/{REGISTRATION}/review", "/console/studio/schema.json"]:
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/console?next=" + path


def test_an_officer_opens_no_studio_page(client: TestClient) -> None:
    _as(client, "dorji@gov.bt", officer(DRONE))
    for path in [*PAGES, f"/console/studio/{REGISTRATION}/review", "/console/studio/schema.json"]:
        assert client.get(path).status_code == 403, path


def test_a_publisher_reviews_but_does_not_edit(client: TestClient) -> None:
    _as(client, "kinley@gov.bt", Grant(Role.PUBLISHER))
    assert client.get(f"/console/studio/{REGISTRATION}").status_code == 403
    assert client.get("/console/studio/lists/dzongkhags").status_code == 403
    review = client.get(f"/console/studio/{REGISTRATION}/review")
    assert review.status_code == 200
    assert 'data-draft-state=""' in review.text  # no draft: Publish and Send back disabled
    listed = client.get("/console/studio")
    assert listed.status_code == 200
    assert "Edit " not in listed.text
    assert f"Start a new version of {REGISTRATION}" not in listed.text


def test_an_author_of_one_service_edits_that_one_alone(client: TestClient) -> None:
    _as(client, "sonam@gov.bt", Grant(Role.AUTHOR, REGISTRATION))
    editor = client.get(f"/console/studio/{REGISTRATION}")
    assert editor.status_code == 200
    assert re.search(r'data-published="\d+"', editor.text)  # the editor offers to start from it
    assert client.get(f"/console/studio/{DRONE}").status_code == 404
    listed = client.get("/console/studio").text
    # Published, no draft: a new version is started, not edited.
    assert f"Start a new version of {REGISTRATION}" in listed
    assert f"Edit {REGISTRATION}" not in listed
    assert DRONE not in listed  # not the author's: not listed at all


def test_an_author_of_every_service_may_start_on_each_row(client: TestClient) -> None:
    _as(client, "sonam@gov.bt", Grant(Role.AUTHOR))
    listed = client.get("/console/studio").text
    assert f"Start a new version of {REGISTRATION}" in listed
    assert f"Start a new version of {DRONE}" in listed
    editor = client.get("/console/studio/not-published-yet")
    assert editor.status_code == 200
    assert "data-published" not in editor.text


def test_the_static_route_serves_the_script_and_the_stylesheet_alone(
    client: TestClient,
) -> None:
    for name, kind in [("studio.js", "text/javascript"), ("studio.css", "text/css")]:
        answer = client.get(f"/console/studio/static/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(kind)
        assert answer.headers["x-content-type-options"] == "nosniff"
        etag = answer.headers["etag"]
        again = client.get(f"/console/studio/static/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
    # ("..": a client takes it away before asking; encoded, it reaches the route.)
    for name in ["%2e%2e", "..%2Fstudio.py", "src/api.js", "src%2Fapi.js", "build.mjs"]:
        assert client.get(f"/console/studio/static/{name}").status_code == 404, name


def test_each_page_has_the_studio_policy_with_its_own_nonce(client: TestClient) -> None:
    _as(client, "tashi@gov.bt", Grant(Role.AUTHOR), Grant(Role.PUBLISHER))
    nonces = set()
    for path in [*PAGES, f"/console/studio/{REGISTRATION}/review"]:
        page = client.get(path)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        found = re.search(r"style-src 'self' 'nonce-([A-Za-z0-9_-]+)'", policy)
        assert found is not None, policy
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert f'<meta name="csp-nonce" content="{found.group(1)}">' in page.text
        nonces.add(found.group(1))
    assert len(nonces) == len(PAGES) + 1  # a new one each time


def test_the_schema_is_for_signed_in_authors_and_publishers(client: TestClient) -> None:
    _as(client, "sonam@gov.bt", Grant(Role.AUTHOR))
    schema = client.get("/console/studio/schema.json")
    assert schema.status_code == 200
    assert schema.headers["content-type"] == "application/json"
    assert "steps" in schema.json()["properties"]
