"""`bench.web_peer`: loadgen's web script plays the number proof, the code read where the
gateway's outbox sends it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import aiohttp
import pytest

from bench import at_messaging, web_peer
from tests.state import free_port

NUMBER = "+97517654321"


async def send_sms(port: int, to: str, message: str) -> tuple[int, dict[str, object]]:
    """As the gateway's Africa's Talking sender posts one SMS."""
    form = {"username": "sandbox", "to": to, "message": message}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}{at_messaging.PATH}", data=form) as response,
    ):
        return response.status, await response.json()


async def test_the_code_sent_to_a_number_is_read_once() -> None:
    inbox, port = web_peer.CodeInbox(), free_port()
    async with inbox.serving(port):
        waiting = asyncio.create_task(inbox.code_for(NUMBER))
        await asyncio.sleep(0.05)
        text = "042917 is your code for government services. It expires in 5 minutes."
        status, answer = await send_sms(port, NUMBER, text)
        assert await waiting == "042917"
        assert status == 201
        assert answer == at_messaging.sent(NUMBER, "ATXid_1")
        # Already there when asked for: taken at once.
        await send_sms(port, NUMBER, "318664 is your code for government services.")
        assert await inbox.code_for(NUMBER) == "318664"
        # An SMS without a code (a document's link) is answered and gives no code.
        assert (await send_sms(port, NUMBER, "Your certificate: https://gw/d/x"))[0] == 201
        assert NUMBER not in inbox.codes


async def test_a_code_that_never_comes_breaks_the_conversation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web_peer, "CODE_SECONDS", 0.05)
    with pytest.raises(TimeoutError):
        await web_peer.CodeInbox().code_for(NUMBER)


async def test_the_web_script_gives_the_number_then_the_code_sent_there() -> None:
    sent: list[str] = []

    class Conversation:  # loadgen's, as far as the script needs it
        async def send(self, message: str, expected: str) -> tuple[str, bool]:
            sent.append(message)
            return "", True

    script = ["I want to register a business", "{cid}", "{phone8}", "1"]
    loadgen = SimpleNamespace(GW_WEB=script, Conversation=Conversation)
    inbox = web_peer.CodeInbox()
    web_peer.proving(loadgen, inbox)
    user = {"cid": "11512000123", "phone8": "17654321"}
    messages = [message.format(**user) for message in loadgen.GW_WEB]
    assert messages[:4] == ["I want to register a business", "11512000123", "17654321", "1"]
    assert messages[4] == "17654321"  # the number the gateway asks for at the submission
    inbox.codes[NUMBER] = "555123"
    inbox.arrived[NUMBER] = asyncio.Event()
    inbox.arrived[NUMBER].set()
    conversation = loadgen.Conversation()
    for message in messages:
        await conversation.send(message, "")
    assert sent == [*messages[:5], "555123"]


def test_a_web_script_without_the_number_is_refused() -> None:
    loadgen = SimpleNamespace(GW_WEB=["hello", "{cid}"], Conversation=object)
    with pytest.raises(RuntimeError, match="phone8"):
        web_peer.proving(loadgen, web_peer.CodeInbox())


def test_loadgen_gets_its_own_arguments_and_the_web_target() -> None:
    options, rest = web_peer.arguments(
        ["--peer=/p", "--sms-port=4000", "load", "--url=http://x", "-c64", "-d10"]
    )
    assert (str(options.peer), options.sms_port) == ("/p", 4000)
    argv = list(web_peer.loadgen_argv(rest))
    assert argv == ["loadgen.py", "load", "--url=http://x", "-c64", "-d10", "--target=gw-web"]
