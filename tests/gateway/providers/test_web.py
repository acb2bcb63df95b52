"""The web chat JSON API."""

from __future__ import annotations

from tests.gateway.providers.apps import gateway, prove_number

DB = 7
USER = "u-5f1c2a9b"


def test_the_first_screen_is_the_menu_with_options() -> None:
    with gateway(DB) as (client, _):
        response = client.post("/channels/web/messages", json={"user": USER, "text": ""})
    data = response.json()
    assert data["ended"] is False
    (reply,) = data["replies"]
    assert reply["text"] == "Government services. Choose one:"
    assert {"key": "2", "label": "Register a business"} in reply["options"]


def test_a_business_registration_over_the_web_api() -> None:
    answers = ["", "2", "11501001234", "Pema Store", "1", "2", "14", "17123456", "1", "1"]
    with gateway(DB) as (client, effects):
        prove_number(client, f"web:{USER}")
        for number, text in enumerate(answers):
            payload = {"user": USER, "text": text, "id": f"m{number}"}
            data = client.post("/channels/web/messages", json=payload).json()
    assert data["ended"] is True
    assert data["replies"][-1]["text"].startswith("Registered! Number BR-2026-000123.")
    assert data["replies"][-1]["link"] == "https://gw.bt/d/x"
    assert len(effects.submissions) == 1


def test_bad_requests_are_400() -> None:
    with gateway(DB) as (client, _):
        for payload in ({"text": "hi"}, {"user": "short", "text": ""}, {"user": USER, "x": 1}):
            assert client.post("/channels/web/messages", json=payload).status_code == 400
        assert client.post("/channels/web/messages", content=b"\xff").status_code == 400


def test_messages_are_logged_and_readable_by_the_admin() -> None:
    with gateway(DB, admin_token="admin-secret-token-5e") as (client, _):
        client.post("/channels/web/messages", json={"user": USER, "text": "", "id": "a1"})
        closed = client.get("/api/v1/messages", params={"address": f"web:{USER}"})
        wrong = client.get(
            "/api/v1/messages",
            params={"address": f"web:{USER}"},
            headers={"Authorization": "Bearer nope"},
        )
        found = client.get(
            "/api/v1/messages",
            params={"address": f"web:{USER}"},
            headers={"Authorization": "Bearer admin-secret-token-5e"},
        )
    assert closed.status_code == wrong.status_code == 401
    assert closed.headers["WWW-Authenticate"] == "Bearer"
    rows = found.json()
    assert [(r["direction"], r["status"]) for r in rows] == [("in", "received"), ("out", "sent")]
    assert rows[0]["provider_id"] == f"web:{USER}:a1"
    assert rows[1]["text"].startswith("Government services. Choose one:")


def test_the_admin_api_is_closed_without_a_token() -> None:
    with gateway(DB) as (client, _):
        response = client.get(
            "/api/v1/messages", params={"address": "x" * 5}, headers={"Authorization": "Bearer "}
        )
    assert response.status_code == 403
