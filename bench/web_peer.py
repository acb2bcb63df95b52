"""loadgen's web chat target with the number proof played (`bench.peer_bench`).

The peer's `loadgen.py` (read-only here) plays the web chat's registration in 9 messages,
written before the gateway asked a web citizen to prove a number: before it submits, the
gateway now asks for a mobile number and for the 6-digit code it sends there by SMS. This
runs loadgen itself (its arguments, its closed loop, its figures) with its web script
two messages longer, the number and then the code. The code is read where the gateway's
outbox sends it: Africa's Talking's messaging API, faked on loopback in this process.
The wait for the SMS is in the code message's latency, as a citizen waits for it.

Run: `python -m bench.web_peer --peer DIR --sms-port PORT {verify,load} --url URL ...`
(after `--sms-port`, loadgen's own arguments; `--target gw-web` is added).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from bench import at_messaging

TARGET = "gw-web"
NUMBER = "{phone8}"  # loadgen's users type their number without the country code
COUNTRY = "+975"  # loadgen's numbers are Bhutan's
CODE_FOR = "code for "  # a placeholder in the script: the code sent to the number after it
CODE_SENT = re.compile(r"\b(\d{6})\b")  # the code in the SMS
CODE_SECONDS = 10.0  # a code not at the API by then breaks the conversation


class CodeInbox:
    """Africa's Talking's messaging API on loopback: the code each number was sent."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.arrived: dict[str, asyncio.Event] = {}
        self.sent = 0

    async def receive(self, request: web.Request) -> web.Response:
        form = await request.post()
        to, text = str(form.get("to", "")), str(form.get("message", ""))
        found = CODE_SENT.search(text)
        if found:
            self.codes[to] = found.group(1)
            self.arrived.setdefault(to, asyncio.Event()).set()
        self.sent += 1
        return web.json_response(at_messaging.sent(to, f"ATXid_{self.sent}"), status=201)

    async def code_for(self, number: str) -> str:
        """The code sent to `number`, waited for; taken, so that a next conversation with
        the same number waits for its own."""
        arrived = self.arrived.setdefault(number, asyncio.Event())
        await asyncio.wait_for(arrived.wait(), CODE_SECONDS)
        del self.arrived[number]
        return self.codes.pop(number)

    @asynccontextmanager
    async def serving(self, port: int) -> AsyncIterator[None]:
        app = web.Application()
        app.router.add_post(at_messaging.PATH, self.receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield
        finally:
            await runner.cleanup()


def peer_loadgen(peer: Path) -> Any:
    """The peer's loadgen.py as a module (untyped: it is the peer's)."""
    spec = importlib.util.spec_from_file_location("loadgen", peer / "loadgen.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"no loadgen.py in {peer}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def proving(loadgen: Any, inbox: CodeInbox) -> None:
    """Make loadgen's web script prove the number: its 9 messages, then the number the
    gateway asks for and the code it sent there."""
    script: list[str] = loadgen.GW_WEB
    if NUMBER not in script:
        raise RuntimeError(f"loadgen's web script types no {NUMBER}: {script}")
    loadgen.GW_WEB = [*script, NUMBER, f"{CODE_FOR}{COUNTRY}{NUMBER}"]

    class Proving(loadgen.Conversation):  # type: ignore[misc]
        async def send(self, message: str, expected: str) -> tuple[str, bool]:
            if message.startswith(CODE_FOR):
                message = await inbox.code_for(message.removeprefix(CODE_FOR))
            reply: tuple[str, bool] = await super().send(message, expected)
            return reply

    loadgen.Conversation = Proving


def with_inbox(
    inbox: CodeInbox, port: int, run: Callable[[Any], Awaitable[int]]
) -> Callable[[Any], Awaitable[int]]:
    async def running(args: Any) -> int:
        async with inbox.serving(port):
            return await run(args)

    return running


def arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="the peer's folder")
    parser.add_argument("--sms-port", type=int, required=True, help="the fake API's port")
    return parser.parse_known_args(argv)


def loadgen_argv(rest: list[str]) -> Iterator[str]:
    yield "loadgen.py"
    yield from rest
    yield f"--target={TARGET}"


def main(argv: list[str]) -> int:
    options, rest = arguments(argv)
    loadgen = peer_loadgen(options.peer)
    inbox = CodeInbox()
    proving(loadgen, inbox)
    loadgen.load = with_inbox(inbox, options.sms_port, loadgen.load)
    loadgen.verify = with_inbox(inbox, options.sms_port, loadgen.verify)
    sys.argv = list(loadgen_argv(rest))
    status: int = loadgen.main()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
