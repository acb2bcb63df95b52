"""Settings from `GATEWAY_*` environment variables (and `.env`).

Secrets are `SecretStr`: they print as `**********`, so they never reach a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    admin_token: SecretStr | None = None  # bearer token of the admin API; unset: closed
    database_url: str | None = None  # unset: SQLite under var_dir; postgresql://... otherwise
    services_dir: Path = Path("services")
    redis_url: str | None = None  # unset: an embedded Redis under var_dir/redis
    var_dir: Path = Path("var")
    sweep_seconds: float = 30.0  # how often abandoned conversations are expired
    public_url: str = "http://127.0.0.1:8000"  # the URL providers call (signatures use it)

    ussd_token: SecretStr | None = None  # required as ?token= on USSD callbacks when set
    ussd_allowed_ips: list[str] = []  # aggregator addresses or networks; empty: any
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
    public_rate_per_minute: int = 30  # /d/ and /verify/ requests per client address

    # Intent detection. Unset: the embedded classifier alone; set: Rasa's /model/parse,
    # falling back to the embedded one when Rasa is slow or down.
    rasa_url: str | None = None  # e.g. http://rasa:5005
    rasa_token: SecretStr | None = None  # Rasa's --auth-token, sent as ?token=
    rasa_timeout_seconds: float = 0.3  # a text hop waits no longer for Rasa
    rasa_failures: int = 3  # failures in a row that stop calls to Rasa for a while
    rasa_cooldown_seconds: float = 30.0  # how long Rasa is left alone after that

    @property
    def link_base(self) -> str:
        return self.link_url or self.public_url


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
