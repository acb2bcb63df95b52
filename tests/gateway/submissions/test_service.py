"""Submissions end to end through HTTP: a registration over USSD gets its reference, an SMS
with a short link (Africa's Talking, faked on loopback) and a PDF behind the link; a
reviewed application is decided in the admin API, the citizen is told, and the back
office receives signed webhooks, retried while it is down."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialogs.messages import LookupRequest, LookupResult
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.dialogs.helpers import CENSUS_MOBILE
from tests.gateway.fake_providers import Answer, Call, FakeProvider, at_sent, serving
from tests.gateway.providers.apps import AGGREGATOR, AGGREGATORS, dial, run_worker
from tests.redis_databases import RedisDatabase

ADMIN = "admin-7d1f0c2b9e4a61"
HOOK_SECRET = "whsec-3b9c1d7e5a0f42"
LINKS = "https://gw.gov.bt"
CITIZEN = "+97517123456"
REGISTRATION = ["11501001234", "Pema Tshering Shop", "1", "2", "14", "17123456", "1", "1"]
# Flights from 10 days on: the service takes dates from 3 days after today.
FLIGHT = date.today() + timedelta(days=10)
DRONE = [
    "11501001234",
    "DJI Mavic 3",
    "2",
    "1",
    "8",
    FLIGHT.strftime("%d/%m/%Y"),
    (FLIGHT + timedelta(days=2)).strftime("%d/%m/%Y"),
    "100",
    "1",
    "1",
]
LINK = re.compile(r"https://gw\.gov\.bt/d/([A-Za-z0-9_-]{22})")


def back_office_ok(call: Call, n: int) -> Answer:
    return 200, {"received": True}


@dataclass
class Gateway:
    client: TestClient
    settings: Settings
    sms: FakeProvider
    hooks: FakeProvider

    def ussd(self, code: str, session: str, answers: list[str], phone: str = CITIZEN) -> str:
        """Dial `code` and give `answers` one screen at a time; the last screen."""
        return dial(self.client, code, session, answers, phone)

    def admin(self, method: str, path: str, **options: Any) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        return self.client.request(method, "/api/v1" + path, headers=headers, **options)

    def work(self) -> None:
        """Run the worker until the queue is empty (once the app has queued everything)."""
        assert self.settings.redis_url is not None
        run_worker(self.client, self.settings, self.settings.redis_url)


async def census(request: LookupRequest) -> LookupResult:
    return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})


@pytest.fixture
def gw(request: pytest.FixtureRequest, redis_database: RedisDatabase) -> Iterator[Gateway]:
    """The app on a Redis database of the test's own; a test may add settings with
    `@pytest.mark.parametrize("gw", [{...}], indirect=True)`."""
    extra: dict[str, Any] = getattr(request, "param", {})
    var = Path(tempfile.mkdtemp(prefix="gateway-var-"))
    with serving(FakeProvider(at_sent)) as sms, serving(FakeProvider(back_office_ok)) as hooks:
        settings = Settings(
            redis_url=redis_database.url,
            var_dir=var,
            admin_token=ADMIN,
            link_url=LINKS,
            at_api_key="atsk_test_0123456789abcdef",
            at_sms_url=sms.url + "/version1/messaging",
            backoffice_webhook_url=hooks.url + "/hooks/gateway",
            backoffice_webhook_secret=HOOK_SECRET,
            ussd_codes={
                "*384*1#": "business-registration",
                "*384*2#": "drone-flight-authorization",
            },
            worker_in_process=False,
            worker_poll_seconds=0.01,
            send_retry_seconds=0.05,
            relay_seconds=3600,
            ussd_allowed_ips=AGGREGATORS,
            **extra,
        )
        app = create_app(settings)
        with TestClient(app, client=AGGREGATOR) as client:
            Runtime.of(app).conversations.lookup = census
            yield Gateway(client, settings, sms, hooks)


def signed(call: Call) -> dict[str, Any]:
    """The webhook's JSON, after checking its signature as a back office would."""
    timestamp = call.headers["x-gateway-timestamp"]
    digest = hmac.new(HOOK_SECRET.encode(), timestamp.encode() + b"." + call.body, hashlib.sha256)
    assert call.headers["x-gateway-signature"] == f"sha256={digest.hexdigest()}"
    data: dict[str, Any] = json.loads(call.body)
    return data


def test_a_registration_over_ussd_gets_its_certificate_link_by_sms(gw: Gateway) -> None:
    screen = gw.ussd("*384*1#", "ATUid_1", REGISTRATION)
    assert screen.startswith("END Registered! Number BR-2026-000001.")
    assert "/d/" not in screen  # a USSD screen cannot open a link: it comes by SMS

    gw.work()
    (sms,) = gw.sms.forms()
    assert sms["to"] == CITIZEN
    assert sms["message"].startswith("Certificate of Business Registration BR-2026-000001:")
    found = LINK.search(sms["message"])
    assert found is not None
    link = found.group(0)
    assert len(link) == len("https://gw.gov.bt/d/") + 22  # 128 random bits
    assert len(sms["message"]) <= 160  # one SMS part with its sentence

    document = gw.client.get(f"/d/{found.group(1)}")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")
    assert 'filename="BR-2026-000001-certificate.pdf"' in document.headers["content-disposition"]

    code = gw.admin("GET", "/submissions/BR-2026-000001").json()["check_code"]
    page = gw.client.get("/verify/BR-2026-000001", params={"code": code})
    assert page.status_code == 200
    assert "Valid document" in page.text
    assert "P*** W*****" in page.text
    assert "Pema Wangmo" not in page.text

    (hook,) = gw.hooks.calls
    event = signed(hook)
    assert event["event"] == "submitted"
    assert event["submission"]["reference"] == "BR-2026-000001"
    assert event["submission"]["status"] == "issued"
    assert event["submission"]["answers"]["business_name"] == "Pema Tshering Shop"
    assert event["submission"]["document_url"] == link
    assert event["submission"]["verify_url"] == f"{LINKS}/verify/BR-2026-000001?code={code}"

    # Run the worker again: nothing is owed any more, nothing is sent twice.
    gw.work()
    assert len(gw.sms.calls) == 1
    assert len(gw.hooks.calls) == 1


def test_the_same_final_answer_delivered_twice_submits_once(gw: Gateway) -> None:
    gw.ussd("*384*1#", "ATUid_2", REGISTRATION)
    form = {
        "sessionId": "ATUid_2",
        "phoneNumber": CITIZEN,
        "networkCode": "40201",
        "serviceCode": "*384*1#",
        "text": "*".join(REGISTRATION),
    }
    again = gw.client.post("/channels/ussd/africastalking", data=form)
    assert again.text.startswith("END Registered! Number BR-2026-000001.")
    listed = gw.admin("GET", "/submissions").json()
    assert [s["reference"] for s in listed] == ["BR-2026-000001"]


def test_revoked_expired_and_unknown_links(gw: Gateway) -> None:
    gw.ussd("*384*1#", "ATUid_3", REGISTRATION)
    token = gw.admin("GET", "/submissions/BR-2026-000001").json()["document_token"]
    assert gw.client.get(f"/d/{token}").status_code == 200
    assert gw.client.get("/d/" + "A" * 22).status_code == 404
    assert gw.client.get("/d/not..a..token").status_code == 422

    reason = {"reason": "Registered with a forged licence."}
    assert gw.admin("POST", "/submissions/BR-2026-000001/revoke").status_code == 422  # why?
    revoked = gw.admin("POST", "/submissions/BR-2026-000001/revoke", json=reason).json()
    assert revoked == {"reference": "BR-2026-000001", "revoked": True}
    again = gw.admin("POST", "/submissions/BR-2026-000001/revoke", json=reason)
    assert again.status_code == 409  # none is valid any more
    gone = gw.client.get(f"/d/{token}")
    assert gone.status_code == 410
    assert "revoked" in gone.text
    assert "Registered with a forged licence." in gone.text
    code = {"code": gw.admin("GET", "/submissions/BR-2026-000001").json()["check_code"]}
    assert "Revoked document" in gw.client.get("/verify/BR-2026-000001", params=code).text
    assert gw.client.get("/verify/BR-2026-999999", params=code).status_code == 404


@pytest.mark.parametrize("gw", [{"document_days": 0}], indirect=True)
def test_an_expired_link_says_so_and_the_document_stays_valid(gw: Gateway) -> None:
    gw.ussd("*384*1#", "ATUid_12", REGISTRATION)
    token = gw.admin("GET", "/submissions/BR-2026-000001").json()["document_token"]
    expired = gw.client.get(f"/d/{token}")
    assert expired.status_code == 410
    assert "Link expired" in expired.text
    assert "BR-2026-000001 is not affected" in expired.text
    code = {"code": gw.admin("GET", "/submissions/BR-2026-000001").json()["check_code"]}
    assert "Valid document" in gw.client.get("/verify/BR-2026-000001", params=code).text


def test_links_and_pages_are_rate_limited(gw: Gateway) -> None:
    statuses = [gw.client.get("/d/" + "B" * 22).status_code for _ in range(35)]
    assert statuses[:30] == [404] * 30
    assert statuses[30:] == [429] * 5


def test_a_reviewed_application_is_approved_and_the_citizen_gets_the_permit(gw: Gateway) -> None:
    screen = gw.ussd("*384*2#", "ATUid_4", DRONE)
    assert "DFA-2026-000001" in screen
    pending = gw.admin("GET", "/submissions", params={"status": "pending"}).json()
    assert [(s["reference"], s["status"]) for s in pending] == [("DFA-2026-000001", "pending")]
    assert pending[0]["answers"]["drone_model"] == "DJI Mavic 3"

    gw.work()
    assert gw.sms.calls == []  # nothing to deliver before a decision
    assert signed(gw.hooks.calls[0])["event"] == "submitted"

    decided = gw.admin(
        "POST", "/submissions/DFA-2026-000001/decision", json={"decision": "approve"}
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "approved"
    late = {"decision": "reject", "reason": "too late"}
    again = gw.admin("POST", "/submissions/DFA-2026-000001/decision", json=late)
    assert again.status_code == 409

    gw.work()
    (sms,) = gw.sms.forms()
    assert sms["to"] == CITIZEN
    assert sms["message"].startswith("Your application DFA-2026-000001 is approved.")
    found = LINK.search(sms["message"])
    assert found is not None
    permit = gw.client.get(f"/d/{found.group(1)}")
    assert permit.status_code == 200
    assert 'filename="DFA-2026-000001-permit.pdf"' in permit.headers["content-disposition"]
    events = [signed(call)["event"] for call in gw.hooks.calls]
    assert events == ["submitted", "approved"]


def test_a_rejection_needs_a_reason_and_tells_the_citizen(gw: Gateway) -> None:
    gw.ussd("*384*2#", "ATUid_5", DRONE)
    path = "/submissions/DFA-2026-000001/decision"
    assert gw.admin("POST", path, json={"decision": "reject"}).status_code == 422
    reason = "Paro is a no-fly zone near the airport"
    rejected = gw.admin("POST", path, json={"decision": "reject", "reason": reason})
    assert rejected.json()["status"] == "rejected"
    gw.work()
    (sms,) = gw.sms.forms()
    assert sms["message"] == f"Your application DFA-2026-000001 is not approved: {reason}"
    assert (
        gw.admin("POST", "/submissions/NOPE-1/decision", json={"decision": "approve"}).status_code
        == 404
    )


def test_webhooks_are_retried_while_the_back_office_is_down(gw: Gateway) -> None:
    gw.hooks.next = [(503, {"error": "maintenance"}), (502, "bad gateway")]
    gw.ussd("*384*1#", "ATUid_6", REGISTRATION)
    gw.work()
    assert [signed(call)["delivery"] for call in gw.hooks.calls] == [2, 2, 2]  # one id, 3 tries
    sent = gw.admin("GET", "/notifications", params={"status": "sent"}).json()
    hook = next(n for n in sent if n["kind"] == "webhook")
    assert (hook["attempts"], hook["last_error"]) == (3, None)


def test_a_delivery_that_keeps_failing_is_listed_and_can_be_retried(gw: Gateway) -> None:
    gw.settings.send_max_tries = 2
    gw.hooks.next = [(500, "down")] * 2
    gw.ussd("*384*1#", "ATUid_7", REGISTRATION)
    gw.work()
    (failed,) = gw.admin("GET", "/notifications", params={"status": "failed"}).json()
    assert failed["kind"] == "webhook"
    assert failed["attempts"] == 2
    assert failed["last_error"] == "back office answered HTTP 500"

    retried = gw.admin("POST", f"/notifications/{failed['id']}/retry").json()
    assert retried["status"] == "pending"
    gw.work()
    assert len(gw.hooks.calls) == 3
    sent = gw.admin("GET", "/notifications", params={"status": "sent"}).json()
    assert failed["id"] in [n["id"] for n in sent]


def test_the_admin_api_needs_the_token(gw: Gateway) -> None:
    for path in ("/api/v1/submissions", "/api/v1/notifications"):
        refused = gw.client.get(path)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_the_ussd_menu_lists_the_citizens_applications(gw: Gateway) -> None:
    gw.ussd("*384*1#", "ATUid_8", REGISTRATION)
    gw.ussd("*384*2#", "ATUid_9", DRONE)
    menu = gw.ussd("*384#", "ATUid_10", [])
    (item,) = [line.split(".")[0] for line in menu.splitlines() if "My applications" in line]
    screen = gw.ussd("*384#", "ATUid_10", [item])
    assert screen == (
        "END Your applications:\n"
        "DFA-2026-000001 Drone flight permit: under review\n"
        "BR-2026-000001 Register a business: issued"
    )
    other = gw.ussd("*384#", "ATUid_11", [item], phone="+97577111222")
    assert other == "END You have no applications yet."
