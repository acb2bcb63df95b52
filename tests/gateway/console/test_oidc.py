"""Single sign-on for the console (`gateway.console.oidc`) against a real OpenID provider
on loopback (`oidc_provider.py`, Authlib's provider side): the whole authorization code
flow with PKCE, and each way a sign-in must fail."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from pydantic import SecretStr

from gateway.console.oidc import (
    CALLBACK_PATH,
    PENDING_SECONDS,
    Identity,
    OidcClient,
    OidcError,
    Pending,
    grants_from,
)
from gateway.settings import Settings
from state.access import Grant, Role
from tests.gateway.console.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    OidcProvider,
    new_key,
    running_provider,
)

DRONES = "drone-flight-authorization"


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
async def client(provider: OidcProvider) -> AsyncIterator[OidcClient]:
    oidc = OidcClient(provider.issuer, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    yield oidc
    await oidc.aclose()


async def authorize(url: str) -> dict[str, str]:
    """What a browser does with the authorization URL: the provider approves at once and
    redirects to the callback; the callback's query parameters."""
    async with httpx.AsyncClient(timeout=5) as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def sign_in(client: OidcClient) -> Identity:
    url, pending = await client.begin()
    params = await authorize(url)
    return await client.finish(params, Pending.from_str(pending.to_str()))


async def test_the_whole_flow_gives_the_identity_with_its_grants(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.set_user(
        sub="11512000123",
        email="Pema.Wangmo@MoIC.gov.bt",
        name="Pema Wangmo",
        roles=[f"officer:{DRONES}", "analyst", "administrator"],
    )
    url, pending = await client.begin()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{provider.issuer}/authorize?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    assert query["state"] == [pending.state]
    assert query["nonce"] == [pending.nonce]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert pending.code_verifier not in url

    identity = await client.finish(await authorize(url), pending)

    assert identity == Identity(
        subject="11512000123",
        email="pema.wangmo@moic.gov.bt",
        name="Pema Wangmo",
        grants=(Grant(Role.OFFICER, DRONES), Grant(Role.ANALYST), Grant(Role.ADMINISTRATOR)),
    )
    assert provider.requests["token"] == 1
    assert provider.requests["userinfo"] == 0  # everything was in the ID token


async def test_discovery_and_keys_are_fetched_once(
    provider: OidcProvider, client: OidcClient
) -> None:
    await sign_in(client)
    await sign_in(client)
    assert provider.requests["discovery"] == 1
    assert provider.requests["jwks"] == 1


async def test_unknown_roles_are_ignored(
    provider: OidcProvider, client: OidcClient, caplog: pytest.LogCaptureFixture
) -> None:
    provider.set_user(
        roles=[
            "officer",
            "superuser",  # not a console role
            "publisher:drone-flight-authorization",  # publisher cannot be limited
            "author:Not A Service",  # not a service id
            "uma_authorization",  # what Keycloak adds to everyone
            42,
        ]
    )
    with caplog.at_level(logging.INFO, logger="gateway.console.oidc"):
        identity = await sign_in(client)
    assert identity.grants == (Grant(Role.OFFICER),)
    assert "publisher cannot be limited to a service" in caplog.text


async def test_no_roles_claim_is_no_grants(provider: OidcProvider, client: OidcClient) -> None:
    provider.set_user(roles=[])
    assert (await sign_in(client)).grants == ()


def test_grants_from_a_claim() -> None:
    assert grants_from(["Officer", f"officer:{DRONES}", "author:business-registration"]) == (
        Grant(Role.OFFICER),
        Grant(Role.AUTHOR, "business-registration"),
    )  # officer everywhere drops the limited officer grant
    assert grants_from("analyst publisher") == (Grant(Role.ANALYST), Grant(Role.PUBLISHER))
    assert grants_from({"officer": True}) == ()
    assert grants_from(None) == ()


async def test_roles_from_a_nested_claim(provider: OidcProvider) -> None:
    oidc = OidcClient(
        provider.issuer, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, roles_claim="realm_access.roles"
    )
    try:
        original = provider.claims

        def keycloak(user: object) -> dict[str, object]:
            claims = original(provider.user)
            claims["realm_access"] = {"roles": claims.pop("roles")}
            return claims

        provider.claims = keycloak  # type: ignore[method-assign]
        provider.set_user(roles=["publisher"])
        assert (await sign_in(oidc)).grants == (Grant(Role.PUBLISHER),)
    finally:
        await oidc.aclose()


async def test_a_wrong_state_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    url, pending = await client.begin()
    params = await authorize(url)
    with pytest.raises(OidcError, match="not started here"):
        await client.finish({**params, "state": "another-state-" + "x" * 40}, pending)
    _, other = await client.begin()
    with pytest.raises(OidcError, match="not started here"):
        await client.finish(params, other)  # the callback of another sign-in
    assert provider.requests["token"] == 0  # refused before the code was used


async def test_a_replayed_code_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    url, pending = await client.begin()
    params = await authorize(url)
    await client.finish(params, pending)
    with pytest.raises(OidcError, match="used already"):
        await client.finish(params, pending)


async def test_a_wrong_nonce_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    url, pending = await client.begin()
    _, other = await client.begin()
    params = await authorize(url)
    with pytest.raises(OidcError, match="could not be verified"):
        await client.finish(params, replace(pending, nonce=other.nonce))


async def test_a_wrong_code_verifier_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    url, pending = await client.begin()
    _, other = await client.begin()
    params = await authorize(url)
    with pytest.raises(OidcError, match="sign in again"):
        await client.finish(params, replace(pending, code_verifier=other.code_verifier))


async def test_a_token_signed_by_another_key_is_refused(
    provider: OidcProvider, client: OidcClient, caplog: pytest.LogCaptureFixture
) -> None:
    rogue = new_key()
    provider.signing_key = rogue
    url, pending = await client.begin()
    params = await authorize(url)
    with (
        caplog.at_level(logging.DEBUG, logger="gateway.console.oidc"),
        pytest.raises(OidcError, match="could not be verified") as refused,
    ):
        await client.finish(params, pending)
    assert provider.requests["jwks"] == 2  # an unknown key id: fetched once more, no more
    (id_token,) = provider.id_tokens
    assert id_token not in str(refused.value)
    assert id_token not in caplog.text
    assert params["code"] not in caplog.text


async def test_a_token_signed_by_another_key_under_the_known_key_id_is_refused(
    provider: OidcProvider, client: OidcClient
) -> None:
    rogue = new_key()
    rogue_with_known_kid = type(rogue).import_key(rogue.as_dict(private=True, kid=provider.key.kid))
    provider.signing_key = rogue_with_known_kid
    url, pending = await client.begin()
    params = await authorize(url)
    with pytest.raises(OidcError, match="could not be verified"):
        await client.finish(params, pending)


async def test_rotated_keys_are_fetched_again(provider: OidcProvider, client: OidcClient) -> None:
    await sign_in(client)
    provider.rotate_key()
    identity = await sign_in(client)
    assert identity.subject == provider.user.sub
    assert provider.requests["jwks"] == 2


async def test_a_token_for_another_audience_is_refused(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.audience = ["another-client"]
    with pytest.raises(OidcError, match="could not be verified"):
        await sign_in(client)


async def test_a_token_for_several_audiences_needs_azp(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.audience = [CLIENT_ID, "another-client"]
    with pytest.raises(OidcError, match="could not be verified"):
        await sign_in(client)


async def test_a_token_from_another_issuer_is_refused(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.token_issuer = "https://sso.example.org"
    with pytest.raises(OidcError, match="could not be verified"):
        await sign_in(client)


async def test_an_expired_token_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    provider.id_token_seconds = -300  # past the minute of clock skew allowed
    with pytest.raises(OidcError, match="expired"):
        await sign_in(client)


async def test_an_unverified_email_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    provider.set_user(email_verified=False)
    with pytest.raises(OidcError, match="not verified"):
        await sign_in(client)


async def test_an_email_without_verified_claim_is_accepted(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.set_user(email_verified=None, name=None)
    identity = await sign_in(client)
    assert identity.email == "pema.wangmo@moic.gov.bt"
    assert identity.name is None


async def test_no_email_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    provider.set_user(email="")
    with pytest.raises(OidcError, match="email address"):
        await sign_in(client)


async def test_claims_missing_from_the_id_token_come_from_userinfo(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.userinfo_only = {"email", "email_verified", "roles"}
    provider.set_user(roles=["author:business-registration"])
    identity = await sign_in(client)
    assert identity.email == "pema.wangmo@moic.gov.bt"
    assert identity.grants == (Grant(Role.AUTHOR, "business-registration"),)
    assert provider.requests["userinfo"] == 1


async def test_client_secret_post_when_the_provider_takes_only_that(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.auth_methods = ["client_secret_post"]
    assert (await sign_in(client)).subject == provider.user.sub


async def test_a_wrong_client_secret_is_refused(provider: OidcProvider) -> None:
    oidc = OidcClient(provider.issuer, CLIENT_ID, "not-the-secret-0123456789", REDIRECT_URI)
    try:
        with pytest.raises(OidcError, match="sign in again"):
            await sign_in(oidc)
    finally:
        await oidc.aclose()


async def test_an_error_from_the_provider_is_refused(client: OidcClient) -> None:
    _, pending = await client.begin()
    with pytest.raises(OidcError, match="cancelled or refused"):
        await client.finish({"error": "access_denied", "state": pending.state}, pending)
    with pytest.raises(OidcError, match=r"\(error\)"):
        await client.finish({"error": "<script>", "state": pending.state}, pending)


async def test_a_callback_from_another_issuer_is_refused(
    provider: OidcProvider, client: OidcClient
) -> None:
    url, pending = await client.begin()
    params = await authorize(url)
    with pytest.raises(OidcError, match="another sign-in service"):
        await client.finish({**params, "iss": "https://sso.example.org"}, pending)


async def test_a_stale_sign_in_is_refused(provider: OidcProvider, client: OidcClient) -> None:
    url, pending = await client.begin()
    params = await authorize(url)
    stale = replace(pending, began_at=int(time.time()) - PENDING_SECONDS - 1)
    with pytest.raises(OidcError, match="took too long"):
        await client.finish(params, stale)


async def test_discovery_naming_another_issuer_is_refused(
    provider: OidcProvider, client: OidcClient
) -> None:
    provider.discovery_issuer = "https://sso.example.org"
    with pytest.raises(OidcError, match="not set up as this gateway expects"):
        await client.begin()


async def test_an_unreachable_provider_is_refused(provider: OidcProvider) -> None:
    issuer = provider.issuer
    provider.stop()
    oidc = OidcClient(issuer, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    try:
        with pytest.raises(OidcError, match="cannot be reached"):
            await oidc.begin()
    finally:
        await oidc.aclose()


def test_pending_survives_a_cookie_and_refuses_anything_else() -> None:
    pending = Pending("s" * 43, "n" * 43, "v" * 64, 1_700_000_000)
    assert Pending.from_str(pending.to_str()) == pending
    for text in [
        "",
        "a.b.c.1",
        pending.to_str() + ".1",
        pending.to_str() + "\n",
        "s" * 43 + ".n" * 2 + ".x",
        "🙂",
    ]:
        with pytest.raises(OidcError):
            Pending.from_str(text)


def test_settings_say_whether_single_sign_on_is_configured() -> None:
    def settings(
        issuer: str | None = "https://sso.gov.bt/realms/civil-service",
        client_secret: str = CLIENT_SECRET,
    ) -> Settings:
        return Settings(
            _env_file=None,
            public_url="https://gateway.gov.bt/",
            oidc_issuer=issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=SecretStr(client_secret),
        )

    configured = settings()
    assert configured.oidc_configured
    assert configured.oidc_roles_claim == "roles"
    oidc = OidcClient.from_settings(configured)
    assert oidc.redirect_uri == "https://gateway.gov.bt" + CALLBACK_PATH
    assert oidc.issuer == "https://sso.gov.bt/realms/civil-service"

    assert not settings(client_secret="").oidc_configured  # empty: unset
    assert not settings(issuer=None).oidc_configured
    assert not settings(issuer=" ").oidc_configured
    with pytest.raises(OidcError, match="not set up"):
        OidcClient.from_settings(settings(client_secret=""))
    with pytest.raises(ValueError, match="placeholder"):
        settings(client_secret="CHANGE-ME-please-0123")
    with pytest.raises(ValueError, match="https"):
        settings(issuer="http://sso.gov.bt")
