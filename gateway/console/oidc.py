"""Government single sign-on for the console: an OpenID Connect relying party.

The authorization code flow with PKCE (S256), `state` and `nonce`:

1. `OidcClient.begin()` gives the provider's authorization URL and a `Pending` (state,
   nonce, code verifier, when it began). The caller redirects the person to the URL and
   keeps `pending.to_str()` in a signed, HttpOnly cookie (SameSite=Lax, so the provider's
   redirect back carries it) scoped to the callback path, for `PENDING_SECONDS`.
2. The provider sends the person back to the redirect URI (`public_url` + `CALLBACK_PATH`)
   with `code` and `state`. `OidcClient.finish(query params, Pending.from_str(cookie))`
   checks the state, exchanges the code at the token endpoint (Authlib's client, with the
   code verifier and the client secret as the discovery document allows), verifies the ID
   token against the provider's JWKS (joserfc: signature, issuer, audience, expiry,
   nonce) and returns the `Identity` with the console roles mapped from the roles claim.
   The caller deletes the cookie whatever happens: a pending sign-in is used once.

Every failure is one `OidcError` whose message can be shown to the person; what went wrong
in detail is logged (never a token, a code or the secret).

Discovery (`{issuer}/.well-known/openid-configuration`) and the JWKS are cached for
`CACHE_SECONDS`; an ID token signed with a key id the cached JWKS lacks fetches it once
more (the provider rotated its keys).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

import httpx2 as httpx
from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from authlib.oidc.core.util import create_half_hash  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jws import extract_compact

from gateway.settings import Settings, secret
from state.access import LIMITABLE, AccountError, Grant, Role, merged, normal_email

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/console/oidc/callback"  # the redirect URI is public_url + this
SCOPES = "openid email profile"
PENDING_SECONDS = 600  # a sign-in not finished within 10 minutes starts again
CACHE_SECONDS = 3600.0  # discovery document and JWKS
LEEWAY_SECONDS = 60  # clock skew allowed on exp and iat
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
# Asymmetric signatures only: an HMAC-signed ID token would be keyed by the client secret,
# and "none" is no signature.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")  # in order of preference
_SERVICE = re.compile(r"[a-z][a-z0-9-]{1,47}")  # dialogs.definition.ServiceId
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")  # what `secrets.token_urlsafe` makes
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class OidcError(Exception):
    """A sign-in that did not succeed; the message is for the person signing in."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in, with the console roles its claim grants."""

    subject: str  # the provider's `sub`: stable for the person at this issuer
    email: str  # normalised (state.access.normal_email), verified if the provider says
    name: str | None
    grants: tuple[Grant, ...]


@dataclass(frozen=True, slots=True)
class Pending:
    """What `finish` needs from `begin`: kept by the caller in a signed cookie."""

    state: str
    nonce: str
    code_verifier: str
    began_at: int  # unix seconds

    def to_str(self) -> str:
        return f"{self.state}.{self.nonce}.{self.code_verifier}.{self.began_at}"

    @classmethod
    def from_str(cls, text: str) -> Self:
        parts = text.split(".")
        if (
            len(parts) != 4
            or not all(_TOKEN.fullmatch(part) for part in parts[:3])
            or not re.fullmatch(r"[0-9]{1,12}", parts[3])
        ):
            raise OidcError("This sign-in was not started here or has expired: sign in again.")
        return cls(parts[0], parts[1], parts[2], int(parts[3]))


@dataclass(frozen=True, slots=True)
class _Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    auth_method: str
    algorithms: tuple[str, ...]


class OidcClient:
    """One OpenID provider and this gateway as its client. Safe to share between requests;
    `aclose()` when done."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        roles_claim: str = "roles",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not issuer or not client_id or not client_secret or not redirect_uri:
            raise OidcError("Single sign-on is not set up on this gateway.")
        self.issuer = issuer
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.roles_claim = roles_claim
        self._http = http
        self._own_http = http is None
        self._metadata: _Metadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient | None = None) -> Self:
        """The client of `GATEWAY_OIDC_*`; the redirect URI is `public_url` + CALLBACK_PATH.
        OidcError when single sign-on is not configured (`settings.oidc_configured`)."""
        client_secret = secret(settings.oidc_client_secret)
        if not (settings.oidc_issuer and settings.oidc_client_id and client_secret):
            raise OidcError("Single sign-on is not set up on this gateway.")
        return cls(
            settings.oidc_issuer,
            settings.oidc_client_id,
            client_secret,
            redirect_uri(settings),
            roles_claim=settings.oidc_roles_claim,
            http=http,
        )

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def begin(self) -> tuple[str, Pending]:
        """The URL to send the person to, and what to keep until they come back."""
        metadata = await self._discover()
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),  # 64 characters (RFC 7636: 43-128)
            began_at=int(time.time()),
        )
        url: str = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=SCOPES,
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.code_verifier),
            code_challenge_method="S256",
        )
        return url, pending

    async def finish(self, params: Mapping[str, str], pending: Pending) -> Identity:
        """The identity of the person the provider sent back with `params` (the query of
        the redirect), for the sign-in `pending` began."""
        if "error" in params:
            reason = params["error"] if _ERROR_CODE.fullmatch(params["error"]) else "error"
            logger.info("oidc: the provider answered %s", reason)
            if reason == "access_denied":
                raise OidcError("The sign-in was cancelled or refused by the sign-in service.")
            raise OidcError(f"The sign-in service refused the sign-in ({reason}).")
        state = params.get("state", "")
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            logger.warning("oidc: the state of the callback is not the pending sign-in's")
            raise OidcError("This sign-in was not started here or has expired: sign in again.")
        if not 0 <= time.time() - pending.began_at <= PENDING_SECONDS:
            raise OidcError("The sign-in took too long: sign in again.")
        code = params.get("code")
        if not code:
            raise OidcError("The sign-in service sent no authorization code: sign in again.")
        metadata = await self._discover()
        if "iss" in params and params["iss"] != metadata.issuer:  # RFC 9207: mix-up
            logger.warning("oidc: the callback names another issuer")
            raise OidcError("The answer came from another sign-in service: sign in again.")

        token = await self._exchange(metadata, code, pending)
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            logger.warning("oidc: the token response has no ID token")
            raise OidcError("The sign-in service did not say who you are: sign in again.")
        claims = await self._verify(metadata, id_token, pending.nonce)
        access_token = token.get("access_token")
        if isinstance(access_token, str) and "at_hash" in claims:
            expected = create_half_hash(access_token, self._alg(id_token))
            if expected is None or claims["at_hash"] != expected.decode("ascii"):
                logger.warning("oidc: the ID token's at_hash does not match the access token")
                raise OidcError("The sign-in service's answer could not be verified.")
        if (
            ("email" not in claims or _claim(claims, self.roles_claim) is None)
            and metadata.userinfo_endpoint
            and isinstance(access_token, str)
        ):
            extra = await self._userinfo(metadata.userinfo_endpoint, access_token, claims)
            claims = {**extra, **claims}  # the signed ID token's claims win
        return self._identity(claims)

    # What the provider publishes.

    async def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        return self._http

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        http = await self._client()
        try:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("oidc: %s %s failed: %s", what, url, type(error).__name__)
            raise OidcError(
                "The sign-in service cannot be reached right now: try again in a minute."
            ) from None
        if not isinstance(body, dict):
            logger.warning("oidc: %s %s is not a JSON object", what, url)
            raise OidcError("The sign-in service answered in a way this gateway cannot use.")
        return body

    async def _discover(self) -> _Metadata:
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata_at < CACHE_SECONDS:
            return self._metadata
        async with self._lock:
            if self._metadata is not None and now - self._metadata_at < CACHE_SECONDS:
                return self._metadata
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._get_json(url, "discovery")
            self._metadata = self._read_metadata(document)
            self._metadata_at = time.monotonic()
            return self._metadata

    def _read_metadata(self, document: dict[str, Any]) -> _Metadata:
        def unusable(why: str) -> OidcError:
            logger.error("oidc: the discovery document of %s %s", self.issuer, why)
            return OidcError("The sign-in service is not set up as this gateway expects.")

        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer.rstrip("/"):
            raise unusable(f"names another issuer ({issuer!r})")
        endpoints: dict[str, str] = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not _secure(value):
                raise unusable(f"has no usable {name}")
            endpoints[name] = value
        userinfo = document.get("userinfo_endpoint")
        if not isinstance(userinfo, str) or not _secure(userinfo):
            userinfo = None
        methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        method = next((m for m in AUTH_METHODS if isinstance(methods, list) and m in methods), None)
        if method is None:
            raise unusable(f"offers no client secret authentication ({methods!r})")
        offered = document.get("id_token_signing_alg_values_supported", ["RS256"])
        algorithms = tuple(
            a for a in (offered if isinstance(offered, list) else []) if a in SIGNING_ALGORITHMS
        )
        if not algorithms:
            raise unusable(f"signs ID tokens with no algorithm accepted here ({offered!r})")
        return _Metadata(
            issuer=issuer,
            authorization_endpoint=endpoints["authorization_endpoint"],
            token_endpoint=endpoints["token_endpoint"],
            jwks_uri=endpoints["jwks_uri"],
            userinfo_endpoint=userinfo,
            auth_method=method,
            algorithms=algorithms,
        )

    async def _key_set(self, jwks_uri: str, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        if not refresh and self._keys is not None and now - self._keys_at < CACHE_SECONDS:
            return self._keys
        async with self._lock:
            if self._keys is not None and self._keys_at > now:  # fetched while waiting
                return self._keys
            document = await self._get_json(jwks_uri, "JWKS")
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, KeyError, TypeError, ValueError) as error:
                logger.error("oidc: the JWKS of %s is unusable: %s", self.issuer, error)
                raise OidcError(
                    "The sign-in service is not set up as this gateway expects."
                ) from None
            self._keys, self._keys_at = keys, time.monotonic()
            return keys

    # The sign-in.

    async def _exchange(self, metadata: _Metadata, code: str, pending: Pending) -> dict[str, Any]:
        try:
            async with AsyncOAuth2Client(
                client_id=self.client_id,
                client_secret=self._client_secret,
                token_endpoint_auth_method=metadata.auth_method,
                redirect_uri=self.redirect_uri,
                timeout=TIMEOUT,
                follow_redirects=False,
            ) as oauth:
                token = await oauth.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                )
        except OAuthError as error:
            # invalid_grant: a code used twice, expired, or another verifier
            reason = error.error if _ERROR_CODE.fullmatch(str(error.error)) else "error"
            logger.warning("oidc: the token endpoint refused the code: %s", reason)
            raise OidcError(
                "The sign-in could not be completed (it may have been used already): sign in again."
            ) from None
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("oidc: the token endpoint failed: %s", type(error).__name__)
            raise OidcError(
                "The sign-in service cannot be reached right now: try again in a minute."
            ) from None
        return dict(token)

    @staticmethod
    def _alg(id_token: str) -> str:
        alg = extract_compact(id_token.encode("ascii")).headers().get("alg")
        return alg if isinstance(alg, str) else ""

    async def _verify(self, metadata: _Metadata, id_token: str, nonce: str) -> dict[str, Any]:
        refused = OidcError("The sign-in service's answer could not be verified: sign in again.")
        try:
            header = extract_compact(id_token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            logger.warning("oidc: the ID token is not a signed JWT")
            raise refused from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in metadata.algorithms:
            logger.warning("oidc: the ID token is signed with %r, not %s", alg, metadata.algorithms)
            raise refused
        key = _pick(await self._key_set(metadata.jwks_uri), kid, alg)
        if key is None:  # rotated keys: fetch them once more
            key = _pick(await self._key_set(metadata.jwks_uri, refresh=True), kid, alg)
        if key is None:
            logger.warning("oidc: no key %r in the provider's JWKS", kid)
            raise refused
        try:
            claims = jwt.decode(id_token, key, algorithms=[alg]).claims
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": metadata.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except ExpiredTokenError:
            logger.warning("oidc: the ID token has expired")
            raise OidcError("The sign-in expired before it finished: sign in again.") from None
        except JoseError as error:
            logger.warning("oidc: the ID token is refused: %s %s", error.error, error.description)
            raise refused from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.client_id:
            logger.warning("oidc: the ID token was issued to another party (azp %r)", azp)
            raise refused
        return claims

    async def _userinfo(
        self, endpoint: str, access_token: str, claims: Mapping[str, Any]
    ) -> dict[str, Any]:
        http = await self._client()
        try:
            response = await http.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("oidc: userinfo failed: %s", type(error).__name__)
            raise OidcError(
                "The sign-in service cannot be reached right now: try again in a minute."
            ) from None
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            logger.warning("oidc: userinfo describes someone else, or nobody")
            raise OidcError("The sign-in service's answer could not be verified: sign in again.")
        return info

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            logger.warning("oidc: no email for subject %r", claims["sub"])
            raise OidcError(
                "The sign-in service did not give your email address, which the console needs."
            )
        verified = claims.get("email_verified", True)
        if verified is not True and verified != "true":
            logger.warning("oidc: the email of subject %r is not verified", claims["sub"])
            raise OidcError(
                "Your email address is not verified at the sign-in service: verify it there first."
            )
        try:
            address = normal_email(email)
        except AccountError:
            raise OidcError(
                "The sign-in service gave an email address that is not valid."
            ) from None
        return Identity(
            subject=str(claims["sub"]),
            email=address,
            name=_name(claims),
            grants=grants_from(_claim(claims, self.roles_claim), subject=str(claims["sub"])),
        )


def redirect_uri(settings: Settings) -> str:
    """The URI to register with the provider (and where the console serves the callback)."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def grants_from(roles: object, subject: str = "") -> tuple[Grant, ...]:
    """The console grants of a roles claim: a list of `role` or `role:service`, e.g.
    "administrator", "officer:drone-flight-authorization". Unknown roles, a service on a
    role that cannot be limited and what is not a string are ignored (and logged)."""
    if isinstance(roles, str):
        roles = roles.split()  # a space-separated string, as some providers send
    if not isinstance(roles, list):
        return ()
    grants: list[Grant] = []
    for entry in roles:
        if not isinstance(entry, str):
            continue
        name, _, service = entry.strip().partition(":")
        try:
            role = Role(name.strip().lower())
        except ValueError:
            logger.debug("oidc: role %r of %r is not a console role", entry, subject)
            continue
        if not service:
            grants.append(Grant(role))
        elif role not in LIMITABLE:
            logger.warning(
                "oidc: role %r of %r ignored: %s cannot be limited to a service",
                entry,
                subject,
                role,
            )
        elif not _SERVICE.fullmatch(service.strip()):
            logger.warning("oidc: role %r of %r ignored: not a service id", entry, subject)
        else:
            grants.append(Grant(role, service.strip()))
    return tuple(merged(grants))


def _claim(claims: Mapping[str, Any], name: str) -> object:
    """A claim by name; a dotted name reaches into objects (Keycloak's realm_access.roles)."""
    if name in claims:
        return claims[name]
    value: object = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _name(claims: Mapping[str, Any]) -> str | None:
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [claims.get("given_name"), claims.get("family_name")]
    joined = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return joined or None


def _pick(keys: KeySet, kid: object, alg: str) -> Key | None:
    """The signing key `kid` names (the only one, when the set has one and no kid is given)."""
    usable = [k for k in keys if k.get("use") in (None, "sig") and k.alg in (None, alg)]
    if kid is None:
        return usable[0] if len(usable) == 1 else None
    return next((k for k in usable if k.kid == kid), None)


def _secure(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
