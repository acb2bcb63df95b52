"""Settings from `GATEWAY_*` environment variables (and `.env`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable. Secrets are never logged."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    services_dir: Path = Path("services")
    redis_url: str | None = None  # unset: an embedded Redis under var_dir/redis
    var_dir: Path = Path("var")
    sweep_seconds: float = 30.0  # how often abandoned conversations are expired
