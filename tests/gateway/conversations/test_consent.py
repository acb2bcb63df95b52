"""Opt-out everywhere: STOP on SMS or WhatsApp is honoured before anything else reads the
message, recorded durably, and holds back every message the number would be sent, until
it sends START.

First the conversation service alone, on a Redis of the test's own: every opt-out word
of the industry (CTIA) and of Dzongkha, however it is written, opts out before any intent
detection (the classifier used here would take "opt out" for the main menu, and is never
asked); START opts back in; an opted-out number gets nothing but the confirmation.

Then through the app, on SQLite and a fake Africa's Talking messaging API: the opt-out
is kept in the database (`ConsentStore`, through the `consented` callback); and the bug
of the issue, "After STOP, a later submission from the same number still queues the
document SMS to it": a citizen who sent STOP registers over USSD; the link is held (the
final screen says to send START), the worker sends nothing, STATUS lists the
application; START releases the link and the worker sends it. A number that opts out
after submitting, before the worker runs, gets nothing either: the worker checks the
database, and the notification is held, not failed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialogs.catalog import Catalog
from dialogs.media import Medium
from dialogs.messages import LookupRequest, LookupResult, Meaning
from gateway.app import create_app
from gateway.conversations.messages import Message
from gateway.conversations.service import Conversations
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.connect import connect
from state.consent import ConsentStore
from state.store import SessionStore
from tests.gateway.fake_providers import FakeProvider, at_sent, serving
from tests.gateway.providers.apps import dial, run_worker

CITIZEN = "+97517123456"
CID = "11501001234"
OPTED_OUT = (
    "You will receive no more messages from this service. Reply START to receive them again."
)
OPTED_IN = "Welcome back. Send any message to start."
LINK_HELD = "You opted out of SMS: send START to get your link."
AT_KEY = "atsk_test_0123456789abcdef"
ADMIN = "admin-3e8a0c5f71d9b246"
LINKS = "https://gw.gov.bt"
LINK = re.compile(r"https://gw\.gov\.bt/d/[A-Za-z0-9_-]{22}")
REGISTRATION = [CID, "Pema Tshering Shop", "1", "2", "14", "17123456", "1", "1"]

# Each as a citizen may type it: the words carriers honour, in any case, with spaces,
# dashes and closing punctuation, and the Dzongkha ones (script and romanised).
OPT_OUT_MESSAGES = [
    "STOP",
    "stop",
    "  Stop  ",
    "STOPALL",
    "UNSUBSCRIBE",
    "unsubscribe",
    "CANCEL",
    "Cancel.",
    "END",
    "end",
    "QUIT",
    "OPTOUT",
    "opt out",
    "Opt-Out!",
    "OPT_OUT",
    "REVOKE",
    " revoke ",
    "བཀག",
    "བཀག།",
    "མཚམས་འཇོག",
    "ཕྱིར་འཐེན",
    "ཆ་མེད",
    "kag",
    "Tsham Jog",
]
OPT_IN_MESSAGES = [
    "START",
    "start",
    " Start ",
    "UNSTOP",
    "SUBSCRIBE",
    "Opt-In",
    "འགོ་བཙུགས",
    "go tsug",
]


# The conversation service ---------------------------------------------------------------------


@dataclass
class Consents:
    """The conversation service with a classifier that would read any free text as "the
    main menu", and what it was asked and told."""

    conversations: Conversations
    asked: list[str] = field(default_factory=list)  # texts the classifier was given
    recorded: list[tuple[str, str, bool]] = field(default_factory=list)  # consented calls

    async def send(
        self, text: str, channel: Medium = Medium.SMS, service: str | None = None
    ) -> list[str]:
        message = Message(CITIZEN, channel, text, message_id=uuid.uuid4().hex, service=service)
        return [reply.text for reply in await self.conversations.handle(message)]

    async def opted_out(self) -> bool:
        return await self.conversations.store.opted_out(CITIZEN)


async def census(request: LookupRequest) -> LookupResult:
    return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CITIZEN})


@pytest.fixture
async def consents(redis_url: str, services_catalog: Catalog) -> AsyncIterator[Consents]:
    store = SessionStore(connect(redis_url))
    harness = Consents(Conversations(services_catalog, store, lookup=census))

    async def menu_for_everything(text: str, lang: str) -> Meaning:
        harness.asked.append(text)
        return Meaning(text, intent="menu", confidence=0.99, source="test")

    async def consented(citizen: str, channel: str, opted_out: bool) -> None:
        harness.recorded.append((citizen, channel, opted_out))

    harness.conversations.classify = menu_for_everything
    harness.conversations.consented = consented
    yield harness
    await store.close()


async def test_free_text_is_otherwise_given_to_the_classifier(consents: Consents) -> None:
    """The classifier of these tests is asked for free text: its silence below means
    something."""
    assert await consents.send("I want to open a shop") == ["Government services. Choose one:"]
    assert consents.asked == ["I want to open a shop"]
    assert not await consents.opted_out()


@pytest.mark.parametrize("channel", [Medium.SMS, Medium.WHATSAPP])
@pytest.mark.parametrize("text", OPT_OUT_MESSAGES)
async def test_each_opt_out_word_opts_out_before_any_intent_detection(
    consents: Consents, text: str, channel: Medium
) -> None:
    assert await consents.send(text, channel) == [OPTED_OUT]
    assert consents.asked == []
    assert await consents.opted_out()
    assert consents.recorded == [(CITIZEN, channel, True)]


async def test_stop_in_the_middle_of_an_application_opts_out_and_keeps_the_answers(
    consents: Consents,
) -> None:
    await consents.send("hi", service="business-registration")
    assert await consents.send(CID) == ["Welcome Pema Wangmo. Enter the name of your business"]
    assert await consents.send("Cancel") == [OPTED_OUT]  # not an answer, not a command
    assert await consents.opted_out()
    assert await consents.send("START") == [OPTED_IN]
    assert await consents.send("Pema Store") == ["Type of business"]


async def test_a_sentence_with_stop_in_it_is_not_an_opt_out(consents: Consents) -> None:
    await consents.send("please stop asking me")
    assert not await consents.opted_out()
    assert consents.asked == ["please stop asking me"]


async def test_an_opted_out_number_gets_nothing_but_the_confirmation(consents: Consents) -> None:
    assert await consents.send("STOP") == [OPTED_OUT]
    for text in ["hi", "2", CID, "HELP", "STATUS", "I want to register a business"]:
        assert await consents.send(text) == []
        assert await consents.send(text, Medium.WHATSAPP) == []
    assert consents.asked == []
    assert await consents.send("stop") == [OPTED_OUT]  # a choice is always confirmed


@pytest.mark.parametrize("text", OPT_IN_MESSAGES)
async def test_start_opts_back_in(consents: Consents, text: str) -> None:
    await consents.send("STOP")
    assert await consents.send(text) == [OPTED_IN]
    assert not await consents.opted_out()
    assert consents.recorded == [(CITIZEN, "sms", True), (CITIZEN, "sms", False)]
    assert await consents.send("hi") == ["Government services. Choose one:"]
    events = [e["event"] for e in await consents.conversations.store.events()]
    assert events.count("opted_out") == events.count("opted_in") == 1


async def test_stop_on_the_web_chat_is_no_opt_out(consents: Consents) -> None:
    """Nothing is pushed to a web chat: its words are the conversation's."""
    await consents.send("STOP", Medium.WEB)
    assert not await consents.opted_out()
    assert consents.recorded == []


# Through the app ------------------------------------------------------------------------------


@dataclass
class Gateway:
    """The app with USSD and Africa's Talking SMS from an allowed aggregator address,
    the fake SMS API, and the worker run on demand."""

    client: TestClient
    settings: Settings
    redis_url: str
    sms: FakeProvider

    @property
    def app(self) -> FastAPI:
        app = self.client.app
        assert isinstance(app, FastAPI)
        return app

    def sms_in(self, text: str) -> None:
        """An SMS from the citizen, as Africa's Talking posts it."""
        form = {"from": CITIZEN, "to": "21525", "text": text, "id": uuid.uuid4().hex}
        response = self.client.post("/channels/sms/africastalking", data=form)
        assert response.status_code == 200, response.text

    def ussd(self, code: str, session: str, answers: list[str]) -> str:
        """Dial `code` and give `answers` one screen at a time; the last screen."""
        return dial(self.client, code, session, answers, CITIZEN)

    def notifications(self) -> list[dict[str, Any]]:
        """The citizen's messages owed by submissions (webhooks aside)."""
        headers = {"Authorization": f"Bearer {ADMIN}"}
        listed = self.client.get("/api/v1/notifications", headers=headers).json()
        return [n for n in listed if n["kind"] == "message"]

    def consent_kept(self) -> bool:
        """Whether the database says the citizen opted out."""
        consents = ConsentStore(Runtime.of(self.app).submission_store.database)
        assert self.client.portal is not None
        return self.client.portal.call(consents.opted_out, CITIZEN)

    def forget_redis_copy(self) -> None:
        """The session store loses the choice (an embedded Redis wiped, a flush)."""
        with redis.Redis.from_url(self.redis_url) as plain:
            plain.delete(SessionStore.preferences_key(CITIZEN))

    def work(self) -> None:
        """Run the worker until the queue is empty, once the app has queued everything."""
        run_worker(self.client, self.settings, self.redis_url, session_url=self.redis_url)

    def messages(self) -> list[str]:
        return [form["message"] for form in self.sms.forms()]


async def census_holding_the_citizen(request: LookupRequest) -> LookupResult:
    return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CITIZEN})


@pytest.fixture
def gateway(redis_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with serving(FakeProvider(at_sent)) as sms:
        settings = Settings(
            redis_url=redis_url,
            var_dir=tmp_path / "var",
            admin_token=ADMIN,
            link_url=LINKS,
            at_api_key=AT_KEY,
            at_sms_url=sms.url + "/version1/messaging",
            ussd_codes={"*384*1#": "business-registration"},
            ussd_allowed_ips=["127.0.0.1"],
            worker_in_process=False,
            worker_poll_seconds=0.01,
            send_retry_seconds=0.05,
            relay_seconds=3600,
            pdf_processes=1,
        )
        app = create_app(settings)
        with TestClient(app, client=("127.0.0.1", 50000)) as client:
            Runtime.of(app).conversations.lookup = census_holding_the_citizen
            yield Gateway(client, settings, redis_url, sms)


def link_sent_after_start(gateway: Gateway) -> str:
    """START by SMS, then the worker: the opt-out's and the opt-in's confirmations, and
    the one link held for the number; that link. The release is a job of its own: the
    job that held the link ran already, and the queue remembers a job of the same
    notification for a day."""
    gateway.sms_in("START")
    gateway.work()
    assert gateway.messages()[:2] == [OPTED_OUT, OPTED_IN]
    links = gateway.messages()[2:]
    assert len(links) == 1, f"no link after START; owed: {gateway.notifications()}"
    (link,) = links
    return link


def test_stop_by_sms_is_kept_in_the_database_and_start_undoes_it(gateway: Gateway) -> None:
    gateway.sms_in("STOP")
    assert gateway.consent_kept()
    gateway.sms_in("hello")
    gateway.work()
    assert gateway.messages() == [OPTED_OUT]  # nothing but the confirmation

    gateway.sms_in("START")
    assert not gateway.consent_kept()
    gateway.work()
    assert gateway.messages() == [OPTED_OUT, OPTED_IN]


def test_after_stop_a_ussd_registration_holds_its_link_until_start(gateway: Gateway) -> None:
    gateway.sms_in("STOP")
    gateway.work()
    assert gateway.messages() == [OPTED_OUT]

    screen = gateway.ussd("*384*1#", "ATUid_held", REGISTRATION)
    assert screen.startswith("END Registered! Number BR-")
    assert screen.endswith("\n" + LINK_HELD)
    reference = screen.split("Number ", 1)[1].split(".", 1)[0]
    (owed,) = gateway.notifications()
    assert (owed["address"], owed["status"]) == (CITIZEN, "held")
    gateway.work()
    assert gateway.messages() == [OPTED_OUT]  # the link did not go

    menu = gateway.ussd("*384#", "ATUid_status", [])
    (item,) = [line.split(".")[0] for line in menu.splitlines() if "My applications" in line]
    listed = gateway.ussd("*384#", "ATUid_status", [item])
    assert listed == f"END Your applications:\n{reference} Register a business: issued"

    link = link_sent_after_start(gateway)
    assert link.startswith(f"Certificate of Business Registration {reference}:")
    assert LINK.search(link)
    assert gateway.sms.calls[-1].form["to"] == CITIZEN
    assert [n["status"] for n in gateway.notifications()] == ["sent"]


def test_an_opt_out_kept_in_the_database_holds_links_when_redis_forgot_it(
    gateway: Gateway,
) -> None:
    gateway.sms_in("STOP")
    gateway.forget_redis_copy()
    screen = gateway.ussd("*384*1#", "ATUid_durable", REGISTRATION)
    gateway.work()
    assert gateway.messages() == [OPTED_OUT]  # the worker asked the database
    assert [n["status"] for n in gateway.notifications()] == ["held"]
    # The submission's own statement reads the database's record of the opt-out, so the
    # screen says to send START even when Redis forgot it.
    assert screen.endswith("\n" + LINK_HELD), screen


def register_then_stop_before_the_worker(gateway: Gateway) -> None:
    """Register over USSD (the link is owed), then STOP by SMS before any worker ran;
    the session store's copy of the choice is lost, so only the database knows it."""
    screen = gateway.ussd("*384*1#", "ATUid_late", REGISTRATION)
    assert screen.startswith("END Registered! Number BR-")
    assert LINK_HELD not in screen
    assert [n["status"] for n in gateway.notifications()] == ["pending"]
    gateway.sms_in("STOP")
    gateway.forget_redis_copy()
    gateway.work()


def test_a_number_that_opts_out_before_the_worker_runs_is_sent_nothing(
    gateway: Gateway,
) -> None:
    register_then_stop_before_the_worker(gateway)
    assert gateway.messages() == [OPTED_OUT]
    (owed,) = gateway.notifications()
    assert owed["status"] == "held"  # not failed: it goes when the number sends START
    assert owed["sent_at"] is None


def test_a_link_held_by_the_worker_goes_when_the_number_sends_start(gateway: Gateway) -> None:
    register_then_stop_before_the_worker(gateway)
    link = link_sent_after_start(gateway)
    assert link.startswith("Certificate of Business Registration BR-")
    assert [n["status"] for n in gateway.notifications()] == ["sent"]
