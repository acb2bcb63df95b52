"""A fake census registry on loopback for the benchmarks and the multi-process tests.

Answers every `GET /api/v1/citizens/<cid>` with `{"name": "Pema Wangmo", "mobile":
"+975<the cid's last 8 digits>"}`: the benches and tests give each citizen the CID "115" +
the last 8 digits of their mobile, so the census confirms them (the number it holds is
the caller's) and the business registration takes its instant path. Plain asyncio,
HTTP/1.1 keep-alive, so it costs the benchmark as little CPU as it can.
Run: `python -m bench.fake_census PORT` (prints "ready" once listening).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "


def reply(head: bytes) -> bytes:
    """The answer to a request whose head is `head`: the CID is the request path's last
    part ("GET /api/v1/citizens/11517123456?x=1 HTTP/1.1"), its last 8 digits the mobile."""
    target = head[: head.find(b"\r\n")].split(b" ", 2)[1]
    cid = target.split(b"?", 1)[0].rsplit(b"/", 1)[-1]
    body = b'{"name": "Pema Wangmo", "mobile": "+975' + cid[-8:] + b'"}'
    return HEAD + str(len(body)).encode() + b"\r\n\r\n" + body


async def serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(reply(head))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, IndexError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(serve_client, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def spawn(port: int) -> subprocess.Popen[bytes]:
    """This server in a process of its own on `port`, returned once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_census", str(port)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"ready":
        process.kill()
        raise RuntimeError("the fake census did not start")
    return process


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
