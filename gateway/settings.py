"""Settings from `GATEWAY_*` environment variables (and `.env`).

Secrets are `SecretStr`: they print as `**********`, so they never reach a log. A secret
is either real or absent: an empty value is unset (what it guards stays closed), and a
placeholder (`CHANGE-ME...`) or a value shorter than 16 characters stops the start with
an error naming the variable, since an operator who wrote one meant to set a secret.

`GATEWAY_DEVELOPMENT=true` (`make run`) is the one switch that opens what has no secret
yet, for a newcomer's laptop: the USSD and Africa's Talking SMS callbacks without a
token, verification codes printed in the log, the demo registry answering census
lookups. The gateway says so at start, naming every open endpoint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 16
# What operators leave in an env file when they mean "fill this in later".
PLACEHOLDER = re.compile(
    r"^(?:change[-_ ]?me|replace[-_ ]?me|your[-_ ]|placeholder|example|todo|fixme|xxx+|<)",
    re.IGNORECASE,
)
PrivateEndpoint = Literal["docs", "metrics", "problems"]


class Settings(BaseSettings):
    """Everything configurable."""

    # Errors name the variable, never its value: a secret must not reach a log.
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # Opens the callbacks that have no secret, prints verification codes in the log and
    # answers census lookups from the demo registry: never in production (see above).
    development: bool = False
    admin_token: SecretStr | None = None  # bearer token of the admin API; unset: closed
    database_url: str | None = None  # unset: SQLite under var_dir; postgresql://... otherwise
    services_dir: Path = Path("services")
    redis_url: str | None = None  # unset: an embedded Redis under var_dir/redis
    var_dir: Path = Path("var")
    sweep_seconds: float = 30.0  # how often abandoned conversations are expired
    public_url: str = "http://127.0.0.1:8000"  # the URL providers call (signatures use it)

    # The USSD and Africa's Talking SMS callbacks (unsigned by their providers) need the
    # token as ?token=, or a caller from the allow-list; with neither they answer 403
    # (unless `development`).
    ussd_token: SecretStr | None = None
    ussd_allowed_ips: list[str] = []  # aggregator addresses or networks
    ussd_codes: dict[str, str] = {}  # service code -> service id; others get the main menu

    twilio_auth_token: SecretStr | None = None  # verifies X-Twilio-Signature
    twilio_account_sid: str = ""  # REST API sends (AC...); the auth token authenticates
    twilio_from_number: str = ""  # E.164 sender of REST API messages (or a service SID)
    twilio_messaging_service_sid: str = ""  # MG...: Twilio picks the sender; wins if set
    twilio_api_url: str = "https://api.twilio.com"  # REST API base (tests: a fake)

    at_username: str = "sandbox"  # Africa's Talking application username
    at_api_key: SecretStr | None = None  # apiKey header of the messaging API
    at_sms_url: str = "https://api.africastalking.com/version1/messaging"  # tests: a fake
    at_sender_id: str = ""  # short code or alphanumeric sender id; empty: AT's default

    meta_verify_token: SecretStr | None = None  # answers the WhatsApp webhook verification GET
    meta_app_secret: SecretStr | None = None  # verifies X-Hub-Signature-256 (unset: 403)
    meta_access_token: SecretStr | None = None  # bearer token for the Cloud API
    meta_phone_number_id: str = ""  # the WhatsApp number replies are sent from
    meta_api_url: str = "https://graph.facebook.com/v21.0"  # Graph API base (tests: a fake)

    telegram_secret_token: SecretStr | None = None  # X-Telegram-Bot-Api-Secret-Token
    telegram_bot_token: SecretStr | None = None  # sendMessage, answerCallbackQuery
    telegram_api_url: str = "https://api.telegram.org"

    # The outbound job queue (arq). Unset: the session store's Redis (`redis_url`, or the
    # embedded one). A Redis Cluster cannot hold the queue: give a single server or Sentinel.
    queue_url: str | None = None
    queue_name: str = "gateway:outbox"
    worker_in_process: bool | None = None  # unset: in `gateway serve` when redis_url is unset
    worker_poll_seconds: float = 0.5  # how often the worker looks for due jobs
    worker_jobs: int = 50  # jobs a worker runs at once (sends wait on providers, not CPU)
    send_max_tries: int = 8  # attempts per outgoing message before giving up
    send_retry_seconds: float = 5.0  # first backoff; then x4 each try (5 s, 20 s, 80 s...)
    send_retry_max_seconds: float = 3600.0  # backoff cap
    job_timeout_seconds: float = 120.0  # a job running longer is cancelled; a job whose
    # worker died is run again by another once this (and arq's 10 s margin) has passed
    # PDF-drawing processes of a worker (about 75 MB each). Unset: the cores it may use
    # (its container's CPU limit, if any): set it where memory is limited but CPU is not.
    pdf_processes: int | None = Field(default=None, ge=1)

    # Submissions and documents.
    link_url: str | None = None  # base of citizens' document links; unset: public_url
    timezone: str = "Asia/Thimphu"  # dates printed on documents
    document_days: int = 365  # a document link expires after this many days
    documents_url: str | None = None  # unset: files under var_dir/documents; s3://bucket?...
    # The sender that reaches a citizen on each channel, for messages that are not a
    # reply (document links, decisions). USSD has no push: its citizens get an SMS.
    senders: dict[str, str] = {
        "ussd": "sms/africastalking",
        "sms": "sms/africastalking",
        "whatsapp": "whatsapp/meta",
        "telegram": "telegram",
    }
    backoffice_webhook_url: Annotated[str, Field(max_length=200)] = ""  # POSTed on each new
    # submission and decision (at most 200 characters: it is stored with each call)
    backoffice_webhook_secret: SecretStr | None = None  # HMAC-SHA256 key of its signature
    relay_seconds: float = 15.0  # how often pending notifications are queued again
    public_rate_per_minute: int = Field(default=30, ge=1)  # /d/ and /verify/ per client

    # Who the client is: X-Forwarded-For counts only when it comes from one of these
    # addresses or networks (the reverse proxy, the ingress controller). Empty: the peer.
    trusted_proxies: list[str] = []
    # Countries (ISO 3166 codes) whose numbers may use the gateway: others get nothing and
    # cannot start a conversation or receive a verification code.
    allowed_countries: list[str] = ["BT"]
    # Inbound limits ("N/minute;M/day", the notation of the `limits` package): messages
    # per citizen on every channel, and web chat requests per client address.
    inbound_per_address: str = "30/minute;600/day"
    web_per_client: str = "60/minute;2000/day"
    # Outbound budgets: message parts sent to a number, to a number range (the number
    # without its last `range_digits` digits), to a country, and in all, whatever the
    # sender. A message over a budget is held back (SMS pumping).
    budget_per_number: str = "60/minute;300/day"
    budget_per_range: str = "120/minute;2000/day"
    budget_per_country: str = "600/minute;20000/day"
    budget_total: str = "1200/minute;50000/day"
    range_digits: int = Field(default=4, ge=1, le=8)
    # Verification codes (web chat and Telegram prove a number by SMS).
    codes_per_number: str = "3/15minutes;10/day"
    verified_days: int = Field(default=30, ge=1)  # a proved number is trusted this long
    admin_failures_per_client: str = "10/minute"  # wrong admin tokens before 429

    # The civil servants' console (/console). Its session cookies are signed with this
    # secret: unset, the console is closed (development: a key made at start, so sessions
    # end with the process). Same value on every process.
    console_secret: SecretStr | None = None
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)  # signed out when idle
    console_session_hours: int = Field(default=12, ge=1, le=7 * 24)  # signed out in any case
    sign_in_failures_per_account: str = "5/15 minutes"  # wrong passwords before a wait
    sign_in_failures_per_client: str = "30/15 minutes"  # from one address, any account
    # A publisher may publish a draft they sent for review themselves (one-person teams).
    studio_solo_publish: bool = False
    # JSON and form bodies above this are refused with 413 (Meta's webhooks: 3 MB).
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Pages that need the admin token: `docs` (/docs, /redoc, /openapi.json), `metrics`,
    # `problems` (/api/v1/services/problems).
    private_endpoints: list[PrivateEndpoint] = []

    # Intent detection. Unset: the embedded classifier alone; set: Rasa's /model/parse,
    # falling back to the embedded one when Rasa is slow or down.
    rasa_url: str | None = None  # e.g. http://rasa:5005
    rasa_token: SecretStr | None = None  # Rasa's --auth-token, sent as ?token=
    rasa_timeout_seconds: float = 0.3  # a text hop waits no longer for Rasa
    rasa_failures: int = 3  # failures in a row that stop calls to Rasa for a while
    rasa_cooldown_seconds: float = 30.0  # how long Rasa is left alone after that

    # Government single sign-on for the civil servants' console (OpenID Connect). All
    # three of issuer, client id and secret set: the console offers it (`oidc_configured`).
    # The redirect URI to register with the provider is `public_url` + /console/oidc/callback.
    oidc_issuer: str | None = None  # e.g. https://sso.gov.bt/realms/civil-service
    oidc_client_id: str | None = None  # the console's client id at the provider
    oidc_client_secret: SecretStr | None = None  # its secret (client_secret_basic or _post)
    oidc_roles_claim: str = "roles"  # ID token claim listing roles ("officer:service-id")

    @property
    def link_base(self) -> str:
        return self.link_url or self.public_url

    @property
    def oidc_configured(self) -> bool:
        """Single sign-on is offered: issuer, client id and a real secret are all set."""
        return bool(self.oidc_issuer and self.oidc_client_id and secret(self.oidc_client_secret))

    @model_validator(mode="after")
    def _real_secrets(self) -> Self:
        """Empty secrets are unset; placeholders and short ones stop the start."""
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if not isinstance(value, SecretStr):
                continue
            text = value.get_secret_value().strip()
            variable = (field.alias or f"GATEWAY_{name}").upper()
            if not text:
                setattr(self, name, None)  # `FOO=` in an env file: not set at all
                continue
            if text != value.get_secret_value():
                setattr(self, name, SecretStr(text))  # a secret file's final newline
            if PLACEHOLDER.match(text):
                raise ValueError(f"{variable} is a placeholder: set a real secret")
            if len(text) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"{variable} is {len(text)} characters: a secret needs at least "
                    f"{MIN_SECRET_LENGTH} (e.g. `openssl rand -hex 24`)"
                )
        return self

    @field_validator(
        "inbound_per_address",
        "web_per_client",
        "budget_per_number",
        "budget_per_range",
        "budget_per_country",
        "budget_total",
        "codes_per_number",
        "admin_failures_per_client",
        "sign_in_failures_per_account",
        "sign_in_failures_per_client",
    )
    @classmethod
    def _rates(cls, value: str) -> str:
        rates(value)  # refused at start, not at the first message
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _oidc_issuer(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        issuer = value.strip()
        parts = urlsplit(issuer)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
        if not (parts.scheme == "https" or loopback) or not parts.hostname:
            raise ValueError("the OIDC issuer must be an https:// URL")
        if parts.query or parts.fragment:
            raise ValueError("the OIDC issuer has no query or fragment")
        return issuer

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        wrong = [code for code in codes if not re.fullmatch(r"[A-Z]{2}|\*", code)]
        if wrong:
            raise ValueError(f'not ISO 3166 country codes: {wrong} (use ["*"] for all)')
        return codes


def rates(value: str) -> list[RateLimitItem]:
    """ "20/minute;150/day" as rate limit items (ValueError when it is not that)."""
    items = parse_many(value)
    if not items:
        raise ValueError(f"no rate in {value!r}: write e.g. 20/minute;150/day")
    return items


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
