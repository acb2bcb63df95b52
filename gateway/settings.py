"""Settings from `GATEWAY_*` environment variables (and `.env`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; secrets arrive in later issues and are never logged."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    services_dir: Path = Path("services")
