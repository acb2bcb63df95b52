"""Odd requests to the studio's API get a 4xx, never a 500: a lone surrogate in any text
a person types, a version or revision past the database's integer, a digit int() does
not read."""

from __future__ import annotations

from state.access import Grant, Role
from tests.gateway.api.test_studio import PERMIT, URL, _key, _yaml
from tests.gateway.console.desk_app import console_app
from tests.redis_databases import RedisDatabase

SURROGATE = '"\\ud800"'  # as JSON writes it: no character at all


def _with_surrogate(template: str) -> str:
    """A JSON body with the lone surrogate where `template` says `$`."""
    return template.replace("$", SURROGATE)


def test_odd_values_are_refused_with_a_4xx(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        publisher = _key(client, "publisher", Grant(Role.PUBLISHER))
        json_body = {"Content-Type": "application/json"}
        assert client.put(URL + "/draft", content=PERMIT, headers=_yaml(author)).is_success
        bodies = [
            (URL + "/draft/play", author, _with_surrogate('{"medium": "ussd", "inputs": [$]}')),
            (
                URL + "/draft/play/save",
                {**author, "If-Match": '"1"'},
                _with_surrogate('{"medium": "ussd", "inputs": [], "name": $}'),
            ),
            (
                "/api/v1/studio/services/shop-licence/draft/start",
                author,
                _with_surrogate('{"start": "blank", "title": $}'),
            ),
            (URL + "/draft/publish", publisher, _with_surrogate('{"comment": $}')),
            (URL + "/draft/return", publisher, _with_surrogate('{"comment": $}')),
            (URL + "/rollback", publisher, _with_surrogate('{"version": 1, "comment": $}')),
            (URL + "/rollback", publisher, f'{{"version": {10**20}}}'),
        ]
        for url, headers, body in bodies:
            answer = client.post(url, content=body, headers={**headers, **json_body})
            assert answer.status_code == 422, (url, answer.text)
        # b"\xb2" is "²" as HTTP reads a header (Latin-1): a digit to isdigit().
        for revision in (b'"\xb2"', b'"9999999999"', b'"' + b"1" * 30 + b'"'):
            stale = client.put(URL + "/draft", content=PERMIT, headers=_yaml(author))
            assert stale.status_code == 409  # made already: a revision must be named
            named = {k.encode(): v.encode() for k, v in _yaml(author).items()}
            named[b"If-Match"] = revision
            assert client.put(URL + "/draft", content=PERMIT, headers=named).status_code == 400
            listed = client.put(
                "/api/v1/studio/lists/kinds", content="options: [a]\n", headers=named
            )
            assert listed.status_code == 400
