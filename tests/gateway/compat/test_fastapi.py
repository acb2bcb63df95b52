"""The contract of `gateway.compat.fastapi` with the installed FastAPI.

`RequestRoute` overrides `APIRoute.get_route_handler`: FastAPI must still build each
route's ASGI app from it, so that a webhook's request reaches its endpoint as the raw
Request with no dependency solving on the way. An upgrade that builds the handler some
other way would bring the solving (5% of a USSD hop) back silently: these tests say so.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request, Response
from fastapi import routing as fastapi_routing
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from gateway.compat.fastapi import RequestRoute

received: list[Request] = []


async def hook(request: Request) -> Response:
    """A webhook endpoint as the adapters' are: it reads the raw body itself."""
    received.append(request)
    return PlainTextResponse(b"got " + await request.body())


async def solved() -> Response:
    return PlainTextResponse("solved")


def app_with_routes() -> FastAPI:
    app = FastAPI()
    app.router.add_api_route(
        "/hook", hook, methods=["POST"], name="hook", route_class_override=RequestRoute
    )
    app.router.add_api_route("/solved", solved, methods=["GET"])  # FastAPI's own kind
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    received.clear()
    with TestClient(app_with_routes()) as test_client:
        yield test_client


def route_named(app: FastAPI, name: str) -> APIRoute:
    (route,) = (r for r in app.router.routes if isinstance(r, APIRoute) and r.name == name)
    return route


def test_get_route_handler_is_still_the_hook_that_builds_a_routes_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert list(inspect.signature(APIRoute.get_route_handler).parameters) == ["self"]
    built: list[APIRoute] = []
    handler = RequestRoute.get_route_handler

    def counted(self: RequestRoute) -> object:
        built.append(self)
        return handler(self)

    monkeypatch.setattr(RequestRoute, "get_route_handler", counted)
    app = app_with_routes()
    assert built == [route_named(app, "hook")]


def test_the_handler_is_the_endpoint_itself() -> None:
    route = route_named(app_with_routes(), "hook")
    assert type(route) is RequestRoute
    assert route.get_route_handler() is hook


def test_a_request_reaches_the_endpoint_as_the_raw_request(client: TestClient) -> None:
    response = client.post("/hook", content=b"sessionId=ATUid_1&text=1*2")
    assert (response.status_code, response.content) == (200, b"got sessionId=ATUid_1&text=1*2")
    assert len(received) == 1
    assert isinstance(received[0], Request)


def test_no_dependency_solving_runs_per_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("dependencies solved")

    monkeypatch.setattr(fastapi_routing, "solve_dependencies", refused)
    with pytest.raises(AssertionError, match="dependencies solved"):
        client.get("/solved")  # FastAPI's own route solves them: the patch is in effect
    assert client.post("/hook", content=b"x").content == b"got x"


def test_the_route_is_described_in_openapi_like_any_other() -> None:
    paths = app_with_routes().openapi()["paths"]
    assert set(paths) == {"/hook", "/solved"}
    assert "post" in paths["/hook"]
