"""Shared lists in the studio's API: the folder's listed, a list written in the studio
over them and used by a draft at once, a list with problems refused at its line, a
stale revision refused with the list as it is, and only an unlimited author may change
one (a list serves every service)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from state.access import Grant, Role
from state.audit import Action
from tests.gateway.api.test_studio import PERMIT, URL, _key, _yaml
from tests.gateway.console.desk_app import console_app, runtime
from tests.redis_databases import RedisDatabase

LISTS = "/api/v1/studio/lists"
KINDS = """\
title: Kinds of building
options:
  - {value: residential, label: Residential}
  - {value: commercial, label: Commercial}
"""
WITH_KINDS = PERMIT.replace(
    "  - id: floors\n",
    "  - id: building\n    type: choice\n    label: Building\n    prompt: Kind of building\n"
    "    options_from: building_kinds\n\n  - id: floors\n",
)


def _authors(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    return (
        _key(client, "everyone", Grant(Role.AUTHOR)),
        _key(client, "permits", Grant(Role.AUTHOR, "construction-permit")),
    )


def test_a_list_written_in_the_studio_serves_drafts_at_once(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author, limited = _authors(client)
        listed = {item["name"]: item for item in client.get(LISTS, headers=author).json()}
        assert listed["dzongkhags"] == {
            "name": "dzongkhags",
            "title": "Dzongkhags of Bhutan",
            "options": 20,
            "origin": "folder",
            "revision": None,
        }
        draft = client.put(URL + "/draft", content=WITH_KINDS, headers=_yaml(limited))
        assert not draft.json()["publishable"]  # no such list yet
        refused = client.put(f"{LISTS}/building_kinds", content=KINDS, headers=_yaml(limited))
        assert refused.status_code == 403
        made = client.put(f"{LISTS}/building_kinds", content=KINDS, headers=_yaml(author))
        assert made.status_code == 200, made.text
        assert (made.json()["origin"], made.json()["revision"]) == ("studio", 1)
        again = client.put(URL + "/draft", content=WITH_KINDS, headers=_yaml(limited, 1))
        assert again.json()["publishable"], again.json()["diagnostics"]
        mixed = KINDS + "  - {value: mixed, label: Mixed}\n"
        changed = client.put(f"{LISTS}/building_kinds", content=mixed, headers=_yaml(author, 1))
        assert changed.json()["revision"] == 2
        stale = client.put(f"{LISTS}/building_kinds", content=KINDS, headers=_yaml(author, 1))
        assert stale.status_code == 409
        assert stale.json()["detail"]["current"]["source"] == mixed
        read = client.get(f"{LISTS}/building_kinds", headers=limited).json()
        assert read["source"] == mixed
        assert client.portal is not None
        entries = client.portal.call(runtime(client).audit.entries)
        written = [e.detail for e in entries if e.action == Action.LIST_SAVED]
        assert written == [{"revision": 2}, {"revision": 1}]


def test_a_list_with_problems_is_refused_at_its_line(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author, _ = _authors(client)
        broken = "title: Kinds\noptions:\n  - {value: 12, labell: Twelve}\n"
        answer = client.put(f"{LISTS}/kinds", content=broken, headers=_yaml(author))
        assert answer.status_code == 422, answer.text
        problems = answer.json()["detail"]["diagnostics"]
        assert problems
        assert {p["line"] for p in problems} == {3}
        assert client.get(f"{LISTS}/kinds", headers=author).status_code == 404
        assert client.get(f"{LISTS}/Not-A-Name", headers=author).status_code == 422
