"""Settings from `GATEWAY_*` environment variables (and `.env`).

Secrets are `SecretStr`: they print as `**********`, so they never reach a log.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    services_dir: Path = Path("services")
    redis_url: str | None = None  # unset: an embedded Redis under var_dir/redis
    var_dir: Path = Path("var")
    sweep_seconds: float = 30.0  # how often abandoned conversations are expired
    public_url: str = "http://127.0.0.1:8000"  # the URL providers call (signatures use it)

    ussd_token: SecretStr | None = None  # required as ?token= on USSD callbacks when set
    ussd_allowed_ips: list[str] = []  # aggregator addresses or networks; empty: any
    ussd_codes: dict[str, str] = {}  # service code -> service id; others get the main menu

    twilio_auth_token: SecretStr | None = None  # verifies X-Twilio-Signature


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
