"""Africa's Talking USSD: the real form body, CON/END, accumulating text, token, IPs.

Each test gets a Redis database of its own (`redis_database`). A screen is compared with
what the conversation answered (`recorded_replies`), as Africa's Talking shows it, never
with the shipped services' wording.
"""

from __future__ import annotations

import pytest

from dialogs.gsm import USSD_MAX_SEPTETS, septets
from dialogs.media import MORE_KEY, Medium
from dialogs.messages import Reply
from dialogs.render import renderer_for
from gateway.conversations.service import newest_answer
from gateway.runtime import Runtime
from tests.gateway.providers.apps import gateway, recorded_replies
from tests.redis_databases import RedisDatabase

CODE = "*384*1#"


def screen(replies: list[Reply]) -> str:
    """The replies as Africa's Talking shows them: CON (or END, when the conversation
    ends) and the USSD screen."""
    text = "\n".join(renderer_for(Medium.USSD).render(reply).text for reply in replies)
    return ("END " if any(reply.end for reply in replies) else "CON ") + text


def numbers(replies: list[Reply]) -> list[int]:
    """The numbers of the options offered (navigation left out)."""
    return [int(o.key) for reply in replies for o in reply.options if not o.nav]


def body(text: str, session: str = "ATUid_9f2") -> dict[str, str]:
    return {
        "sessionId": session,
        "phoneNumber": "+97517123456",
        "networkCode": "40201",
        "serviceCode": CODE,
        "text": text,
    }


REGISTRATION = ["11501001234", "Pema Store", "1", "2", "98", "14", "17123456", "1", "1"]


def test_a_business_registration_over_ussd(redis_database: RedisDatabase) -> None:
    codes = {CODE: "business-registration"}
    with gateway(redis_database.number, ussd_codes=codes) as (client, effects):
        said = recorded_replies(client.app)
        screens = []
        text = ""
        for answer in [None, *REGISTRATION]:
            if answer is not None:
                text = answer if not text else f"{text}*{answer}"
            response = client.post("/channels/ussd/africastalking", data=body(text))
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            screens.append(response.text)
    assert screens == [screen(replies) for replies in said]
    assert [s[:4] for s in screens] == ["CON "] * (len(screens) - 1) + ["END "]
    assert all(septets(s[4:]) <= USSD_MAX_SEPTETS for s in screens)
    # The long lists come a screen at a time: "98" gives the next page, numbered on.
    assert MORE_KEY in {o.key for reply in said[4] for o in reply.options}
    assert min(numbers(said[5])) > max(numbers(said[4]))
    assert len(effects.submissions) == 1


def test_an_answer_containing_a_star_is_kept_whole(redis_database: RedisDatabase) -> None:
    codes = {CODE: "business-registration"}
    with gateway(redis_database.number, ussd_codes=codes) as (client, _effects):
        client.post("/channels/ussd/africastalking", data=body(""))
        client.post("/channels/ussd/africastalking", data=body("11501001234"))
        client.post("/channels/ussd/africastalking", data=body("11501001234*A*B Traders"))
        store = Runtime.of(client.app).conversations.store
        assert client.portal is not None
        record = client.portal.call(store.read, "+97517123456")
    assert record is not None
    assert '"business_name":"A*B Traders"' in record.snapshot


def test_a_retried_callback_gets_the_same_screen_and_one_effect(
    redis_database: RedisDatabase,
) -> None:
    codes = {CODE: "business-registration"}
    with gateway(redis_database.number, ussd_codes=codes) as (client, effects):
        client.post("/channels/ussd/africastalking", data=body(""))
        first = client.post("/channels/ussd/africastalking", data=body("11501001234"))
        again = client.post("/channels/ussd/africastalking", data=body("11501001234"))
    assert first.text == again.text
    assert len(effects.lookups) == 1


def test_a_redial_offers_to_continue(redis_database: RedisDatabase) -> None:
    codes = {CODE: "business-registration"}
    with gateway(redis_database.number, ussd_codes=codes) as (client, _):
        said = recorded_replies(client.app)
        client.post("/channels/ussd/africastalking", data=body(""))
        asked = client.post("/channels/ussd/africastalking", data=body("11501001234"))
        redial = client.post("/channels/ussd/africastalking", data=body("", session="ATUid_2"))
        assert redial.text == screen(said[-1])
        assert redial.text != asked.text  # an offer, first: go on, or start again
        assert numbers(said[-1])
        went_on = client.post("/channels/ussd/africastalking", data=body("1", session="ATUid_2"))
    assert went_on.text == asked.text  # the question the first session stopped at


def test_an_unmapped_code_gets_the_main_menu(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, _):
        said = recorded_replies(client.app)
        response = client.post("/channels/ussd/africastalking", data=body(""))
        services = Runtime.of(client.app).conversations.catalog.menu()
    assert response.text == screen(said[0])
    # One option per service, in order (then what every menu offers besides).
    assert numbers(said[0])[: len(services)] == list(range(1, len(services) + 1))


def test_the_token_is_required_when_set(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number, ussd_token="s3cret-ussd-token-9f2c") as (client, _):
        assert client.post("/channels/ussd/africastalking", data=body("")).status_code == 403
        wrong = client.post("/channels/ussd/africastalking?token=nope", data=body(""))
        assert wrong.status_code == 403
        right = client.post(
            "/channels/ussd/africastalking?token=s3cret-ussd-token-9f2c", data=body("")
        )
        assert right.status_code == 200


def test_callers_outside_the_allow_list_are_refused(redis_database: RedisDatabase) -> None:
    db = redis_database.number
    with gateway(db, ussd_allowed_ips=["196.201.214.0/24"]) as (client, _):
        # TestClient calls from "testclient", which is no address at all.
        assert client.post("/channels/ussd/africastalking", data=body("")).status_code == 403
    with gateway(db, ussd_allowed_ips=["196.201.214.0/24", "testclient"]) as (client, _):
        assert client.post("/channels/ussd/africastalking", data=body("")).status_code == 403


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"sessionId": "x", "phoneNumber": "+97517123456"}, 400),
        ({**body(""), "phoneNumber": ""}, 400),
    ],
)
def test_malformed_callbacks_are_4xx(
    redis_database: RedisDatabase, payload: dict[str, str], status: int
) -> None:
    with gateway(redis_database.number) as (client, _):
        assert client.post("/channels/ussd/africastalking", data=payload).status_code == status
        json_body = client.post("/channels/ussd/africastalking", json={"text": ""})
        assert json_body.status_code == 415


def test_the_end_of_session_notification_is_acknowledged(redis_database: RedisDatabase) -> None:
    notice = {
        "sessionId": "ATUid_9f2",
        "serviceCode": CODE,
        "networkCode": "40201",
        "phoneNumber": "+97517123456",
        "status": "Incomplete",
        "cost": "KES 0.00",
        "durationInMillis": "30050",
        "hopsCount": "3",
        "input": "1*2",
        "lastAppResponse": "CON Type of business",
        "errorMessage": "",
        "date": "2026-11-28",
    }
    with gateway(redis_database.number) as (client, _):
        response = client.post("/channels/ussd/africastalking/events", data=notice)
    assert response.status_code == 200
    assert response.text == "OK"


@pytest.mark.parametrize(
    ("full", "previous", "newest"),
    [
        ("", None, ""),
        ("1", "", "1"),
        ("1*2", "1", "2"),
        ("1*2*A*B", "1*2", "A*B"),
        ("1*2", "1*2", ""),
        ("9*7", "1*2", "7"),
    ],
)
def test_newest_answer(full: str, previous: str | None, newest: str) -> None:
    assert newest_answer(full, previous) == newest


def test_sms_segments_and_ussd_screens_are_logged(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number, admin_token="t0ken-for-the-admin-api") as (client, _):
        said = recorded_replies(client.app)
        client.post("/channels/ussd/africastalking", data=body(""))
        rows = client.get(
            "/api/v1/messages",
            params={"address": "+97517123456"},
            headers={"Authorization": "Bearer t0ken-for-the-admin-api"},
        ).json()
    assert [r["channel"] for r in rows] == ["ussd/africastalking"] * 2
    assert rows[1]["text"] == renderer_for(Medium.USSD).render(said[0][0]).text


def test_junk_and_huge_form_bodies_are_refused_clearly(redis_database: RedisDatabase) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with gateway(redis_database.number) as (client, _):
        junk = client.post("/channels/ussd/africastalking", content=b"\xff\xfe=\x00", headers=form)
        huge = client.post(
            "/channels/ussd/africastalking", content=b"text=" + b"1" * 70_000, headers=form
        )
    assert junk.status_code == 400
    assert huge.status_code == 413


def test_the_allow_list_is_parsed_once_and_junk_entries_allow_nothing() -> None:
    from gateway.providers.common import networks

    parsed = networks(("not-an-address", "196.201.214.0/24"))
    assert [str(n) for n in parsed] == ["196.201.214.0/24"]
    assert networks(("not-an-address", "196.201.214.0/24")) is parsed
