"""The web chat JSON API.

An answer is compared with what the conversation replied (`recorded_replies`), in the
JSON the chat page reads, never with the shipped services' wording.
"""

from __future__ import annotations

from typing import Any

from dialogs.messages import Reply
from tests.gateway.providers.apps import gateway, prove_number, recorded_replies
from tests.redis_databases import RedisDatabase

USER = "u-5f1c2a9b"


def page(replies: list[Reply]) -> dict[str, Any]:
    """The replies in the JSON the chat page reads."""
    return {
        "replies": [
            {
                "text": reply.text,
                "options": [{"key": o.key, "label": o.label} for o in reply.options],
                "link": reply.link,
            }
            for reply in replies
        ],
        "ended": any(reply.end for reply in replies),
    }


def test_the_first_screen_is_the_menu_with_options(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, _):
        said = recorded_replies(client.app)
        response = client.post("/channels/web/messages", json={"user": USER, "text": ""})
    data = response.json()
    assert data == page(said[0])
    assert data["ended"] is False
    (reply,) = data["replies"]
    assert [option["key"] for option in reply["options"]][:2] == ["1", "2"]  # the services


def test_a_business_registration_over_the_web_api(redis_database: RedisDatabase) -> None:
    answers = ["", "2", "11501001234", "Pema Store", "1", "2", "14", "17123456", "1", "1"]
    with gateway(redis_database.number) as (client, effects):
        said = recorded_replies(client.app)
        prove_number(client, f"web:{USER}")
        pages = []
        for number, text in enumerate(answers):
            payload = {"user": USER, "text": text, "id": f"m{number}"}
            pages.append(client.post("/channels/web/messages", json=payload).json())
    assert pages == [page(replies) for replies in said]
    assert pages[-1]["ended"] is True
    assert pages[-1]["replies"][-1]["link"] == "https://gw.bt/d/x"  # what apps.Effects issued
    assert len(effects.submissions) == 1


def test_bad_requests_are_400(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, _):
        for payload in ({"text": "hi"}, {"user": "short", "text": ""}, {"user": USER, "x": 1}):
            assert client.post("/channels/web/messages", json=payload).status_code == 400
        assert client.post("/channels/web/messages", content=b"\xff").status_code == 400


def test_messages_are_logged_and_readable_by_the_admin(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number, admin_token="admin-secret-token-5e") as (client, _):
        said = recorded_replies(client.app)
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
    assert rows[1]["text"] == said[0][0].text


def test_the_admin_api_is_closed_without_a_token(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, _):
        response = client.get(
            "/api/v1/messages", params={"address": "x" * 5}, headers={"Authorization": "Bearer "}
        )
    assert response.status_code == 403
