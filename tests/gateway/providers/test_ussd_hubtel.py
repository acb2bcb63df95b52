"""Hubtel USSD: JSON requests and replies, Initiation / Response / Release."""

from __future__ import annotations

from typing import Any

from tests.gateway.providers.apps import gateway

DB = 8


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


def test_a_registration_starts_and_continues_over_hubtel() -> None:
    with gateway(DB, ussd_codes={"*714*11#": "business-registration"}) as (client, effects):
        first = client.post("/channels/ussd/hubtel", json=request("Initiation", "*714*11#", 1))
        second = client.post("/channels/ussd/hubtel", json=request("Response", "11501001234", 2))
        repeated = client.post("/channels/ussd/hubtel", json=request("Response", "11501001234", 2))
    assert first.json() == {
        "Type": "Response",
        "Message": "Enter your citizenship ID (11 digits)",
        "ClientState": "",
    }
    assert second.json()["Message"] == "Welcome Pema Wangmo. Enter the name of your business"
    assert repeated.json() == second.json()
    assert len(effects.lookups) == 1


def test_release_is_acknowledged_and_junk_refused() -> None:
    with gateway(DB) as (client, _):
        released = client.post("/channels/ussd/hubtel", json=request("Release", "", 3))
        assert released.json()["Type"] == "Release"
        assert client.post("/channels/ussd/hubtel", content=b"{not json").status_code == 400
        assert client.post("/channels/ussd/hubtel", json={"Type": "Response"}).status_code == 400


def test_a_number_of_a_country_not_served_starts_nothing() -> None:
    ghana = {**request("Initiation", "*714*11#", 1), "Mobile": "233244123456"}
    with gateway(DB, ussd_codes={"*714*11#": "business-registration"}) as (client, effects):
        refused = client.post("/channels/ussd/hubtel", json=ghana).json()
    assert refused == {
        "Type": "Release",
        "Message": "This service is not available for your number.",
        "ClientState": "",
    }
    assert effects.lookups == []
    served = {"ussd_codes": {"*714*11#": "business-registration"}, "allowed_countries": ["GH"]}
    with gateway(DB, **served) as (client, _):
        first = client.post("/channels/ussd/hubtel", json=ghana).json()
    assert (first["Type"], first["Message"]) == (
        "Response",
        "Enter your citizenship ID (11 digits)",
    )
