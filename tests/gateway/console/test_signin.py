"""Signing in to the console: sessions (signed, idle timeout, lifetime, ended by a new
password), the sign-in form's own CSRF token, throttling per client, one-time codes,
single sign-on against the test OpenID provider, and a console without its secret."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import asdict
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pyotp
import pytest

from gateway.console.sessions import COOKIE, new_session
from state.access import Grant, Role
from tests.gateway.console.desk_app import (
    PASSWORD,
    add_account,
    console_app,
    csrf_of,
    officer,
    runtime,
    sign_in,
)
from tests.gateway.console.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    OidcProvider,
    running_provider,
)
from tests.redis_databases import RedisDatabase

PUBLIC = "https://gateway.example.gov.bt"  # the test provider's registered redirect URI


def test_a_right_password_opens_the_desk_and_a_wrong_one_says_so(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        wrong = sign_in(client, "dorji@gov.bt", "not the password")
        assert wrong.status_code == 401
        assert "Wrong email or password." in wrong.text
        assert COOKIE not in client.cookies
        unknown = sign_in(client, "nobody@gov.bt")
        assert unknown.status_code == 401
        assert "Wrong email or password." in unknown.text  # nothing tells who has an account
        right = sign_in(client, "DORJI@gov.bt ")
        assert right.status_code == 303
        assert right.headers["location"] == "/console/home"
        assert client.get("/console/home").headers["location"] == "/console/applications"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie.replace("Lax", "lax")
        assert client.get("/console/applications").status_code == 200
        assert client.get("/console").headers["location"] == "/console/home"


def test_the_sign_in_form_needs_its_own_token(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        forged = client.post(
            "/console/sign-in",
            data={"email": "dorji@gov.bt", "password": PASSWORD, "form_token": "x"},
        )
        assert forged.status_code == 403
        assert COOKIE not in client.cookies


def test_after_signing_in_only_console_pages_are_gone_to(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        for target in ("https://evil.example/x", "//evil.example", "/console/../d/x\\y"):
            client.cookies.clear()
            page = client.get(f"/console?next={target}")
            assert "evil" not in page.text
            token = re.search(r'name="form_token" value="([^"]+)"', page.text)
            assert token is not None
            answer = client.post(
                "/console/sign-in",
                data={
                    "email": "dorji@gov.bt",
                    "password": PASSWORD,
                    "form_token": token.group(1),
                    "next": target,
                },
            )
            assert answer.headers["location"] == "/console/home"


def test_a_forged_or_stale_cookie_is_no_session(
    redis_database: RedisDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console_app(redis_database, console_idle_minutes=30) as client:
        add_account(client, "dorji@gov.bt", officer())
        sign_in(client, "dorji@gov.bt")
        real = client.cookies[COOKIE]
        client.cookies.clear()
        client.cookies.set(COOKIE, real[:-2] + ("AA" if not real.endswith("AA") else "BB"))
        assert client.get("/console/applications").status_code == 303
        # Signed 31 minutes ago and unused since: the idle timeout has passed.
        sessions = runtime(client).console
        assert sessions is not None
        assert client.portal is not None
        account = client.portal.call(runtime(client).accounts.get_by_email, "dorji@gov.bt")
        assert account is not None
        session = new_session(account.id, stage="signed_in", method="password")
        moment = time.time() - 31 * 60
        monkeypatch.setattr("itsdangerous.timed.time.time", lambda: moment)
        stale = sessions.serializer.dumps(asdict(session))
        monkeypatch.undo()
        client.cookies.clear()
        client.cookies.set(COOKIE, stale)
        assert client.get("/console/applications").status_code == 303
        client.cookies.clear()
        client.cookies.set(COOKIE, sessions.serializer.dumps(asdict(session)))
        assert client.get("/console/applications").status_code == 200


def test_a_new_password_ends_the_sessions_begun_before(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        sign_in(client, "dorji@gov.bt")
        assert client.get("/console/applications").status_code == 200
        time.sleep(1.1)  # sessions_since is kept to the second on some databases
        assert client.portal is not None
        client.portal.call(
            runtime(client).accounts.set_password, "dorji@gov.bt", "a brand new passphrase"
        )
        assert client.get("/console/applications").status_code == 303


def test_failed_sign_ins_from_one_address_are_throttled_whatever_the_account(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database, sign_in_failures_per_client="3/15 minutes") as client:
        add_account(client, "dorji@gov.bt", officer())
        for n in range(3):
            assert sign_in(client, f"guess{n}@gov.bt", "wrong password!!").status_code == 401
        assert sign_in(client, "dorji@gov.bt").status_code == 429


def test_one_time_codes_are_set_up_then_asked_for_and_good_once(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "admin@gov.bt", Grant(Role.ADMINISTRATOR))
        sign_in(client, "admin@gov.bt")
        page = client.get("/console/account")
        assert ">Set up one-time codes</button>" in page.text
        client.post("/console/account/totp/start", data={"csrf": csrf_of(page.text)})
        page = client.get("/console/account")
        key = re.search(r"<code>([A-Z2-7]{32})</code>", page.text)
        assert key is not None, page.text
        assert 'src="data:image/svg+xml' in page.text  # the QR code
        totp = pyotp.TOTP(key.group(1))
        wrong = client.post(
            "/console/account/totp/confirm", data={"csrf": csrf_of(page.text), "code": "000000"}
        )
        assert wrong.status_code == 422
        on = client.post(
            "/console/account/totp/confirm", data={"csrf": csrf_of(page.text), "code": totp.now()}
        )
        assert on.headers["location"] == "/console/account?done=on"
        out = client.get("/console/account")
        client.post("/console/sign-out", data={"csrf": csrf_of(out.text)})
        # Now the password alone is not enough.
        first = sign_in(client, "admin@gov.bt")
        assert first.headers["location"].startswith("/console/sign-in/code")
        assert client.get("/console/applications").status_code == 303
        form = client.get(first.headers["location"])
        bad = client.post(
            "/console/sign-in/code", data={"csrf": csrf_of(form.text), "code": "123456"}
        )
        assert bad.status_code == 401
        code = totp.now()
        good = client.post("/console/sign-in/code", data={"csrf": csrf_of(form.text), "code": code})
        assert good.status_code == 303
        assert client.get("/console/people").status_code == 200
        # The same code again, in another sign-in: refused.
        client.post("/console/sign-out", data={"csrf": csrf_of(client.get("/console/people").text)})
        again = sign_in(client, "admin@gov.bt")
        form = client.get(again.headers["location"])
        replay = client.post(
            "/console/sign-in/code", data={"csrf": csrf_of(form.text), "code": code}
        )
        assert replay.status_code == 401


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with running_provider() as provider:
        yield provider


def test_single_sign_on_makes_the_account_with_the_providers_roles(
    redis_database: RedisDatabase, provider: OidcProvider
) -> None:
    provider.set_user(
        sub="u-1", email="tshering@gov.bt", roles=["officer:drone-flight-authorization"]
    )
    settings = {
        "public_url": PUBLIC,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
    }
    with console_app(redis_database, **settings) as client:
        assert "/console/sso" in client.get("/console").text
        begun = client.get("/console/sso?next=/console/applications")
        assert begun.status_code == 303
        authorize = httpx.get(begun.headers["location"], timeout=5)  # the provider approves
        assert authorize.status_code == 302
        back = urlsplit(authorize.headers["location"])
        assert back.path == "/console/oidc/callback"
        params = {k: v[0] for k, v in parse_qs(back.query).items()}
        done = client.get("/console/oidc/callback", params=params)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/console/applications"
        assert client.get("/console/applications").status_code == 200
        assert client.portal is not None
        account = client.portal.call(runtime(client).accounts.get_by_email, "tshering@gov.bt")
        assert account is not None
        assert account.grants == (Grant(Role.OFFICER, "drone-flight-authorization"),)
        # The same callback again (a replayed code, its cookie gone): refused.
        replayed = client.get("/console/oidc/callback", params=params)
        assert replayed.status_code == 400


def test_single_sign_on_without_a_console_role_lets_nobody_in(
    redis_database: RedisDatabase, provider: OidcProvider
) -> None:
    provider.set_user(sub="u-2", email="visitor@gov.bt", roles=["librarian"])
    settings = {
        "public_url": PUBLIC,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
    }
    with console_app(redis_database, **settings) as client:
        begun = client.get("/console/sso")
        authorize = httpx.get(begun.headers["location"], timeout=5)
        params = {
            k: v[0] for k, v in parse_qs(urlsplit(authorize.headers["location"]).query).items()
        }
        refused = client.get("/console/oidc/callback", params=params)
        assert refused.status_code == 403
        assert "no role in this console" in refused.text
        assert client.get("/console/applications").status_code == 303


def test_without_its_secret_the_console_is_closed(redis_database: RedisDatabase) -> None:
    with console_app(redis_database, console_secret=None) as client:
        closed = client.get("/console")
        assert closed.status_code == 403
        assert "GATEWAY_CONSOLE_SECRET" in closed.text


def test_pages_come_in_the_language_asked_for(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        sign_in(client, "dorji@gov.bt")
        english = client.get("/console/applications")
        assert '<html lang="en">' in english.text
        dzongkha = client.get("/console/applications?lang=dz")
        assert '<html lang="dz">' in dzongkha.text
        assert "ཞུ་ཡིག་ཚུ།" in dzongkha.text  # "Applications", a draft
        assert '<html lang="dz">' in client.get("/console/applications").text  # kept
