"""Who the client is: `X-Forwarded-For` is believed only from `GATEWAY_TRUSTED_PROXIES`.

Shown with the public document pages' rate limit (`GATEWAY_PUBLIC_RATE_PER_MINUTE`, 3
here), which counts per client address: a client that could choose its address by
writing `X-Forwarded-For` would never be limited.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.gateway.security.conftest import StartApp, from_address

DOCUMENT = "/d/" + "A" * 22  # a well-formed token no document has: 404, rate-limited
RATE = 3
PROXY = ("127.0.0.1", 43000)


def forwarded(n: int) -> dict[str, str]:
    """A different claimed client for each request."""
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def statuses(client: TestClient, count: int, start: int = 0) -> list[int]:
    """Statuses of `count` requests, each claiming another forwarded client."""
    return [client.get(DOCUMENT, headers=forwarded(start + n)).status_code for n in range(count)]


def test_the_document_page_is_limited_per_client(start_app: StartApp) -> None:
    client = start_app(public_rate_per_minute=RATE)
    answers = [client.get(DOCUMENT) for _ in range(RATE + 2)]
    assert [a.status_code for a in answers] == [404] * RATE + [429] * 2
    assert int(answers[-1].headers["retry-after"]) > 0


def test_without_trusted_proxies_a_loopback_client_cannot_pick_its_address(
    start_app: StartApp,
) -> None:
    client = start_app(address=PROXY, public_rate_per_minute=RATE)
    assert statuses(client, RATE + 3) == [404] * RATE + [429] * 3


def test_with_a_trusted_proxy_each_forwarded_client_has_its_own_count(
    start_app: StartApp,
) -> None:
    client = start_app(address=PROXY, public_rate_per_minute=RATE, trusted_proxies=["127.0.0.1"])
    assert statuses(client, 10) == [404] * 10  # ten clients, one request each
    one = forwarded(42)
    answers = [client.get(DOCUMENT, headers=one).status_code for _ in range(RATE + 1)]
    assert answers == [404] * RATE + [429]
    assert client.get(DOCUMENT, headers=forwarded(43)).status_code == 404  # another one


def test_the_proxy_itself_is_not_charged_for_its_clients(start_app: StartApp) -> None:
    client = start_app(address=PROXY, public_rate_per_minute=RATE, trusted_proxies=["127.0.0.1"])
    statuses(client, 10)
    assert client.get(DOCUMENT).status_code == 404  # the proxy's own first request


def test_a_trusted_network_is_believed_too(start_app: StartApp) -> None:
    client = start_app(
        address=("10.1.2.3", 43000), public_rate_per_minute=RATE, trusted_proxies=["10.0.0.0/8"]
    )
    assert statuses(client, 10) == [404] * 10


def test_an_untrusted_peer_is_counted_on_its_own_address(start_app: StartApp) -> None:
    client = start_app(address=PROXY, public_rate_per_minute=RATE, trusted_proxies=["127.0.0.1"])
    with from_address(client, "198.51.100.7") as stranger:
        assert statuses(stranger, RATE + 2) == [404] * RATE + [429] * 2
    assert client.get(DOCUMENT, headers=forwarded(1)).status_code == 404  # via the proxy


def test_a_client_cannot_hide_behind_a_forged_chain(start_app: StartApp) -> None:
    """Through the trusted proxy, the rightmost address not a proxy's is the client: a
    forged address on the left of the chain changes nothing."""
    client = start_app(address=PROXY, public_rate_per_minute=RATE, trusted_proxies=["127.0.0.1"])
    answers = [
        client.get(DOCUMENT, headers={"X-Forwarded-For": f"192.0.2.{n}, 203.0.113.9"})
        for n in range(RATE + 1)
    ]
    assert [a.status_code for a in answers] == [404] * RATE + [429]
