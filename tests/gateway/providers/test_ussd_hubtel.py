"""Hubtel USSD: JSON requests and replies, Initiation / Response / Release.

A reply is compared with what the conversation answered (`recorded_replies`), as Hubtel
shows it, never with the shipped services' wording.
"""

from __future__ import annotations

from typing import Any

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render import renderer_for
from tests.gateway.providers.apps import gateway, recorded_replies
from tests.redis_databases import RedisDatabase

CODES = {"ussd_codes": {"*714*11#": "business-registration"}}


def request(kind: str, message: str, sequence: int) -> dict[str, Any]:
    return {
        "Type": kind,
        "Message": message,
        "ServiceCode": "*714*11#",
        "Operator": "Tigo",
        "ClientState": "",
        "Mobile": "97517123456",  # as Hubtel writes numbers: country code, no "+"
        "SessionId": "a1b2c3d4e5",
        "Sequence": sequence,
    }


def answer(replies: list[Reply]) -> dict[str, str]:
    """The replies as Hubtel takes them: Response (or Release, when the conversation
    ends) and the USSD screen."""
    text = "\n".join(renderer_for(Medium.USSD).render(reply).text for reply in replies)
    end = any(reply.end for reply in replies)
    return {"Type": "Release" if end else "Response", "Message": text, "ClientState": ""}


def test_a_registration_starts_and_continues_over_hubtel(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number, **CODES) as (client, effects):
        said = recorded_replies(client.app)
        first = client.post("/channels/ussd/hubtel", json=request("Initiation", "*714*11#", 1))
        second = client.post("/channels/ussd/hubtel", json=request("Response", "11501001234", 2))
        repeated = client.post("/channels/ussd/hubtel", json=request("Response", "11501001234", 2))
    assert first.json() == answer(said[0])
    assert first.json()["Type"] == "Response"
    assert second.json() == answer(said[1])
    assert second.json() != first.json()  # the ID was taken: the next question
    assert repeated.json() == second.json()
    assert len(effects.lookups) == 1


def test_release_is_acknowledged_and_junk_refused(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, _):
        released = client.post("/channels/ussd/hubtel", json=request("Release", "", 3))
        assert released.json()["Type"] == "Release"
        assert client.post("/channels/ussd/hubtel", content=b"{not json").status_code == 400
        assert client.post("/channels/ussd/hubtel", json={"Type": "Response"}).status_code == 400


def test_a_number_of_a_country_not_served_starts_nothing(redis_database: RedisDatabase) -> None:
    ghana = {**request("Initiation", "*714*11#", 1), "Mobile": "233244123456"}
    with gateway(redis_database.number, **CODES) as (client, effects):
        said = recorded_replies(client.app)
        refused = client.post("/channels/ussd/hubtel", json=ghana).json()
    assert refused == answer(said[0])
    assert refused["Type"] == "Release"  # told why, and the session ends
    assert refused["Message"]
    assert effects.lookups == []
    served = {**CODES, "allowed_countries": ["GH"]}
    with gateway(redis_database.number, **served) as (client, _):
        said = recorded_replies(client.app)
        first = client.post("/channels/ussd/hubtel", json=ghana).json()
    assert first == answer(said[0])
    assert first["Type"] == "Response"
