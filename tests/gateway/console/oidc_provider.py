"""A real OpenID provider on loopback, for the console's single sign-on tests.

Built from Authlib's provider side: its Flask authorization server with the authorization
code grant, the OpenID Connect extension (signed ID tokens) and PKCE (`CodeChallenge`,
required), its userinfo endpoint behind a bearer-token resource protector. It serves
discovery, the JWKS (an RSA key made at start), authorize (approves at once the user the
test set, no login page), token and userinfo, with werkzeug in a thread on 127.0.0.1.

The knobs (`audience`, `id_token_seconds`, `signing_key`, ...) make it misbehave the way a
test needs: an ID token for another audience, expired, signed by a key not in its JWKS.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ResourceProtector,
)
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Error,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import (  # type: ignore[import-untyped]
    AuthorizationCodeGrant,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oidc.core import UserInfoEndpoint  # type: ignore[import-untyped]
from authlib.oidc.core.grants import OpenIDCode  # type: ignore[import-untyped]
from flask import Flask, Response, jsonify
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

CLIENT_ID = "gateway-console"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
REDIRECT_URI = "https://gateway.example.gov.bt/console/oidc/callback"
SCOPES = ("openid", "email", "profile")


@dataclass
class User:
    """The person the provider signs in, as the test sets them."""

    sub: str = "citizen-id-11512000123"
    email: str = "Pema.Wangmo@moic.gov.bt"
    name: str | None = "Pema Wangmo"
    roles: list[Any] = field(default_factory=lambda: ["officer"])
    email_verified: bool | None = True


def new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, {"use": "sig", "alg": "RS256"})
    key.ensure_kid()
    return key


@dataclass
class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass
class _Token(TokenMixin):  # type: ignore[misc]
    access_token: str
    scope: str
    client: _Client
    user: User
    expires_at: float

    def check_client(self, client: _Client) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> _Client:
        return self.client


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider
        self.client_id = CLIENT_ID
        self.client_metadata: dict[str, Any] = {}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return REDIRECT_URI

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == REDIRECT_URI

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.provider.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in self.provider.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        provider: OidcProvider = self.server.provider
        provider.codes[code] = _Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()),
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        found = self.server.provider.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> User:
        return authorization_code.user


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self.provider.signing_key or self.provider.key

    def get_encode_header(self, client: _Client) -> dict[str, Any]:
        return {"alg": "RS256", "kid": self.resolve_client_private_key(client).kid}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.provider.token_issuer or self.provider.issuer,
            "aud": self.provider.audience or [client.get_client_id()],
            "iat": now,
            "exp": now + self.provider.id_token_seconds,
        }

    def generate_user_info(self, user: User, scope: str) -> dict[str, Any]:
        claims = self.provider.claims(user)
        for name in self.provider.userinfo_only:
            claims.pop(name, None)
        return claims


class _UserInfo(UserInfoEndpoint):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider, protector: Any) -> None:
        super().__init__(resource_protector=protector)
        self.provider = provider

    def get_issuer(self) -> str:
        return self.provider.issuer

    def generate_user_info(self, user: User, scope: str) -> dict[str, Any]:
        return self.provider.claims(user)


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self.provider.tokens.get(token_string)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class OidcProvider:
    """The running provider: `issuer` is its URL; set `user` (or call `set_user`) to say
    who signs in next."""

    def __init__(self) -> None:
        self.user = User()
        self.key = new_key()
        self.client_secret = CLIENT_SECRET
        # Knobs for the tests.
        self.signing_key: RSAKey | None = None  # sign ID tokens with this instead of `key`
        self.audience: list[str] | None = None  # the ID token's aud (default: the client)
        self.token_issuer: str | None = None  # the ID token's iss (default: issuer)
        self.id_token_seconds = 600  # negative: an expired ID token
        self.userinfo_only: set[str] = set()  # claims left out of the ID token
        self.auth_methods = ["client_secret_basic", "client_secret_post"]
        self.discovery_issuer: str | None = None  # what discovery says the issuer is
        # What happened.
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, _Token] = {}
        self.id_tokens: list[str] = []
        self.requests: dict[str, int] = {"discovery": 0, "jwks": 0, "token": 0, "userinfo": 0}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.issuer = ""

    def set_user(self, **fields: Any) -> User:
        self.user = User(**fields)
        return self.user

    def rotate_key(self) -> None:
        """A new signing key, published in place of the old one."""
        self.key = new_key()

    def claims(self, user: User) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": user.sub, "email": user.email, "roles": user.roles}
        if user.name is not None:
            claims["name"] = user.name
        if user.email_verified is not None:
            claims["email_verified"] = user.email_verified
        return claims

    def start(self) -> None:
        self._server = make_server(
            "127.0.0.1", 0, self._app(), threaded=True, request_handler=_QuietHandler
        )
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        self.tokens[token["access_token"]] = _Token(
            access_token=token["access_token"],
            scope=token["scope"],
            client=request.client,
            user=request.user,
            expires_at=time.time() + token["expires_in"],
        )

    def _app(self) -> Flask:
        app = Flask(__name__)
        client = _Client(self)
        server = AuthorizationServer(
            app,
            query_client=lambda client_id: client if client_id == CLIENT_ID else None,
            save_token=self._save_token,
        )
        server.provider = self
        server.register_grant(_CodeGrant, [_OpenIDCode(self), CodeChallenge(required=True)])
        protector = ResourceProtector()
        protector.register_token_validator(_BearerValidator(self))
        server.register_endpoint(_UserInfo(self, protector))

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            self.requests["discovery"] += 1
            return jsonify(
                issuer=self.discovery_issuer or self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                userinfo_endpoint=f"{self.issuer}/userinfo",
                jwks_uri=f"{self.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                scopes_supported=list(SCOPES),
                token_endpoint_auth_methods_supported=self.auth_methods,
                code_challenge_methods_supported=["S256"],
                claims_supported=["sub", "email", "email_verified", "name", "roles"],
            )

        @app.get("/jwks")
        def jwks() -> Response:
            self.requests["jwks"] += 1
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize() -> Response | tuple[Response, int]:
            try:
                grant = server.get_consent_grant(end_user=self.user)
            except OAuth2Error as error:
                return jsonify(error=error.error, error_description=error.description), 400
            response: Response = server.create_authorization_response(
                grant_user=self.user, grant=grant
            )
            return response

        @app.post("/token")
        def token() -> Response:
            self.requests["token"] += 1
            response: Response = server.create_token_response()
            body = response.get_json(silent=True)
            if isinstance(body, dict) and "id_token" in body:
                self.id_tokens.append(body["id_token"])
            return response

        @app.get("/userinfo")
        def userinfo() -> Response:
            self.requests["userinfo"] += 1
            response: Response = server.create_endpoint_response("userinfo")
            return response

        return app


@contextmanager
def running_provider() -> Iterator[OidcProvider]:
    """A provider on a free loopback port for the duration of the block."""
    provider = OidcProvider()
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()
