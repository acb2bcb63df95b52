"""A fake census registry on loopback for the USSD load benchmark.

Answers every `GET /api/v1/citizens/<cid>` with `{"name": "Pema Wangmo"}`; plain asyncio,
HTTP/1.1 keep-alive, so it costs the benchmark as little CPU as it can.
Run: `python -m bench.fake_census PORT` (prints "ready" once listening).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

BODY = b'{"name": "Pema Wangmo"}'
REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


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
            writer.write(REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
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
