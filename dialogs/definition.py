"""The service definition format: what a civil servant writes in `services/<id>.yaml`.

Static data only. `dialogs.compiler` turns a definition into a runnable service once.
`format: 1` is versioned from day one so that later formats can ship with migrations.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dialogs.steps import Step, StepBase
from dialogs.text import DEFAULT_LANGUAGE, LanguageCode, Text

FORMAT_VERSION = 1

ServiceId = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9-]{1,47}$", examples=["business-registration"])
]


class Commands(BaseModel):
    """Words that act anywhere in a conversation, in every language the service offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    back: list[str] = Field(default=["0", "back", "ལོག"], description="Go to the previous question.")
    menu: list[str] = Field(default=["00", "menu"], description="Leave for the main menu.")
    help: list[str] = Field(
        default=["help", "?", "གྲོགས་རམ"], description="Explain the current step."
    )
    restart: list[str] = Field(default=["restart"], description="Start the service again.")
    stop: list[str] = Field(
        default=["stop", "cancel", "quit", "exit"], description="End the conversation."
    )
    more: list[str] = Field(default=["98", "more"], description="Next page of a long list.")
    status: list[str] = Field(
        default=["status", "གནས་སྟངས"], description="List the citizen's recent applications."
    )


class Limits(BaseModel):
    """Channel budgets the checker holds the service to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sms_max_segments: int = Field(
        default=2, ge=1, le=10, description="Warn when an SMS screen needs more parts."
    )
    ussd_answer_seconds: float = Field(
        default=5.0,
        gt=0,
        le=15,
        description="Time an aggregator waits for an answer; lookups must time out sooner.",
    )


class ServiceDefinition(BaseModel):
    """A government service as a conversation: identity, languages and steps."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Service definition",
        json_schema_extra={"$id": "https://gateway.example.gov.bt/schema/service.json"},
    )

    format: Literal[1] = Field(description="Version of this file format (currently 1).")
    id: ServiceId = Field(description="Stable identifier, e.g. `business-registration`.")
    version: int = Field(ge=1, description="Version of this service; raise it on every change.")
    title: Text = Field(
        description="Name of the service shown in menus.", json_schema_extra={"text": True}
    )
    description: Text | None = Field(
        default=None,
        description="One or two sentences on what the service does.",
        json_schema_extra={"text": True},
    )
    languages: list[LanguageCode] = Field(
        default=[DEFAULT_LANGUAGE],
        min_length=1,
        description="Languages the service is offered in; `en` is required.",
    )
    keywords: dict[LanguageCode, list[str]] = Field(
        default_factory=dict, description="Words that name the service, per language (NLU)."
    )
    examples: dict[LanguageCode, list[str]] = Field(
        default_factory=dict,
        description="Sentences a citizen might write to start the service, per language (NLU).",
    )
    help: Text | None = Field(
        default=None,
        description="Help shown when a step has none of its own.",
        json_schema_extra={"text": True},
    )
    phone_region: str = Field(
        default="BT",
        pattern=r"^[A-Z]{2}$",
        description="Region of phone numbers typed without a country code.",
    )
    resume_minutes: int = Field(
        default=24 * 60,
        ge=1,
        le=30 * 24 * 60,
        description="How long an interrupted application can be continued.",
    )
    commands: Commands = Field(default_factory=Commands, description="Global command words.")
    limits: Limits = Field(default_factory=Limits, description="Channel budgets.")
    texts: dict[str, Text] = Field(
        default_factory=dict,
        description="Overrides of built-in messages (e.g. `bad_cid`), per language.",
    )
    steps: list[Step] = Field(min_length=1, description="The conversation, in order.")

    @field_validator("languages")
    @classmethod
    def _english_first(cls, value: list[str]) -> list[str]:
        if DEFAULT_LANGUAGE not in value:
            raise ValueError("`en` must be one of the languages")
        return value

    @property
    def start(self) -> str:
        return self.step_list[0].id

    @property
    def step_list(self) -> list[StepBase]:
        return list(self.steps)
